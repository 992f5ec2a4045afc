//! The evaluation pipeline end to end on `srl_sandbox::FakeSandbox` (host bash in a temporary
//! folder standing in for the container): a tiny git repository with one bug, a test runner
//! that prints pytest `--verbose` lines, and the backends of this crate. Docker runs of the
//! shipped environments are in `tests/e2e/eval.rs`.

use srl_core::TaskInstance;
use srl_eval::outputs::{Outcome, OutputDir};
use srl_eval::patch::EmptyPatchReason;
use srl_eval::pipeline::{evaluate, evaluate_instance, EnvProvider, EvalConfig, Mode, NoReporter};
use srl_eval::search_replace::EditStatus;
use srl_eval::{ChatRequest, Completion, EmptyBackend, GoldBackend, ModelBackend, Purpose, ReplayBackend};
use srl_sandbox::{prepare_task, ExecRequest, FakeSandbox, Sandbox, SandboxConfig, TaskEnv};
use std::future::Future;
use std::sync::Arc;

const BUGGY: &str = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n";
const BUG_PATCH: &str = "diff --git a/pkg/calc.py b/pkg/calc.py\n--- a/pkg/calc.py\n+++ b/pkg/calc.py\n@@ -1,5 +1,5 @@\n def add(a, b):\n-    return a + b\n+    return a - b\n \n \n def sub(a, b):\n";
const RUNNER: &str = r#"import sys
sys.path.insert(0, ".")
from pkg import calc
checks = {"test_add": lambda: calc.add(2, 3) == 5, "test_sub": lambda: calc.sub(5, 3) == 2}
for name, check in checks.items():
    try:
        ok = check()
    except Exception:
        ok = False
    print("tests/test_calc.py::%s %s" % (name, "PASSED" if ok else "FAILED"))
"#;

fn instance(test_cmd: &str) -> TaskInstance {
    serde_json::from_value(serde_json::json!({
        "instance_id": "demo__calc.0000.bug__add", "repo": "demo/calc", "image_name": "fake",
        "problem_statement": "add(2, 3) returns -1 instead of 5", "patch": BUG_PATCH, "patch_is_bug": true,
        "FAIL_TO_PASS": ["tests/test_calc.py::test_add"], "PASS_TO_PASS": ["tests/test_calc.py::test_sub"],
        "test_cmd": test_cmd
    }))
    .unwrap()
}

/// Fake environments: a git repository at `/testbed` in the buggy state.
struct FakeEnvs {
    fail_start: bool,
}

impl EnvProvider for FakeEnvs {
    type Sandbox = FakeSandbox;
    fn start(&self, instance: &TaskInstance) -> impl Future<Output = srl_sandbox::Result<TaskEnv<FakeSandbox>>> + Send {
        let instance = instance.clone();
        let fail = self.fail_start;
        async move {
            if fail {
                return Err(srl_sandbox::SandboxError::ImageMissing {
                    image: "srl-swe/env-x:1".into(),
                    instance: Some(instance.instance_id.clone()),
                });
            }
            let sb = FakeSandbox::new(&SandboxConfig::default())?;
            sb.write_file("/testbed/pkg/__init__.py", b"").await?;
            sb.write_file("/testbed/pkg/calc.py", BUGGY.as_bytes()).await?;
            sb.write_file("/testbed/run_tests.py", RUNNER.as_bytes()).await?;
            sb.write_file("/testbed/tests/test_calc.py", b"# see run_tests.py\n").await?;
            let out = sb
                .exec(
                    &ExecRequest::new(
                        "git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm bug",
                    )
                    .workdir("/testbed"),
                )
                .await?;
            assert!(out.success(), "{}", out.output);
            prepare_task(sb, &instance).await
        }
    }
}

/// Answers with a fixed text (or a function of the request).
struct Scripted(Box<dyn Fn(&ChatRequest) -> String + Send + Sync>);

impl ModelBackend for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }
    fn complete(&self, request: &ChatRequest) -> srl_eval::Result<Completion> {
        Ok(Completion {
            text: (self.0)(request),
            prompt_tokens: Some(10),
            completion_tokens: Some(5),
            ..Completion::default()
        })
    }
}

fn cfg(mode: Mode) -> EvalConfig {
    EvalConfig { mode, test_timeout_s: 20, ..EvalConfig::default() }
}

const RUN: &str = "python3 run_tests.py";

async fn run(backend: Arc<dyn ModelBackend>, config: &EvalConfig, test_cmd: &str) -> srl_eval::outputs::InstanceResult {
    evaluate_instance(&instance(test_cmd), &backend, &FakeEnvs { fail_start: false }, config).await
}

#[tokio::test]
async fn gold_resolves_in_oracle_and_e2e_mode() {
    let gold: Arc<dyn ModelBackend> = Arc::new(GoldBackend::new(&[instance(RUN)]).unwrap());
    let r = run(gold.clone(), &cfg(Mode::Oracle), RUN).await;
    assert!(r.resolved, "{r:#?}");
    assert_eq!(r.outcome, Outcome::Resolved);
    assert_eq!(r.context_files, ["pkg/calc.py"]);
    assert_eq!(r.apply_method.as_deref(), Some("git apply --verbose"));
    assert!(r.model_patch.starts_with("diff --git a/pkg/calc.py b/pkg/calc.py\n"), "{}", r.model_patch);
    assert!(r.model_patch.contains("-    return a - b\n+    return a + b\n"));
    let tests = r.tests_status.unwrap();
    assert_eq!(tests.fail_to_pass.success, ["tests/test_calc.py::test_add"]);
    assert_eq!(tests.pass_to_pass.success, ["tests/test_calc.py::test_sub"]);

    let r = run(gold, &cfg(Mode::E2e), RUN).await;
    assert!(r.resolved, "{r:#?}");
    assert_eq!(r.localized_files.as_deref(), Some(&["pkg/calc.py".to_string()][..]));
}

#[tokio::test]
async fn empty_answers_do_not_resolve_and_say_why() {
    let r = run(Arc::new(EmptyBackend), &cfg(Mode::Oracle), RUN).await;
    assert!(!r.resolved);
    assert!(!r.tests_pass);
    assert_eq!(r.outcome, Outcome::Unresolved);
    assert_eq!(r.reason.as_deref(), Some("empty_patch: no_edit_blocks"));
    assert!(r.format_error());
    assert_eq!(r.tests_status.unwrap().fail_to_pass.failure, ["tests/test_calc.py::test_add"]);
    let r = run(Arc::new(EmptyBackend), &cfg(Mode::E2e), RUN).await;
    assert_eq!(r.reason.as_deref(), Some("empty_patch: no_files"));
}

#[tokio::test]
async fn syntax_breaking_and_unknown_file_edits_are_recorded() {
    let answer = "```python\n### pkg/calc.py\n<<<<<<< SEARCH\n    return a - b\n\n\ndef sub\n=======\n    return a + (b\n\n\ndef sub\n>>>>>>> REPLACE\n```\n```python\n### pkg/other.py\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n```";
    let r = run(Arc::new(Scripted(Box::new(move |_| answer.to_string()))), &cfg(Mode::Oracle), RUN).await;
    let s = &r.samples[0];
    assert_eq!(s.empty_reason, Some(EmptyPatchReason::SyntaxError), "{r:#?}");
    assert_eq!(s.syntax_errors, ["pkg/calc.py"]);
    assert_eq!(s.edits.iter().map(|e| e.status).collect::<Vec<_>>(), [EditStatus::Applied, EditStatus::UnknownFile]);
    assert_eq!(r.model_patch, "");
    assert_eq!(r.tokens, 15);
    assert!(!r.resolved);
}

#[tokio::test]
async fn hanging_tests_time_out_and_bad_patches_fail_to_apply() {
    let gold: Arc<dyn ModelBackend> = Arc::new(GoldBackend::new(&[instance(RUN)]).unwrap());
    let config = EvalConfig { test_timeout_s: 2, ..cfg(Mode::Oracle) };
    let t = std::time::Instant::now();
    let r = run(gold, &config, "sleep 60; python3 run_tests.py").await;
    assert_eq!(r.outcome, Outcome::TestTimeout, "{r:#?}");
    assert!(t.elapsed().as_secs() < 30);

    let dir = tempfile::tempdir().unwrap();
    let preds = dir.path().join("p.jsonl");
    let bad = "diff --git a/pkg/calc.py b/pkg/calc.py\n--- a/pkg/calc.py\n+++ b/pkg/calc.py\n@@ -1,2 +1,2 @@\n def nothing_like_this():\n-    pass\n+    return 1\n";
    std::fs::write(&preds, format!("{}\n", serde_json::json!({"instance_id": "demo__calc.0000.bug__add", "model_name_or_path": "m", "model_patch": bad}))).unwrap();
    let r = run(Arc::new(ReplayBackend::from_jsonl(&preds).unwrap()), &cfg(Mode::Oracle), RUN).await;
    assert_eq!(r.outcome, Outcome::PatchApplyFailed, "{r:#?}");
    assert_eq!(r.model_name_or_path, "m");

    // Context that no longer matches exactly: git apply refuses, `patch --fuzz=5` applies it.
    let fuzzy = "diff --git a/pkg/calc.py b/pkg/calc.py\n--- a/pkg/calc.py\n+++ b/pkg/calc.py\n@@ -1,4 +1,4 @@\n def add(a, b):  # changed context\n-    return a - b\n+    return a + b\n \n \n";
    std::fs::write(&preds, format!("{}\n", serde_json::json!({"instance_id": "demo__calc.0000.bug__add", "model_name_or_path": "m", "model_patch": fuzzy}))).unwrap();
    let r = run(Arc::new(ReplayBackend::from_jsonl(&preds).unwrap()), &cfg(Mode::Oracle), RUN).await;
    assert_eq!(r.apply_method.as_deref(), Some("patch --batch --fuzz=5 -p1 -i"), "{r:#?}");
    assert!(r.resolved, "{r:#?}");
}

#[tokio::test]
async fn sampling_votes_for_the_majority_patch() {
    // Sample 0 is wrong, samples 1 and 2 write the same fix with different comments.
    let wrong = "```python\n### pkg/calc.py\n<<<<<<< SEARCH\n    return a - b\n\n\ndef sub\n=======\n    return b - a\n\n\ndef sub\n>>>>>>> REPLACE\n```";
    let right = |c: &str| {
        format!("```python\n### pkg/calc.py\n<<<<<<< SEARCH\n    return a - b\n\n\ndef sub\n=======\n    return a + b  # {c}\n\n\ndef sub\n>>>>>>> REPLACE\n```")
    };
    let backend = Scripted(Box::new(move |r: &ChatRequest| {
        assert_eq!(r.purpose, Purpose::Repair);
        if r.sample == 0 {
            wrong.to_string()
        } else {
            right(&r.sample.to_string())
        }
    }));
    let config = EvalConfig { samples: 3, temperature: 1.0, ..cfg(Mode::Oracle) };
    let r = run(Arc::new(backend), &config, RUN).await;
    assert_eq!(r.selected_sample, Some(1), "{r:#?}");
    assert!(r.resolved);
}

#[tokio::test]
async fn runs_resume_and_record_start_failures() {
    let dir = tempfile::tempdir().unwrap();
    let gold: Arc<dyn ModelBackend> = Arc::new(GoldBackend::new(&[instance(RUN)]).unwrap());
    let mut out = OutputDir::open(dir.path()).unwrap();
    let config = EvalConfig { workers: 2, ..cfg(Mode::Oracle) };
    let s = evaluate(
        vec![instance(RUN)],
        gold.clone(),
        Arc::new(FakeEnvs { fail_start: false }),
        &config,
        &mut out,
        &NoReporter,
    )
    .await
    .unwrap();
    assert_eq!((s.evaluated, s.resumed), (1, 0));
    let mut out = OutputDir::open(dir.path()).unwrap();
    let s = evaluate(
        vec![instance(RUN)],
        gold.clone(),
        Arc::new(FakeEnvs { fail_start: false }),
        &config,
        &mut out,
        &NoReporter,
    )
    .await
    .unwrap();
    assert_eq!((s.evaluated, s.resumed), (0, 1));
    assert_eq!(out.results().len(), 1);

    let r = evaluate_instance(&instance(RUN), &gold, &FakeEnvs { fail_start: true }, &config).await;
    assert_eq!(r.outcome, Outcome::Error);
    assert!(r.reason.as_deref().unwrap_or("").contains("srl-swe/env-x:1"), "{r:#?}");
}

/// Fails every call, as an endpoint in an outage does after its retries.
struct Down;

impl ModelBackend for Down {
    fn name(&self) -> &str {
        "down"
    }
    fn complete(&self, _request: &ChatRequest) -> srl_eval::Result<Completion> {
        Err(srl_eval::EvalError::Backend { backend: "down".into(), message: "HTTP 429: slow down".into() })
    }
}

/// A backend outage is not a finished empty patch: the result is `retryable`, and a
/// re-run with a healthy backend evaluates the instance again.
#[tokio::test]
async fn backend_outages_are_evaluated_again() {
    let dir = tempfile::tempdir().unwrap();
    let config = cfg(Mode::Oracle);
    let mut out = OutputDir::open(dir.path()).unwrap();
    let envs = Arc::new(FakeEnvs { fail_start: false });
    evaluate(vec![instance(RUN)], Arc::new(Down), envs.clone(), &config, &mut out, &NoReporter).await.unwrap();
    let r = &out.results()[0];
    assert!(r.retryable && !r.resolved, "{r:#?}");
    assert!(r.samples[0].backend_error.as_deref().unwrap_or("").contains("429"));
    let gold: Arc<dyn ModelBackend> = Arc::new(GoldBackend::new(&[instance(RUN)]).unwrap());
    let mut out = OutputDir::open(dir.path()).unwrap();
    let s = evaluate(vec![instance(RUN)], gold, envs, &config, &mut out, &NoReporter).await.unwrap();
    assert_eq!((s.evaluated, s.resumed), (1, 0));
    assert!(out.results()[0].resolved && !out.results()[0].retryable);
}

/// Under the SWE-smith rule a flooded or empty log resolves nothing (a test with no
/// status fails), and the statuses printed after a flood are still read (head + tail capture).
#[tokio::test]
async fn flooded_and_empty_logs_do_not_resolve() {
    let gold: Arc<dyn ModelBackend> = Arc::new(GoldBackend::new(&[instance(RUN)]).unwrap());
    let config = EvalConfig { grading: Some(srl_sandbox::grading::GradingRule::SweSmith), ..cfg(Mode::Oracle) };
    // 2 MB of output before the statuses: the gold patch still resolves.
    let flood = "python3 -c \"print('x' * 2_000_000)\"; python3 run_tests.py";
    let r = run(gold.clone(), &config, flood).await;
    assert!(r.resolved, "{r:#?}");
    // A test command that prints nothing (a conftest calling os._exit(0)): not resolved.
    let r = run(gold, &config, "true").await;
    assert!(!r.resolved, "{r:#?}");
    assert_eq!(r.tests_status.unwrap().fail_to_pass.failure, ["tests/test_calc.py::test_add"]);
}
