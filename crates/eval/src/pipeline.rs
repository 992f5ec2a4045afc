//! The Agentless-mini evaluation pipeline (facebookresearch/swe-rl `agentless_mini`, method.md
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
//! 5. run FAIL_TO_PASS and PASS_TO_PASS with a timeout, parse the pytest log, grade with the
//!    SWE-bench rule (a test missing from the log fails);
//! 6. remove the container, whatever happened.
//!
//! Every failure of one instance (missing image, no edits, broken syntax, patch that does not
//! apply, hanging tests) becomes a recorded [`InstanceResult`]; only output-file errors stop a
//! run. `workers` instances run at once (a bounded pool on tokio); backend calls run on the
//! blocking pool.

use crate::backend::{ChatRequest, ModelBackend, Purpose};
use crate::error::{EvalError, Result};
use crate::localize::{parse_localization, render_tree, LocalizationSettings, Tree};
use crate::outputs::{InstanceResult, Outcome, OutputDir, RunInfo, SampleResult, SuccessFailure, TestsStatus, Timings};
use crate::patch::{finalize, EmptyPatchReason};
use crate::prompts::{file_context, localization_prompt, repair_prompt, SourceFile, DEFAULT_MAX_INPUT_TOKENS};
use crate::rerank::{majority_vote, patch_key};
use crate::search_replace::{apply_answer, solution_part, EditedFile};
use crate::unidiff;
use serde::{Deserialize, Serialize};
use srl_core::{Message, Role, TaskInstance};
use srl_sandbox::grading::{grade, run_tests, GradingRule};
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
    /// Parse only the `<solution>` part of answers (upstream `THINKING=yes`).
    pub thinking: bool,
    /// Test command timeout, seconds.
    pub test_timeout_s: u64,
    /// Parallel instances (containers).
    pub workers: usize,
    /// Grading convention.
    pub grading: GradingRule,
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
            test_timeout_s: 300,
            workers: 1,
            grading: GradingRule::SweBench,
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
                out.push(SourceFile { path: p.clone(), content: String::from_utf8_lossy(&bytes).into_owned() })
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

/// The SWE-bench / SWE-smith apply commands, tried in order (`GIT_APPLY_CMDS`).
pub const APPLY_COMMANDS: [&str; 3] =
    ["git apply --verbose", "git apply --verbose --reject", "patch --batch --fuzz=5 -p1 -i"];

/// Applies `patch` in `/testbed` with the SWE-bench fallbacks, resetting the work tree
/// (`git checkout -- . && git clean -fdq`) before each retry, in **one** exec (a script like
/// SWE-bench's `eval.sh`) to keep the per-instance overhead low. The patch file lives in
/// `/testbed/.git/` and is named by a path relative to `/testbed`, so the same script works in
/// any sandbox. Returns the command that applied it, or `None`, plus the log of every try.
pub async fn apply_with_fallbacks<S: Sandbox>(
    sandbox: &S,
    patch: &str,
) -> srl_sandbox::Result<(Option<String>, String)> {
    let rel = ".git/srl-swe-eval.patch";
    let mut text = patch.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    sandbox.write_file(&format!("/testbed/{rel}"), text.as_bytes()).await?;
    let mut script = String::from("applied=''\n");
    for (i, cmd) in APPLY_COMMANDS.iter().enumerate() {
        let reset = if i > 0 { "git checkout -q -- . && git clean -fdq; " } else { "" };
        script.push_str(&format!(
            "if [ -z \"$applied\" ]; then {reset}echo '$ {cmd} {rel}'; if {cmd} {rel} 2>&1; then applied={i}; fi; fi\n"
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
    Ok((method, out.output))
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
        let seed = (self.config.samples > 1).then(|| crate::rng::seed_for(&self.instance.instance_id, sample as u64));
        let (context, shown) = file_context(files, self.config.max_input_tokens, seed);
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
        let edits = apply_answer(self.answer_text(&completion.text), &shown_files);
        let changed: Vec<&EditedFile> = edits.changed_files().collect();
        let bad = syntax_errors(self.sandbox, &changed).await.map_err(|e| EvalError::Sandbox(e.to_string()))?;
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
    ) -> Result<(Vec<String>, u64)> {
        let settings = if self.config.samples > 1 {
            LocalizationSettings::sampled(crate::rng::seed_for(&self.instance.instance_id, 1_000_000 + sample as u64))
        } else {
            LocalizationSettings::GREEDY
        };
        let prompt = localization_prompt(&self.instance.problem_statement, &render_tree(tree, &settings), settings.n);
        match call_backend(self.backend, self.request(Purpose::Localize, sample, prompt, Vec::new()), clock).await {
            Ok(c) => {
                let tokens = c.prompt_tokens.unwrap_or(0) + c.completion_tokens.unwrap_or(0);
                Ok((parse_localization(self.answer_text(&c.text), known), tokens))
            }
            Err(e) => {
                tracing::warn!(instance = %self.instance.instance_id, "localization failed: {e}");
                Ok((Vec::new(), 0))
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
                .await
                .map_err(|e| EvalError::Sandbox(e.to_string()))?;
            if !out.success() {
                return Err(EvalError::Sandbox(format!(
                    "git ls-files failed ({}): {}",
                    out.exit_code,
                    out.output.trim()
                )));
            }
            let tree = Tree::from_paths(out.stdout.lines(), &ctx.instance.instance_id);
            let known = tree.file_paths();
            let mut all_found: Vec<String> = Vec::new();
            for k in 0..samples {
                let (found, tokens) = ctx.localize(k, &tree, &known, clock).await?;
                result.tokens += tokens;
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
    let chosen = if samples == 1 { Some(0) } else { majority_vote(&keys) };
    result.selected_sample = Some(chosen.unwrap_or(0));
    result.model_patch = chosen.map(|i| result.samples[i].model_patch.clone()).unwrap_or_default();
    Ok(())
}

/// Applies, tests and grades (steps 4–5).
async fn apply_and_grade<S: Sandbox>(ctx: &Ctx<'_, S>, result: &mut InstanceResult, clock: &mut Clock) -> Result<()> {
    let sb_err = |e: srl_sandbox::SandboxError| EvalError::Sandbox(e.to_string());
    let empty = result.model_patch.trim().is_empty();
    if !empty {
        let (method, log) = apply_with_fallbacks(ctx.sandbox, &result.model_patch).await.map_err(sb_err)?;
        result.patch_applied = method.is_some();
        result.apply_method = method;
        if !result.patch_applied {
            tracing::debug!(instance = %ctx.instance.instance_id, "patch did not apply:\n{log}");
            result.outcome = Outcome::PatchApplyFailed;
            result.reason = Some("patch did not apply with git apply, git apply --reject or patch --fuzz=5".into());
            return Ok(());
        }
    }
    clock.phase("apply");
    let t = Instant::now();
    let run =
        run_tests(ctx.sandbox, ctx.instance, Duration::from_secs(ctx.config.test_timeout_s)).await.map_err(sb_err)?;
    clock.test += t.elapsed();
    clock.phase("test");
    let report = grade(ctx.instance, &run.statuses, ctx.config.grading);
    result.test_statuses = run
        .statuses
        .iter()
        .map(|(k, v)| {
            (k.clone(), serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())
        })
        .collect();
    result.tests_status = Some(TestsStatus {
        fail_to_pass: SuccessFailure {
            success: report.fail_to_pass.success.clone(),
            failure: report.fail_to_pass.failure.clone(),
        },
        pass_to_pass: SuccessFailure {
            success: report.pass_to_pass.success.clone(),
            failure: report.pass_to_pass.failure.clone(),
        },
    });
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
    let finished = out.finished();
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
    while let Some(result) = rx.recv().await {
        reporter.instance_done(&result);
        out.push(result)?;
    }
    while let Some(joined) = workers.join_next().await {
        if let Err(e) = joined {
            return Err(EvalError::Sandbox(format!("worker task failed: {e}")));
        }
    }
    Ok(RunSummary { evaluated, resumed, wall: start.elapsed() })
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
