//! `str_replace_editor`, following SWE-agent's `tools/edit_anthropic/bin/str_replace_editor`
//! (itself an adaptation of Anthropic's text editor tool) so the observations match what the
//! SWE-smith experts saw: `view` (`cat -n`-style numbering with `{:6}\t`, directories listed
//! two levels deep without hidden items, `view_range` with `-1` for the end), `create`,
//! `str_replace` (error when `old_str` is missing or not unique, a 4-line snippet after),
//! `insert` (after line `insert_line`), `undo_edit`. Tabs are expanded as in Python's
//! `expandtabs()`; each observation ends with the newline Python's `print` adds.
//!
//! Differences: the undo history lives in this process (SWE-agent keeps it in a registry file
//! inside the container); the linter and window-expansion options (off in SWE-smith's config)
//! are not implemented; files are read as UTF-8 with replacement characters.
use crate::{ExecRequest, Result, Sandbox, SandboxError};
use srl_core::Action;
use std::collections::HashMap;

/// Characters of a file shown before clipping (`MAX_RESPONSE_LEN`).
pub const MAX_RESPONSE_LEN: usize = 16_000;
/// Context lines around an edit (`SNIPPET_LINES`).
pub const SNIPPET_LINES: usize = 4;
const TRUNCATED_MESSAGE: &str = "<response clipped><NOTE>To save on context only part of this file has been shown to you. You should retry this tool after you have searched inside the file with `grep -n` in order to find the line numbers of what you are looking for.</NOTE>";

/// Python's `str.expandtabs()` (tab size 8).
pub fn expand_tabs(text: &str) -> String {
    if !text.contains('\t') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut col = 0usize;
    for c in text.chars() {
        match c {
            '\t' => {
                let n = 8 - col % 8;
                out.extend(std::iter::repeat_n(' ', n));
                col += n;
            }
            '\n' | '\r' => {
                out.push(c);
                col = 0;
            }
            _ => {
                out.push(c);
                col += 1;
            }
        }
    }
    out
}

fn maybe_truncate(content: &str) -> String {
    if content.chars().count() <= MAX_RESPONSE_LEN {
        content.to_string()
    } else {
        let head: String = content.chars().take(MAX_RESPONSE_LEN).collect();
        format!("{head}{TRUNCATED_MESSAGE}")
    }
}

/// `_make_output`: the numbered listing with its header.
pub fn make_output(content: &str, descriptor: &str, init_line: usize) -> String {
    let content = expand_tabs(&maybe_truncate(content));
    let numbered: Vec<String> =
        content.split('\n').enumerate().map(|(i, line)| format!("{:>6}\t{line}", i + init_line)).collect();
    format!("Here's the result of running `cat -n` on {descriptor}:\n{}\n", numbered.join("\n"))
}

enum PathKind {
    File(String),
    Dir,
    Missing,
}

/// The editor state of one task: the undo history per path.
#[derive(Debug, Default, Clone)]
pub struct Editor {
    history: HashMap<String, Vec<String>>,
}

fn out(msg: impl Into<String>) -> String {
    let mut s = msg.into();
    s.push('\n');
    s
}

impl Editor {
    async fn kind<S: Sandbox>(sandbox: &S, path: &str) -> Result<PathKind> {
        match sandbox.read_file(path).await {
            Ok(bytes) => Ok(PathKind::File(String::from_utf8_lossy(&bytes).into_owned())),
            Err(SandboxError::IsDirectory { .. }) => Ok(PathKind::Dir),
            Err(SandboxError::NotFound { .. }) => Ok(PathKind::Missing),
            Err(e) => Err(e),
        }
    }

    /// Runs one `str_replace_editor` action and returns its observation (errors included, as
    /// the tool prints them).
    pub async fn run<S: Sandbox>(&mut self, sandbox: &S, action: &Action) -> Result<String> {
        let command = action.get("command").unwrap_or_default();
        let raw_path = action.get("path").unwrap_or_default();
        let path = if raw_path.len() > 1 { raw_path.trim_end_matches('/') } else { raw_path };
        if !path.starts_with('/') {
            return Ok(out(format!(
                "The path {path} is not an absolute path, it should start with `/`. Maybe you meant /testbed/{path}?"
            )));
        }
        let kind = Self::kind(sandbox, path).await?;
        match (&kind, command) {
            (PathKind::Missing, c) if c != "create" => {
                return Ok(out(format!("The path {path} does not exist. Please provide a valid path.")));
            }
            (PathKind::File(_) | PathKind::Dir, "create") => {
                return Ok(out(format!(
                    "File already exists at: {path}. Cannot overwrite files using command `create`."
                )));
            }
            (PathKind::Dir, c) if c != "view" => {
                return Ok(out(format!(
                    "The path {path} is a directory and only the `view` command can be used on directories"
                )));
            }
            _ => {}
        }
        match command {
            "view" => self.view(sandbox, path, kind, action.get("view_range")).await,
            "create" => {
                let Some(text) = action.get("file_text") else {
                    return Ok(out("Parameter `file_text` is required for command: create"));
                };
                let parent = path.rsplit_once('/').map(|(p, _)| if p.is_empty() { "/" } else { p }).unwrap_or("/");
                let check = sandbox
                    .exec(&ExecRequest::new(format!("test -d \"${{SANDBOX_ROOT:-}}\"{}", crate::paths::shell_quote(parent))).workdir("/"))
                    .await?;
                if !check.success() {
                    return Ok(out(format!("The parent directory {parent} does not exist. Please create it first.")));
                }
                sandbox.write_file(path, text.as_bytes()).await?;
                self.history.entry(path.to_string()).or_default().push(text.to_string());
                Ok(out(format!("File created successfully at: {path}")))
            }
            "str_replace" => {
                let PathKind::File(content) = kind else { return Ok(out(format!("The path {path} is a directory and only the `view` command can be used on directories"))) };
                let Some(old) = action.get("old_str") else {
                    return Ok(out("Parameter `old_str` is required for command: str_replace"));
                };
                self.str_replace(sandbox, path, &content, old, action.get("new_str")).await
            }
            "insert" => {
                let PathKind::File(content) = kind else { return Ok(out(format!("The path {path} is a directory and only the `view` command can be used on directories"))) };
                let Some(line) = action.get("insert_line") else {
                    return Ok(out("Parameter `insert_line` is required for command: insert"));
                };
                let Some(new) = action.get("new_str") else {
                    return Ok(out("Parameter `new_str` is required for command: insert"));
                };
                let line: i64 = line.trim().parse().unwrap_or(-1);
                self.insert(sandbox, path, &content, line, new).await
            }
            "undo_edit" => {
                let Some(old) = self.history.get_mut(path).and_then(|h| h.pop()) else {
                    return Ok(out(format!("No edit history found for {path}.")));
                };
                sandbox.write_file(path, old.as_bytes()).await?;
                Ok(out(format!("Last edit to {path} undone successfully. {}", make_output(&old, path, 1))))
            }
            other => Ok(out(format!(
                "Unrecognized command {other}. The allowed commands for the str_replace_editor tool are: \"view\", \"create\", \"str_replace\", \"insert\", \"undo_edit\""
            ))),
        }
    }

    async fn view<S: Sandbox>(&self, sandbox: &S, path: &str, kind: PathKind, range: Option<&str>) -> Result<String> {
        let content = match kind {
            PathKind::Dir => {
                if range.is_some() {
                    return Ok(out("The `view_range` parameter is not allowed when `path` points to a directory."));
                }
                let script =
                    format!(r"find . -maxdepth 2 -not -path '*/\.*' | sed 's|^\.|{}|'", path.replace('|', "\\|"));
                let res = sandbox.exec(&ExecRequest::new(script).workdir(path)).await?;
                if !res.stderr.is_empty() {
                    return Ok(String::new());
                }
                return Ok(out(format!(
                    "Here's the files and directories up to 2 levels deep in {path}, excluding hidden items:\n{}\n",
                    res.stdout
                )));
            }
            PathKind::File(c) => c,
            PathKind::Missing => {
                return Ok(out(format!("The path {path} does not exist. Please provide a valid path.")))
            }
        };
        let Some(range) = range else { return Ok(out(make_output(&content, path, 1))) };
        let nums: Vec<i64> =
            range.trim_matches(|c| c == '[' || c == ']').split(',').filter_map(|s| s.trim().parse().ok()).collect();
        if nums.len() != 2 {
            return Ok(out("Invalid `view_range`. It should be a list of two integers."));
        }
        let lines: Vec<&str> = content.split('\n').collect();
        let n = lines.len() as i64;
        let (init, mut fin) = (nums[0], nums[1]);
        if init < 1 || init > n {
            return Ok(out(format!(
                "Invalid `view_range`: {range}. Its first element `{init}` should be within the range of lines of the file: [1, {n}]"
            )));
        }
        if fin > n {
            return Ok(out(format!(
                "Invalid `view_range`: {range}. Its second element `{fin}` should be smaller than the number of lines in the file: `{n}`"
            )));
        }
        if fin != -1 && fin < init {
            return Ok(out(format!(
                "Invalid `view_range`: {range}. Its second element `{fin}` should be larger or equal than its first `{init}`"
            )));
        }
        if fin == -1 {
            fin = n;
        }
        let slice = lines[(init - 1) as usize..fin as usize].join("\n");
        Ok(out(make_output(&slice, path, init as usize)))
    }

    async fn str_replace<S: Sandbox>(
        &mut self,
        sandbox: &S,
        path: &str,
        content: &str,
        old: &str,
        new: Option<&str>,
    ) -> Result<String> {
        let content = expand_tabs(content);
        let old = expand_tabs(old);
        let new = expand_tabs(new.unwrap_or(""));
        let occurrences =
            if old.is_empty() { content.chars().count() + 1 } else { content.matches(old.as_str()).count() };
        if occurrences == 0 {
            return Ok(out(format!(
                "No replacement was performed, old_str `{old}` did not appear verbatim in {path}."
            )));
        }
        if occurrences > 1 {
            let lines: Vec<String> = content
                .split('\n')
                .enumerate()
                .filter(|(_, l)| l.contains(old.as_str()))
                .map(|(i, _)| (i + 1).to_string())
                .collect();
            return Ok(out(format!(
                "No replacement was performed. Multiple occurrences of old_str `{old}` in lines [{}]. Please ensure it is unique",
                lines.join(", ")
            )));
        }
        if new == old {
            return Ok(out(format!("No replacement was performed, old_str `{old}` is the same as new_str `{new}`.")));
        }
        let new_content = content.replacen(old.as_str(), &new, 1);
        sandbox.write_file(path, new_content.as_bytes()).await?;
        self.history.entry(path.to_string()).or_default().push(content.clone());
        let before = content.split(old.as_str()).next().unwrap_or("");
        let replacement_line = before.matches('\n').count();
        let start = replacement_line.saturating_sub(SNIPPET_LINES).max(1);
        let end = (replacement_line + SNIPPET_LINES + new.matches('\n').count()).min(new_content.lines().count());
        let lines: Vec<&str> = new_content.split('\n').collect();
        let snippet = if start <= end { lines[start - 1..end.min(lines.len())].join("\n") } else { String::new() };
        Ok(out(format!(
            "The file {path} has been edited. {}Review the changes and make sure they are as expected. Edit the file again if necessary.",
            make_output(&snippet, &format!("a snippet of {path}"), start)
        )))
    }

    async fn insert<S: Sandbox>(
        &mut self,
        sandbox: &S,
        path: &str,
        content: &str,
        line: i64,
        new: &str,
    ) -> Result<String> {
        let text = expand_tabs(content);
        let new = expand_tabs(new);
        let lines: Vec<&str> = text.split('\n').collect();
        let n = lines.len() as i64;
        if line < 0 || line > n {
            return Ok(out(format!(
                "Invalid `insert_line` parameter: {line}. It should be within the range of lines of the file: [0, {n}]"
            )));
        }
        let at = line as usize;
        let new_lines: Vec<&str> = new.split('\n').collect();
        let mut all: Vec<&str> = lines[..at].to_vec();
        all.extend(&new_lines);
        all.extend(&lines[at..]);
        let mut snippet: Vec<&str> = lines[at.saturating_sub(SNIPPET_LINES)..at].to_vec();
        snippet.extend(&new_lines);
        snippet.extend(&lines[at..(at + SNIPPET_LINES).min(lines.len())]);
        sandbox.write_file(path, all.join("\n").as_bytes()).await?;
        self.history.entry(path.to_string()).or_default().push(text.clone());
        let init = (line - SNIPPET_LINES as i64 + 1).max(1) as usize;
        Ok(out(format!(
            "The file {path} has been edited. {}Review the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary.",
            make_output(&snippet.join("\n"), "a snippet of the edited file", init)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_expand_like_python() {
        assert_eq!(expand_tabs("a\tb\n\tc"), "a       b\n        c");
    }

    #[test]
    fn numbering_matches_cat_n_format() {
        assert_eq!(
            make_output("x\ny", "/f", 9),
            "Here's the result of running `cat -n` on /f:\n     9\tx\n    10\ty\n"
        );
    }
}
