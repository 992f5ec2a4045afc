//! Replay of one SWE-smith conversation into (thought, action, observation) steps.
//!
//! Follows docs/prepare.md (SWE-smith `collect_trajs.py` styles `tool`, `xml`, `ticks`):
//! - `tool`: each assistant turn carries exactly one `tool_calls` entry whose
//!   `function.arguments` is a JSON string; it becomes [`Action::from_json_args`].
//! - `xml`: the assistant text is `thought + "\n\n" + <function=…>…</function>`, read by
//!   [`xml_call`] with the rules of SWE-agent's `XMLFunctionCallingParser`.
//! - `ticks`: the command line inside the last complete backtick block (SWE-agent's
//!   `ThoughtActionParser` fence stack), read by [`ticks_call`] and
//!   [`crate::shell::parse_command_line`].
//!
//! SWE-agent's exit turns ("Exit due to cost limit", …: the autosubmission after a limit, see
//! [`crate::renderings`]) are not expert actions: they end the replay without a step, and the
//! steps before them stay ([`Replay::exit`] says which exit it was).
//!
//! In every split the first user message is the task, later `tool` messages and user messages
//! are observations of the step before (an `OBSERVATION:\n` prefix is removed), and a reader
//! accepts `content` as a string or as a list of `{"type": "text", "text": …}` blocks.

use crate::error::{Issue, IssueKind};
use crate::messages::{Arguments, Calls, Msg};
use crate::renderings::{action_issue, is_ticks_exit, is_xml_exit, EXIT_PREFIX};
pub use crate::renderings::{ticks_call, xml_call};
use crate::split::Split;
use srl_core::Action;

/// One expert step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The expert's prose before the call (not a training target).
    pub thought: String,
    /// The structured call.
    pub action: Action,
    /// What the environment answered, without the `OBSERVATION:` prefix.
    pub observation: String,
}

/// A conversation replayed into steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// Text of the first user message (the task).
    pub task: String,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// The text of SWE-agent's exit turn that ended the run (`Exit due to cost limit`, …), when
    /// it ended with one.
    pub exit: Option<String>,
}

/// The prefix SWE-agent puts before tool output.
pub const OBSERVATION_PREFIX: &str = "OBSERVATION:\n";

/// The text of a message `content`: a string, or the concatenated `text` of a block list.
pub fn content_text(content: Option<&serde_json::Value>) -> String {
    match content {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(blocks)) => {
            let mut out = String::new();
            for b in blocks {
                match b {
                    serde_json::Value::String(s) => out.push_str(s),
                    other => {
                        if let Some(t) = other.get("text").and_then(|t| t.as_str()) {
                            out.push_str(t);
                        }
                    }
                }
            }
            out
        }
        _ => String::new(),
    }
}

fn strip_observation(text: &str) -> &str {
    text.strip_prefix(OBSERVATION_PREFIX).or_else(|| text.strip_prefix("OBSERVATION:")).unwrap_or(text)
}

/// Replays a decoded `messages` list of the given split.
pub fn replay_messages(messages: &serde_json::Value, split: Split) -> Result<Replay, Issue> {
    replay_list(&crate::messages::from_value(messages)?, split)
}

/// Replays a `messages` JSON text (the `messages` column of a SWE-smith row), reading it with
/// the borrowing fast path of [`crate::messages`].
pub(crate) fn replay_text(text: &str, split: Split) -> Result<Replay, Issue> {
    match crate::messages::parse_messages(text) {
        Ok(list) => replay_list(&list, split),
        Err(crate::messages::OwnedOrBorrowed::Value(v)) => replay_messages(&v, split),
        Err(crate::messages::OwnedOrBorrowed::Bad(issue)) => Err(issue),
    }
}

fn replay_list(list: &[Msg<'_>], split: Split) -> Result<Replay, Issue> {
    let mut task: Option<String> = None;
    let mut steps: Vec<Step> = Vec::new();
    // Observation text gathered for the last step.
    let mut pending_obs: Option<String> = None;
    let mut exit: Option<String> = None;
    for (i, m) in list.iter().enumerate() {
        let role = m.role.as_deref().ok_or_else(|| {
            Issue::new(IssueKind::MissingColumn, format!("messages[{i}].role"), "message without a role")
        })?;
        match role {
            "system" => {}
            "user" | "tool" => {
                let text = m.content.text();
                if role == "user" && task.is_none() && steps.is_empty() {
                    task = Some(text.into_owned());
                    continue;
                }
                if steps.is_empty() {
                    // A second user message before any action: part of the task.
                    if let Some(t) = task.as_mut() {
                        t.push_str("\n\n");
                        t.push_str(&text);
                    }
                    continue;
                }
                let obs = strip_observation(&text);
                match pending_obs.as_mut() {
                    Some(p) => {
                        p.push('\n');
                        p.push_str(obs);
                    }
                    None => pending_obs = Some(obs.to_string()),
                }
            }
            "assistant" => {
                if let (Some(last), Some(obs)) = (steps.last_mut(), pending_obs.take()) {
                    last.observation = obs;
                }
                let text = m.content.text();
                if let Some(reason) = exit_turn(m, &text, split) {
                    // The run ends here; what follows is SWE-agent's autosubmission output.
                    exit = Some(reason);
                    break;
                }
                let (thought, action) = match split {
                    Split::Tool => tool_call(m, &text, i)?,
                    Split::Xml => xml_call(&text, i)?,
                    Split::Ticks => ticks_call(&text, i)?,
                };
                steps.push(Step { thought, action, observation: String::new() });
            }
            other => {
                return Err(Issue::new(
                    IssueKind::MissingColumn,
                    format!("messages[{i}].role"),
                    format!("unknown role {other:?}"),
                ))
            }
        }
    }
    if let (Some(last), Some(obs)) = (steps.last_mut(), pending_obs.take()) {
        last.observation = obs;
    }
    let task =
        task.ok_or_else(|| Issue::new(IssueKind::EmptyTrajectory, "messages", "no user message with the task"))?;
    if steps.is_empty() {
        return Err(Issue::new(IssueKind::EmptyTrajectory, "messages", "no assistant step"));
    }
    Ok(Replay { task, steps, exit })
}

/// The exit text when an assistant turn is SWE-agent's exit turn in `split`.
pub(crate) fn exit_turn(m: &Msg<'_>, text: &str, split: Split) -> Option<String> {
    let is_exit = match split {
        Split::Tool => {
            let no_call = match &m.tool_calls {
                Calls::None => true,
                Calls::List(c) => c.is_empty(),
                Calls::NotList => false,
            };
            no_call && text.trim_start().starts_with(EXIT_PREFIX)
        }
        Split::Xml => is_xml_exit(text),
        Split::Ticks => is_ticks_exit(text),
    };
    if !is_exit {
        return None;
    }
    let first = text.trim_start().lines().next().unwrap_or_default();
    Some(if first.starts_with(EXIT_PREFIX) { first.trim_end().to_string() } else { "Exit due to cost limit".into() })
}

pub(crate) fn tool_call(m: &Msg<'_>, text: &str, i: usize) -> Result<(String, Action), Issue> {
    let field = format!("messages[{i}].tool_calls");
    let calls = match &m.tool_calls {
        Calls::List(c) => c.as_slice(),
        Calls::None => &[],
        Calls::NotList => return Err(Issue::new(IssueKind::MalformedJson, field, "tool_calls is not a list")),
    };
    if calls.len() > 1 {
        return Err(Issue::new(IssueKind::MultipleToolCalls, field, format!("{} tool calls in one turn", calls.len())));
    }
    let call = calls
        .first()
        .ok_or_else(|| Issue::new(IssueKind::MissingToolCall, field.clone(), "assistant turn without a tool call"))?;
    let func = call.function.as_ref().ok_or_else(|| {
        Issue::new(IssueKind::MissingColumn, format!("{field}[0].function"), "tool call without function")
    })?;
    let name = func.name.as_deref().ok_or_else(|| {
        Issue::new(IssueKind::MissingColumn, format!("{field}[0].function.name"), "tool call without a name")
    })?;
    let args_field = format!("{field}[0].function.arguments");
    let parsed;
    let args = match &func.arguments {
        Arguments::Text(s) => {
            parsed = serde_json::from_str::<serde_json::Value>(s)
                .map_err(|e| Issue::new(IssueKind::BadArguments, args_field.clone(), format!("not JSON: {e}")))?;
            if !parsed.is_object() {
                return Err(Issue::new(IssueKind::BadArguments, args_field, "arguments are not a JSON object"));
            }
            &parsed
        }
        Arguments::Object(v) => v,
        Arguments::None => {
            parsed = serde_json::Value::Object(Default::default());
            &parsed
        }
        Arguments::Other => {
            return Err(Issue::new(IssueKind::BadArguments, args_field, "arguments are not a JSON object"))
        }
    };
    let action = Action::from_json_args(name, args).map_err(|e| action_issue(field.clone(), &e))?;
    let thought = m.thought.as_deref().unwrap_or(text);
    Ok((thought.trim().to_string(), action))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_split_turns() {
        let msgs = json!([
            {"role": "system", "content": "sys"},
            {"role": "user", "content": [{"type": "text", "text": "Fix it."}]},
            {"role": "assistant", "content": "Look.", "thought": "Look.", "tool_calls": [{"function": {"name": "bash", "arguments": "{\"command\": \"ls\"}"}}]},
            {"role": "tool", "content": [{"type": "text", "text": "OBSERVATION:\na.py\n"}]},
            {"role": "assistant", "content": "Done.", "tool_calls": [{"function": {"name": "submit", "arguments": "{}"}}]}
        ]);
        let r = replay_messages(&msgs, Split::Tool).unwrap();
        assert_eq!(r.task, "Fix it.");
        assert_eq!(r.steps.len(), 2);
        assert_eq!(r.steps[0].action, Action::new("bash", [("command", "ls")]));
        assert_eq!(r.steps[0].observation, "a.py\n");
        assert_eq!(r.steps[1].action.tool, "submit");
        assert_eq!(r.steps[1].observation, "");
    }

    #[test]
    fn tool_split_errors() {
        let two = json!([{"role": "user", "content": "t"}, {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": "bash", "arguments": "{\"command\": \"ls\"}"}}, {"function": {"name": "submit", "arguments": "{}"}}]}]);
        assert_eq!(replay_messages(&two, Split::Tool).unwrap_err().kind, IssueKind::MultipleToolCalls);
        let bad = json!([{"role": "user", "content": "t"}, {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "bash", "arguments": "{command: ls"}}]}]);
        let e = replay_messages(&bad, Split::Tool).unwrap_err();
        assert_eq!(e.kind, IssueKind::BadArguments);
        assert_eq!(e.field, "messages[1].tool_calls[0].function.arguments");
        let unknown = json!([{"role": "user", "content": "t"}, {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "python", "arguments": "{}"}}]}]);
        assert_eq!(replay_messages(&unknown, Split::Tool).unwrap_err().kind, IssueKind::UnknownTool);
        let empty = json!([{"role": "system", "content": "s"}, {"role": "user", "content": "t"}]);
        assert_eq!(replay_messages(&empty, Split::Tool).unwrap_err().kind, IssueKind::EmptyTrajectory);
    }
}
