//! Reranking of several repair samples by majority vote over normalized patches, as
//! Agentless-mini's `rerank.py` does with `--applied_rankers none` (facebookresearch/swe-rl,
//! `src/swerl/agentless_mini/rerank.py` `majority_voting`; docs/method.md §10): empty patches do not
//! vote; the key with the most votes wins, ties go to the key that appeared first, and the
//! winner's original `model_patch` (its earliest sample) is returned.
//!
//! Normalization: upstream runs `ast.unparse` on the old and new file, removes comments and
//! docstrings (`remove_comments_and_docstrings`) and diffs again. Python is not available at run
//! time, so [`normalize_python`] approximates it in Rust: comments and statement-level string
//! literals (docstrings) are removed, runs of blanks inside a line collapse to one space,
//! trailing blanks and blank lines go. Two samples get the same key when their edited files
//! are equal after this normalization, which is what equal normalized diffs mean for samples
//! that start from the same original files.

use crate::search_replace::EditedFile;
use std::collections::HashMap;

/// Removes comments and docstring-like statement strings and normalizes blank space.
pub fn normalize_python(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    let mut depth: i32 = 0; // bracket depth: strings inside brackets are expressions
    let mut line_start = true; // only blanks so far on this logical line
    while i < chars.len() {
        let c = chars[i];
        match c {
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\'' | '"' => {
                let start = i;
                let triple = i + 2 < chars.len() && chars[i + 1] == c && chars[i + 2] == c;
                let qlen = if triple { 3 } else { 1 };
                i += qlen;
                while i < chars.len() {
                    if chars[i] == '\\' {
                        i += 2;
                        continue;
                    }
                    if !triple && chars[i] == '\n' {
                        break;
                    }
                    if chars[i] == c && (!triple || (i + 2 < chars.len() && chars[i + 1] == c && chars[i + 2] == c)) {
                        i += qlen;
                        break;
                    }
                    i += 1;
                }
                let end = i.min(chars.len());
                // A string opening a statement and ending it is a docstring-like expression.
                let mut j = end;
                while j < chars.len() && (chars[j] == ' ' || chars[j] == '\t') {
                    j += 1;
                }
                let ends_statement = j >= chars.len() || chars[j] == '\n' || chars[j] == '#';
                if !(line_start && depth == 0 && ends_statement) {
                    out.extend(&chars[start..end]);
                }
                line_start = false;
            }
            ' ' | '\t' => {
                if !out.ends_with(' ') || out.ends_with('\n') || line_start {
                    out.push(' ');
                }
                i += 1;
                continue;
            }
            '\n' => {
                if depth == 0 {
                    line_start = true;
                }
                out.push('\n');
                i += 1;
                continue;
            }
            _ => {
                match c {
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' => depth = (depth - 1).max(0),
                    _ => {}
                }
                // String prefixes (r, b, f, u) directly before a quote belong to the string.
                let prefix = c.is_ascii_alphabetic() && i + 1 < chars.len() && matches!(chars[i + 1], '\'' | '"');
                if !prefix {
                    line_start = false;
                }
                out.push(c);
                i += 1;
            }
        }
        if i > chars.len() {
            break;
        }
    }
    out.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\n")
}

/// The vote key of one sample: its changed files after normalization (empty = no vote).
pub fn patch_key(model_patch: &str, files: &[EditedFile]) -> String {
    if model_patch.trim().is_empty() {
        return String::new();
    }
    let mut changed: Vec<&EditedFile> = files.iter().filter(|f| f.new != f.original).collect();
    changed.sort_by(|a, b| a.path.cmp(&b.path));
    let mut key = String::new();
    for f in changed {
        let (old, new) = (normalize_python(&f.original), normalize_python(&f.new));
        if old == new {
            continue;
        }
        key.push_str("### ");
        key.push_str(&f.path);
        key.push('\n');
        key.push_str(&new);
        key.push('\n');
    }
    key
}

/// Majority vote over keys (empty keys do not vote); ties go to the key seen first. Returns
/// the index of the earliest sample with the winning key, or `None` when no key is non-empty.
pub fn majority_vote(keys: &[String]) -> Option<usize> {
    let mut votes: HashMap<&str, (usize, usize)> = HashMap::new(); // key -> (count, first index)
    for (i, k) in keys.iter().enumerate() {
        if k.trim().is_empty() {
            continue;
        }
        votes.entry(k.as_str()).or_insert((0, i)).0 += 1;
    }
    votes.values().max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1))).map(|&(_, first)| first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_drops_comments_docstrings_and_blank_space() {
        let a = "def f(x):\n    \"\"\"Doc.\"\"\"\n    # comment\n    return  x + 1   # trailing\n\n";
        let b = "def f(x):\n    return x + 1\n";
        assert_eq!(normalize_python(a), normalize_python(b));
        assert_eq!(normalize_python(b), "def f(x):\n    return x + 1");
        // Strings that are expressions stay.
        assert!(normalize_python("x = '#not a comment'\n").contains("'#not a comment'"));
        assert!(normalize_python("f(\n    'arg'\n)\n").contains("'arg'"));
        assert!(normalize_python("x = r'a'\n").contains("r'a'"));
    }

    #[test]
    fn vote_counts_and_breaks_ties_by_first_appearance() {
        let k = |s: &str| s.to_string();
        assert_eq!(majority_vote(&[k(""), k("b"), k("a"), k("a"), k("b")]), Some(1));
        assert_eq!(majority_vote(&[k("a"), k("b"), k("b")]), Some(1));
        assert_eq!(majority_vote(&[k(""), k(" ")]), None);
        assert_eq!(majority_vote(&[k("x")]), Some(0));
    }

    #[test]
    fn keys_ignore_comment_only_differences() {
        let f = |new: &str| vec![EditedFile { path: "a.py".into(), original: "x = 1\n".into(), new: new.into() }];
        let k1 = patch_key("diff", &f("x = 2\n"));
        let k2 = patch_key("diff", &f("x = 2  # fixed\n"));
        let k3 = patch_key("diff", &f("x = 3\n"));
        assert_eq!(k1, k2);
        assert_ne!(k1, k3);
        assert_eq!(patch_key("", &f("x = 2\n")), "");
        assert_eq!(patch_key("diff", &f("x = 1  # only a comment\n")), "");
    }
}
