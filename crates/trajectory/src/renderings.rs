//! Reading one expert call back from the `xml` and `ticks` renderings of SWE-smith's
//! `collect_trajs.py` (SWE-bench/SWE-smith `swesmith/train/traj_mgr/utils.py`), with the rules of
//! the SWE-agent parsers that read these styles (SWE-agent/SWE-agent `sweagent/tools/parsing.py`),
//! and telling SWE-agent's exit turns apart from expert calls. docs/prepare.md has the details.
//!
//! - `xml` (`XMLFunctionCallingParser`): the call is the first `<function=NAME>` that is directly
//!   followed by a newline, so prose that mentions `<function=bash>` inline is not a call. A value
//!   ends at the first `</parameter>` followed (after whitespace) by the next `<parameter=` or by
//!   `</function>`, so values may themselves contain `</parameter>` (a grep for XML, a
//!   `file_text` holding XML). Unlike SWE-agent's regex, a value keeps its real trailing newline:
//!   only the one padding newline SWE-smith adds around `old_str` / `new_str` / `file_text` is
//!   removed.
//! - `ticks` (`ThoughtActionParser`): code-fence lines are kept on a stack — a line starting
//!   with ```` ```lang ```` (or a bare ```` ``` ```` when no block is open) opens, a bare
//!   ```` ``` ```` closes — and the action is the last complete outermost block, so a heredoc or a
//!   `file_text` with fenced markdown inside reads whole. Where that parse leaves a block open or
//!   text after the block (e.g. a lone ```` ``` ```` in the thought), SWE-agent's parser would
//!   return the wrong text, so the turn is reported as [`IssueKind::UnpairedFence`] instead.
//! - Exit turns: SWE-agent ends a run that hits a limit with an autosubmission turn whose text is
//!   `Exit due to …` ("cost limit", "context window", "repeated format/blocklist/bash syntax
//!   errors", …) and which carries no call; SWE-smith renders it as `Exit…\n\n```\n\n```` in
//!   `ticks`, and in `xml` as `Exit…\n\n` or, for the cost limit, a canned "…let's submit the
//!   changes:\n\n<function=submit>\n</function>" turn. None of these is an expert action.

use crate::error::{Issue, IssueKind};
use srl_core::{tools, Action, ActionParseError};

/// How SWE-agent's exit messages start (`handle_error_with_autosubmission` in
/// `sweagent/agent/agents.py`).
pub const EXIT_PREFIX: &str = "Exit due to ";

/// The text SWE-smith's `transform_traj_xml` puts in place of an "Exit due to cost limit" turn.
pub const XML_COST_LIMIT_EXIT: &str = "Since we have successfully fixed the issue and verified it works, \
let's submit the changes:\n\n<function=submit>\n</function>";

const FN_OPEN: &str = "<function=";
const FN_CLOSE: &str = "</function>";
const PARAM_OPEN: &str = "<parameter=";
const PARAM_CLOSE: &str = "</parameter>";

pub(crate) fn action_issue(field: String, err: &ActionParseError) -> Issue {
    let kind = match err {
        ActionParseError::UnknownTool(_) => IssueKind::UnknownTool,
        ActionParseError::MultipleCalls => IssueKind::MultipleToolCalls,
        ActionParseError::NoFunction => IssueKind::MissingToolCall,
        _ => IssueKind::InvalidAction,
    };
    Issue::new(kind, field, err.to_string())
}

/// Whether an `xml`-split assistant text is SWE-agent's exit turn as SWE-smith renders it.
pub fn is_xml_exit(text: &str) -> bool {
    text.trim() == XML_COST_LIMIT_EXIT || (text.trim_start().starts_with(EXIT_PREFIX) && find_call(text).is_none())
}

/// Whether a `ticks`-split assistant text is SWE-agent's exit turn: an `Exit due to …` thought
/// with an empty action block.
pub fn is_ticks_exit(text: &str) -> bool {
    if !text.trim_start().starts_with(EXIT_PREFIX) {
        return false;
    }
    match last_block(text) {
        Some(block) => text[block.body.clone()].trim().is_empty(),
        None => true,
    }
}

/// Start of the first `<function=NAME>` directly followed by a newline, with the byte range of
/// NAME (SWE-agent's `<function=([^>]+)>\n`).
fn find_call(text: &str) -> Option<(usize, std::ops::Range<usize>)> {
    let mut from = 0;
    while let Some(off) = text[from..].find(FN_OPEN) {
        let start = from + off;
        let name_start = start + FN_OPEN.len();
        let gt = text[name_start..].find('>')?;
        let name_end = name_start + gt;
        if gt > 0 && text[name_end + 1..].starts_with('\n') {
            return Some((start, name_start..name_end));
        }
        from = name_start;
    }
    None
}

/// Where a value that starts at `from` ends: the first `</parameter>` followed, after
/// whitespace, by `<parameter=` or `</function>`.
fn value_end(text: &str, from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(off) = text[at..].find(PARAM_CLOSE) {
        let end = at + off;
        let after = text[end + PARAM_CLOSE.len()..].trim_start();
        if after.starts_with(PARAM_OPEN) || after.starts_with(FN_CLOSE) {
            return Some(end);
        }
        at = end + PARAM_CLOSE.len();
    }
    None
}

/// Reads the `<function=…>` call of an `xml`-split assistant turn: (thought, action).
pub fn xml_call(text: &str, i: usize) -> Result<(String, Action), Issue> {
    let field = format!("messages[{i}].content");
    let (start, name) =
        find_call(text).ok_or_else(|| Issue::new(IssueKind::MissingToolCall, field.clone(), "no <function=…> call"))?;
    let tool = match text[name.clone()].trim() {
        // SWE-agent's parser maps SWE-Gym's names onto its own.
        "execute_bash" => "bash",
        "finish" => "submit",
        other => other,
    };
    let mut pos = name.end + 2;
    let mut params: Vec<(String, String)> = Vec::new();
    let rest = loop {
        let body = &text[pos..];
        let trimmed = body.trim_start();
        let here = pos + (body.len() - trimmed.len());
        if let Some(after) = trimmed.strip_prefix(FN_CLOSE) {
            break after;
        }
        if trimmed.starts_with(PARAM_OPEN) {
            let key_start = here + PARAM_OPEN.len();
            let gt = text[key_start..].find('>').ok_or_else(|| {
                action_issue(
                    field.clone(),
                    &ActionParseError::UnclosedParameter(text[key_start..].chars().take(20).collect()),
                )
            })?;
            let key = text[key_start..key_start + gt].trim().to_string();
            let value_start = key_start + gt + 1;
            let end = value_end(text, value_start)
                .ok_or_else(|| action_issue(field.clone(), &ActionParseError::UnclosedParameter(key.clone())))?;
            params.push((key, text[value_start..end].to_string()));
            pos = end + PARAM_CLOSE.len();
            continue;
        }
        let err = if trimmed.is_empty() {
            ActionParseError::UnclosedFunction
        } else {
            ActionParseError::StrayText(trimmed.chars().take(40).collect())
        };
        return Err(action_issue(field, &err));
    };
    if find_call(rest).is_some() {
        return Err(Issue::new(IssueKind::MultipleToolCalls, field, "more than one <function=…> call"));
    }
    let spec = tools::tool(tool)
        .ok_or_else(|| Issue::new(IssueKind::UnknownTool, field.clone(), format!("unknown tool {tool:?}")))?;
    let params = params
        .into_iter()
        .map(|(k, v)| {
            let padded = spec.param(&k).is_some_and(|p| p.xml_padded);
            let v = if padded { unpad(&v).to_string() } else { v };
            (k, v)
        })
        .collect();
    let action = Action { tool: tool.to_string(), params }.validated().map_err(|e| action_issue(field, &e))?;
    Ok((text[..start].trim().to_string(), action))
}

/// Removes exactly one leading and one trailing `\n` (SWE-smith's padding of long values).
fn unpad(v: &str) -> &str {
    let v = v.strip_prefix('\n').unwrap_or(v);
    v.strip_suffix('\n').unwrap_or(v)
}

/// What a line starting with ```` ``` ```` is to SWE-agent's fence regex
/// (`^```(\S*)\s*\n|^```\s*$`, multi-line).
enum FenceLine {
    /// ```` ```lang ```` followed by a newline: always opens.
    Lang,
    /// A bare ```` ``` ```` followed by a newline: closes an open block, else opens one.
    Bare,
    /// A bare ```` ``` ```` at the very end of the text: closes an open block, else nothing.
    BareAtEnd,
}

fn fence_line(line: &str) -> Option<FenceLine> {
    let rest = line.strip_prefix("```")?;
    let (rest, newline) = match rest.strip_suffix('\n') {
        Some(r) => (r, true),
        None => (rest, false),
    };
    if rest.chars().all(char::is_whitespace) {
        return Some(if newline { FenceLine::Bare } else { FenceLine::BareAtEnd });
    }
    let lang_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    (newline && rest[lang_end..].chars().all(char::is_whitespace)).then_some(FenceLine::Lang)
}

/// The last complete outermost fenced block.
struct Block {
    /// Byte offset of the opening fence line.
    open_start: usize,
    /// The command text: after the opening line's newline, up to the newline before the
    /// closing fence.
    body: std::ops::Range<usize>,
    /// Whether the parse is clean: nothing left open and only whitespace after the block.
    clean: bool,
}

fn last_block(text: &str) -> Option<Block> {
    // (line start, line end without '\n') of open fences.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut last: Option<((usize, usize), (usize, usize))> = None;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let span = (pos, pos + line.trim_end_matches('\n').len());
        pos += line.len();
        let Some(kind) = fence_line(line) else { continue };
        match kind {
            FenceLine::Bare | FenceLine::BareAtEnd if !stack.is_empty() => {
                if let Some(open) = stack.pop() {
                    if stack.is_empty() {
                        last = Some((open, span));
                    }
                }
            }
            FenceLine::Lang | FenceLine::Bare => stack.push(span),
            FenceLine::BareAtEnd => {}
        }
    }
    let ((open_start, open_end), (close_start, close_end)) = last?;
    let body_start = (open_end + 1).min(close_start);
    let body_end = if close_start > body_start { close_start - 1 } else { body_start };
    let clean = stack.is_empty() && text[close_end..].trim().is_empty();
    Some(Block { open_start, body: body_start..body_end, clean })
}

/// Reads the command line in the action block of a `ticks`-split assistant turn: (thought,
/// action).
pub fn ticks_call(text: &str, i: usize) -> Result<(String, Action), Issue> {
    let field = format!("messages[{i}].content");
    let block = last_block(text)
        .ok_or_else(|| Issue::new(IssueKind::MissingToolCall, field.clone(), "no ``` fenced command"))?;
    if !block.clean {
        return Err(Issue::new(
            IssueKind::UnpairedFence,
            field,
            "``` fences do not pair up into one final action block (SWE-agent's ThoughtActionParser would read the wrong text)",
        ));
    }
    let action = crate::shell::parse_command_line(&text[block.body]).map_err(|e| action_issue(field, &e))?;
    Ok((text[..block.open_start].trim().to_string(), action))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn fence_lines_follow_the_regex() {
        assert!(matches!(fence_line("```\n"), Some(FenceLine::Bare)));
        assert!(matches!(fence_line("```  \n"), Some(FenceLine::Bare)));
        assert!(matches!(fence_line("```"), Some(FenceLine::BareAtEnd)));
        assert!(matches!(fence_line("```python\n"), Some(FenceLine::Lang)));
        assert!(matches!(fence_line("```python  \n"), Some(FenceLine::Lang)));
        assert!(fence_line("```python").is_none());
        assert!(fence_line("```python foo\n").is_none());
        assert!(fence_line("``").is_none());
    }
}
