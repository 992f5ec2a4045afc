//! SWE-agent's command-line rendering of tool calls (the `ticks` split, docs/prepare.md) read
//! back into an [`Action`].
//!
//! SWE-agent (`sweagent/tools/parsing.py`, `FunctionCallingParser._parse_tool_call`) renders a
//! call with the tool's `invoke_format` (`str_replace_editor {command} {path} {file_text} …`),
//! each optional argument as `--key value`, string values through Python's `shlex.quote` (so an
//! embedded `'` becomes `'"'"'`), integers bare (`--insert_line 5`) and lists by their Python
//! repr (`--view_range [1, 20]`, which the shell splits into two words). This module does the
//! reverse: POSIX word splitting, then positional `command path`, then `--key value…` pairs where
//! the value is the next word plus any words up to the next unquoted `--key` of the tool's schema.

use srl_core::tools;
use srl_core::{Action, ActionParseError};

/// One shell word and whether any part of it was quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub(crate) text: String,
    pub(crate) quoted: bool,
}

/// Why a command line cannot be split into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SplitError {
    /// A quote is never closed.
    UnclosedQuote,
}

/// POSIX shell word splitting (the subset `shlex.split` accepts): whitespace separates words,
/// `'…'` is literal, `"…"` honours `\"`, `\\`, `\$`, `` \` `` and `\<newline>`, a backslash outside
/// quotes escapes the next character, adjacent parts join.
pub(crate) fn split_words(text: &str) -> Result<Vec<Word>, SplitError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                quoted = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err(SplitError::UnclosedQuote),
                    }
                }
            }
            '"' => {
                in_word = true;
                quoted = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.peek().copied() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => {
                                cur.push(n);
                                chars.next();
                            }
                            Some('\n') => {
                                chars.next();
                            }
                            _ => cur.push('\\'),
                        },
                        Some(ch) => cur.push(ch),
                        None => return Err(SplitError::UnclosedQuote),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(ch) => {
                        quoted = true;
                        cur.push(ch);
                    }
                    None => cur.push('\\'),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(Word { text: std::mem::take(&mut cur), quoted });
                    in_word = false;
                    quoted = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(Word { text: cur, quoted });
    }
    Ok(words)
}

/// Reads a `ticks`-split command line: `submit`, `str_replace_editor …`, or else a bash command
/// (the whole text). The result is validated against the tool schema.
pub fn parse_command_line(command: &str) -> Result<Action, ActionParseError> {
    let trimmed = command.trim();
    if trimmed == "submit" {
        return Action::new("submit", []).validated();
    }
    if let Some(rest) = trimmed.strip_prefix("str_replace_editor") {
        if rest.is_empty() || rest.starts_with(char::is_whitespace) {
            return parse_editor(rest);
        }
    }
    Action::new("bash", [("command", command)]).validated()
}

fn parse_editor(args: &str) -> Result<Action, ActionParseError> {
    let invalid =
        |value: &str| ActionParseError::InvalidValue { param: "str_replace_editor".into(), value: value.into() };
    let words = split_words(args).map_err(|_| invalid(args))?;
    let spec =
        tools::tool("str_replace_editor").ok_or_else(|| ActionParseError::UnknownTool("str_replace_editor".into()))?;
    let is_key = |w: &Word| !w.quoted && w.text.strip_prefix("--").is_some_and(|k| spec.param(k).is_some());
    let mut params: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    for name in ["command", "path"] {
        match words.get(i) {
            Some(w) if !is_key(w) => {
                params.push((name.to_string(), w.text.clone()));
                i += 1;
            }
            _ => {
                return Err(ActionParseError::MissingParameter {
                    tool: "str_replace_editor".into(),
                    param: name.into(),
                })
            }
        }
    }
    while i < words.len() {
        let w = &words[i];
        if !is_key(w) {
            return Err(ActionParseError::StrayText(w.text.chars().take(40).collect()));
        }
        let key = w.text[2..].to_string();
        i += 1;
        // The first word after a key is always its value: `shlex.quote` leaves a value such as
        // `--old_str` unquoted, so it may look like a key.
        let mut parts = Vec::new();
        if let Some(first) = words.get(i) {
            parts.push(first.text.as_str());
            i += 1;
        }
        while i < words.len() && !is_key(&words[i]) {
            parts.push(words[i].text.as_str());
            i += 1;
        }
        if parts.is_empty() {
            return Err(ActionParseError::InvalidValue { param: key, value: String::new() });
        }
        params.push((key, parts.join(" ")));
    }
    Action { tool: "str_replace_editor".into(), params }.validated()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        split_words(text).unwrap().into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn shell_words_follow_posix_quoting() {
        // Expected values are what Python's shlex.split gives for the same input.
        assert_eq!(words("a  'b c' \"d\\\"e\" f\\ g"), ["a", "b c", "d\"e", "f g"]);
        assert_eq!(words("'it'\"'\"'s'"), ["it's"]);
        assert_eq!(words("''"), [""]);
        assert_eq!(words("'line1\nline2'"), ["line1\nline2"]);
        assert_eq!(split_words("'open"), Err(SplitError::UnclosedQuote));
    }

    #[test]
    fn editor_command_lines() {
        let a =
            parse_command_line("str_replace_editor str_replace /testbed/x.py   --old_str 'it'\"'\"'s\n' --new_str ''")
                .unwrap();
        assert_eq!(
            a,
            Action::new(
                "str_replace_editor",
                [("command", "str_replace"), ("path", "/testbed/x.py"), ("old_str", "it's\n"), ("new_str", "")]
            )
        );
        let v = parse_command_line("str_replace_editor view /testbed/x.py  --view_range [1, 20]").unwrap();
        assert_eq!(v.get("view_range"), Some("[1, 20]"));
        let v2 = parse_command_line("str_replace_editor view /testbed/x.py --view_range '[1, 20]'").unwrap();
        assert_eq!(v, v2);
        let ins =
            parse_command_line("str_replace_editor insert /testbed/x.py --new_str 'x = 1' --insert_line 5").unwrap();
        assert_eq!(
            ins.params.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["command", "path", "new_str", "insert_line"]
        );
        let quoted_key = parse_command_line("str_replace_editor create /testbed/y.py --file_text '--old_str'").unwrap();
        assert_eq!(quoted_key.get("file_text"), Some("--old_str"));
    }

    #[test]
    fn bash_and_submit() {
        assert_eq!(parse_command_line("submit").unwrap(), Action::new("submit", []));
        let b = parse_command_line("cd /testbed && python -c 'print(1)'").unwrap();
        assert_eq!(b.get("command"), Some("cd /testbed && python -c 'print(1)'"));
        assert_eq!(parse_command_line("str_replace_editor").unwrap_err().kind(), "missing_parameter");
        assert_eq!(parse_command_line("str_replace_editor view /x --bogus 1").unwrap_err().kind(), "stray_text");
    }
}
