//! Eval scripts as the harnesses build them (docs/swe-bench.md):
//!
//! - SWE-bench rows of swebench 5.x carry their own `eval_script`; it is run the way 5.0.2's
//!   `make_test_spec(row).eval_script` does (SWE-bench/SWE-bench `swebench/harness/utils.py`:
//!   `parse_eval_script` + `record_test_exit_code` + the `#!/bin/bash` / `set -uxo pipefail`
//!   header).
//! - Older rows (only `test_patch` and `version`) get the script swebench 4.1.0's
//!   `make_test_spec` builds (`swebench/harness/test_spec/python.py`,
//!   `make_eval_script_list_py`: conda activation, the repo/version `eval_commands`, `install`,
//!   test files reset to `base_commit`, `test_patch` applied, `test_cmd` + directives from the
//!   test patch between the markers, reset after), then the same 5.0.2 post-processing.
//! - SWE-smith instances get `swesmith/harness/utils.py`'s `eval.sh` around their profile's
//!   test command.
//!
//! The repo/version table (`harness_specs.json`) is generated from the installed packages by
//! `scripts/gen-harness-specs.py` and names their versions.
use super::report::{END_MARKER, START_MARKER, TEST_EXIT_CODE};
use regex::Regex;
use serde::Deserialize;
use srl_core::TaskInstance;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The generated table.
pub const HARNESS_SPECS_JSON: &str = include_str!("harness_specs.json");

/// One repo/version entry of `MAP_REPO_VERSION_TO_SPECS` (the fields the eval script uses).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionSpec {
    /// Test command; directives are appended.
    pub test_cmd: String,
    /// Commands run first (django's locale set-up).
    #[serde(default)]
    pub eval_commands: Vec<String>,
    /// Re-install command run before the tests.
    #[serde(default)]
    pub install: Option<String>,
}

/// A SWE-bench repository.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoSpec {
    /// Its log parser (`PARSER_REGISTRY` name).
    pub parser: String,
    /// Whether its images have `/opt/miniconda3` and a `testbed` env.
    pub conda: bool,
    /// Per version.
    pub versions: BTreeMap<String, VersionSpec>,
}

/// A SWE-smith repository profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    /// Profile class name.
    pub class: String,
    /// Test command.
    pub test_cmd: String,
    /// Seconds.
    pub timeout: u64,
    /// `swesmith_pytest`, or `None` when the profile has its own parser (not ported).
    pub parser: Option<String>,
    /// Whether only the F2P/P2P files are run.
    pub min_testing: bool,
    /// Whether `get_test_files` is PythonProfile's (F2P/P2P ids cut at `::`).
    pub default_test_files: bool,
    /// Whether `get_test_cmd` is the base one.
    pub default_test_cmd: bool,
}

/// The whole table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarnessSpecs {
    /// The script that wrote it.
    pub generated_by: String,
    /// Package versions it came from.
    pub sources: BTreeMap<String, String>,
    /// SWE-bench repos.
    pub swebench: BTreeMap<String, RepoSpec>,
    /// SWE-smith profiles by `owner__repo.commit8`.
    pub swesmith: BTreeMap<String, ProfileSpec>,
}

/// The table compiled into the binary.
pub fn specs() -> &'static HarnessSpecs {
    static SPECS: OnceLock<HarnessSpecs> = OnceLock::new();
    SPECS.get_or_init(|| serde_json::from_str(HARNESS_SPECS_JSON).expect("harness_specs.json is generated valid"))
}

/// How an instance is run and graded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceKind {
    /// A SWE-bench row (gold fix in `patch`, new tests in `test_patch` or a 5.x `eval_script`).
    SweBench,
    /// A SWE-smith row or a shipped environment (`patch` is the bug).
    SweSmith,
}

/// The kind of an instance.
pub fn kind(instance: &TaskInstance) -> InstanceKind {
    if !instance.patch_is_bug && (!instance.test_patch.is_empty() || !instance.eval_script.is_empty()) {
        InstanceKind::SweBench
    } else {
        InstanceKind::SweSmith
    }
}

/// The SWE-smith profile name of an instance: `repo` without a `swesmith/` owner, or the id
/// before its last `.`.
pub fn profile_name(instance: &TaskInstance) -> &str {
    let repo = instance.repo.rsplit('/').next().unwrap_or(&instance.repo);
    if specs().swesmith.contains_key(repo) {
        return repo;
    }
    instance.instance_id.rsplit_once('.').map_or(instance.instance_id.as_str(), |(r, _)| r)
}

/// The log parser name of an instance: its `log_parser` field, the repo's parser, or the
/// SWE-smith profile's; `None` when unknown or not ported.
pub fn parser_name(instance: &TaskInstance) -> Option<String> {
    if let Some(p) = instance.log_parser.as_deref().filter(|p| !p.is_empty()) {
        return Some(p.to_string());
    }
    match kind(instance) {
        InstanceKind::SweBench => specs().swebench.get(&instance.repo).map(|r| r.parser.clone()),
        // No profile (the shipped environments, hand-made rows): PythonProfile's parser.
        InstanceKind::SweSmith => match specs().swesmith.get(profile_name(instance)) {
            Some(p) => p.parser.clone(),
            None => Some("swesmith_pytest".into()),
        },
    }
}

/// `get_modified_files`: the `a/` paths of files a patch changes (not files it creates), as
/// unidiff's `PatchSet` reads their source names.
pub fn modified_files(patch: &str) -> Vec<String> {
    let mut out = Vec::new();
    for file in super::patch_files(patch) {
        if let Some(src) = file.source.strip_prefix("a/") {
            out.push(src.to_string());
        }
    }
    out
}

const NON_TEST_EXTS: [&str; 11] =
    [".json", ".png", "csv", ".txt", ".md", ".jpg", ".jpeg", ".pkl", ".yml", ".yaml", ".toml"];

/// `get_test_directives` (swebench 4.1.0): the `b/` paths of `diff --git` lines of the test
/// patch, data files dropped; django's as dotted modules without `tests/`.
pub fn test_directives(instance: &TaskInstance) -> Vec<String> {
    if instance.repo == "swe-bench/humaneval" {
        return vec!["test.py".into()];
    }
    static DIFF: OnceLock<Regex> = OnceLock::new();
    let re = DIFF.get_or_init(|| Regex::new(r"diff --git a/.* b/(.*)").expect("static regex"));
    let mut out: Vec<String> = re
        .captures_iter(&instance.test_patch)
        .map(|c| c[1].to_string())
        .filter(|d| !NON_TEST_EXTS.iter().any(|e| d.ends_with(e)))
        .collect();
    if instance.repo == "django/django" {
        for d in &mut out {
            let mut s = d.strip_suffix(".py").unwrap_or(d).to_string();
            if let Some(rest) = s.strip_prefix("tests/") {
                s = rest.to_string();
            }
            *d = s.replace('/', ".");
        }
    }
    out
}

/// Why no eval script can be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecMissing {
    /// The repo has no entry.
    Repo(String),
    /// The repo has no such version.
    Version(String, String),
}

impl std::fmt::Display for SpecMissing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpecMissing::Repo(r) => write!(f, "repo `{r}` has no SWE-bench spec (known: see harness_specs.json)"),
            SpecMissing::Version(r, v) => write!(f, "repo `{r}` has no spec for version `{v}`"),
        }
    }
}

const HEREDOC: &str = "EOF_114329324912";

/// The 4.1.0 `make_eval_script_list_py` commands of a row without `eval_script`.
pub fn legacy_eval_commands(instance: &TaskInstance) -> Result<Vec<String>, SpecMissing> {
    let repo = specs().swebench.get(&instance.repo).ok_or_else(|| SpecMissing::Repo(instance.repo.clone()))?;
    let spec = repo
        .versions
        .get(&instance.version)
        .ok_or_else(|| SpecMissing::Version(instance.repo.clone(), instance.version.clone()))?;
    let base = &instance.base_commit;
    let reset = format!("git checkout {base} {}", modified_files(&instance.test_patch).join(" "));
    let apply = format!("git apply -v - <<'{HEREDOC}'\n{}\n{HEREDOC}", instance.test_patch);
    let mut test_cmd = vec![spec.test_cmd.clone()];
    test_cmd.extend(test_directives(instance));
    let activate = ["source /opt/miniconda3/bin/activate".to_string(), "conda activate testbed".to_string()];
    let mut cmds: Vec<String> = Vec::new();
    if repo.conda {
        cmds.extend(activate.clone());
    }
    cmds.push("cd /testbed".into());
    cmds.extend(spec.eval_commands.iter().cloned());
    cmds.extend([
        "git config --global --add safe.directory /testbed".to_string(),
        "cd /testbed".into(),
        "git status".into(),
        "git show".into(),
        format!("git -c core.fileMode=false diff {base}"),
    ]);
    if repo.conda {
        cmds.extend(activate);
    }
    cmds.extend(spec.install.iter().cloned());
    cmds.extend([
        reset.clone(),
        apply,
        format!(": '{START_MARKER}'"),
        test_cmd.join(" "),
        format!(": '{END_MARKER}'"),
        reset,
    ]);
    Ok(cmds)
}

fn header(lines: Vec<String>) -> String {
    let mut all = vec!["#!/bin/bash".to_string(), "set -uxo pipefail".to_string()];
    all.extend(lines);
    all.join("\n") + "\n"
}

/// 5.0.2 `make_test_spec(row).eval_script` of a row's eval script.
pub fn finish_eval_script(eval_script: &str) -> String {
    let lines: Vec<String> = super::log_parsers::py_strip(eval_script)
        .split('\n')
        .filter(|l| *l != "#!/bin/bash" && *l != "set -uxo pipefail")
        .map(str::to_string)
        .collect();
    header(record_test_exit_code(lines))
}

/// `record_test_exit_code`: `$?` saved before the first end-marker line, echoed after it.
fn record_test_exit_code(mut lines: Vec<String>) -> Vec<String> {
    if let Some(i) = lines.iter().position(|l| l.contains(END_MARKER)) {
        lines.insert(i, "SWEBENCH_TEST_EXIT_CODE=$?".into());
        lines.insert(i + 2, format!("echo \"{TEST_EXIT_CODE}: $SWEBENCH_TEST_EXIT_CODE\""));
    }
    lines
}

/// The eval script of a SWE-bench instance: its own (5.x) or the 4.1.0 one, as 5.0.2 runs it.
pub fn swebench_eval_script(instance: &TaskInstance) -> Result<String, SpecMissing> {
    if !instance.eval_script.is_empty() {
        return Ok(finish_eval_script(&instance.eval_script));
    }
    Ok(finish_eval_script(&header(legacy_eval_commands(instance)?)))
}

/// The test files of a SWE-smith instance (`PythonProfile.get_test_files`): the F2P and the P2P
/// ids cut at the first `::`, each sorted and deduplicated.
pub fn swesmith_test_files(instance: &TaskInstance) -> (Vec<String>, Vec<String>) {
    let files = |tests: &[String]| {
        let mut v: Vec<String> = tests.iter().map(|t| t.split("::").next().unwrap_or(t).to_string()).collect();
        v.sort();
        v.dedup();
        v
    };
    (files(&instance.fail_to_pass), files(&instance.pass_to_pass))
}

/// Default test command of the shipped environments (SWE-smith's PythonProfile command without
/// conda, through `python3 -m`, cache off), run on the F2P/P2P files like `min_testing`.
pub const DEFAULT_TEST_CMD: &str =
    "python3 -m pytest --disable-warnings --color=no --tb=no --verbose -p no:cacheprovider";

/// The test command of a SWE-smith instance: the profile's (`get_test_cmd`: files appended
/// when `min_testing`), else the instance's `test_cmd` or [`DEFAULT_TEST_CMD`] on its files.
pub fn swesmith_test_cmd(instance: &TaskInstance) -> String {
    let (f2p, p2p) = swesmith_test_files(instance);
    let all: Vec<String> = f2p.into_iter().chain(p2p).collect();
    if let Some(profile) = specs().swesmith.get(profile_name(instance)).filter(|_| instance.test_cmd.is_none()) {
        if profile.min_testing && !all.is_empty() {
            return format!("{} {}", profile.test_cmd, all.join(" "));
        }
        return profile.test_cmd.clone();
    }
    let base = instance.test_cmd.as_deref().unwrap_or(DEFAULT_TEST_CMD);
    let quoted: Vec<String> = all.iter().map(|f| crate::shell_quote(f)).collect();
    format!("{base} {}", quoted.join(" "))
}

/// SWE-smith's `eval.sh`.
pub fn swesmith_eval_script(instance: &TaskInstance) -> String {
    header(vec![
        "cd /testbed".into(),
        format!(": '{START_MARKER}'"),
        swesmith_test_cmd(instance),
        format!(": '{END_MARKER}'"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_its_sources_and_core_repos() {
        let s = specs();
        assert_eq!(s.sources["swebench"], "5.0.2");
        assert_eq!(s.sources["swebench_specs"], "4.1.0");
        assert_eq!(s.swebench["django/django"].parser, "parse_log_django");
        assert!(s.swebench["sympy/sympy"].versions["1.1"].test_cmd.contains("bin/test -C --verbose"));
        assert!(s.swesmith.contains_key("getmoto__moto.694ce1f4"));
    }
}
