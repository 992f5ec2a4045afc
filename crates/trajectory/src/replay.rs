//! Replay of one SWE-smith conversation into (thought, action, observation) steps.
//!
//! Follows formats.md §1.4–1.6 (SWE-smith `collect_trajs.py` styles `tool`, `xml`, `ticks`):
//! - `tool`: each assistant turn carries exactly one `tool_calls` entry whose
//!   `function.arguments` is a JSON string; it becomes [`Action::from_json_args`].
//! - `xml`: the assistant text is `thought + "\n\n" + <function=…>…</function>`; the block is
//!   read with [`Action::parse_block`] after stripping one padding newline on each side of the
//!   values SWE-agent pads (`ParamSpec::xml_padded`).
//! - `ticks`: the command line inside the last backtick fence, read by
//!   [`crate::shell::parse_command_line`].
//!
//! In every split the first user message is the task, later `tool` messages and user messages
//! are observations of the step before (an `OBSERVATION:\n` prefix is removed), and a reader
//! accepts `content` as a string or as a list of `{"type": "text", "text": …}` blocks.

use crate::error::{Issue, IssueKind};
use crate::split::Split;
use srl_core::{tools, Action, ActionParseError};

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

fn action_issue(field: String, err: &ActionParseError) -> Issue {
    let kind = match err {
        ActionParseError::UnknownTool(_) => IssueKind::UnknownTool,
        ActionParseError::MultipleCalls => IssueKind::MultipleToolCalls,
        ActionParseError::NoFunction => IssueKind::MissingToolCall,
        _ => IssueKind::InvalidAction,
    };
    Issue::new(kind, field, err.to_string())
}

/// Replays a decoded `messages` list of the given split.
pub fn replay_messages(messages: &serde_json::Value, split: Split) -> Result<Replay, Issue> {
    let list = messages
        .as_array()
        .ok_or_else(|| Issue::new(IssueKind::MalformedJson, "messages", "not a JSON list of messages"))?;
    let mut task: Option<String> = None;
    let mut steps: Vec<Step> = Vec::new();
    // Observation text gathered for the last step.
    let mut pending_obs: Option<String> = None;
    for (i, m) in list.iter().enumerate() {
        let role = m.get("role").and_then(|r| r.as_str()).ok_or_else(|| {
            Issue::new(IssueKind::MissingColumn, format!("messages[{i}].role"), "message without a role")
        })?;
        match role {
            "system" => {}
            "user" | "tool" => {
                let text = content_text(m.get("content"));
                if role == "user" && task.is_none() && steps.is_empty() {
                    task = Some(text);
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
                let (thought, action) = match split {
                    Split::Tool => tool_call(m, i)?,
                    Split::Xml => xml_call(&content_text(m.get("content")), i)?,
                    Split::Ticks => ticks_call(&content_text(m.get("content")), i)?,
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
    Ok(Replay { task, steps })
}

fn tool_call(m: &serde_json::Value, i: usize) -> Result<(String, Action), Issue> {
    let field = format!("messages[{i}].tool_calls");
    let calls = match m.get("tool_calls") {
        Some(serde_json::Value::Array(c)) => c.as_slice(),
        Some(serde_json::Value::Null) | None => &[],
        Some(_) => return Err(Issue::new(IssueKind::MalformedJson, field, "tool_calls is not a list")),
    };
    if calls.len() > 1 {
        return Err(Issue::new(IssueKind::MultipleToolCalls, field, format!("{} tool calls in one turn", calls.len())));
    }
    let call = calls
        .first()
        .ok_or_else(|| Issue::new(IssueKind::MissingToolCall, field.clone(), "assistant turn without a tool call"))?;
    let func = call.get("function").ok_or_else(|| {
        Issue::new(IssueKind::MissingColumn, format!("{field}[0].function"), "tool call without function")
    })?;
    let name = func.get("name").and_then(|n| n.as_str()).ok_or_else(|| {
        Issue::new(IssueKind::MissingColumn, format!("{field}[0].function.name"), "tool call without a name")
    })?;
    let args_field = format!("{field}[0].function.arguments");
    let args = match func.get("arguments") {
        Some(serde_json::Value::String(s)) => {
            let v: serde_json::Value = serde_json::from_str(s)
                .map_err(|e| Issue::new(IssueKind::BadArguments, args_field.clone(), format!("not JSON: {e}")))?;
            if !v.is_object() {
                return Err(Issue::new(IssueKind::BadArguments, args_field, "arguments are not a JSON object"));
            }
            v
        }
        Some(v @ serde_json::Value::Object(_)) => v.clone(),
        Some(serde_json::Value::Null) | None => serde_json::Value::Object(Default::default()),
        Some(_) => return Err(Issue::new(IssueKind::BadArguments, args_field, "arguments are not a JSON object")),
    };
    let action = Action::from_json_args(name, &args).map_err(|e| action_issue(field.clone(), &e))?;
    let thought =
        m.get("thought").and_then(|t| t.as_str()).map(str::to_string).unwrap_or_else(|| content_text(m.get("content")));
    Ok((thought.trim().to_string(), action))
}

/// Reads the one `<function=…>` block of an `xml`-split assistant turn.
pub fn xml_call(text: &str, i: usize) -> Result<(String, Action), Issue> {
    let field = format!("messages[{i}].content");
    let start = text
        .find("<function=")
        .ok_or_else(|| Issue::new(IssueKind::MissingToolCall, field.clone(), "no <function=…> block"))?;
    let (raw, rest) = Action::parse_block(&text[start..]).map_err(|e| action_issue(field.clone(), &e))?;
    if rest.contains("<function=") {
        return Err(Issue::new(IssueKind::MultipleToolCalls, field, "more than one <function=…> block"));
    }
    let spec = tools::tool(&raw.tool)
        .ok_or_else(|| Issue::new(IssueKind::UnknownTool, field.clone(), format!("unknown tool {:?}", raw.tool)))?;
    let params = raw
        .params
        .into_iter()
        .map(|(k, v)| {
            let padded = spec.param(&k).is_some_and(|p| p.xml_padded);
            let v = if padded { unpad(&v).to_string() } else { v };
            (k, v)
        })
        .collect();
    let action = Action { tool: raw.tool, params }.validated().map_err(|e| action_issue(field, &e))?;
    Ok((text[..start].trim().to_string(), action))
}

/// Removes exactly one leading and one trailing `\n` (SWE-agent's padding of long values).
fn unpad(v: &str) -> &str {
    let v = v.strip_prefix('\n').unwrap_or(v);
    v.strip_suffix('\n').unwrap_or(v)
}

/// Reads the command line in the last backtick fence of a `ticks`-split assistant turn.
pub fn ticks_call(text: &str, i: usize) -> Result<(String, Action), Issue> {
    let field = format!("messages[{i}].content");
    // Byte offsets of lines starting with ``` : (line start, line end excluding '\n').
    let mut fences = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("```") {
            fences.push((pos, pos + line.trim_end_matches('\n').len()));
        }
        pos += line.len();
    }
    if fences.len() < 2 {
        return Err(Issue::new(IssueKind::MissingToolCall, field, "no ``` fenced command"));
    }
    // Pair fences in order (open, close) and take the last complete pair.
    let pairs = fences.len() / 2;
    let (open_start, open_end) = fences[2 * (pairs - 1)];
    let (close_start, _) = fences[2 * (pairs - 1) + 1];
    let body_start = (open_end + 1).min(close_start);
    let body_end = if close_start > body_start { close_start - 1 } else { body_start };
    let command = &text[body_start..body_end];
    let action = crate::shell::parse_command_line(command).map_err(|e| action_issue(field, &e))?;
    Ok((text[..open_start].trim().to_string(), action))
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

    #[test]
    fn xml_values_lose_one_padding_newline() {
        let text = "Edit.\n\n<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n<parameter=path>/testbed/a.py</parameter>\n<parameter=old_str>\n  x\n\n</parameter>\n<parameter=new_str>\n\n</parameter>\n</function>";
        let (thought, a) = xml_call(text, 2).unwrap();
        assert_eq!(thought, "Edit.");
        assert_eq!(a.get("old_str"), Some("  x\n"));
        assert_eq!(a.get("new_str"), Some(""));
        let two = format!("{text}\n{}", "<function=submit>\n</function>");
        assert_eq!(xml_call(&two, 2).unwrap_err().kind, IssueKind::MultipleToolCalls);
    }

    #[test]
    fn ticks_takes_the_last_fence() {
        let text = "Run:\n```\nnot this\n```\nthen\n\n```\nls -la\n```";
        let (thought, a) = ticks_call(text, 1).unwrap();
        assert_eq!(a.get("command"), Some("ls -la"));
        assert!(thought.starts_with("Run:"));
        let (_, nl) = ticks_call("t\n\n```\nprintf 'a\\n'\n\n```", 1).unwrap();
        assert_eq!(nl.get("command"), Some("printf 'a\\n'\n"));
        assert_eq!(ticks_call("no fence", 1).unwrap_err().kind, IssueKind::MissingToolCall);
    }
}
