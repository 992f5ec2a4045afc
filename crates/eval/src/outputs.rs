//! The files `srl-swe eval` writes into `--out`, each rewritten atomically
//! (`srl_core::io::AtomicFile`) after every finished instance, so a crash or Ctrl-C never
//! leaves a partial line and a re-run with the same `--out` skips finished instances:
//!
//! - `predictions.jsonl`: SWE-bench predictions (`instance_id`, `model_name_or_path`,
//!   `model_patch`), which `swebench.harness.run_evaluation` and the SWE-smith harness read;
//! - `results.jsonl`: one [`InstanceResult`] per instance (resolved, per-test status, how the
//!   patch applied, edit and format errors, tokens, timings);
//! - `report.json`: the [`Report`] (resolve rate, format-error rate, patch-apply rate, per repo,
//!   timings).

use crate::error::{EvalError, Result};
use crate::patch::EmptyPatchReason;
use crate::search_replace::EditOutcome;
use serde::{Deserialize, Serialize};
use srl_core::io::AtomicFile;
use srl_core::Prediction;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Version of [`InstanceResult`] and [`Report`].
pub const RESULT_VERSION: u32 = 1;

fn version() -> u32 {
    RESULT_VERSION
}

/// One repair sample of an instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleResult {
    /// 0-based sample index.
    pub index: usize,
    /// Files shown in the repair prompt.
    pub files: Vec<String>,
    /// Number of ```` ```python ```` blocks in the answer.
    pub num_blocks: usize,
    /// Every edit with its outcome.
    pub edits: Vec<EditOutcome>,
    /// Why the patch is empty, when it is.
    pub empty_reason: Option<EmptyPatchReason>,
    /// Files that failed the syntax check (`ast.parse` in the container).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub syntax_errors: Vec<String>,
    /// The sample's patch (empty when rejected).
    pub model_patch: String,
    /// Backend error, when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_error: Option<String>,
    /// Prompt tokens (backend-reported).
    pub prompt_tokens: Option<u64>,
    /// Completion tokens (backend-reported).
    pub completion_tokens: Option<u64>,
}

/// Per-test outcome lists (SWE-bench `tests_status`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestsStatus {
    /// FAIL_TO_PASS `{success, failure}`.
    #[serde(rename = "FAIL_TO_PASS")]
    pub fail_to_pass: SuccessFailure,
    /// PASS_TO_PASS `{success, failure}`.
    #[serde(rename = "PASS_TO_PASS")]
    pub pass_to_pass: SuccessFailure,
}

/// Tests split by outcome (one type for the workspace: the grader's).
pub use srl_sandbox::grading::SuccessFailure;

/// Wall-clock split of one instance, seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Whole instance.
    pub total_s: f64,
    /// Inside model backend calls.
    pub model_s: f64,
    /// Running the tests.
    pub test_s: f64,
    /// Everything else: container start/removal, file reads, syntax check, patching (the
    /// harness overhead).
    pub harness_s: f64,
    /// Wall time per pipeline phase (`start`, `generate`, `apply`, `test`, `remove`).
    #[serde(default)]
    pub phases: BTreeMap<String, f64>,
}

/// The final status of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Tests graded FULL.
    Resolved,
    /// Tests ran and did not grade FULL (empty patches included).
    Unresolved,
    /// The patch did not apply with any method.
    PatchApplyFailed,
    /// The test command hit its timeout.
    TestTimeout,
    /// The instance could not be evaluated (missing image, sandbox failure, no prediction).
    Error,
}

/// One line of `results.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "eval_result")]
pub struct InstanceResult {
    /// Record version.
    #[serde(default = "version")]
    pub version: u32,
    /// Task id.
    pub instance_id: String,
    /// Repository.
    pub repo: String,
    /// `oracle` or `e2e`.
    pub mode: String,
    /// Backend name.
    pub model_name_or_path: String,
    /// resolved ⇔ a non-empty patch applied and the tests graded FULL.
    pub resolved: bool,
    /// Final status.
    pub outcome: Outcome,
    /// Human-readable reason for anything but `resolved` (e.g. `empty_patch: no_edit_blocks`).
    pub reason: Option<String>,
    /// The submitted patch.
    pub model_patch: String,
    /// Files given to the repair prompt (oracle files, or localized files in e2e mode).
    pub context_files: Vec<String>,
    /// Localization answer files (e2e mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub localized_files: Option<Vec<String>>,
    /// Repair samples.
    pub samples: Vec<SampleResult>,
    /// Index of the sample whose patch was submitted.
    pub selected_sample: Option<usize>,
    /// Whether the patch was applied (false for an empty patch).
    pub patch_applied: bool,
    /// The apply command that worked.
    pub apply_method: Option<String>,
    /// Per-test outcome lists, when tests ran.
    pub tests_status: Option<TestsStatus>,
    /// Raw per-test statuses parsed from the log.
    pub test_statuses: BTreeMap<String, String>,
    /// Whether the tests graded FULL regardless of the patch (an environment whose tests pass
    /// with an empty patch is broken).
    pub tests_pass: bool,
    /// Whether the log passed the harness's validity checks (`false` also when no tests ran).
    #[serde(default)]
    pub log_valid: bool,
    /// A failure of the model backend (after its retries) or of the run, not a verdict on the
    /// model: a re-run evaluates the instance again instead of resuming it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retryable: bool,
    /// Prompt + completion tokens over all calls.
    pub tokens: u64,
    /// Timings.
    pub timings: Timings,
}

impl InstanceResult {
    /// The SWE-bench prediction line.
    pub fn prediction(&self) -> Prediction {
        Prediction {
            instance_id: self.instance_id.clone(),
            model_name_or_path: self.model_name_or_path.clone(),
            model_patch: self.model_patch.clone(),
        }
    }

    /// The answer had no usable edit (no blocks, or none applied).
    pub fn format_error(&self) -> bool {
        let Some(i) = self.selected_sample else { return false };
        self.samples.get(i).is_some_and(|s| {
            matches!(s.empty_reason, Some(EmptyPatchReason::NoEditBlocks | EmptyPatchReason::NoEditApplied))
        })
    }
}

/// Owns the three output files of a run.
#[derive(Debug)]
pub struct OutputDir {
    dir: PathBuf,
    results: Vec<InstanceResult>,
}

impl OutputDir {
    /// Opens `dir` (created when missing) and reads the finished results of an earlier run.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(EvalError::io(dir))?;
        let path = dir.join("results.jsonl");
        let mut results = Vec::new();
        if path.is_file() {
            for item in srl_core::io::jsonl_lines(&path)? {
                let (line, text) = item?;
                let r: InstanceResult = serde_json::from_str(&text).map_err(|e| EvalError::Record {
                    path: path.clone(),
                    line,
                    field: crate::backend::json_error_field(&e),
                    message: e.to_string(),
                })?;
                results.push(r);
            }
        }
        Ok(OutputDir { dir: dir.to_path_buf(), results })
    }

    /// Ids already finished: every result except retryable ones (backend outages), and except
    /// `error` outcomes when `retry_errors`.
    pub fn finished(&self, retry_errors: bool) -> HashSet<String> {
        self.results
            .iter()
            .filter(|r| !(r.retryable || (retry_errors && r.outcome == Outcome::Error)))
            .map(|r| r.instance_id.clone())
            .collect()
    }

    /// All results so far (earlier runs included).
    pub fn results(&self) -> &[InstanceResult] {
        &self.results
    }

    /// Adds a finished instance and rewrites `results.jsonl` and `predictions.jsonl`.
    pub fn push(&mut self, result: InstanceResult) -> Result<()> {
        self.results.retain(|r| r.instance_id != result.instance_id);
        self.results.push(result);
        let mut res = AtomicFile::create(self.dir.join("results.jsonl"))?;
        let mut preds = AtomicFile::create(self.dir.join("predictions.jsonl"))?;
        for r in &self.results {
            res.write_json_line(r)?;
            preds.write_json_line(&r.prediction())?;
        }
        res.commit()?;
        preds.commit()?;
        Ok(())
    }

    /// Writes `report.json` and returns the report.
    pub fn write_report(&self, run: RunInfo) -> Result<Report> {
        let report = Report::build(&self.results, run);
        srl_core::io::write_json_pretty(self.dir.join("report.json"), &report)?;
        Ok(report)
    }
}

/// Facts about the run that the results do not carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// `oracle` or `e2e`.
    pub mode: String,
    /// Backend name.
    pub model: String,
    /// Parallel workers.
    pub workers: usize,
    /// Instances evaluated by this invocation (the rest came from an earlier run).
    pub evaluated_now: usize,
    /// Instances skipped because `--out` already had them.
    pub resumed: usize,
    /// Malformed instance records skipped while loading.
    pub skipped_records: usize,
    /// Wall time of this invocation, seconds.
    pub wall_s: f64,
}

/// Counts for one repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RepoStats {
    /// Instances.
    pub instances: usize,
    /// Resolved.
    pub resolved: usize,
    /// resolved / instances.
    pub resolve_rate: f64,
}

/// `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "eval_report")]
pub struct Report {
    /// Record version.
    #[serde(default = "version")]
    pub version: u32,
    /// Run facts.
    pub run: RunInfo,
    /// Instances in `results.jsonl`.
    pub instances: usize,
    /// Resolved.
    pub resolved: usize,
    /// resolved / instances.
    pub resolve_rate: f64,
    /// Instances whose selected answer had no usable edit / instances.
    pub format_error_rate: f64,
    /// Non-empty patches that applied / non-empty patches.
    pub patch_apply_rate: f64,
    /// Instances with an empty patch / instances.
    pub empty_patch_rate: f64,
    /// Instances per outcome.
    pub outcomes: BTreeMap<String, usize>,
    /// Per repository.
    pub per_repo: BTreeMap<String, RepoStats>,
    /// Instances whose tests pass with an empty patch (broken environments).
    pub pass_without_patch: Vec<String>,
    /// Mean harness overhead per instance (everything but model and test time), seconds.
    pub mean_harness_s: f64,
    /// Mean test time per instance, seconds.
    pub mean_test_s: f64,
    /// Mean model time per instance, seconds.
    pub mean_model_s: f64,
    /// Total tokens.
    pub tokens: u64,
}

fn rate(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

impl Report {
    /// Aggregates results.
    pub fn build(results: &[InstanceResult], run: RunInfo) -> Self {
        let n = results.len();
        let resolved = results.iter().filter(|r| r.resolved).count();
        let nonempty: Vec<&InstanceResult> = results.iter().filter(|r| !r.model_patch.trim().is_empty()).collect();
        let mut outcomes = BTreeMap::new();
        let mut per_repo: BTreeMap<String, RepoStats> = BTreeMap::new();
        for r in results {
            let key =
                serde_json::to_value(r.outcome).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            *outcomes.entry(key).or_insert(0) += 1;
            let e = per_repo.entry(r.repo.clone()).or_default();
            e.instances += 1;
            e.resolved += usize::from(r.resolved);
        }
        for s in per_repo.values_mut() {
            s.resolve_rate = rate(s.resolved, s.instances);
        }
        let mean = |f: fn(&Timings) -> f64| {
            if n == 0 {
                0.0
            } else {
                results.iter().map(|r| f(&r.timings)).sum::<f64>() / n as f64
            }
        };
        Report {
            version: RESULT_VERSION,
            run,
            instances: n,
            resolved,
            resolve_rate: rate(resolved, n),
            format_error_rate: rate(results.iter().filter(|r| r.format_error()).count(), n),
            patch_apply_rate: rate(nonempty.iter().filter(|r| r.patch_applied).count(), nonempty.len()),
            empty_patch_rate: rate(n - nonempty.len(), n),
            outcomes,
            per_repo,
            pass_without_patch: results
                .iter()
                .filter(|r| r.model_patch.trim().is_empty() && r.tests_pass)
                .map(|r| r.instance_id.clone())
                .collect(),
            mean_harness_s: mean(|t| t.harness_s),
            mean_test_s: mean(|t| t.test_s),
            mean_model_s: mean(|t| t.model_s),
            tokens: results.iter().map(|r| r.tokens).sum(),
        }
    }

    /// The summary table printed at the end of a run.
    pub fn summary_table(&self) -> String {
        let mut s = String::new();
        let pct = |x: f64| format!("{:.1}%", 100.0 * x);
        s.push_str(&format!("{:<40} {:>9} {:>9} {:>9}\n", "repo", "instances", "resolved", "rate"));
        for (repo, st) in &self.per_repo {
            s.push_str(&format!("{:<40} {:>9} {:>9} {:>9}\n", repo, st.instances, st.resolved, pct(st.resolve_rate)));
        }
        s.push_str(&format!(
            "{:<40} {:>9} {:>9} {:>9}\n",
            "TOTAL",
            self.instances,
            self.resolved,
            pct(self.resolve_rate)
        ));
        s.push_str(&format!(
            "mode {} | model {} | format errors {} | patch applied {} | empty patches {} | harness {:.2} s/instance | tests {:.2} s/instance | model {:.2} s/instance | {} tokens\n",
            self.run.mode,
            self.run.model,
            pct(self.format_error_rate),
            pct(self.patch_apply_rate),
            pct(self.empty_patch_rate),
            self.mean_harness_s,
            self.mean_test_s,
            self.mean_model_s,
            self.tokens
        ));
        if !self.pass_without_patch.is_empty() {
            s.push_str(&format!(
                "WARNING: tests pass without a patch (broken environments): {}\n",
                self.pass_without_patch.join(", ")
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn result(id: &str, repo: &str, resolved: bool, patch: &str) -> InstanceResult {
        InstanceResult {
            version: RESULT_VERSION,
            instance_id: id.into(),
            repo: repo.into(),
            mode: "oracle".into(),
            model_name_or_path: "gold".into(),
            resolved,
            outcome: if resolved { Outcome::Resolved } else { Outcome::Unresolved },
            reason: None,
            model_patch: patch.into(),
            context_files: vec![],
            localized_files: None,
            samples: vec![],
            selected_sample: None,
            patch_applied: !patch.is_empty(),
            apply_method: None,
            tests_status: None,
            test_statuses: BTreeMap::new(),
            tests_pass: resolved,
            log_valid: true,
            retryable: false,
            tokens: 3,
            timings: Timings { total_s: 2.0, model_s: 0.5, test_s: 1.0, harness_s: 0.5, phases: BTreeMap::new() },
        }
    }

    #[test]
    fn output_dir_rewrites_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = OutputDir::open(dir.path()).unwrap();
        out.push(result("a", "r1", true, "diff")).unwrap();
        out.push(result("b", "r2", false, "")).unwrap();
        let preds = std::fs::read_to_string(dir.path().join("predictions.jsonl")).unwrap();
        assert_eq!(preds.lines().count(), 2);
        let p: Prediction = serde_json::from_str(preds.lines().next().unwrap()).unwrap();
        assert_eq!((p.instance_id.as_str(), p.model_patch.as_str()), ("a", "diff"));
        let again = OutputDir::open(dir.path()).unwrap();
        assert_eq!(again.finished(false), ["a".to_string(), "b".to_string()].into_iter().collect());
        let report = again.write_report(RunInfo { mode: "oracle".into(), ..RunInfo::default() }).unwrap();
        assert_eq!((report.instances, report.resolved), (2, 1));
        assert_eq!(report.resolve_rate, 0.5);
        assert_eq!(report.empty_patch_rate, 0.5);
        assert_eq!(report.patch_apply_rate, 1.0);
        assert_eq!(report.per_repo["r1"].resolve_rate, 1.0);
        assert_eq!(report.tokens, 6);
        let table = report.summary_table();
        assert!(table.contains("TOTAL") && table.contains("50.0%"), "{table}");
        let on_disk: Report =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
        assert_eq!(on_disk, report);
    }

    #[test]
    fn corrupt_results_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("results.jsonl"), "{\"type\":\"eval_result\"}\n").unwrap();
        let err = OutputDir::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("results.jsonl:1"), "{err}");
    }
}
