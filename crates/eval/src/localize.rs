//! File-level localization of Agentless-mini (facebookresearch/swe-rl,
//! `src/swerl/agentless_mini/localize.py` and `utils/data.py`: `filter_none_python`,
//! `filter_out_test_files`, `show_project_structure`, `correct_file_paths`; docs/method.md §10).
//!
//! The repository tree keeps `.py` files only and drops every entry whose name starts with
//! `test` (unless the instance id starts with `pytest`). Greedy: at most 5 files, 4-space
//! indent, sorted order; sampling: n in [2, 5], indent 2 or 4, shuffled order. The answer is
//! split into lines and only lines exactly equal to a file of the tree are kept.

use crate::pystr::py_strip;
use srl_core::rng::SplitMix64;
use std::collections::BTreeMap;

/// A directory tree of file paths.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tree {
    dirs: BTreeMap<String, Tree>,
    files: Vec<String>,
}

impl Tree {
    /// Builds the filtered tree from repository-relative file paths.
    pub fn from_paths<'a>(paths: impl IntoIterator<Item = &'a str>, instance_id: &str) -> Self {
        let keep_tests = instance_id.starts_with("pytest");
        let mut root = Tree::default();
        'paths: for path in paths {
            let path = path.trim_start_matches("./");
            if !path.ends_with(".py") {
                continue;
            }
            let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
            if !keep_tests && parts.iter().any(|p| p.starts_with("test")) {
                continue;
            }
            // show_project_structure skips names with a dot that are not .py (and their subtree).
            if parts[..parts.len().saturating_sub(1)].iter().any(|p| p.contains('.') && !p.contains(".py")) {
                continue 'paths;
            }
            let mut node = &mut root;
            for dir in &parts[..parts.len().saturating_sub(1)] {
                node = node.dirs.entry((*dir).to_string()).or_default();
            }
            if let Some(name) = parts.last() {
                if !node.files.iter().any(|f| f == name) {
                    node.files.push((*name).to_string());
                }
            }
        }
        root
    }

    /// Full paths of all files in the tree.
    pub fn file_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect("", &mut out);
        out
    }

    fn collect(&self, prefix: &str, out: &mut Vec<String>) {
        for (name, sub) in &self.dirs {
            sub.collect(&format!("{prefix}{name}/"), out);
        }
        let mut files = self.files.clone();
        files.sort();
        out.extend(files.into_iter().map(|f| format!("{prefix}{f}")));
    }

    /// `show_project_structure`: one name per line, directories followed by their contents,
    /// `indent` spaces per level; with `shuffle_seed`, entries are shuffled at each level.
    pub fn render(&self, indent: usize, shuffle_seed: Option<u64>) -> String {
        let mut out = String::new();
        let mut rng = shuffle_seed.map(SplitMix64::new);
        let mut rng_ref = rng.as_mut();
        self.render_into(0, indent, &mut rng_ref, &mut out);
        out
    }

    fn render_into(&self, level: usize, indent: usize, rng: &mut Option<&mut SplitMix64>, out: &mut String) {
        let mut entries: Vec<(String, Option<&Tree>)> = self
            .dirs
            .iter()
            .map(|(k, v)| (k.clone(), Some(v)))
            .chain(self.files.iter().map(|f| (f.clone(), None)))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(r) = rng.as_deref_mut() {
            let seed = r.next_u64();
            SplitMix64::new(seed).shuffle(&mut entries);
        }
        for (name, sub) in entries {
            out.push_str(&" ".repeat(level * indent));
            out.push_str(&name);
            out.push('\n');
            if let Some(sub) = sub {
                sub.render_into(level + 1, indent, rng, out);
            }
        }
    }
}

/// Prompt settings for one localization sample: greedy (`sample = None`) or the randomized
/// settings upstream draws when sampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalizationSettings {
    /// Files to ask for.
    pub n: usize,
    /// Spaces per tree level.
    pub indent: usize,
    /// Shuffle seed for the tree order.
    pub shuffle_seed: Option<u64>,
}

impl LocalizationSettings {
    /// Greedy: n = 5, indent 4, sorted.
    pub const GREEDY: LocalizationSettings = LocalizationSettings { n: 5, indent: 4, shuffle_seed: None };

    /// Sampling: n in [2, 5], indent 2 or 4, shuffled (seeded).
    pub fn sampled(seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let n = rng.range(2, 5);
        let indent = if rng.range(0, 1) == 0 { 2 } else { 4 };
        LocalizationSettings { n, indent, shuffle_seed: Some(rng.next_u64()) }
    }
}

/// Renders the tree for the prompt with the given settings.
pub fn render_tree(tree: &Tree, settings: &LocalizationSettings) -> String {
    tree.render(settings.indent, settings.shuffle_seed)
}

/// `correct_file_paths` on `output.strip().split("\n")`: keeps the lines exactly equal to a
/// known file, in answer order (repeats removed).
pub fn parse_localization(output: &str, files: &[String]) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for line in py_strip(output).split('\n') {
        if files.iter().any(|f| f == line) && !found.iter().any(|f| f == line) {
            found.push(line.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATHS: [&str; 7] = [
        "setup.py",
        "pkg/__init__.py",
        "pkg/core.py",
        "pkg/tests/test_core.py",
        "tests/test_x.py",
        "docs/conf.txt",
        "pkg/testing.py",
    ];

    #[test]
    fn tree_filters_tests_and_non_python() {
        let t = Tree::from_paths(PATHS, "owner__repo.1");
        assert_eq!(t.file_paths(), ["pkg/__init__.py", "pkg/core.py", "setup.py"]);
        assert_eq!(t.render(4, None), "pkg\n    __init__.py\n    core.py\nsetup.py\n");
        let kept = Tree::from_paths(PATHS, "pytest-dev__pytest-1");
        assert!(kept.file_paths().contains(&"tests/test_x.py".to_string()));
    }

    #[test]
    fn sampled_settings_are_in_range_and_shuffle() {
        for seed in 0..20 {
            let s = LocalizationSettings::sampled(seed);
            assert!((2..=5).contains(&s.n) && (s.indent == 2 || s.indent == 4));
        }
        let t = Tree::from_paths(["a.py", "b.py", "c.py", "d.py", "e.py", "f.py"], "x");
        let orders: std::collections::HashSet<String> =
            (0..10).map(|s| render_tree(&t, &LocalizationSettings::sampled(s))).map(|r| r.replace(' ', "")).collect();
        assert!(orders.len() > 1);
    }

    #[test]
    fn parses_only_exact_paths() {
        let files = vec!["pkg/core.py".to_string(), "setup.py".to_string()];
        let out = "```\npkg/core.py\n pkg/core.py\nnot/there.py\nsetup.py\npkg/core.py\n```";
        assert_eq!(parse_localization(out, &files), ["pkg/core.py", "setup.py"]);
    }
}
