//! The environment side of a multi-turn SWE episode, shared by the RLVR rollout source
//! (`srl-agent`'s `SweEpisodes`) and the session server (`srl-swe serve sandbox`), so both show
//! the agent the same text and end an episode the same way (docs/agent.md):
//!
//! - the task turn: SWE-smith's instance template around the problem statement
//!   ([`task_prompt`]; the system prompt with the tool descriptions is the caller's, e.g.
//!   `srl-trajectory`'s `swe_system_prompt`);
//! - each agent turn: an optional `<think>…</think>`, then one canonical action
//!   ([`parse_turn`]); a malformed one gets SWE-agent's format-error message as its observation
//!   (counted, the episode goes on), a well-formed one runs with [`SweTools`];
//! - the observation turn: `OBSERVATION:\n` + the tool output ([`observation_turn`]), the form
//!   the SRL step instances use (`srl-trajectory` `context.rs`);
//! - the end: the final `submit` (done), the turn cap or the wall-clock cap (truncated).
use crate::tools::SweTools;
use crate::{Result, Sandbox, SandboxError};
use serde::Serialize;
use srl_core::{Action, ActionParseError, TaskInstance};
use std::time::{Duration, Instant};

/// SWE-smith's instance template (its generation config `agent/swesmith_gen_*.yaml`, as the
/// shipped samples render it in `datasets/make_samples.py`); `{problem}` is the issue text.
pub const INSTANCE_TEMPLATE: &str = "<uploaded_files>
/testbed
</uploaded_files>
I've uploaded a python code repository in the directory /testbed. Consider the following PR description:

<pr_description>
{problem}
</pr_description>

Can you help me implement the necessary changes to the repository so that the requirements specified in the <pr_description> are met?
I've already taken care of all changes to any of the test files described in the <pr_description>. This means you DON'T have to modify the testing logic or any of the tests in any way!
Your task is to make the minimal changes to non-tests files in the /testbed directory to ensure the <pr_description> is satisfied.
Follow these steps to resolve the issue:
1. As a first step, it might be a good idea to find and read code relevant to the <pr_description>
2. Create a script to reproduce the error and execute it with `python <filename.py>` using the bash tool, to confirm the error
3. Edit the source code of the repo to resolve the issue
4. Rerun your reproduce script and confirm that the error is fixed!
5. Think about edgecases and make sure your fix handles them as well
Your thinking should be thorough and so it's fine if it's very long.";

/// The prefix of an observation turn (as in the SRL step instances).
pub const OBSERVATION_PREFIX: &str = "OBSERVATION:\n";

/// The first user turn of an episode on `instance`.
pub fn task_prompt(instance: &TaskInstance) -> String {
    INSTANCE_TEMPLATE.replace("{problem}", &instance.problem_statement)
}

/// The user turn that shows an observation.
pub fn observation_turn(observation: &str) -> String {
    format!("{OBSERVATION_PREFIX}{observation}")
}

/// The action of an agent turn: the text after an optional leading `<think>…</think>`, parsed
/// as exactly one canonical call ([`Action::parse_canonical`]).
pub fn parse_turn(text: &str) -> std::result::Result<Action, ActionParseError> {
    let t = text.trim_start();
    let rest = match t.strip_prefix("<think>") {
        Some(body) => match body.find("</think>") {
            Some(end) => &body[end + "</think>".len()..],
            None => return Err(ActionParseError::NoFunction),
        },
        None => t,
    };
    Action::parse_canonical(rest)
}

/// SWE-agent's observation for an output it cannot parse (`sweagent/tools/parsing.py`,
/// `FunctionCallingParser.error_message`: the `missing` / `multiple` / other cases).
pub fn format_error_observation(err: &ActionParseError) -> String {
    match err {
        ActionParseError::NoFunction => "Your last output did not use any tool calls!\n\
Please make sure your output includes exactly _ONE_ function call!\n\
If you think you have already resolved the issue, please submit your changes by running the `submit` command.\n\
If you think you cannot solve the problem, please run `submit`.\n\
Else, please continue with a new tool call!"
            .to_string(),
        ActionParseError::MultipleCalls => "Your last output included multiple tool calls!\n\
Please make sure your output includes a thought and exactly _ONE_ function call."
            .to_string(),
        ActionParseError::UnknownParameter { .. } | ActionParseError::UnknownTool(_) => format!(
            "Your action could not be parsed properly: {err}.\nMake sure your function call doesn't include any extra \
arguments that are not in the allowed arguments, and only use the allowed commands."
        ),
        other => format!("Your action could not be parsed properly: {other}."),
    }
}

/// Caps of one episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EpisodeLimits {
    /// Agent turns (format errors included) before the episode is cut.
    pub max_turns: usize,
    /// Wall-clock time of the whole episode (`None`: no cap).
    pub wall_clock: Option<Duration>,
}

impl Default for EpisodeLimits {
    fn default() -> Self {
        Self { max_turns: 30, wall_clock: None }
    }
}

/// What one agent turn led to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepOutcome {
    /// The observation turn to show next ([`observation_turn`] of the tool output).
    pub observation: String,
    /// `bash`'s exit code.
    pub exit_code: Option<i64>,
    /// Whether the call hit the per-command timeout.
    pub timed_out: bool,
    /// The episode is over (final submit, or a cap).
    pub done: bool,
    /// It ended by a cap rather than by `submit`.
    pub truncated: bool,
    /// The reason code of a malformed action ([`ActionParseError::kind`]).
    pub format_error: Option<&'static str>,
    /// The tool of a well-formed action.
    pub tool: Option<String>,
}

/// The bookkeeping of one episode; the sandbox and its [`SweTools`] stay with the caller.
#[derive(Debug, Clone)]
pub struct EpisodeState {
    limits: EpisodeLimits,
    started: Instant,
    /// Agent turns so far.
    pub turns: usize,
    /// Malformed actions so far.
    pub format_errors: usize,
    /// Over.
    pub done: bool,
    /// Ended by a cap.
    pub truncated: bool,
    /// The submitted diff (set by the final `submit`).
    pub submission: Option<String>,
    /// Seconds spent in tools.
    pub env_s: f64,
}

impl EpisodeState {
    /// A new episode with `limits`, its clock started now.
    pub fn new(limits: EpisodeLimits) -> Self {
        Self {
            limits,
            started: Instant::now(),
            turns: 0,
            format_errors: 0,
            done: false,
            truncated: false,
            submission: None,
            env_s: 0.0,
        }
    }

    /// The caps.
    pub fn limits(&self) -> EpisodeLimits {
        self.limits
    }

    /// Whether the wall-clock cap has passed.
    pub fn out_of_time(&self) -> bool {
        self.limits.wall_clock.is_some_and(|w| self.started.elapsed() >= w)
    }

    /// Ends the episode from outside (context-length cap, client gone): truncated.
    pub fn cut(&mut self) {
        if !self.done {
            self.done = true;
            self.truncated = true;
        }
    }

    /// Runs one agent turn (`text`: the model's output for the turn). A malformed action is an
    /// observation, not an error; `Err` is a sandbox failure (the container died, Docker gone).
    pub async fn step<S: Sandbox>(&mut self, tools: &mut SweTools<'_, S>, text: &str) -> Result<StepOutcome> {
        if self.done {
            return Err(SandboxError::Removed { name: "episode (already over)".into() });
        }
        self.turns += 1;
        let t0 = Instant::now();
        let mut out = StepOutcome {
            observation: String::new(),
            exit_code: None,
            timed_out: false,
            done: false,
            truncated: false,
            format_error: None,
            tool: None,
        };
        let parsed = parse_turn(text);
        let executed = match &parsed {
            Ok(action) => match tools.execute(action).await {
                Ok(o) => Ok((action.tool.clone(), o)),
                // A tool refusing its arguments (e.g. an editor command without its parameter).
                Err(SandboxError::Action(e)) => Err(e),
                Err(e) => return Err(e),
            },
            Err(e) => Err(e.clone()),
        };
        self.env_s += t0.elapsed().as_secs_f64();
        match executed {
            Ok((tool, o)) => {
                out.observation = observation_turn(&o.observation);
                out.exit_code = o.exit_code;
                out.timed_out = o.timed_out;
                out.tool = Some(tool);
                if o.submission.is_some() {
                    self.submission = o.submission;
                    self.done = true;
                }
            }
            Err(e) => {
                self.format_errors += 1;
                out.format_error = Some(e.kind());
                out.observation = observation_turn(&format_error_observation(&e));
            }
        }
        if !self.done && (self.turns >= self.limits.max_turns || self.out_of_time()) {
            self.cut();
        }
        out.done = self.done;
        out.truncated = self.truncated;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_parse_with_or_without_a_thought() {
        let a = "<function=bash>\n<parameter=command>ls</parameter>\n</function>";
        assert_eq!(parse_turn(a).unwrap().tool, "bash");
        assert_eq!(parse_turn(&format!("<think>look</think>\n{a}")).unwrap().get("command"), Some("ls"));
        assert_eq!(parse_turn("<think>no end").unwrap_err().kind(), "no_function");
        let e = parse_turn("just prose").unwrap_err();
        assert!(format_error_observation(&e).starts_with("Your last output did not use any tool calls!"));
        let e = parse_turn("<function=rm>\n</function>").unwrap_err();
        assert!(format_error_observation(&e).contains("only use the allowed commands"), "{e}");
    }

    #[test]
    fn the_task_turn_holds_the_problem() {
        let inst: TaskInstance = serde_json::from_value(serde_json::json!({
            "instance_id": "a", "repo": "r", "problem_statement": "fix it", "image_name": "i"
        }))
        .unwrap();
        let p = task_prompt(&inst);
        assert!(p.contains("<pr_description>\nfix it\n</pr_description>") && p.starts_with("<uploaded_files>"));
        assert_eq!(observation_turn("x"), "OBSERVATION:\nx");
    }
}
