//! Log validity and the FAIL_TO_PASS / PASS_TO_PASS report, ported from SWE-bench/SWE-bench
//! `swebench/harness/grading.py` (5.0.2: `get_logs_eval`, `_resolve_case`, `test_passed`,
//! `test_maintained`, `test_failed`, `get_eval_tests_report`, `get_resolution_status`) and
//! SWE-bench/SWE-smith `swesmith/harness/grading.py` (0.0.9: `read_test_output`, its
//! `get_eval_tests_report`). Logs are read as Python's text mode reads them: `\r\n` and lone
//! `\r` become `\n` (docs/swe-bench.md).
use super::log_parsers::StatusMap;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// `>>>>> Patch Apply Failed`.
pub const APPLY_PATCH_FAIL: &str = ">>>>> Patch Apply Failed";
/// `>>>>> Reset Failed`.
pub const RESET_FAILED: &str = ">>>>> Reset Failed";
/// `>>>>> Tests Errored`.
pub const TESTS_ERROR: &str = ">>>>> Tests Errored";
/// `>>>>> Tests Timed Out`.
pub const TESTS_TIMEOUT: &str = ">>>>> Tests Timed Out";
/// Marker before the test output.
pub const START_MARKER: &str = ">>>>> Start Test Output";
/// Marker after the test output.
pub const END_MARKER: &str = ">>>>> End Test Output";
/// Marker of the test command's exit status (swebench 5.x `record_test_exit_code`).
pub const TEST_EXIT_CODE: &str = ">>>>> Test Exit Code";

/// Python text-mode newline translation.
pub fn universal_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

fn suite_ran() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"(?m)Executed [1-9]\d* of \d+",
            r"|TOTAL: [1-9]\d* (?:SUCCESS|FAILED)",
            r"|[1-9]\d* passing",
            r"|Tests:\s+[1-9]\d*",
            r"|Test Suites:\s+(?:\d+ \w+, )*[1-9]\d* total",
            r"|^# tests [1-9]\d*",
            r"|[1-9]\d* specs?, \d+ failures?",
            r"|': ok$",
        ))
        .expect("static regex")
    })
}

/// The exit status recorded after the end marker, if any.
pub fn test_exit_code(content: &str) -> Option<i64> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(&format!(r"{}:\s*(-?\d+)", regex::escape(TEST_EXIT_CODE))).expect("regex"));
    re.captures(content).and_then(|c| c[1].parse().ok())
}

/// SWE-bench `get_logs_eval` on a log already newline-translated: the status map and whether
/// the log is valid (no harness failure marker, both markers, results or signs the suite ran,
/// exit status consistent with the results). Only the first START…END block is parsed.
pub fn swebench_logs_eval(content: &str, parse: fn(&str) -> StatusMap) -> (StatusMap, bool) {
    if [APPLY_PATCH_FAIL, RESET_FAILED, TESTS_ERROR, TESTS_TIMEOUT].iter().any(|m| content.contains(m)) {
        return (StatusMap::default(), false);
    }
    if !(content.contains(START_MARKER) && content.contains(END_MARKER)) {
        return (StatusMap::default(), false);
    }
    // content.split(START)[1].split(END)[0]
    let after = content.split(START_MARKER).nth(1).unwrap_or("");
    let sliced = after.split(END_MARKER).next().unwrap_or("");
    let mut map = parse(sliced);
    if map.is_empty() {
        map = parse(content);
    }
    if map.is_empty() && !suite_ran().is_match(content) {
        return (StatusMap::default(), false);
    }
    let exit = test_exit_code(content);
    if exit.is_some_and(|c| c != 0) && !map.is_empty() && !map.iter().any(|(_, s)| s == "FAILED" || s == "ERROR") {
        return (StatusMap::default(), false);
    }
    (map, true)
}

/// SWE-smith `read_test_output` on a newline-translated log: the text between the xtrace lines
/// `+ : '>>>>> Start Test Output'` and `+ : '>>>>> End Test Output'`, or `None` (not found).
/// Where upstream raises (end marker before the start marker) the log is invalid here.
pub fn swesmith_test_output(content: &str) -> Option<&str> {
    if content.contains(APPLY_PATCH_FAIL) || content.contains(TESTS_TIMEOUT) {
        return None;
    }
    if !content.contains(START_MARKER) || !content.contains(END_MARKER) {
        return None;
    }
    let start_sep = format!("+ : '{START_MARKER}'");
    let end_sep = format!("+ : '{END_MARKER}'");
    match (content.find(&start_sep), content.find(&end_sep)) {
        (Some(s), Some(e)) if s <= e => Some(content[s..e].get(start_sep.len()..).unwrap_or("")),
        // Python: content[-1:e] is "" for any e < len - 1.
        (None, Some(_)) | (None, None) => Some(""),
        _ => None,
    }
}

/// Which grading convention to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GradingRule {
    /// SWE-bench 5.x (`PASS_AND_FAIL`): F2P passes iff PASSED/XFAIL; P2P also if SKIPPED; a
    /// missing, FAILED, ERROR or (for F2P) SKIPPED test fails; truncated parametrised ids match
    /// by prefix when the candidates agree.
    #[default]
    SweBench,
    /// SWE-bench's `FAIL_ONLY` (JS repos): only an explicit FAILED fails.
    FailOnly,
    /// SWE-smith 0.0.9: PASSED/XFAIL pass; missing, FAILED, ERROR fail; any other status
    /// (SKIPPED) is left out of both lists.
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

/// Test names split by outcome (SWE-bench `tests_status` entries).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SuccessFailure {
    /// Tests that succeeded.
    pub success: Vec<String>,
    /// Tests that failed.
    pub failure: Vec<String>,
}

impl SuccessFailure {
    /// success / (success + failure), 1 when both are empty.
    pub fn ratio(&self) -> f64 {
        let total = self.success.len() + self.failure.len();
        if total == 0 {
            1.0
        } else {
            self.success.len() as f64 / total as f64
        }
    }
}

fn is_passing(s: &str) -> bool {
    s == "PASSED" || s == "XFAIL"
}

/// `_resolve_case`: the key of `case`, or of its truncated-id prefix matches when they agree.
fn resolve_case<'m>(case: &'m str, sm: &'m StatusMap) -> Option<&'m str> {
    if sm.get(case).is_some() {
        return Some(case);
    }
    if case.matches('[').count() > case.matches(']').count() {
        let matches: Vec<(&str, &str)> = sm.iter().filter(|(k, _)| k.starts_with(case)).collect();
        let first = matches.first()?;
        if matches.iter().all(|(_, s)| is_passing(s) == is_passing(first.1)) {
            return Some(first.0);
        }
    }
    None
}

/// (succeeds, fails) of one test under `rule`; neither is possible.
fn judge(case: &str, sm: &StatusMap, rule: GradingRule, p2p: bool) -> (bool, bool) {
    match rule {
        GradingRule::SweBench => {
            let key = resolve_case(case, sm);
            let status = key.and_then(|k| sm.get(k));
            let passed = status.is_some_and(is_passing) || (p2p && status == Some("SKIPPED"));
            let failed = status.is_none_or(|s| matches!(s, "FAILED" | "ERROR" | "SKIPPED"));
            (passed, failed)
        }
        GradingRule::FailOnly => {
            let failed = sm.get(case) == Some("FAILED");
            (!failed, failed)
        }
        GradingRule::SweSmith => {
            let status = sm.get(case);
            (status.is_some_and(is_passing), status.is_none_or(|s| s == "FAILED" || s == "ERROR"))
        }
    }
}

/// `get_eval_tests_report` for F2P and P2P.
pub fn tests_report(
    sm: &StatusMap,
    f2p: &[String],
    p2p: &[String],
    rule: GradingRule,
) -> (SuccessFailure, SuccessFailure) {
    let split = |tests: &[String], is_p2p: bool| {
        let mut sf = SuccessFailure::default();
        for t in tests {
            match judge(t, sm, rule, is_p2p) {
                (true, _) => sf.success.push(t.clone()),
                (false, true) => sf.failure.push(t.clone()),
                (false, false) => {}
            }
        }
        sf
    };
    (split(f2p, false), split(p2p, true))
}

/// `get_resolution_status`.
pub fn resolution(f2p: &SuccessFailure, p2p: &SuccessFailure) -> Resolution {
    let (f, p) = (f2p.ratio(), p2p.ratio());
    if f == 1.0 && p == 1.0 {
        Resolution::Full
    } else if f > 0.0 && f < 1.0 && p == 1.0 {
        Resolution::Partial
    } else {
        Resolution::No
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sm(pairs: &[(&str, &str)]) -> StatusMap {
        let mut m = StatusMap::default();
        for (k, v) in pairs {
            m.insert(*k, *v);
        }
        m
    }

    #[test]
    fn truncated_ids_match_by_prefix_only_when_candidates_agree() {
        let m = sm(&[
            ("t.py::a[log(x)]", "PASSED"),
            ("t.py::a[log(y)]", "XFAIL"),
            ("t.py::b[1]", "PASSED"),
            ("t.py::b[2]", "FAILED"),
        ]);
        let (f, _) = tests_report(&m, &["t.py::a[log(".into(), "t.py::b[".into()], &[], GradingRule::SweBench);
        assert_eq!(f.success, ["t.py::a[log("]);
        assert_eq!(f.failure, ["t.py::b["]);
        assert_eq!(resolution(&f, &SuccessFailure::default()), Resolution::Partial);
    }

    #[test]
    fn first_block_and_failure_markers() {
        let p = super::super::log_parsers::parse_log_pytest;
        let log = format!("{START_MARKER}\nPASSED a\n{END_MARKER}\n{START_MARKER}\nFAILED a\n{END_MARKER}\n");
        let (m, ok) = swebench_logs_eval(&log, p);
        assert!(ok);
        assert_eq!(m.get("a"), Some("PASSED"));
        let (_, ok) = swebench_logs_eval(&format!("{log}{TESTS_TIMEOUT}\n"), p);
        assert!(!ok);
        let (_, ok) = swebench_logs_eval(&format!("{START_MARKER}\nPASSED a\n"), p);
        assert!(!ok, "no end marker: invalid");
        let (_, ok) = swebench_logs_eval(&format!("{START_MARKER}\nPASSED a\n{END_MARKER}\n{TEST_EXIT_CODE}: 3\n"), p);
        assert!(!ok, "non-zero exit without a failure: invalid");
    }
}
