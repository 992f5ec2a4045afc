//! The SWE-agent tools of SWE-smith trajectories (docs/formats.md §1.7), run in a [`Sandbox`] so that
//! expert actions produce the observations the expert saw: `bash` (persistent session, see
//! [`bash`]), `str_replace_editor` (SWE-agent `tools/edit_anthropic`, see [`editor`]) and
//! `submit` (SWE-agent's `review_on_submit_m`: a review message first, then the diff of `/testbed` against the task's base commit, new files included, as
//! `git add -A && git diff --cached <base>`). Entry points take the structured
//! [`srl_core::Action`] or its canonical text.
pub mod bash;
pub mod editor;

use crate::{ExecRequest, Result, Sandbox, SandboxError};
use srl_core::Action;
use std::time::Duration;

/// Observation SWE-agent shows for a command without output.
pub const EMPTY_OUTPUT: &str = "Your command ran successfully and did not produce any output.";

/// The first `submit`'s observation (SWE-agent `tools/review_on_submit_m`); `{patch}` is the diff.
pub const REVIEW_TEMPLATE: &str =
    "Thank you for your work on this issue. Please carefully follow the steps below to help review your changes.

1. If you made any changes to your code after running the reproduction script, please run the reproduction script again.
  If the reproduction script is failing, please revisit your changes and make sure they are correct.
  If you have already removed your reproduction script, please ignore this step.
2. Remove your reproduction script (if you haven't done so already).
3. If you have modified any TEST files, please revert them to the state they had before you started fixing the issue.
  You can do this with `git checkout -- /path/to/test/file.py`. Use below <diff> to find the files you need to revert.
4. Run the submit command again to confirm.

Here is a list of all of your changes:

<diff>
{patch}
</diff>
";

/// What one tool call produced.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ToolOutput {
    /// The observation text shown to the agent.
    pub observation: String,
    /// For the final `submit`: the submitted diff (`None` for the first, reviewed submit).
    pub submission: Option<String>,
    /// For `bash`: the exit code.
    pub exit_code: Option<i64>,
    /// For `bash`: whether the call timed out.
    pub timed_out: bool,
}

impl ToolOutput {
    fn text(observation: String) -> Self {
        Self { observation, ..Self::default() }
    }
}

/// The three tools bound to one task's sandbox. Keeps the editor's undo history.
#[derive(Debug)]
pub struct SweTools<'a, S> {
    sandbox: &'a S,
    base_sha: String,
    bash: bash::BashSession,
    editor: editor::Editor,
    review: bool,
    submits: usize,
}

impl<'a, S: Sandbox> SweTools<'a, S> {
    /// Tools for `sandbox`; `submit` diffs against `base_sha` (see [`crate::TaskEnv`]).
    pub fn new(sandbox: &'a S, base_sha: impl Into<String>) -> Self {
        Self {
            sandbox,
            base_sha: base_sha.into(),
            bash: bash::BashSession::new(),
            editor: editor::Editor::default(),
            review: true,
            submits: 0,
        }
    }

    /// With `review` (the default, as in SWE-smith's config) the first `submit` answers with
    /// [`REVIEW_TEMPLATE`] and only a later one submits; without it the first one submits.
    pub fn with_review(mut self, review: bool) -> Self {
        self.review = review;
        self
    }

    /// Sets the per-call timeout of `bash` (default [`bash::DEFAULT_TIMEOUT`]).
    pub fn with_bash_timeout(mut self, timeout: Duration) -> Self {
        self.bash.timeout = timeout;
        self
    }

    /// Parses canonical action text and executes it.
    pub async fn execute_text(&mut self, text: &str) -> Result<ToolOutput> {
        let action = Action::parse_canonical(text)?;
        self.execute(&action).await
    }

    /// Executes a structured action.
    pub async fn execute(&mut self, action: &Action) -> Result<ToolOutput> {
        match action.tool.as_str() {
            "bash" => {
                let cmd = action.get("command").ok_or_else(|| {
                    SandboxError::Action(srl_core::ActionParseError::MissingParameter {
                        tool: "bash".into(),
                        param: "command".into(),
                    })
                })?;
                self.bash.run(self.sandbox, cmd).await
            }
            "str_replace_editor" => Ok(ToolOutput::text(self.editor.run(self.sandbox, action).await?)),
            "submit" => {
                let diff = self.submission().await?;
                self.submits += 1;
                if self.review && self.submits == 1 {
                    return Ok(ToolOutput::text(REVIEW_TEMPLATE.replace("{patch}", &diff)));
                }
                Ok(ToolOutput { observation: diff.clone(), submission: Some(diff), ..ToolOutput::default() })
            }
            other => Err(SandboxError::Action(srl_core::ActionParseError::UnknownTool(other.to_string()))),
        }
    }

    /// The diff of `/testbed` against the base commit (new files included).
    pub async fn submission(&self) -> Result<String> {
        submission_diff(self.sandbox, &self.base_sha).await
    }
}

/// `git add -A && git diff --cached <base>` in `/testbed`.
pub async fn submission_diff<S: Sandbox>(sandbox: &S, base_sha: &str) -> Result<String> {
    let script = format!("git add -A && git diff --cached {}", crate::paths::shell_quote(base_sha));
    let out =
        sandbox.exec(&ExecRequest::new(script.clone()).workdir("/testbed").timeout(Duration::from_secs(60))).await?;
    Ok(out.require_success(sandbox.name(), &script)?.stdout)
}
