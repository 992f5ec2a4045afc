//! The `bash` tool with a persistent session (SWE-agent `sweagent/tools/tools.py` semantics:
//! blocked interactive commands, per-call timeout, clipped long observations, a fixed message
//! for empty output).
//!
//! Session state without a long-lived shell: every call is one exec that first restores the
//! state saved by the previous call (exported variables from `export -p`, the working
//! directory), `eval`s the command, and saves the state again from an `EXIT` trap, into
//! `$SANDBOX_ROOT/tmp/.srl-swe-session/` (`$SANDBOX_ROOT` is empty in a container). Shell
//! options, functions, aliases and non-exported variables do not carry over; `cd` and
//! `export` do, which is what agents rely on. Commands go through [`crate::Sandbox::exec_merged`]
//! (standard error merged in arrival order, as in SWE-agent's terminal; the fast session path
//! on Docker).
use super::{ToolOutput, EMPTY_OUTPUT};
use crate::{ExecRequest, Result, Sandbox};
use std::time::Duration;

/// Per-call timeout (SWE-smith's generation config: 300 s per call would be slow for tests;
/// SWE-agent's default is 30 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest observation kept, in characters (SWE-agent `max_observation_length`).
pub const MAX_OBSERVATION_CHARS: usize = 100_000;

/// Commands refused when the call starts with them (SWE-agent `blocklist`).
pub const BLOCKLIST: &[&str] = &["vim", "vi", "emacs", "nano", "nohup", "gdb", "less", "tail -f", "python -m venv"];
/// Commands refused when they are the whole call (SWE-agent `blocklist_standalone`).
pub const BLOCKLIST_STANDALONE: &[&str] = &[
    "python",
    "python3",
    "ipython",
    "bash",
    "sh",
    "/bin/bash",
    "/bin/sh",
    "nohup",
    "vi",
    "vim",
    "emacs",
    "nano",
    "su",
];

const WRAPPER: &str = r#"__srl_dir="${SANDBOX_ROOT:-}/tmp/.srl-swe-session"
if [ -f "$__srl_dir/env" ]; then . "$__srl_dir/env" >/dev/null 2>&1; fi
if [ -f "$__srl_dir/cwd" ]; then cd "$(cat "$__srl_dir/cwd")" 2>/dev/null; fi
__srl_save() {
  __srl_rc=$?
  mkdir -p "$__srl_dir"
  pwd > "$__srl_dir/cwd"
  export -p | grep -v -E '^declare -x (SRL_EXEC_ID|SRL_CMD|PWD|OLDPWD|SHLVL|_)(=|$)' > "$__srl_dir/env"
  exit $__srl_rc
}
trap __srl_save EXIT
__srl_cmd="$SRL_CMD"
unset SRL_CMD
eval "$__srl_cmd"
"#;

/// Why a command is refused, if it is.
pub fn refusal(command: &str) -> Option<String> {
    let cmd = command.trim();
    let blocked =
        BLOCKLIST_STANDALONE.contains(&cmd) || BLOCKLIST.iter().any(|b| cmd == *b || cmd.starts_with(&format!("{b} ")));
    blocked.then(|| format!("Operation '{cmd}' is not supported by this environment."))
}

/// Keeps the first [`MAX_OBSERVATION_CHARS`] characters and says how many were elided.
pub fn clip_observation(text: &str) -> String {
    let total = text.chars().count();
    if total <= MAX_OBSERVATION_CHARS {
        return text.to_string();
    }
    let head: String = text.chars().take(MAX_OBSERVATION_CHARS).collect();
    format!(
        "{head}<response clipped><NOTE>Observations should not exceeded {MAX_OBSERVATION_CHARS} characters. {} characters were elided. Please try a different command that produces less output or use head/tail/grep/redirect the output to a file. Do not use interactive pagers.</NOTE>",
        total - MAX_OBSERVATION_CHARS
    )
}

/// The session of one task (see the module docs).
#[derive(Debug, Clone)]
pub struct BashSession {
    /// Per-call timeout.
    pub timeout: Duration,
}

impl Default for BashSession {
    fn default() -> Self {
        Self::new()
    }
}

impl BashSession {
    /// A session with [`DEFAULT_TIMEOUT`].
    pub fn new() -> Self {
        Self { timeout: DEFAULT_TIMEOUT }
    }

    /// Runs one command and returns the observation.
    pub async fn run<S: Sandbox>(&self, sandbox: &S, command: &str) -> Result<ToolOutput> {
        if let Some(msg) = refusal(command) {
            return Ok(ToolOutput { observation: msg, exit_code: None, ..ToolOutput::default() });
        }
        let request = ExecRequest::new(WRAPPER).workdir("/testbed").env("SRL_CMD", command).timeout(self.timeout);
        let out = sandbox.exec_merged(&request).await?;
        let observation = if out.timed_out {
            format!(
                "The command '{}' was cancelled because it took more than {} seconds. Please try a different command that completes more quickly. Note: A common source of this error is if the command is interactive or requires user input (it is impossible to receive user input in the current environment, so the command will never complete).",
                command.trim(),
                self.timeout.as_secs()
            )
        } else if out.output.trim().is_empty() {
            EMPTY_OUTPUT.to_string()
        } else {
            clip_observation(&out.output)
        };
        Ok(ToolOutput { observation, submission: None, exit_code: Some(out.exit_code), timed_out: out.timed_out })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interactive_commands_are_refused() {
        assert!(refusal("vim a.py").is_some());
        assert!(refusal("python").is_some());
        assert!(refusal("tail -f log.txt").is_some());
        assert!(refusal("python reproduce.py").is_none());
        assert!(refusal("vimdiff").is_none());
        assert_eq!(refusal(" nano ").unwrap(), "Operation 'nano' is not supported by this environment.");
    }

    #[test]
    fn long_observations_are_clipped() {
        let long = "x".repeat(MAX_OBSERVATION_CHARS + 5);
        let clipped = clip_observation(&long);
        assert!(clipped.contains("5 characters were elided"));
        assert_eq!(clip_observation("short"), "short");
    }
}
