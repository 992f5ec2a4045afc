//! The Agentless-mini evaluation pipeline (facebookresearch/swe-rl `agentless_mini`, docs/method.md
//! §10–12) on top of `srl-sandbox`, one task container per instance:
//!
//! 1. start the task's container and check out its state (`srl_sandbox::start_task`);
//! 2. context files: **oracle** = the `.py` files the gold fix touches, read from the container;
//!    **e2e** = the repository's `.py` files (`git ls-files`, test entries dropped) go into the
//!    localization prompt and the existing paths of the answer are read;
//! 3. repair prompt → backend → SEARCH/REPLACE edits (`search_replace`) → syntax check of every
//!    edited file **inside the container** with CPython's `ast.parse` (what upstream's
//!    `check_syntax` calls) → patch (`patch`); with `samples > 1`, majority vote (`rerank`);
//! 4. apply the patch with the SWE-bench fallbacks (`git apply --verbose`, `--reject`,
//!    `patch --batch --fuzz=5 -p1`, tree reset between tries: `srl_sandbox::grading`);
//! 5. run the instance's eval script as its harness does (`srl_sandbox::grading::run_tests`:
//!    test files and test config put back first, SWE-bench's test-patch apply, per-repo test
//!    command and log parser, validity checks) with a timeout (SWE-bench's 1,800 s), and grade
//!    with the harness's rule (docs/swe-bench.md);
//! 6. remove the container, whatever happened.
//!
//! Ctrl-C: instances in flight are not results (nothing is written for them once the sandbox's
//! shutdown has started) and a re-run evaluates them. Backend failures after retries are
//! written as `retryable` and evaluated again by the next run.
//!
//! Every failure of one instance (missing image, no edits, broken syntax, patch that does not
//! apply, hanging tests) becomes a recorded [`InstanceResult`]; only output-file errors stop a
//! run. `workers` instances run at once (a bounded pool on tokio); backend calls run on the
//! blocking pool.

use crate::backend::{ChatRequest, ModelBackend, Purpose};
use crate::error::{EvalError, Result};
use crate::localize::{parse_localization, render_tree, LocalizationSettings, Tree};
use crate::outputs::{InstanceResult, Outcome, OutputDir, RunInfo, SampleResult, TestsStatus, Timings};
use crate::patch::{finalize, EmptyPatchReason};
use crate::prompts::{
    approx_tokens, file_context_counted, localization_prompt, repair_prompt, SourceFile, DEFAULT_MAX_INPUT_TOKENS,
};
use crate::rerank::{majority_vote, patch_key};
use crate::search_replace::{apply_answer, solution_part, EditedFile};
use crate::unidiff;
use serde::{Deserialize, Serialize};
use srl_core::{Message, Role, TaskInstance};
use srl_sandbox::grading::{apply_patch, default_rule, run_tests, GradingRule, DEFAULT_TEST_TIMEOUT_SECS};
use srl_sandbox::{shell_quote, ExecRequest, Sandbox, SandboxConfig, TaskEnv};
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Oracle files or end-to-end localization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The files the gold fix touches go into the repair prompt.
    Oracle,
    /// The model localizes files from the repository tree first.
    E2e,
}

impl Mode {
    /// `oracle` / `e2e`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Oracle => "oracle",
            Mode::E2e => "e2e",
        }
    }
}

/// Settings of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EvalConfig {
    /// Oracle or end-to-end.
    pub mode: Mode,
    /// Repair samples per instance (majority vote when > 1).
    pub samples: usize,
    /// Sampling temperature (0 = greedy).
    pub temperature: f64,
    /// Maximum new tokens per call (upstream `--max_tokens` 4096).
    pub max_tokens: u32,
    /// Context cap for the repair prompt (upstream `--max_input_tokens` 60000).
    pub max_input_tokens: usize,
    /// Upstream `THINKING=yes`: localization answers are read from their `<solution>` part;
    /// repair patches are built from the whole generation, as upstream `post_process_repair`
    /// does (an edit block inside `<think>` is applied too; docs/swe-bench.md).
    pub thinking: bool,
    /// Test command timeout, seconds.
    pub test_timeout_s: u64,
    /// Parallel instances (containers).
    pub workers: usize,
    /// Grading convention; `None`: the instance's own harness rule (SWE-bench or SWE-smith).
    pub grading: Option<GradingRule>,
    /// Evaluate again the instances an earlier run recorded as `error`.
    #[serde(default)]
    pub retry_errors: bool,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            mode: Mode::Oracle,
            samples: 1,
            temperature: 0.0,
            max_tokens: 4096,
            max_input_tokens: DEFAULT_MAX_INPUT_TOKENS,
            thinking: false,
            test_timeout_s: DEFAULT_TEST_TIMEOUT_SECS,
            workers: 1,
            grading: None,
            retry_errors: false,
        }
    }
}

/// Where task containers come from (a seam: Docker in production, `FakeSandbox` in tests).
pub trait EnvProvider: Send + Sync + 'static {
    /// The sandbox type.
    type Sandbox: Sandbox + 'static;
    /// Starts the task's environment with `/testbed` at the task state.
    fn start(
        &self,
        instance: &TaskInstance,
    ) -> impl Future<Output = srl_sandbox::Result<TaskEnv<Self::Sandbox>>> + Send;
}

/// Task containers from the local Docker engine (`srl_sandbox::start_task`).
#[derive(Debug, Clone, Default)]
pub struct DockerEnvs {
    /// Container limits.
    pub config: SandboxConfig,
}

impl EnvProvider for DockerEnvs {
    type Sandbox = srl_sandbox::DockerSandbox;
    fn start(
        &self,
        instance: &TaskInstance,
    ) -> impl Future<Output = srl_sandbox::Result<TaskEnv<Self::Sandbox>>> + Send {
        srl_sandbox::start_task(instance, &self.config)
    }
}

/// Progress of a run; the binary draws it, libraries only call it.
pub trait Reporter: Send + Sync {
    /// The run starts with `total` instances to evaluate (finished ones excluded).
    fn started(&self, _total: usize) {}
    /// One instance finished.
    fn instance_done(&self, _result: &InstanceResult) {}
}

/// A reporter that does nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReporter;

impl Reporter for NoReporter {}

/// Oracle files: the `.py` files the gold patch touches (Agentless-mini's
/// `diff --git a/(.*\.py) b/` rule).
pub fn oracle_files(instance: &TaskInstance) -> Vec<String> {
    unidiff::touched_files(&instance.patch).into_iter().filter(|p| p.ends_with(".py")).collect()
}

struct Clock {
    start: Instant,
    model: Duration,
    test: Duration,
    phases: BTreeMap<String, f64>,
    mark: Instant,
}

impl Clock {
    fn new() -> Self {
        let now = Instant::now();
        Clock { start: now, model: Duration::ZERO, test: Duration::ZERO, phases: BTreeMap::new(), mark: now }
    }

    /// Ends the current phase under `name`.
    fn phase(&mut self, name: &str) {
        let now = Instant::now();
        *self.phases.entry(name.to_string()).or_insert(0.0) += (now - self.mark).as_secs_f64();
        self.mark = now;
    }

    fn timings(&self) -> Timings {
        let total = self.start.elapsed().as_secs_f64();
        let (model, test) = (self.model.as_secs_f64(), self.test.as_secs_f64());
        Timings {
            total_s: total,
            model_s: model,
            test_s: test,
            harness_s: (total - model - test).max(0.0),
            phases: self.phases.clone(),
        }
    }
}

fn base_result(instance: &TaskInstance, config: &EvalConfig, model: &str) -> InstanceResult {
    InstanceResult {
        version: crate::outputs::RESULT_VERSION,
        instance_id: instance.instance_id.clone(),
        repo: instance.repo.clone(),
        mode: config.mode.as_str().to_string(),
        model_name_or_path: model.to_string(),
        resolved: false,
        outcome: Outcome::Error,
        reason: None,
        model_patch: String::new(),
        context_files: Vec::new(),
        localized_files: None,
        samples: Vec::new(),
        selected_sample: None,
        patch_applied: false,
        apply_method: None,
        tests_status: None,
        test_statuses: BTreeMap::new(),
        tests_pass: false,
        log_valid: false,
        retryable: false,
        tokens: 0,
        timings: Timings::default(),
    }
}

async fn call_backend(
    backend: &Arc<dyn ModelBackend>,
    request: ChatRequest,
    clock: &mut Clock,
) -> Result<crate::Completion> {
    let b = backend.clone();
    let t = Instant::now();
    let res = tokio::task::spawn_blocking(move || b.complete(&request)).await.map_err(|e| EvalError::Backend {
        backend: backend.name().to_string(),
        message: format!("backend task failed: {e}"),
    });
    clock.model += t.elapsed();
    res?
}

async fn read_sources<S: Sandbox>(sandbox: &S, paths: &[String]) -> Vec<SourceFile> {
    let mut out = Vec::new();
    for p in paths {
        match sandbox.read_file(&format!("/testbed/{p}")).await {
            Ok(bytes) => {
                // Upstream shows `"\n".join(content.splitlines())`: CRLF, form feeds and the
                // other line breaks become `\n`, and there is no final newline.
                let raw = String::from_utf8_lossy(&bytes);
                let content = crate::pystr::py_splitlines(&raw).join("\n");
                out.push(SourceFile { path: p.clone(), content })
            }
            Err(e) => tracing::debug!(file = %p, "context file not readable, skipped: {e}"),
        }
    }
    out
}

/// Checks edited files with CPython's `ast.parse` inside the container: the new contents are
/// written under `/testbed/.git/srl-syntax/` (invisible to git), parsed, then removed. Returns
/// the files that do not parse. If the check itself cannot run (no `python3`), files pass and a
/// warning is logged.
async fn syntax_errors<S: Sandbox>(sandbox: &S, files: &[&EditedFile]) -> srl_sandbox::Result<Vec<String>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let dir = ".git/srl-syntax";
    for f in files {
        sandbox.write_file(&format!("/testbed/{dir}/{}", f.path), f.new.as_bytes()).await?;
    }
    let args: Vec<String> = files.iter().map(|f| shell_quote(&format!("{dir}/{}", f.path))).collect();
    let script = format!(
        "python3 - {} <<'SRL_PY'\nimport ast, sys\nfor p in sys.argv[1:]:\n    try:\n        with open(p, encoding='utf-8') as fh:\n            ast.parse(fh.read())\n    except Exception:\n        print('SRL_SYNTAX_ERROR ' + p)\nSRL_PY\nstatus=$?\nrm -rf {dir}\nexit $status",
        args.join(" ")
    );
    let out = sandbox.exec(&ExecRequest::new(script).workdir("/testbed").timeout(Duration::from_secs(60))).await?;
    if !out.success() {
        tracing::warn!(
            exit = out.exit_code,
            "syntax check could not run; treating files as valid: {}",
            out.output.trim()
        );
        return Ok(Vec::new());
    }
    Ok(out
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("SRL_SYNTAX_ERROR "))
        .map(|p| p.strip_prefix(&format!("{dir}/")).unwrap_or(p).to_string())
        .collect())
}

struct Ctx<'a, S> {
    instance: &'a TaskInstance,
    config: &'a EvalConfig,
    backend: &'a Arc<dyn ModelBackend>,
    sandbox: &'a S,
}

impl<S: Sandbox> Ctx<'_, S> {
    fn request(&self, purpose: Purpose, sample: usize, prompt: String, files: Vec<SourceFile>) -> ChatRequest {
        ChatRequest {
            instance_id: self.instance.instance_id.clone(),
            purpose,
            sample,
            messages: vec![Message::new(Role::User, prompt)],
            temperature: self.config.temperature,
            max_tokens: self.config.max_tokens,
            files,
        }
    }

    fn answer_text<'t>(&self, text: &'t str) -> &'t str {
        if self.config.thinking {
            solution_part(text)
        } else {
            text
        }
    }

    /// One repair sample over `files`; returns its record and the edited files (for the vote).
    async fn repair(
        &self,
        sample: usize,
        files: &[SourceFile],
        clock: &mut Clock,
    ) -> Result<(SampleResult, Vec<EditedFile>)> {
        let seed =
            (self.config.samples > 1).then(|| srl_core::rng::seed_for(&self.instance.instance_id, sample as u64));
        let backend = self.backend.clone();
        let count = move |t: &str| backend.count_tokens(t).unwrap_or_else(|| approx_tokens(t));
        let (context, shown) = file_context_counted(files, self.config.max_input_tokens, seed, &count);
        let mut rec = SampleResult { index: sample, files: shown.clone(), ..SampleResult::default() };
        if files.is_empty() {
            rec.empty_reason = Some(EmptyPatchReason::NoFiles);
            return Ok((rec, Vec::new()));
        }
        let shown_files: Vec<SourceFile> = files.iter().filter(|f| shown.contains(&f.path)).cloned().collect();
        let prompt = repair_prompt(&self.instance.problem_statement, &context);
        let completion =
            match call_backend(self.backend, self.request(Purpose::Repair, sample, prompt, shown_files.clone()), clock)
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    // Upstream: an API error gives an empty patch.
                    rec.backend_error = Some(e.to_string());
                    rec.empty_reason = Some(EmptyPatchReason::BackendError);
                    return Ok((rec, Vec::new()));
                }
            };
        rec.prompt_tokens = completion.prompt_tokens;
        rec.completion_tokens = completion.completion_tokens;
        // Upstream's `post_process_repair` builds the patch from the whole generation
        // (`all_generations`), not from the `<solution>` part, even with THINKING on.
        let edits = apply_answer(&completion.text, &shown_files);
        let changed: Vec<&EditedFile> = edits.changed_files().collect();
        let bad = syntax_errors(self.sandbox, &changed).await?;
        let patch = finalize(edits.num_blocks, &edits.files, bad.is_empty())?;
        rec.num_blocks = edits.num_blocks;
        rec.edits = edits.edits;
        rec.syntax_errors = bad;
        rec.empty_reason = patch.empty_reason;
        rec.model_patch = patch.model_patch;
        Ok((rec, edits.files))
    }

    /// E2e: the localized files of one sample.
    async fn localize(
        &self,
        sample: usize,
        tree: &Tree,
        known: &[String],
        clock: &mut Clock,
    ) -> Result<(Vec<String>, u64, bool)> {
        let settings = if self.config.samples > 1 {
            LocalizationSettings::sampled(srl_core::rng::seed_for(
                &self.instance.instance_id,
                1_000_000 + sample as u64,
            ))
        } else {
            LocalizationSettings::GREEDY
        };
        let prompt = localization_prompt(&self.instance.problem_statement, &render_tree(tree, &settings), settings.n);
        match call_backend(self.backend, self.request(Purpose::Localize, sample, prompt, Vec::new()), clock).await {
            Ok(c) => {
                let tokens = c.prompt_tokens.unwrap_or(0) + c.completion_tokens.unwrap_or(0);
                Ok((parse_localization(self.answer_text(&c.text), known), tokens, false))
            }
            Err(e) => {
                tracing::warn!(instance = %self.instance.instance_id, "localization failed: {e}");
                Ok((Vec::new(), 0, true))
            }
        }
    }
}

/// Generates the patch (steps 2–3). Fills `result` with context, samples and the chosen patch.
async fn generate<S: Sandbox>(ctx: &Ctx<'_, S>, result: &mut InstanceResult, clock: &mut Clock) -> Result<()> {
    if let Some(ready) = ctx.backend.ready_patch(&ctx.instance.instance_id) {
        result.model_patch = ready?;
        return Ok(());
    }
    let samples = ctx.config.samples.max(1);
    let mut per_sample_files: Vec<Vec<SourceFile>> = Vec::with_capacity(samples);
    match ctx.config.mode {
        Mode::Oracle => {
            if ctx.instance.patch.trim().is_empty() {
                return Err(EvalError::Config {
                    field: "mode",
                    message: "oracle mode needs the instance's gold `patch`".into(),
                });
            }
            let files = read_sources(ctx.sandbox, &oracle_files(ctx.instance)).await;
            result.context_files = files.iter().map(|f| f.path.clone()).collect();
            per_sample_files.resize(samples, files);
        }
        Mode::E2e => {
            let out = ctx
                .sandbox
                .exec(&ExecRequest::new("git ls-files").workdir("/testbed").timeout(Duration::from_secs(60)))
                .await?;
            if !out.success() {
                return Err(EvalError::SandboxCommand {
                    command: "git ls-files",
                    exit_code: out.exit_code,
                    output: out.output.trim().to_string(),
                });
            }
            let tree = Tree::from_paths(out.stdout.lines(), &ctx.instance.instance_id);
            let known = tree.file_paths();
            let mut all_found: Vec<String> = Vec::new();
            for k in 0..samples {
                let (found, tokens, backend_failed) = ctx.localize(k, &tree, &known, clock).await?;
                result.tokens += tokens;
                result.retryable |= backend_failed;
                for f in &found {
                    if !all_found.contains(f) {
                        all_found.push(f.clone());
                    }
                }
                per_sample_files.push(read_sources(ctx.sandbox, &found).await);
            }
            result.localized_files = Some(all_found.clone());
            result.context_files = all_found;
        }
    }
    let mut keys = Vec::with_capacity(samples);
    for (k, files) in per_sample_files.iter().enumerate() {
        let (rec, edited) = ctx.repair(k, files, clock).await?;
        keys.push(patch_key(&rec.model_patch, &edited));
        result.tokens += rec.prompt_tokens.unwrap_or(0) + rec.completion_tokens.unwrap_or(0);
        result.samples.push(rec);
    }
    // A backend outage is not the model's answer: the instance is evaluated again later.
    result.retryable |= result.samples.iter().any(|s| s.backend_error.is_some());
    let chosen = if samples == 1 { Some(0) } else { majority_vote(&keys) };
    result.selected_sample = Some(chosen.unwrap_or(0));
    result.model_patch = chosen.map(|i| result.samples[i].model_patch.clone()).unwrap_or_default();
    Ok(())
}

/// Applies, tests and grades (steps 4–5).
async fn apply_and_grade<S: Sandbox>(ctx: &Ctx<'_, S>, result: &mut InstanceResult, clock: &mut Clock) -> Result<()> {
    let empty = result.model_patch.trim().is_empty();
    if !empty {
        let applied = apply_patch(ctx.sandbox, &result.model_patch, false).await?;
        result.patch_applied = applied.applied;
        result.apply_method = applied.method;
        if !result.patch_applied {
            tracing::debug!(instance = %ctx.instance.instance_id, "patch did not apply:\n{}", applied.log);
            result.outcome = Outcome::PatchApplyFailed;
            result.reason = Some("patch did not apply with git apply, git apply --reject or patch --fuzz=5".into());
            return Ok(());
        }
    }
    clock.phase("apply");
    let t = Instant::now();
    let run = run_tests(ctx.sandbox, ctx.instance, Duration::from_secs(ctx.config.test_timeout_s)).await?;
    clock.test += t.elapsed();
    clock.phase("test");
    if let Some(problem) = &run.problem {
        result.outcome = Outcome::Error;
        result.reason = Some(format!("grading: {problem}"));
        return Ok(());
    }
    let rule = ctx.config.grading.unwrap_or_else(|| default_rule(ctx.instance));
    let report = run.report(ctx.instance, rule);
    result.log_valid = run.valid;
    result.test_statuses = run.statuses.to_btree();
    result.tests_status =
        Some(TestsStatus { fail_to_pass: report.fail_to_pass.clone(), pass_to_pass: report.pass_to_pass.clone() });
    result.tests_pass = report.resolved && !run.timed_out;
    result.resolved = result.tests_pass && !empty;
    result.outcome = if run.timed_out {
        Outcome::TestTimeout
    } else if result.resolved {
        Outcome::Resolved
    } else {
        Outcome::Unresolved
    };
    if run.timed_out {
        result.reason = Some(format!("tests timed out after {} s", ctx.config.test_timeout_s));
    } else if !run.valid {
        result.reason = Some(
            "the test log is not valid (a harness failure marker, no START/END markers, no results, or an exit status that contradicts them)".into(),
        );
    } else if empty {
        let why = result
            .selected_sample
            .and_then(|i| result.samples.get(i))
            .and_then(|s| s.empty_reason)
            .and_then(|r| serde_json::to_value(r).ok())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "empty prediction".into());
        result.reason = Some(format!("empty_patch: {why}"));
    } else if !result.resolved {
        result.reason = Some(format!(
            "{} of {} FAIL_TO_PASS and {} of {} PASS_TO_PASS tests failed",
            report.fail_to_pass.failure.len(),
            ctx.instance.fail_to_pass.len(),
            report.pass_to_pass.failure.len(),
            ctx.instance.pass_to_pass.len()
        ));
    }
    Ok(())
}

/// Evaluates one instance; never fails: problems become the result's outcome and reason.
pub async fn evaluate_instance<P: EnvProvider>(
    instance: &TaskInstance,
    backend: &Arc<dyn ModelBackend>,
    envs: &P,
    config: &EvalConfig,
) -> InstanceResult {
    let mut clock = Clock::new();
    let mut result = base_result(instance, config, backend.name());
    let started = envs.start(instance).await;
    clock.phase("start");
    let env = match started {
        Ok(env) => env,
        Err(e) => {
            result.reason = Some(format!("sandbox: {e}"));
            result.timings = clock.timings();
            return result;
        }
    };
    let ctx = Ctx { instance, config, backend, sandbox: &env.sandbox };
    let mut run = generate(&ctx, &mut result, &mut clock).await;
    clock.phase("generate");
    if run.is_ok() {
        run = apply_and_grade(&ctx, &mut result, &mut clock).await;
    }
    if let Err(e) = run {
        result.outcome = Outcome::Error;
        result.resolved = false;
        result.reason = Some(format!("{}: {e}", e.kind()));
    }
    if let Err(e) = env.sandbox.remove().await {
        tracing::warn!(instance = %instance.instance_id, "removing the sandbox failed: {e}");
    }
    clock.phase("remove");
    result.timings = clock.timings();
    tracing::info!(instance = %instance.instance_id, outcome = ?result.outcome, reason = ?result.reason, "instance done");
    result
}

/// What [`evaluate`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Instances evaluated now.
    pub evaluated: usize,
    /// Instances skipped because `--out` had them.
    pub resumed: usize,
    /// Wall time.
    pub wall: Duration,
    /// Stopped by Ctrl-C: the instances in flight were not recorded.
    pub interrupted: bool,
}

/// Evaluates `instances` with `workers` in parallel, skipping those already in `out` and
/// writing each result as soon as it finishes.
pub async fn evaluate<P: EnvProvider>(
    instances: Vec<TaskInstance>,
    backend: Arc<dyn ModelBackend>,
    envs: Arc<P>,
    config: &EvalConfig,
    out: &mut OutputDir,
    reporter: &dyn Reporter,
) -> Result<RunSummary> {
    let start = Instant::now();
    let finished = out.finished(config.retry_errors);
    let total = instances.len();
    let todo: VecDeque<TaskInstance> = instances.into_iter().filter(|t| !finished.contains(&t.instance_id)).collect();
    let resumed = total - todo.len();
    if resumed > 0 {
        tracing::info!(resumed, "skipping instances already in the output folder");
    }
    reporter.started(todo.len());
    let evaluated = todo.len();
    let queue = Arc::new(Mutex::new(todo));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<InstanceResult>();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..config.workers.max(1) {
        let (queue, tx, backend, envs, config) =
            (queue.clone(), tx.clone(), backend.clone(), envs.clone(), config.clone());
        workers.spawn(async move {
            loop {
                if srl_sandbox::docker::shutting_down() {
                    break;
                }
                let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                let Some(instance) = next else { break };
                let result = evaluate_instance(&instance, &backend, envs.as_ref(), &config).await;
                if tx.send(result).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let mut interrupted = false;
    while let Some(result) = rx.recv().await {
        // After Ctrl-C the sandbox removes the containers under the instances in flight: what
        // they report then is not a result, and must not be resumed as one.
        if srl_sandbox::docker::shutting_down() {
            interrupted = true;
            tracing::warn!(instance = %result.instance_id, "interrupted: not recording this instance");
            continue;
        }
        reporter.instance_done(&result);
        out.push(result)?;
    }
    interrupted |= srl_sandbox::docker::shutting_down();
    while let Some(joined) = workers.join_next().await {
        joined?;
    }
    Ok(RunSummary { evaluated, resumed, wall: start.elapsed(), interrupted })
}

/// Run facts for `report.json`.
pub fn run_info(config: &EvalConfig, model: &str, summary: &RunSummary, skipped_records: usize) -> RunInfo {
    RunInfo {
        mode: config.mode.as_str().to_string(),
        model: model.to_string(),
        workers: config.workers,
        evaluated_now: summary.evaluated,
        resumed: summary.resumed,
        skipped_records,
        wall_s: summary.wall.as_secs_f64(),
    }
}
