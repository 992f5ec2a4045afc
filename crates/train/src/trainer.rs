//! The GRPO training loop of SRL (arXiv 2510.25992 §4; veRL's `ray_trainer` / DAPO
//! `dapo_ray_trainer` as `docs/training.md` describe them), stage by stage:
//!
//! 1. take B prompt items from the seeded data cursor and ask the stage's
//!    [`RolloutSource`] for G trajectories each (single-turn text rollouts through `srl-model`
//!    scored with the SRL or math reward by default; any source plugs in through
//!    [`train_with_sources`]);
//! 2. dynamic sampling: keep groups whose population reward std exceeds ε; generate again until B
//!    groups are kept or the round limit is hit (then train on what is there, logged);
//! 3. advantages per group; old log-probs recomputed under no-grad before any update (so the
//!    first mini-batch has ratio 1 exactly and later mini-batches/epochs are off-policy-correct);
//! 4. for each PPO epoch and mini-batch: micro-batches with gradient accumulation (token-mean
//!    normalized over the whole mini-batch), optional KL to a frozen reference, grad clip, AdamW,
//!    warmup + constant/cosine schedule;
//! 5. metrics, validation, checkpoints (last K + best), exact resume.
//!
//! `kind = "sft"` stages instead take B step instances per step and minimize the token-level
//! cross-entropy of `<think>` + thought + `</think>` + action (`crate::update::sft_update`), with
//! the same data cursor, checkpoints, resume and validation. See `docs/training.md`.

use crate::checkpoint::{self, Best, TrainerState};
use crate::config::{ResolvedConfig, ResolvedStage, RewardKind, StageKind};
use crate::data::{load_items_with, PromptItem};
use crate::dynamic_sampling::DynamicBatch;
use crate::error::{Result, TrainError};
use crate::math_eval::{evaluate_math, MathEvalOptions, MathProblem};
use crate::metrics::{peak_rss_mib, MetricsLog, Reporter, StepMetrics};
use crate::optimizer::AdamW;
use crate::rng::SplitMix64;
use crate::rollout::{prompt_ids, RolloutGroup, RolloutRequest, RolloutSource, TextRollouts};
use crate::schedule::Schedule;
use crate::srl_eval::{evaluate_srl, SrlEvalOptions};
use crate::update::{grpo_update, sft_update, SftExample, UpdateSettings};
use srl_model::{DType, GenerationConfig, Policy};
use srl_reward::{MathAnswerReward, RewardFn, SrlReward};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How a run starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainOptions {
    /// Continue from the newest checkpoint in the run folder (or this folder when given).
    pub resume: bool,
    /// A specific checkpoint folder to resume from.
    pub resume_from: Option<PathBuf>,
    /// Stop (with a checkpoint) once this many global steps are done.
    pub stop_after: Option<u64>,
}

/// What a finished run reports.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSummary {
    /// Run folder.
    pub run_dir: PathBuf,
    /// Global steps completed.
    pub steps: u64,
    /// Last checkpoint written.
    pub last_checkpoint: Option<PathBuf>,
    /// Best checkpoint by validation.
    pub best: Option<Best>,
    /// Validation scores (step, score).
    pub validations: Vec<(u64, f64)>,
    /// Bad records skipped while loading data.
    pub skipped_records: usize,
}

/// Makes the rollout source of a GRPO stage; `Ok(None)` falls back to the built-in single-turn
/// [`TextRollouts`] over the stage's `data`.
pub type SourceFactory<'a> = &'a dyn Fn(&ResolvedStage) -> Result<Option<Box<dyn RolloutSource>>>;

fn reward_fn(kind: RewardKind) -> Box<dyn RewardFn> {
    match kind {
        RewardKind::Srl => Box::new(SrlReward::default()),
        RewardKind::Math => Box::new(MathAnswerReward::default()),
    }
}

fn device_of(s: &str) -> Result<srl_model::Device> {
    let d: srl_model::Device =
        s.parse().map_err(|e: srl_model::ModelError| TrainError::invalid("model.device", e.to_string()))?;
    d.check_available().map_err(|e| TrainError::invalid("model.device", e.to_string()))?;
    Ok(d)
}

/// Loads the policy named by the config, creating it first with `model.init` (the same code as
/// `srl-swe model init --preset …`) when the folder holds no checkpoint.
pub fn load_policy(cfg: &ResolvedConfig) -> Result<Policy> {
    let m = &cfg.run.model;
    let device = device_of(&m.device)?;
    if !m.path.join("config.json").exists() {
        // Never write into a folder holding files this run did not create (e.g. weights whose
        // config.json went missing): that would destroy them.
        if let Some(existing) = std::fs::read_dir(&m.path).ok().and_then(|mut d| d.next()).and_then(|e| e.ok()) {
            return Err(TrainError::Checkpoint {
                path: m.path.clone(),
                message: format!(
                    "holds {} but no config.json; refusing to initialize a model over existing files",
                    existing.file_name().to_string_lossy()
                ),
            });
        }
        let Some(name) = m.init.as_deref() else {
            return Err(TrainError::Checkpoint {
                path: m.path.clone(),
                message: "no config.json here; run `srl-swe model init --preset tiny --out <dir>` or set model.init = \"toy\"".into(),
            });
        };
        let preset: srl_model::Preset =
            name.parse().map_err(|e: srl_model::ModelError| TrainError::invalid("model.init", e.to_string()))?;
        let corpus = if m.init_corpus.is_empty() {
            srl_model::init::DEFAULT_CORPUS.iter().map(PathBuf::from).filter(|p| p.exists()).collect()
        } else {
            m.init_corpus.clone()
        };
        srl_model::init_checkpoint(&srl_model::InitOptions {
            preset,
            out: m.path.clone(),
            seed: cfg.run.seed,
            dtype: DType::F32,
            corpus,
        })?;
        tracing::info!(path = %m.path.display(), preset = name, "initialized the policy checkpoint");
    }
    Ok(Policy::load(&m.path, device, DType::F32)?)
}

fn stage_steps(stage: &ResolvedStage, n_items: usize, b: usize) -> u64 {
    match (stage.config.steps, stage.config.epochs) {
        (Some(s), _) => s,
        (None, Some(e)) => ((n_items as u64 * e).div_ceil(b as u64)).max(1),
        (None, None) => 1,
    }
}

/// The tokenizer files of the policy's folder, kept in memory so every checkpoint gets them even
/// after retention deleted the folder the policy was loaded from.
fn tokenizer_files(dir: &Path) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let mut out = Vec::new();
    for name in srl_model::qwen2::TOKENIZER_FILES {
        let p = dir.join(name);
        if p.is_file() {
            out.push((*name, std::fs::read(&p).map_err(TrainError::io(&p))?));
        }
    }
    Ok(out)
}

/// The data of one stage.
struct StageData {
    /// Training items (empty when a custom source provides the rollouts).
    train: Vec<PromptItem>,
    /// Steps of the stage.
    steps: u64,
    /// A custom rollout source, if the factory gave one.
    source: Option<Box<dyn RolloutSource>>,
}

/// Runs (or resumes) training as configured; writes the resolved config, metrics, curves and
/// checkpoints into `cfg.run.output_dir`.
pub fn train(cfg: &ResolvedConfig, opts: &TrainOptions, reporter: &dyn Reporter) -> Result<TrainSummary> {
    train_with_sources(cfg, opts, reporter, &|_| Ok(None))
}

/// [`train`] with GRPO stages' rollouts from `sources` (e.g. multi-turn SWE episodes).
pub fn train_with_sources(
    cfg: &ResolvedConfig,
    opts: &TrainOptions,
    reporter: &dyn Reporter,
    sources: SourceFactory<'_>,
) -> Result<TrainSummary> {
    let run = &cfg.run;
    let run_dir = run.output_dir.clone();
    std::fs::create_dir_all(&run_dir).map_err(TrainError::io(&run_dir))?;
    if let Some(t) = run.threads {
        tch::set_num_threads(t as i32);
    }
    let resume_dir = match (&opts.resume_from, opts.resume) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => checkpoint::latest_checkpoint(&run_dir)?,
        (None, false) => None,
    };
    if opts.resume && resume_dir.is_none() {
        tracing::warn!(dir = %run_dir.display(), "--resume: no checkpoint found, starting from step 0");
    }
    let device = device_of(&run.model.device)?;
    let (policy, mut state, moments, policy_dir) = match &resume_dir {
        Some(dir) => {
            let (state, moments) = checkpoint::load(dir)?;
            if state.seed != run.seed {
                return Err(TrainError::Checkpoint {
                    path: dir.clone(),
                    message: format!("was trained with seed {}, config says {}", state.seed, run.seed),
                });
            }
            (Policy::load(dir, device, DType::F32)?, state, Some((dir.clone(), moments)), dir.clone())
        }
        None => (load_policy(cfg)?, TrainerState::new(run.seed), None, run.model.path.clone()),
    };
    let tok_files = tokenizer_files(&policy_dir)?;
    srl_core::io::write_atomic(run_dir.join("config.toml"), cfg.to_toml()?.as_bytes())?;
    let reference = if run.algorithm.kl_coef > 0.0 {
        let path = run.model.reference.clone().unwrap_or_else(|| run.model.path.clone());
        Some(Policy::load(&path, device, DType::F32)?)
    } else {
        None
    };
    let mut opt = AdamW::new(policy.named_parameters(), cfg.stages[0].optimizer.adamw())?;
    if let Some((dir, m)) = &moments {
        opt.load_state(m, state.optimizer_steps, dir)?;
        tracing::info!(dir = %dir.display(), step = state.global_step, "resumed");
    }
    let mut metrics = MetricsLog::open(&run_dir, resume_dir.as_ref().map(|_| state.global_step))?;

    // Data of all stages (sizes fix the step counts up front).
    let mut skipped_records = 0;
    let mut stage_data: Vec<StageData> = Vec::with_capacity(cfg.stages.len());
    let mut stage_val: Vec<Vec<PromptItem>> = Vec::with_capacity(cfg.stages.len());
    for st in &cfg.stages {
        let system = st.config.system_prompt.as_deref().unwrap_or(crate::data::MATH_COT_SYSTEM_PROMPT);
        let source = if st.config.kind == StageKind::Grpo { sources(st)? } else { None };
        let (train, n_items) = match &source {
            Some(s) => (Vec::new(), s.len()),
            None => {
                let l = load_items_with(&st.config.data, st.config.reward, run.skip_bad_records, system)?;
                skipped_records += l.skipped;
                let n = l.items.len();
                (l.items, n)
            }
        };
        let val = match &st.config.val_data {
            Some(p) => {
                let l = load_items_with(p, st.config.reward, run.skip_bad_records, system)?;
                skipped_records += l.skipped;
                l.items
            }
            None => Vec::new(),
        };
        if skipped_records > 0 {
            tracing::warn!(stage = %st.config.name, skipped = skipped_records, "skipped bad records");
        }
        let steps = stage_steps(st, n_items, run.batch.prompts_per_step);
        stage_data.push(StageData { train, steps, source });
        stage_val.push(val);
    }
    let total_steps: u64 = stage_data.iter().map(|d| d.steps).sum();
    reporter.start(state.global_step, total_steps);
    let mut summary = TrainSummary {
        run_dir: run_dir.clone(),
        steps: state.global_step,
        last_checkpoint: resume_dir.clone(),
        best: state.best.clone(),
        validations: Vec::new(),
        skipped_records,
    };
    let prefix = run.rollout.response_prefix.clone();

    let validate = |policy: &Policy, stage: usize| -> Result<Option<f64>> {
        let st = &cfg.stages[stage];
        let val = &stage_val[stage];
        if val.is_empty() {
            return Ok(None);
        }
        let items = &val[..val.len().min(run.validation.max_items.max(1))];
        let score = match st.config.reward {
            RewardKind::Srl => {
                let o = SrlEvalOptions {
                    samples: 1,
                    max_new_tokens: run.rollout.max_new_tokens,
                    batch_size: run.rollout.generation_batch,
                    seed: run.seed,
                    response_prefix: prefix.clone(),
                    ..SrlEvalOptions::default()
                };
                let (_, report) = evaluate_srl(policy, items, &o, &|_| {})?;
                tracing::info!(
                    mean_reward = report.mean_reward,
                    format_error_rate = report.format_error_rate,
                    instances = report.instances,
                    "SRL validation"
                );
                report.mean_reward
            }
            RewardKind::Math => {
                let problems: Vec<MathProblem> = items
                    .iter()
                    .map(|it| MathProblem {
                        id: it.id.clone(),
                        question: it.messages.last().map(|m| m.content.clone()).unwrap_or_default(),
                        answer: it.target.answer.clone().unwrap_or_default(),
                    })
                    .collect();
                let o = MathEvalOptions {
                    k: 0,
                    temperature: 1.0,
                    max_new_tokens: run.rollout.max_new_tokens,
                    batch_size: run.rollout.generation_batch,
                    seed: run.seed,
                    response_prefix: prefix.clone(),
                    system_prompt: st.config.system_prompt.clone(),
                };
                evaluate_math(policy, &problems, &o, &|_| {})?.1.greedy_accuracy
            }
        };
        Ok(Some(score))
    };

    if state.global_step == 0 && run.validation.at_start {
        if let Some(s) = validate(&policy, 0)? {
            tracing::info!(score = s, "validation before training");
            reporter.validation(0, s);
            summary.validations.push((0, s));
        }
    }

    let ckpt = Checkpointing { run_dir: &run_dir, cfg, policy: &policy, tokenizer_files: &tok_files };
    while state.stage_index < cfg.stages.len() {
        let si = state.stage_index;
        let st = &cfg.stages[si];
        let steps = stage_data[si].steps;
        opt.set_config(st.optimizer.adamw());
        let schedule = Schedule {
            lr: st.optimizer.lr,
            warmup_steps: st.schedule.warmup_steps,
            total_steps: steps,
            kind: st.schedule.kind,
            min_lr_ratio: st.schedule.min_lr_ratio,
        };
        let data = &mut stage_data[si];
        let mut stage_run: StageRun<'_> = match (st.config.kind, data.source.as_deref_mut()) {
            (StageKind::Sft, _) => StageRun::Sft(sft_examples(&policy, &data.train, &prefix)?),
            (StageKind::Grpo, Some(src)) => StageRun::Grpo(SourceRef::Borrowed(src)),
            (StageKind::Grpo, None) => StageRun::Grpo(SourceRef::Owned(Box::new(TextRollouts::new(
                data.train.clone(),
                reward_fn(st.config.reward),
                prefix.clone(),
                run.rollout.generation_batch,
                st.config.data.clone(),
            )))),
        };
        while state.stage_step < steps {
            if opts.stop_after.is_some_and(|s| state.global_step >= s) {
                summary.last_checkpoint = Some(ckpt.save(&opt, &state)?);
                summary.steps = state.global_step;
                metrics.write_curves(&run_dir)?;
                reporter.finish();
                return Ok(summary);
            }
            let step = StepContext {
                cfg,
                stage: st,
                policy: &policy,
                reference: reference.as_ref(),
                lr: schedule.lr_at(state.stage_step),
            };
            let mut m = match &mut stage_run {
                StageRun::Sft(examples) => sft_step(&step, examples, &mut opt, &mut state)?,
                StageRun::Grpo(src) => grpo_step(&step, src.get(), &mut opt, &mut state)?,
            };
            state.stage_step += 1;
            state.global_step += 1;
            state.optimizer_steps = opt.step_count();
            m.step = state.global_step;
            m.stage_step = state.stage_step;
            let stage_done = state.stage_step >= steps;
            let last = stage_done && si + 1 == cfg.stages.len();
            reporter.step(&m);
            metrics.push(m)?;
            let every = run.validation.every;
            let mut new_best = false;
            if (every > 0 && state.global_step % every == 0) || stage_done {
                if let Some(s) = validate(&policy, si)? {
                    tracing::info!(step = state.global_step, score = s, "validation");
                    reporter.validation(state.global_step, s);
                    metrics.set_last_val(s)?;
                    summary.validations.push((state.global_step, s));
                    if state.best.as_ref().is_none_or(|b| s > b.score) {
                        state.best = Some(Best { step: state.global_step, score: s });
                        new_best = true;
                    }
                }
            }
            if stage_done {
                state.stage_index += 1;
                state.stage_step = 0;
                state.cursor = Default::default();
            }
            let ck = run.checkpoint.every;
            // A new best is checkpointed at once so that retention can keep it.
            let save_best = new_best && run.checkpoint.keep_best;
            if (ck > 0 && state.global_step % ck == 0) || last || save_best {
                summary.last_checkpoint = Some(ckpt.save(&opt, &state)?);
            }
            if stage_done {
                break;
            }
        }
    }
    summary.steps = state.global_step;
    summary.best = state.best.clone();
    metrics.write_curves(&run_dir)?;
    reporter.finish();
    Ok(summary)
}

/// A GRPO stage's source: the caller's, or the built-in one.
enum SourceRef<'a> {
    Borrowed(&'a mut dyn RolloutSource),
    Owned(Box<dyn RolloutSource>),
}

impl SourceRef<'_> {
    fn get(&mut self) -> &mut dyn RolloutSource {
        match self {
            Self::Borrowed(s) => &mut **s,
            Self::Owned(s) => s.as_mut(),
        }
    }
}

/// What the current stage trains on.
enum StageRun<'a> {
    Sft(Vec<SftExample>),
    Grpo(SourceRef<'a>),
}

/// Writes checkpoints of one run.
struct Checkpointing<'a> {
    run_dir: &'a Path,
    cfg: &'a ResolvedConfig,
    policy: &'a Policy,
    tokenizer_files: &'a [(&'static str, Vec<u8>)],
}

impl Checkpointing<'_> {
    fn save(&self, opt: &AdamW, state: &TrainerState) -> Result<PathBuf> {
        let dir = checkpoint::save(self.run_dir, state, &opt.state_tensors(), |d| {
            self.policy.save(d)?;
            for (name, bytes) in self.tokenizer_files {
                srl_core::io::write_atomic(d.join(name), bytes)?;
            }
            Ok(())
        })?;
        let best = if self.cfg.run.checkpoint.keep_best { state.best.as_ref().map(|b| b.step) } else { None };
        checkpoint::prune(self.run_dir, self.cfg.run.checkpoint.keep_last, best)?;
        tracing::info!(dir = %dir.display(), "checkpoint");
        Ok(dir)
    }
}

/// What one training step works with.
struct StepContext<'a> {
    cfg: &'a ResolvedConfig,
    stage: &'a ResolvedStage,
    policy: &'a Policy,
    reference: Option<&'a Policy>,
    lr: f64,
}

impl StepContext<'_> {
    fn settings(&self) -> UpdateSettings<'_> {
        let run = &self.cfg.run;
        let clip = self.stage.optimizer.grad_clip;
        UpdateSettings {
            algorithm: &run.algorithm,
            batch: &run.batch,
            temperature: run.rollout.temperature,
            logit_chunk: run.batch.logit_chunk as i64,
            grad_clip: if clip > 0.0 { clip } else { f64::INFINITY },
            lr: self.lr,
        }
    }
}

/// The text an SFT stage teaches for an item: `<think>` + the expert's thought + `</think>` + the
/// expert action, without the part of it the response prefix already put in the prompt.
pub fn sft_target_text(item: &PromptItem, prefix: &str) -> String {
    let full = format!(
        "<think>{}</think>{}",
        item.thought.as_deref().unwrap_or(""),
        item.target.expert.as_deref().unwrap_or("")
    );
    match full.strip_prefix(prefix) {
        Some(rest) if !prefix.is_empty() => rest.to_string(),
        _ => full,
    }
}

/// SFT examples of `items`: prompt = chat template + generation prompt + response prefix;
/// target = [`sft_target_text`] + the end-of-turn token.
fn sft_examples(policy: &Policy, items: &[PromptItem], prefix: &str) -> Result<Vec<SftExample>> {
    let stop = policy
        .tokenizer
        .token_to_id("<|im_end|>")
        .or_else(|| policy.tokenizer.eos_token_ids().first().copied())
        .ok_or_else(|| TrainError::invalid("model", "the tokenizer has no end-of-turn token"))?;
    let prefix_in_prompt = if sft_target_text_starts(prefix) { prefix } else { "" };
    items
        .iter()
        .map(|it| {
            let mut target_ids = policy.encode_text(&sft_target_text(it, prefix_in_prompt))?;
            target_ids.push(stop);
            Ok(SftExample { prompt_ids: prompt_ids(policy, &it.messages, prefix_in_prompt)?, target_ids })
        })
        .collect()
}

/// Whether a response prefix is one the SFT target starts with (otherwise it is not used).
fn sft_target_text_starts(prefix: &str) -> bool {
    "<think>".starts_with(prefix)
}

fn sft_step(
    ctx: &StepContext<'_>,
    examples: &[SftExample],
    opt: &mut AdamW,
    state: &mut TrainerState,
) -> Result<StepMetrics> {
    let run = &ctx.cfg.run;
    let idx = state.cursor.take(run.batch.prompts_per_step, examples.len(), run.seed, ctx.stage.index);
    let batch: Vec<SftExample> = idx.iter().map(|&i| examples[i].clone()).collect();
    let t0 = Instant::now();
    let (loss, grad_norm, tokens) = sft_update(ctx.policy, opt, &batch, run.batch.micro_batch_size, &ctx.settings())?;
    let update_s = t0.elapsed().as_secs_f64();
    let lens: Vec<usize> = batch.iter().map(|e| e.target_ids.len()).collect();
    Ok(StepMetrics {
        stage: ctx.stage.config.name.clone(),
        kind: "sft".into(),
        loss,
        grad_norm,
        lr: ctx.lr,
        groups: batch.len(),
        response_length: lens.iter().sum::<usize>() as f64 / lens.len().max(1) as f64,
        update_s,
        update_tokens_per_s: tokens / update_s.max(1e-9),
        peak_rss_mib: peak_rss_mib(),
        ..Default::default()
    })
}

fn grpo_step(
    ctx: &StepContext<'_>,
    source: &mut dyn RolloutSource,
    opt: &mut AdamW,
    state: &mut TrainerState,
) -> Result<StepMetrics> {
    let run = &ctx.cfg.run;
    let (b, g) = (run.batch.prompts_per_step, run.rollout.group_size);
    let generation = GenerationConfig {
        max_new_tokens: run.rollout.max_new_tokens,
        temperature: run.rollout.temperature,
        top_p: run.rollout.top_p,
        ..GenerationConfig::default()
    };
    let ds = &run.dynamic_sampling;
    let mut batch: DynamicBatch<RolloutGroup> = DynamicBatch::new(b, ds.std_eps, ds.enabled);
    let (mut rollout_s, mut scoring_s, mut gen_tokens) = (0.0f64, 0.0f64, 0usize);
    let (mut all_rewards, mut format_errors) = (Vec::new(), 0usize);
    let mut sample = String::new();
    while !batch.is_full() && batch.rounds() < ds.max_rounds {
        batch.start_round();
        let idx = state.cursor.take(b, source.len(), run.seed, ctx.stage.index);
        let seed = SplitMix64::derive(run.seed, &[state.global_step, batch.rounds() as u64]).next_u64();
        let req = RolloutRequest { items: &idx, group_size: g, generation: &generation, seed };
        let out = source.sample(ctx.policy, &req)?;
        rollout_s += out.generate_s;
        scoring_s += out.score_s;
        gen_tokens += out.generated_tokens;
        for group in out.groups {
            if sample.is_empty() {
                if let Some(t) = group.trajectories.first() {
                    sample = t.text.clone();
                }
            }
            let rewards = group.rewards();
            format_errors += group.trajectories.iter().filter(|t| !t.format_ok).count();
            all_rewards.extend_from_slice(&rewards);
            batch.offer(&rewards, group);
        }
    }
    let (groups, fstats) = batch.finish(ds.max_rounds);
    if fstats.hit_round_limit {
        tracing::warn!(
            kept = groups.len(),
            wanted = b,
            rounds = fstats.rounds,
            "round limit hit; training on a partial batch"
        );
    }
    let t2 = Instant::now();
    let stats = grpo_update(ctx.policy, ctx.reference, opt, &groups, &ctx.settings())?;
    let update_s = t2.elapsed().as_secs_f64();
    let n = all_rewards.len().max(1) as f64;
    let mean = all_rewards.iter().sum::<f64>() / n;
    let std = (all_rewards.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n).sqrt();
    let resp: Vec<usize> = groups.iter().flat_map(|gr| gr.trajectories.iter().map(|t| t.response_ids.len())).collect();
    let u = stats.updates.max(1) as f64;
    Ok(StepMetrics {
        step: 0,
        stage: ctx.stage.config.name.clone(),
        kind: "grpo".into(),
        stage_step: 0,
        reward_mean: mean,
        reward_std: std,
        format_error_rate: format_errors as f64 / n,
        filter_rate: fstats.filter_rate,
        gen_rounds: fstats.rounds,
        groups: groups.len(),
        hit_round_limit: fstats.hit_round_limit,
        loss: stats.loss / u,
        clip_frac: stats.clip_frac / u,
        clip_frac_lower: stats.clip_frac_lower / u,
        approx_kl: stats.approx_kl / u,
        kl: stats.kl / u,
        entropy: stats.entropy / u,
        grad_norm: stats.grad_norm,
        lr: ctx.lr,
        response_length: if resp.is_empty() { 0.0 } else { resp.iter().sum::<usize>() as f64 / resp.len() as f64 },
        rollout_s,
        scoring_s,
        update_s,
        rollout_tokens_per_s: gen_tokens as f64 / rollout_s.max(1e-9),
        update_tokens_per_s: stats.tokens / update_s.max(1e-9),
        peak_rss_mib: peak_rss_mib(),
        sample,
        val_score: None,
    })
}
