//! Agentless-mini prompts, verbatim from facebookresearch/swe-rl: `AGENTLESS_REPAIR` and
//! `CODE_FILE` (`src/swerl/core/prompts.py`) and `LOCALIZATION`
//! (`src/swerl/agentless_mini/utils/prompts.py`), plus the context builders of
//! `repair.py` (`construct_topn_file_context`) and `localize.py` (docs/method.md §10).
//!
//! Token counts: upstream counts with tiktoken/HF tokenizers; this crate has no tokenizer, so
//! [`approx_tokens`] estimates one token per 4 bytes (a common estimate for code with BPE
//! tokenizers). The cap only decides which files fit into a 60k-token context.

use crate::pystr::{format_template, py_strip};

/// Repair prompt (`AGENTLESS_REPAIR`), placeholders `{problem_statement}` and `{content}`.
pub const AGENTLESS_REPAIR: &str = "We are currently solving the following issue within our repository. Here is the issue text:
--- BEGIN ISSUE ---
{problem_statement}
--- END ISSUE ---

Below are some code segments, each from a relevant file. One or more of these files may contain bugs.

--- BEGIN FILE ---
```
{content}
```
--- END FILE ---

Please first localize the bug based on the issue statement, and then generate *SEARCH/REPLACE* edits to fix the issue.

Every *SEARCH/REPLACE* edit must use this format:
1. The file path
2. The start of search block: <<<<<<< SEARCH
3. A contiguous chunk of lines to search for in the existing source code
4. The dividing line: =======
5. The lines to replace into the source code
6. The end of the replace block: >>>>>>> REPLACE

Here is an example:

```python
### mathweb/flask/app.py
<<<<<<< SEARCH
from flask import Flask
=======
import math
from flask import Flask
>>>>>>> REPLACE
```

Please note that the *SEARCH/REPLACE* edit REQUIRES PROPER INDENTATION. If you would like to add the line '        print(x)', you must fully write that out, with all those spaces before the code!
Wrap each *SEARCH/REPLACE* edit in a code block as shown in the example above. If you have multiple *SEARCH/REPLACE* edits, use a separate code block for each one.";

/// One file in the repair context (`CODE_FILE`, already stripped upstream).
pub const CODE_FILE: &str = "### {path}\n{content}";

/// Localization prompt (`LOCALIZATION`, stripped upstream), placeholders `{problem_statement}`,
/// `{structure}` and `{n}`.
pub const LOCALIZATION: &str = "Please look through a given GitHub issue and repository structure and provide a list of files that one would need to edit or look at to solve the issue.

### GitHub Problem Description ###
{problem_statement}

###

### Repository Structure ###
{structure}


###

Only provide the full path and return at most {n} files. The returned files should be separated by new lines ordered by most to least important and wrapped with ```. For example:

```
most/important/file1.xx
less/important/file2.yy
least/important/file3.zz
```";

/// Upstream default `--max_input_tokens`.
pub const DEFAULT_MAX_INPUT_TOKENS: usize = 60_000;

/// Token estimate used for the context cap: one token per 4 bytes, rounded up.
pub fn approx_tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}

/// A source file shown to the model.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceFile {
    /// Path relative to the repository root.
    pub path: String,
    /// Full text.
    pub content: String,
}

/// `construct_topn_file_context`: `### path\ncontent` per file, joined by blank lines, adding
/// files while the estimated token count stays within `max_input_tokens` (an overflowing file is
/// skipped; if none fits, the first file goes in whole). With `shuffle_seed`, the kept blocks
/// are shuffled (upstream shuffles when drawing several samples). Returns the context and the
/// paths that were included.
pub fn file_context(files: &[SourceFile], max_input_tokens: usize, shuffle_seed: Option<u64>) -> (String, Vec<String>) {
    file_context_counted(files, max_input_tokens, shuffle_seed, &approx_tokens)
}

/// [`file_context`] with a token counter (the model's tokenizer when there is one; upstream
/// counts with the tokenizer of the model it serves).
pub fn file_context_counted(
    files: &[SourceFile],
    max_input_tokens: usize,
    shuffle_seed: Option<u64>,
    count_tokens: &dyn Fn(&str) -> usize,
) -> (String, Vec<String>) {
    let mut tokens = 0usize;
    let mut blocks: Vec<(String, String)> = Vec::new();
    for f in files {
        let block = format_template(CODE_FILE, &[("path", &f.path), ("content", &f.content)]);
        let n = count_tokens(&block);
        if tokens + n > max_input_tokens {
            continue;
        }
        tokens += n;
        blocks.push((f.path.clone(), block));
    }
    if blocks.is_empty() {
        if let Some(first) = files.first() {
            let block = format_template(CODE_FILE, &[("path", &first.path), ("content", &first.content)]);
            return (block, vec![first.path.clone()]);
        }
    }
    if let Some(seed) = shuffle_seed {
        srl_core::rng::SplitMix64::new(seed).shuffle(&mut blocks);
    }
    let paths = blocks.iter().map(|(p, _)| p.clone()).collect();
    let text = blocks.into_iter().map(|(_, b)| b).collect::<Vec<_>>().join("\n\n");
    (text, paths)
}

/// The repair user message: `AGENTLESS_REPAIR.format(...).strip()`.
pub fn repair_prompt(problem_statement: &str, context: &str) -> String {
    let text = format_template(AGENTLESS_REPAIR, &[("problem_statement", problem_statement), ("content", context)]);
    py_strip(&text).to_string()
}

/// The localization user message: `LOCALIZATION.format(...).strip()`; `structure` is the
/// rendered tree (see `crate::localize::render_tree`), stripped as upstream does.
pub fn localization_prompt(problem_statement: &str, structure: &str, n: usize) -> String {
    let n = n.to_string();
    let text = format_template(
        LOCALIZATION,
        &[("problem_statement", problem_statement), ("structure", py_strip(structure)), ("n", &n)],
    );
    py_strip(&text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str) -> SourceFile {
        SourceFile { path: path.into(), content: content.into() }
    }

    #[test]
    fn repair_prompt_layout() {
        let (ctx, paths) = file_context(&[file("a.py", "x = 1\n"), file("b/c.py", "y = 2")], 1000, None);
        assert_eq!(ctx, "### a.py\nx = 1\n\n\n### b/c.py\ny = 2");
        assert_eq!(paths, ["a.py", "b/c.py"]);
        let p = repair_prompt("Bug!", &ctx);
        assert!(p.starts_with("We are currently solving the following issue within our repository. Here is the issue text:\n--- BEGIN ISSUE ---\nBug!\n--- END ISSUE ---\n"));
        assert!(p.contains("--- BEGIN FILE ---\n```\n### a.py\nx = 1\n\n\n### b/c.py\ny = 2\n```\n--- END FILE ---"));
        assert!(p.ends_with("use a separate code block for each one."));
    }

    #[test]
    fn context_cap_skips_overflowing_files_and_keeps_first_when_none_fit() {
        let big = "z".repeat(400);
        let (ctx, paths) = file_context(&[file("big.py", &big), file("s.py", "s")], 20, None);
        assert_eq!(paths, ["s.py"]);
        assert_eq!(ctx, "### s.py\ns");
        let (ctx, paths) = file_context(&[file("big.py", &big)], 20, None);
        assert_eq!(paths, ["big.py"]);
        assert!(ctx.starts_with("### big.py\nzzz"));
    }

    #[test]
    fn localization_prompt_layout() {
        let p = localization_prompt("Issue", "pkg/\n    a.py\n", 5);
        assert!(p.starts_with("Please look through a given GitHub issue"));
        assert!(p.contains("### GitHub Problem Description ###\nIssue\n\n###\n\n### Repository Structure ###\npkg/\n    a.py\n\n\n###\n\nOnly provide the full path and return at most 5 files."));
        assert!(p.ends_with("least/important/file3.zz\n```"));
    }
}
