//! Running a task's tests and grading "resolved", following SWE-bench
//! (`swebench/harness/grading.py`, `log_parsers.py`) and the SWE-smith harness
//! (`swesmith/harness/grading.py`); method.md §12, formats.md §3.3.
//!
//! - Test command: the instance's `test_cmd` or `pytest --disable-warnings --color=no --tb=no
//!   --verbose`, followed by the files named in FAIL_TO_PASS and PASS_TO_PASS (id part before
//!   `::`), printed between `>>>>> Start Test Output` / `>>>>> End Test Output`.
//! - Parser: pytest verbose lines `tests/x.py::test_a PASSED [ 10%]` and `-rA` summary lines
//!   `PASSED tests/x.py::test_a` (" - …" cut from FAILED lines).
//! - Grading: [`GradingRule::SweBench`] — an F2P test succeeds iff PASSED or XFAIL, a P2P test
//!   iff PASSED, XFAIL or SKIPPED, a missing test fails; [`GradingRule::SweSmith`] — only an
//!   explicit FAILED or ERROR fails. resolved ⇔ FULL (both ratios 1).
//! - Patches: `git apply --verbose`, then `git apply --verbose --reject`, then
//!   `patch --batch --fuzz=5 -p1 -i`, resetting the work tree between tries.
use crate::paths::shell_quote;
use crate::{ExecRequest, Result, Sandbox};
use serde::{Deserialize, Serialize};
use srl_core::TaskInstance;
use std::collections::BTreeMap;
use std::time::Duration;

/// Default test command (SWE-smith's default, run through `python3 -m`, cache off).
pub const DEFAULT_TEST_CMD: &str =
    "python3 -m pytest --disable-warnings --color=no --tb=no --verbose -p no:cacheprovider";
/// Marker printed before the test output.
pub const START_MARKER: &str = ">>>>> Start Test Output";
/// Marker printed after the test output.
pub const END_MARKER: &str = ">>>>> End Test Output";

/// Outcome of one test in a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TestStatus {
    /// PASSED.
    Passed,
    /// FAILED.
    Failed,
    /// SKIPPED.
    Skipped,
    /// ERROR.
    Error,
    /// XFAIL.
    Xfail,
}

impl TestStatus {
    fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "PASSED" => Self::Passed,
            "FAILED" => Self::Failed,
            "SKIPPED" => Self::Skipped,
            "ERROR" => Self::Error,
            "XFAIL" => Self::Xfail,
            _ => return None,
        })
    }
}

/// Which grading convention to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GradingRule {
    /// SWE-bench: missing tests fail.
    #[default]
    SweBench,
    /// SWE-smith: only explicit FAILED/ERROR fail.
    SweSmith,
}

/// FULL, PARTIAL or NO (SWE-bench `ResolvedStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Resolution {
    /// Every F2P and P2P test succeeds.
    Full,
    /// Some but not all F2P tests succeed, every P2P does.
    Partial,
    /// Otherwise.
    No,
}

/// Parses a pytest log (the part between the markers when they are present).
pub fn parse_pytest_log(log: &str) -> BTreeMap<String, TestStatus> {
    let body = match (log.find(START_MARKER), log.rfind(END_MARKER)) {
        (Some(s), Some(e)) if e > s => &log[s + START_MARKER.len()..e],
        _ => log,
    };
    let mut out = BTreeMap::new();
    for line in body.lines() {
        let line = line.trim_end();
        let mut words = line.split_whitespace();
        let (Some(first), Some(second)) = (words.next(), words.next()) else { continue };
        if let Some(status) = TestStatus::parse(first) {
            // -rA summary: `FAILED tests/x.py::test_a - AssertionError`.
            if second.contains("::") || second.ends_with(".py") {
                out.insert(second.to_string(), status);
            }
        } else if let Some(status) = TestStatus::parse(second) {
            // verbose: `tests/x.py::test_a PASSED [ 10%]`.
            if first.contains("::") {
                out.insert(first.to_string(), status);
            }
        }
    }
    out
}

/// Per-test outcome of one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestReport {
    /// FAIL_TO_PASS tests that succeed / fail.
    #[serde(rename = "FAIL_TO_PASS")]
    pub fail_to_pass: SuccessFailure,
    /// PASS_TO_PASS tests that succeed / fail.
    #[serde(rename = "PASS_TO_PASS")]
    pub pass_to_pass: SuccessFailure,
    /// FULL / PARTIAL / NO.
    pub resolution: Resolution,
    /// resolution == FULL.
    pub resolved: bool,
}

/// Test names split by outcome.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SuccessFailure {
    /// Tests that succeeded.
    pub success: Vec<String>,
    /// Tests that failed.
    pub failure: Vec<String>,
}

impl SuccessFailure {
    fn ratio(&self) -> f64 {
        let total = self.success.len() + self.failure.len();
        if total == 0 {
            1.0
        } else {
            self.success.len() as f64 / total as f64
        }
    }
}

/// Grades parsed statuses against an instance's F2P / P2P lists.
pub fn grade(instance: &TaskInstance, statuses: &BTreeMap<String, TestStatus>, rule: GradingRule) -> TestReport {
    use TestStatus::*;
    let ok = |name: &String, f2p: bool| match (statuses.get(name), rule) {
        (None, GradingRule::SweBench) => false,
        (None, GradingRule::SweSmith) => true,
        (Some(s), GradingRule::SweSmith) => !matches!(s, Failed | Error),
        (Some(Passed | Xfail), GradingRule::SweBench) => true,
        (Some(Skipped), GradingRule::SweBench) => !f2p,
        (Some(_), GradingRule::SweBench) => false,
    };
    let split = |tests: &[String], f2p: bool| {
        let mut sf = SuccessFailure::default();
        for t in tests {
            if ok(t, f2p) {
                sf.success.push(t.clone());
            } else {
                sf.failure.push(t.clone());
            }
        }
        sf
    };
    let fail_to_pass = split(&instance.fail_to_pass, true);
    let pass_to_pass = split(&instance.pass_to_pass, false);
    let (f2p, p2p) = (fail_to_pass.ratio(), pass_to_pass.ratio());
    let resolution = if f2p == 1.0 && p2p == 1.0 {
        Resolution::Full
    } else if f2p > 0.0 && f2p < 1.0 && p2p == 1.0 {
        Resolution::Partial
    } else {
        Resolution::No
    };
    TestReport { fail_to_pass, pass_to_pass, resolution, resolved: resolution == Resolution::Full }
}

/// The test files an instance names (id part before `::`), F2P first, without duplicates.
pub fn test_files(instance: &TaskInstance) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for t in instance.fail_to_pass.iter().chain(&instance.pass_to_pass) {
        let f = t.split("::").next().unwrap_or(t).to_string();
        if !files.contains(&f) {
            files.push(f);
        }
    }
    files
}

/// The full shell script that runs an instance's tests between the markers.
pub fn test_script(instance: &TaskInstance) -> String {
    let base = instance.test_cmd.as_deref().unwrap_or(DEFAULT_TEST_CMD);
    let files: Vec<String> = test_files(instance).iter().map(|f| shell_quote(f)).collect();
    format!("echo '{START_MARKER}'\n{base} {}\necho '{END_MARKER}'\n", files.join(" "))
}

/// A test run: the raw log and its parsed statuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestRun {
    /// Exit code of the test command.
    pub exit_code: i64,
    /// Whether it timed out.
    pub timed_out: bool,
    /// The log (capped).
    pub log: String,
    /// Parsed statuses.
    pub statuses: BTreeMap<String, TestStatus>,
}

/// Runs an instance's tests in `/testbed` of a sandbox.
pub async fn run_tests<S: Sandbox>(sandbox: &S, instance: &TaskInstance, timeout: Duration) -> Result<TestRun> {
    let out = sandbox.exec(&ExecRequest::new(test_script(instance)).workdir("/testbed").timeout(timeout)).await?;
    let statuses = parse_pytest_log(&out.output);
    Ok(TestRun { exit_code: out.exit_code, timed_out: out.timed_out, log: out.output, statuses })
}

/// Result of applying a patch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyOutcome {
    /// Whether one of the methods applied it.
    pub applied: bool,
    /// The command that worked.
    pub method: Option<String>,
    /// Output of every attempt.
    pub log: String,
}

/// The apply commands tried in order (SWE-bench `GIT_APPLY_CMDS`).
pub const APPLY_COMMANDS: &[&str] =
    &["git apply --verbose", "git apply --verbose --reject", "patch --batch --fuzz=5 -p1 -i"];

/// Applies a unified diff in `/testbed` (`reverse` for SWE-smith bug patches).
pub async fn apply_patch<S: Sandbox>(sandbox: &S, patch: &str, reverse: bool) -> Result<ApplyOutcome> {
    let path = "/tmp/srl-swe.patch";
    let mut text = patch.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    sandbox.write_file(path, text.as_bytes()).await?;
    let mut log = String::new();
    for (i, cmd) in APPLY_COMMANDS.iter().enumerate() {
        if i > 0 {
            sandbox.exec(&ExecRequest::new("git checkout -q -- . && git clean -fdq").workdir("/testbed")).await?;
        }
        let full = match (reverse, cmd.starts_with("patch")) {
            (true, true) => format!("patch -R --batch --fuzz=5 -p1 -i {path}"),
            (true, false) => format!("{cmd} --reverse {path}"),
            (false, _) => format!("{cmd} {path}"),
        };
        let out =
            sandbox.exec(&ExecRequest::new(full.clone()).workdir("/testbed").timeout(Duration::from_secs(60))).await?;
        log.push_str(&format!("$ {full}\n{}\n", out.output));
        if out.success() {
            return Ok(ApplyOutcome { applied: true, method: Some(full), log });
        }
    }
    Ok(ApplyOutcome { applied: false, method: None, log })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(f2p: &[&str], p2p: &[&str]) -> TaskInstance {
        TaskInstance {
            instance_id: "x".into(),
            repo: "r".into(),
            base_commit: String::new(),
            image_name: String::new(),
            problem_statement: String::new(),
            patch: String::new(),
            patch_is_bug: true,
            fail_to_pass: f2p.iter().map(|s| s.to_string()).collect(),
            pass_to_pass: p2p.iter().map(|s| s.to_string()).collect(),
            test_cmd: None,
            log_parser: None,
        }
    }

    const LOG: &str = "noise\n>>>>> Start Test Output\n\
tests/test_a.py::test_one PASSED                                         [ 25%]\n\
tests/test_a.py::test_two FAILED                                         [ 50%]\n\
tests/test_a.py::test_param[1-2] SKIPPED (why)                           [ 75%]\n\
tests/test_b.py::test_x XFAIL                                            [100%]\n\
=========================== short test summary info ============================\n\
ERROR tests/test_b.py::test_err - RuntimeError: boom\n\
>>>>> End Test Output\n";

    #[test]
    fn parses_verbose_and_summary_lines() {
        let s = parse_pytest_log(LOG);
        assert_eq!(s.get("tests/test_a.py::test_one"), Some(&TestStatus::Passed));
        assert_eq!(s.get("tests/test_a.py::test_two"), Some(&TestStatus::Failed));
        assert_eq!(s.get("tests/test_a.py::test_param[1-2]"), Some(&TestStatus::Skipped));
        assert_eq!(s.get("tests/test_b.py::test_x"), Some(&TestStatus::Xfail));
        assert_eq!(s.get("tests/test_b.py::test_err"), Some(&TestStatus::Error));
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn swe_bench_rule_counts_missing_as_failure() {
        let s = parse_pytest_log(LOG);
        let inst =
            instance(&["tests/test_a.py::test_one", "tests/test_b.py::test_x"], &["tests/test_a.py::test_param[1-2]"]);
        let r = grade(&inst, &s, GradingRule::SweBench);
        assert!(r.resolved);
        let inst = instance(&["tests/test_a.py::test_one", "tests/test_a.py::gone"], &[]);
        let r = grade(&inst, &s, GradingRule::SweBench);
        assert_eq!(r.resolution, Resolution::Partial);
        assert_eq!(r.fail_to_pass.failure, vec!["tests/test_a.py::gone".to_string()]);
        let r = grade(&inst, &s, GradingRule::SweSmith);
        assert!(r.resolved, "SWE-smith counts a missing test as passed");
        let inst = instance(&["tests/test_a.py::test_one"], &["tests/test_a.py::test_two"]);
        assert_eq!(grade(&inst, &s, GradingRule::SweBench).resolution, Resolution::No);
    }

    #[test]
    fn script_names_each_test_file_once() {
        let inst = instance(&["tests/a.py::t1", "tests/a.py::t2"], &["tests/b.py::t3"]);
        assert_eq!(test_files(&inst), vec!["tests/a.py", "tests/b.py"]);
        assert!(test_script(&inst).contains("--verbose -p no:cacheprovider 'tests/a.py' 'tests/b.py'"));
    }
}
