//! Running a task's tests and grading "resolved" the way the SWE-bench and SWE-smith harnesses
//! do (docs/swe-bench.md):
//!
//! - [`specs`]: eval scripts (SWE-bench 5.x rows' own, swebench 4.1.0's per repo/version for
//!   older rows, SWE-smith's `eval.sh`) from the generated table `harness_specs.json`;
//! - [`log_parsers`]: every Python log parser of swebench 5.0.2 and SWE-smith's pytest parser;
//! - [`report`]: log validity (failure markers, both markers, first START…END block, exit-status
//!   cross-check), the F2P/P2P report with 5.x's truncated-id rule, FULL/PARTIAL/NO.
//!
//! Grading cannot be gamed by the patch: before the eval script runs, the test files
//! (the test patch's, and the files of the FAIL_TO_PASS / PASS_TO_PASS ids) and every changed
//! `conftest.py`, `pytest.ini`, `setup.cfg`, `tox.ini` and `pyproject.toml` are put back to the
//! task's state (deleted when the patch created them); the SWE-bench script then re-applies
//! `test_patch`. The log is captured to a file in the container and read back as its head and
//! its tail, so statuses printed after megabytes of output are still parsed.
//!
//! Patches: [`apply_patch`] tries `git apply --verbose`, `git apply --verbose --reject`,
//! `patch --batch --fuzz=5 -p1 -i` (SWE-bench `GIT_APPLY_CMDS`), resetting the tree between
//! tries, in one exec.
pub mod log_parsers;
pub mod report;
pub mod specs;

pub use log_parsers::StatusMap;
pub use report::{GradingRule, Resolution, SuccessFailure, END_MARKER, START_MARKER};
pub use specs::{InstanceKind, DEFAULT_TEST_CMD};

use crate::paths::shell_quote;
use crate::{ExecRequest, Result, Sandbox};
use serde::{Deserialize, Serialize};
use srl_core::TaskInstance;
use std::time::Duration;

/// Default per-instance test timeout (SWE-bench's 1,800 s).
pub const DEFAULT_TEST_TIMEOUT_SECS: u64 = 1800;
/// Bytes of the log's head and tail read back (together under the sandbox's 1 MiB cap).
pub const LOG_HEAD_BYTES: usize = 256 << 10;
/// See [`LOG_HEAD_BYTES`].
pub const LOG_TAIL_BYTES: usize = 640 << 10;
/// Files whose change by a patch would change how tests run; reset before grading.
pub const GRADING_CONFIG_FILES: [&str; 5] = ["conftest.py", "pytest.ini", "setup.cfg", "tox.ini", "pyproject.toml"];

/// One file of a unified diff: its source and target names as written (`a/x`, `/dev/null`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchFile {
    /// `--- ` name (or the `diff --git` `a/` name; `/dev/null` for a new file).
    pub source: String,
    /// `+++ ` name (or the `diff --git` `b/` name; `/dev/null` for a deleted file).
    pub target: String,
}

/// The files of a unified diff, in order, read the way unidiff's `PatchSet` names them; hunk
/// bodies are skipped by their line counts, so a removed line `-- x` is not a header.
pub fn patch_files(patch: &str) -> Vec<PatchFile> {
    let mut out: Vec<PatchFile> = Vec::new();
    let mut lines = patch.split('\n').peekable();
    let name = |s: &str| s.split('\t').next().unwrap_or("").trim_end_matches('\r').to_string();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            let (a, b) = match rest.find(" b/") {
                Some(i) => (rest[..i].to_string(), rest[i + 1..].to_string()),
                None => (rest.to_string(), String::new()),
            };
            out.push(PatchFile { source: a, target: b });
        } else if line.starts_with("new file mode") {
            if let Some(f) = out.last_mut() {
                f.source = "/dev/null".into();
            }
        } else if line.starts_with("deleted file mode") {
            if let Some(f) = out.last_mut() {
                f.target = "/dev/null".into();
            }
        } else if let Some(src) = line.strip_prefix("--- ") {
            if lines.peek().is_some_and(|l| l.starts_with("+++ ")) {
                let tgt = lines.next().unwrap_or_default().trim_start_matches("+++ ");
                let file = PatchFile { source: name(src), target: name(tgt) };
                match out.last_mut() {
                    Some(last)
                        if last.target == file.target || last.target == "/dev/null" || file.source == "/dev/null" =>
                    {
                        *last = file
                    }
                    _ => out.push(file),
                }
            }
        } else if let Some(h) = line.strip_prefix("@@ -") {
            let counts = |s: &str| s.split(',').nth(1).and_then(|n| n.parse::<usize>().ok()).unwrap_or(1);
            let mut parts = h.split(' ');
            let old = counts(parts.next().unwrap_or(""));
            let new = counts(parts.next().unwrap_or("").trim_start_matches('+'));
            let (mut o, mut n) = (0, 0);
            while o < old || n < new {
                let Some(body) = lines.next() else { break };
                match body.as_bytes().first() {
                    Some(b'-') => o += 1,
                    Some(b'+') => n += 1,
                    Some(b'\\') => {}
                    _ => {
                        o += 1;
                        n += 1;
                    }
                }
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

/// Grades a status map against an instance's F2P / P2P lists.
pub fn grade(instance: &TaskInstance, statuses: &StatusMap, rule: GradingRule) -> TestReport {
    let (fail_to_pass, pass_to_pass) =
        report::tests_report(statuses, &instance.fail_to_pass, &instance.pass_to_pass, rule);
    let resolution = report::resolution(&fail_to_pass, &pass_to_pass);
    TestReport { fail_to_pass, pass_to_pass, resolution, resolved: resolution == Resolution::Full }
}

/// The rule the instance's harness uses: SWE-smith's for SWE-smith instances, SWE-bench's
/// `FAIL_ONLY` when the row says so, else SWE-bench's.
pub fn default_rule(instance: &TaskInstance) -> GradingRule {
    match specs::kind(instance) {
        InstanceKind::SweSmith => GradingRule::SweSmith,
        InstanceKind::SweBench if instance.eval_type.as_deref() == Some("fail_only") => GradingRule::FailOnly,
        InstanceKind::SweBench => GradingRule::SweBench,
    }
}

/// A graded log: whether it is valid and the statuses read from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGrade {
    /// False for a log the harness rejects (then `statuses` is empty).
    pub valid: bool,
    /// Parsed statuses.
    pub statuses: StatusMap,
}

/// Parses a captured log as the instance's harness does (`parser` overrides the instance's);
/// `Err` names a parser that is unknown or not ported.
pub fn parse_log(instance: &TaskInstance, log: &str, parser: Option<&str>) -> std::result::Result<LogGrade, String> {
    let name = match parser {
        Some(p) => p.to_string(),
        None => specs::parser_name(instance)
            .ok_or_else(|| format!("no log parser known for repo `{}` (give one with --log-parser)", instance.repo))?,
    };
    let parse = log_parsers::parser(&name)
        .ok_or_else(|| format!("log parser `{name}` is not one of {}", log_parsers::PARSER_NAMES.join(", ")))?;
    let content = report::universal_newlines(log);
    Ok(match specs::kind(instance) {
        InstanceKind::SweBench => {
            let (statuses, valid) = report::swebench_logs_eval(&content, parse);
            LogGrade { valid, statuses }
        }
        InstanceKind::SweSmith => match report::swesmith_test_output(&content) {
            Some(out) => LogGrade { valid: true, statuses: parse(out) },
            None => LogGrade { valid: false, statuses: StatusMap::default() },
        },
    })
}

/// A test run: the log as read back and what was parsed from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRun {
    /// Exit code of the eval script.
    pub exit_code: i64,
    /// Whether it timed out (the log then ends with `>>>>> Tests Timed Out`).
    pub timed_out: bool,
    /// The log: head and tail when it was long.
    pub log: String,
    /// Whether the harness accepts the log.
    pub valid: bool,
    /// Parsed statuses (empty when invalid).
    pub statuses: StatusMap,
    /// Why the log could not be graded at all (no eval script, no parser).
    pub problem: Option<String>,
}

impl TestRun {
    /// Grades the run; an invalid log resolves nothing.
    pub fn report(&self, instance: &TaskInstance, rule: GradingRule) -> TestReport {
        let mut r = grade(instance, &self.statuses, rule);
        if !self.valid {
            r.resolution = Resolution::No;
            r.resolved = false;
        }
        r
    }
}

/// The eval script of an instance.
pub fn eval_script(instance: &TaskInstance) -> std::result::Result<String, String> {
    match specs::kind(instance) {
        InstanceKind::SweBench => specs::swebench_eval_script(instance).map_err(|e| e.to_string()),
        InstanceKind::SweSmith => Ok(specs::swesmith_eval_script(instance)),
    }
}

/// The files reset before the eval script runs (see the module docs), and the revision they are
/// reset to.
pub fn protected_files(instance: &TaskInstance) -> (String, Vec<String>) {
    let mut files: Vec<String> = Vec::new();
    let mut add = |f: &str| {
        if !f.is_empty() && !files.iter().any(|x| x == f) {
            files.push(f.to_string());
        }
    };
    for t in instance.fail_to_pass.iter().chain(&instance.pass_to_pass) {
        if let Some((path, _)) = t.split_once("::") {
            add(path);
        }
    }
    match specs::kind(instance) {
        InstanceKind::SweBench => {
            for f in patch_files(&instance.test_patch) {
                for name in [&f.source, &f.target] {
                    if let Some(p) = name.strip_prefix("a/").or_else(|| name.strip_prefix("b/")) {
                        add(p);
                    }
                }
            }
            (instance.base_commit.clone(), files)
        }
        InstanceKind::SweSmith => ("HEAD".into(), files),
    }
}

/// The shell script that puts the protected files back (exit 0 even when nothing changed).
fn protect_script(instance: &TaskInstance) -> String {
    let (rev, files) = protected_files(instance);
    let rev = if rev.is_empty() { "HEAD".to_string() } else { rev };
    let list: Vec<String> = files.iter().map(|f| shell_quote(f)).collect();
    let configs = GRADING_CONFIG_FILES.join("|");
    format!(
        "rev={rev}\nreset_one() {{ if git cat-file -e \"$rev:$1\" 2>/dev/null; then git checkout -q \"$rev\" -- \"$1\"; else rm -f -- \"$1\"; fi; }}\n\
for f in {}; do reset_one \"$f\"; done\n\
{{ git diff -z --name-only HEAD; git ls-files -z --others --exclude-standard; }} | while IFS= read -r -d '' p; do\n  case \"${{p##*/}}\" in {configs}) echo \"srl-swe: reset $p\"; reset_one \"$p\";; esac\ndone\nexit 0\n",
        if list.is_empty() { "''".to_string() } else { list.join(" ") },
        rev = shell_quote(&rev),
    )
}

/// Runs an instance's tests in `/testbed`: protected files reset, then its eval script with
/// the output captured to a file whose head and tail are read back, then parsed and checked.
pub async fn run_tests<S: Sandbox>(sandbox: &S, instance: &TaskInstance, timeout: Duration) -> Result<TestRun> {
    let script = match eval_script(instance) {
        Ok(s) => s,
        Err(problem) => {
            return Ok(TestRun {
                exit_code: -1,
                timed_out: false,
                log: String::new(),
                valid: false,
                statuses: StatusMap::default(),
                problem: Some(problem),
            })
        }
    };
    let reset = sandbox
        .exec(&ExecRequest::new(protect_script(instance)).workdir("/testbed").timeout(Duration::from_secs(120)))
        .await?;
    tracing::debug!(instance = %instance.instance_id, "protected files reset:\n{}", reset.output);
    // In `/testbed/.git/` (invisible to git, on the task's volume), named relative to the
    // work dir so the same commands work in any sandbox.
    let (script_path, log_path) = (".git/srl-swe-eval.sh", ".git/srl-swe-eval.log");
    sandbox.write_file(&format!("/testbed/{script_path}"), script.as_bytes()).await?;
    let read_back = format!(
        "s=$(wc -c < {log_path}); if [ \"$s\" -le {total} ]; then cat {log_path}; else head -c {LOG_HEAD_BYTES} {log_path}; printf '\\n[srl-swe: %s bytes of the log cut here]\\n' $((s - {total})); tail -c {LOG_TAIL_BYTES} {log_path}; fi",
        total = LOG_HEAD_BYTES + LOG_TAIL_BYTES
    );
    let run = format!("bash {script_path} > {log_path} 2>&1\nrc=$?\n{read_back}\nexit $rc");
    let out = sandbox.exec(&ExecRequest::new(run).workdir("/testbed").timeout(timeout)).await?;
    let (mut log, exit_code) = (out.stdout.clone(), out.exit_code);
    if out.timed_out {
        let partial =
            sandbox.exec(&ExecRequest::new(read_back).workdir("/testbed").timeout(Duration::from_secs(60))).await?;
        log = format!("{}\n{}\n", partial.stdout, report::TESTS_TIMEOUT);
    }
    let (valid, statuses, problem) = match parse_log(instance, &log, None) {
        Ok(g) => (g.valid, g.statuses, None),
        Err(p) => (false, StatusMap::default(), Some(p)),
    };
    Ok(TestRun { exit_code, timed_out: out.timed_out, log, valid, statuses, problem })
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
pub const APPLY_COMMANDS: [&str; 3] =
    ["git apply --verbose", "git apply --verbose --reject", "patch --batch --fuzz=5 -p1 -i"];

/// Applies a unified diff in `/testbed` (`reverse` for SWE-smith bug patches) with the
/// fallbacks of [`APPLY_COMMANDS`], resetting the tree (`git checkout -- . && git clean -fdq`)
/// before each retry and after a failure, in one exec. The patch file sits in `/testbed/.git/`
/// (invisible to git) and is removed afterwards.
pub async fn apply_patch<S: Sandbox>(sandbox: &S, patch: &str, reverse: bool) -> Result<ApplyOutcome> {
    let rel = ".git/srl-swe-eval.patch";
    let mut text = patch.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    sandbox.write_file(&format!("/testbed/{rel}"), text.as_bytes()).await?;
    let mut script = String::from("applied=''\n");
    for (i, cmd) in APPLY_COMMANDS.iter().enumerate() {
        let reset = if i > 0 { "git checkout -q -- . && git clean -fdq; " } else { "" };
        let full = match (reverse, cmd.starts_with("patch")) {
            (true, true) => format!("patch -R --batch --fuzz=5 -p1 -i {rel}"),
            (true, false) => format!("{cmd} --reverse {rel}"),
            (false, _) => format!("{cmd} {rel}"),
        };
        script.push_str(&format!(
            "if [ -z \"$applied\" ]; then {reset}echo '$ {full}'; if {full} 2>&1; then applied={i}; fi; fi\n"
        ));
    }
    script.push_str(&format!(
        "rm -f {rel}\nif [ -z \"$applied\" ]; then git checkout -q -- . && git clean -fdq; echo SRL_APPLIED=none; else echo SRL_APPLIED=$applied; fi\n"
    ));
    let out = sandbox.exec(&ExecRequest::new(script).workdir("/testbed").timeout(Duration::from_secs(120))).await?;
    let method = out
        .stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("SRL_APPLIED="))
        .and_then(|i| i.trim().parse::<usize>().ok())
        .and_then(|i| APPLY_COMMANDS.get(i))
        .map(|c| c.to_string());
    Ok(ApplyOutcome { applied: method.is_some(), method, log: out.output })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(f2p: &[&str], p2p: &[&str]) -> TaskInstance {
        TaskInstance {
            instance_id: "x".into(),
            repo: "r".into(),
            patch_is_bug: true,
            fail_to_pass: f2p.iter().map(|s| s.to_string()).collect(),
            pass_to_pass: p2p.iter().map(|s| s.to_string()).collect(),
            ..TaskInstance::default()
        }
    }

    const LOG: &str = "noise\n+ : '>>>>> Start Test Output'\n\
tests/test_a.py::test_one PASSED                                         [ 25%]\n\
tests/test_a.py::test_two FAILED                                         [ 50%]\n\
tests/test_a.py::test_param[1-2] SKIPPED (why)                           [ 75%]\n\
tests/test_b.py::test_x XFAIL                                            [100%]\n\
+ : '>>>>> End Test Output'\n";

    #[test]
    fn swe_smith_log_and_rules() {
        let inst =
            instance(&["tests/test_a.py::test_one", "tests/test_b.py::test_x"], &["tests/test_a.py::test_param[1-2]"]);
        let g = parse_log(&inst, LOG, Some("swesmith_pytest")).unwrap();
        assert!(g.valid);
        assert_eq!(g.statuses.get("tests/test_a.py::test_two"), Some("FAILED"));
        let r = grade(&inst, &g.statuses, GradingRule::SweSmith);
        assert!(r.resolved, "{r:?}");
        assert!(r.pass_to_pass.success.is_empty() && r.pass_to_pass.failure.is_empty(), "SKIPPED is in neither list");
        let gone = instance(&["tests/test_a.py::gone"], &[]);
        assert!(!grade(&gone, &g.statuses, GradingRule::SweSmith).resolved, "a missing test fails");
        assert!(!parse_log(&inst, &LOG.replace("+ : '>>>>> End Test Output'\n", ""), Some("pytest")).unwrap().valid);
    }

    #[test]
    fn patch_files_skip_hunk_bodies() {
        let p = "diff --git a/t.py b/t.py\n--- a/t.py\n+++ b/t.py\n@@ -1,2 +1,2 @@\n--- a/x\n+++ b/y\n x\ndiff --git a/n.py b/n.py\nnew file mode 100644\n--- /dev/null\n+++ b/n.py\n@@ -0,0 +1 @@\n+a\n";
        let f = patch_files(p);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(specs::modified_files(p), ["t.py"]);
        assert_eq!(f[1].target, "b/n.py");
    }

    #[test]
    fn protected_files_cover_tests_and_test_patch() {
        let mut inst = instance(&["tests/a.py::t1", "tests/a.py::t2"], &["tests/b.py::t3"]);
        assert_eq!(protected_files(&inst), ("HEAD".to_string(), vec!["tests/a.py".to_string(), "tests/b.py".into()]));
        inst.patch_is_bug = false;
        inst.base_commit = "abc".into();
        inst.test_patch = "diff --git a/tests/c.py b/tests/c.py\nnew file mode 100644\n--- /dev/null\n+++ b/tests/c.py\n@@ -0,0 +1 @@\n+x\n".into();
        let (rev, files) = protected_files(&inst);
        assert_eq!(rev, "abc");
        assert!(files.contains(&"tests/c.py".to_string()), "{files:?}");
    }
}
