//! The GRPO training loop of SRL (arXiv 2510.25992 §4; veRL's `ray_trainer` / DAPO
//! `dapo_ray_trainer` as `reference/method.md` §7–9 describe them), stage by stage:
//!
//! 1. take B prompts from the seeded data cursor, generate G rollouts each, score them (SRL or
//!    math reward);
//! 2. dynamic sampling: keep groups whose population reward std exceeds ε; generate again until B
//!    groups are kept or the round limit is hit (then train on what is there, logged);
//! 3. advantages per group; old log-probs recomputed under no-grad before any update (so the
//!    first mini-batch has ratio 1 exactly and later mini-batches/epochs are off-policy-correct);
//! 4. for each PPO epoch and mini-batch: micro-batches with gradient accumulation (token-mean
//!    normalized over the whole mini-batch), optional KL to a frozen reference, grad clip, AdamW,
//!    warmup + constant/cosine schedule;
//! 5. metrics, validation, checkpoints (last K + best), exact resume.

use crate::checkpoint::{self, Best, TrainerState};
use crate::config::{ResolvedConfig, ResolvedStage, RewardKind};
use crate::data::{load_items_with, PromptItem};
use crate::dynamic_sampling::DynamicBatch;
use crate::error::{Result, TrainError};
use crate::grpo::{agg_loss, group_advantages, kl_penalty, policy_loss, LossNorm};
use crate::math_eval::{evaluate_math, MathEvalOptions, MathProblem};
use crate::metrics::{peak_rss_mib, MetricsLog, Reporter, StepMetrics};
use crate::optimizer::AdamW;
use crate::policy::{Policy, SamplingParams};
use crate::rng::SplitMix64;
use crate::schedule::Schedule;
use srl_reward::{MathAnswerReward, RewardFn, SrlReward};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{Kind, Tensor};

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

/// One scored rollout kept for training.
struct Rollout {
    prompt: std::rc::Rc<Vec<i64>>,
    response: Vec<i64>,
    reward: f64,
}

struct Group {
    rollouts: Vec<Rollout>,
}

/// Everything a step reports besides timings.
#[derive(Default)]
struct UpdateStats {
    loss: f64,
    clip_frac: f64,
    clip_frac_lower: f64,
    approx_kl: f64,
    kl: f64,
    entropy: f64,
    grad_norm: f64,
    tokens: f64,
    updates: usize,
}

fn reward_fn(kind: RewardKind) -> Box<dyn RewardFn> {
    match kind {
        RewardKind::Srl => Box::new(SrlReward::default()),
        RewardKind::Math => Box::new(MathAnswerReward::default()),
    }
}

fn device_of(s: &str) -> Result<srl_model::Device> {
    let d = match s {
        "cpu" => srl_model::Device::Cpu,
        "cuda" => srl_model::Device::Cuda(0),
        _ if tch::Cuda::is_available() => srl_model::Device::Cuda(0),
        _ => srl_model::Device::Cpu,
    };
    d.check_available().map_err(|e| TrainError::invalid("model.device", e.to_string()))?;
    Ok(d)
}

/// Loads or creates the policy named by the config.
pub fn load_policy(cfg: &ResolvedConfig) -> Result<Policy> {
    let m = &cfg.run.model;
    let device = device_of(&m.device)?;
    if m.path.join("config.json").exists() {
        return Policy::load(&m.path, device);
    }
    match m.init.as_deref() {
        Some("toy") => {
            let codec = match &m.vocab {
                Some(v) => crate::codec::ToyCodec::load(v)?,
                None => crate::codec::ToyCodec::new(crate::codec::ToyVocab::default())?,
            };
            let p = Policy::init_toy(codec, device, cfg.run.seed)?;
            p.save(&m.path)?;
            tracing::info!(path = %m.path.display(), "initialized a tiny toy-vocabulary Qwen2 policy");
            Ok(p)
        }
        Some(other) => Err(TrainError::invalid("model.init", format!("unknown initializer `{other}` (known: toy)"))),
        None => Err(TrainError::Checkpoint {
            path: m.path.clone(),
            message: "no config.json here; set model.init = \"toy\" to create a tiny model".into(),
        }),
    }
}

fn stage_steps(stage: &ResolvedStage, n_items: usize, b: usize) -> u64 {
    match (stage.config.steps, stage.config.epochs) {
        (Some(s), _) => s,
        (None, Some(e)) => ((n_items as u64 * e).div_ceil(b as u64)).max(1),
        (None, None) => 1,
    }
}

fn pad_rows(rows: &[&[f32]], width: usize, dev: tch::Device) -> Result<Tensor> {
    let mut flat = Vec::with_capacity(rows.len() * width);
    for r in rows {
        flat.extend_from_slice(r);
        flat.extend(std::iter::repeat_n(0.0f32, width - r.len()));
    }
    Ok(Tensor::from_slice(&flat).f_view([rows.len() as i64, width as i64])?.f_to_device(dev)?)
}

/// Mean reward of greedy responses on held-out SRL items.
pub fn validate_srl(
    policy: &Policy,
    items: &[PromptItem],
    prefix: &str,
    max_new_tokens: usize,
    batch: usize,
) -> Result<f64> {
    if items.is_empty() {
        return Ok(0.0);
    }
    let reward = SrlReward::default();
    let p = SamplingParams { temperature: 1.0, top_p: 1.0, max_new_tokens, greedy: true };
    let mut total = 0.0;
    for chunk in items.chunks(batch.max(1)) {
        let prompts = chunk.iter().map(|it| prompt_ids(policy, it, prefix)).collect::<Result<Vec<_>>>()?;
        let outs = policy.generate(&prompts, &p, 0)?;
        for (it, o) in chunk.iter().zip(outs) {
            total += reward
                .score(&format!("{prefix}{}", o.text), &it.target)
                .map_err(|e| TrainError::Model { message: e.to_string() })?
                .reward;
        }
    }
    Ok(total / items.len() as f64)
}

fn prompt_ids(policy: &Policy, item: &PromptItem, prefix: &str) -> Result<Vec<i64>> {
    let mut ids = policy.codec().encode_chat(&item.messages)?;
    if !prefix.is_empty() {
        ids.extend(policy.codec().encode_text(prefix)?);
    }
    Ok(ids)
}

/// Runs (or resumes) training as configured; writes the resolved config, metrics, curves and
/// checkpoints into `cfg.run.output_dir`.
pub fn train(cfg: &ResolvedConfig, opts: &TrainOptions, reporter: &dyn Reporter) -> Result<TrainSummary> {
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
    let (policy, mut state, moments) = match &resume_dir {
        Some(dir) => {
            let (state, moments) = checkpoint::load(dir)?;
            if state.seed != run.seed {
                return Err(TrainError::Checkpoint {
                    path: dir.clone(),
                    message: format!("was trained with seed {}, config says {}", state.seed, run.seed),
                });
            }
            (Policy::load(dir, device_of(&run.model.device)?)?, state, Some((dir.clone(), moments)))
        }
        None => (load_policy(cfg)?, TrainerState::new(run.seed), None),
    };
    srl_core::io::write_atomic(run_dir.join("config.toml"), cfg.to_toml()?.as_bytes())?;
    let reference = if run.algorithm.kl_coef > 0.0 {
        let path = run.model.reference.clone().unwrap_or_else(|| run.model.path.clone());
        Some(Policy::load(&path, device_of(&run.model.device)?)?)
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
    let mut stage_data = Vec::with_capacity(cfg.stages.len());
    for st in &cfg.stages {
        let system = st.config.system_prompt.as_deref().unwrap_or(crate::data::MATH_SYSTEM_PROMPT);
        let train = load_items_with(&st.config.data, st.config.reward, run.skip_bad_records, system)?;
        let val = match &st.config.val_data {
            Some(p) => load_items_with(p, st.config.reward, run.skip_bad_records, system)?,
            None => crate::data::Loaded { items: Vec::new(), skipped: 0 },
        };
        skipped_records += train.skipped + val.skipped;
        if train.skipped + val.skipped > 0 {
            tracing::warn!(stage = %st.config.name, skipped = train.skipped + val.skipped, "skipped bad records");
        }
        let steps = stage_steps(st, train.items.len(), run.batch.prompts_per_step);
        stage_data.push((train.items, val.items, steps));
    }
    let total_steps: u64 = stage_data.iter().map(|d| d.2).sum();
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
        let val = &stage_data[stage].1;
        if val.is_empty() {
            return Ok(None);
        }
        let items = &val[..val.len().min(run.validation.max_items.max(1))];
        let score = match st.config.reward {
            RewardKind::Srl => {
                validate_srl(policy, items, &prefix, run.rollout.max_new_tokens, run.rollout.generation_batch)?
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

    while state.stage_index < cfg.stages.len() {
        let si = state.stage_index;
        let st = &cfg.stages[si];
        let (items, _, steps) = &stage_data[si];
        opt.set_config(st.optimizer.adamw());
        let schedule = Schedule {
            lr: st.optimizer.lr,
            warmup_steps: st.schedule.warmup_steps,
            total_steps: *steps,
            kind: st.schedule.kind,
            min_lr_ratio: st.schedule.min_lr_ratio,
        };
        let reward = reward_fn(st.config.reward);
        while state.stage_step < *steps {
            if opts.stop_after.is_some_and(|s| state.global_step >= s) {
                let dir = save_checkpoint(&run_dir, &policy, &opt, &state, cfg)?;
                summary.last_checkpoint = Some(dir);
                summary.steps = state.global_step;
                metrics.write_curves(&run_dir)?;
                reporter.finish();
                return Ok(summary);
            }
            let lr = schedule.lr_at(state.stage_step);
            let mut m =
                train_step(cfg, st, &policy, reference.as_ref(), &mut opt, &mut state, items, reward.as_ref(), lr)?;
            state.stage_step += 1;
            state.global_step += 1;
            state.optimizer_steps = opt.step_count();
            m.step = state.global_step;
            m.stage_step = state.stage_step;
            let stage_done = state.stage_step >= *steps;
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
                summary.last_checkpoint = Some(save_checkpoint(&run_dir, &policy, &opt, &state, cfg)?);
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

fn save_checkpoint(
    run_dir: &Path,
    policy: &Policy,
    opt: &AdamW,
    state: &TrainerState,
    cfg: &ResolvedConfig,
) -> Result<PathBuf> {
    let dir = checkpoint::save(run_dir, state, &opt.state_tensors(), |d| policy.save(d))?;
    let best = if cfg.run.checkpoint.keep_best { state.best.as_ref().map(|b| b.step) } else { None };
    checkpoint::prune(run_dir, cfg.run.checkpoint.keep_last, best)?;
    tracing::info!(dir = %dir.display(), "checkpoint");
    Ok(dir)
}

#[allow(clippy::too_many_arguments)]
fn train_step(
    cfg: &ResolvedConfig,
    stage: &ResolvedStage,
    policy: &Policy,
    reference: Option<&Policy>,
    opt: &mut AdamW,
    state: &mut TrainerState,
    items: &[PromptItem],
    reward: &dyn RewardFn,
    lr: f64,
) -> Result<StepMetrics> {
    let run = &cfg.run;
    let (b, g) = (run.batch.prompts_per_step, run.rollout.group_size);
    let prefix = &run.rollout.response_prefix;
    let sampling = SamplingParams {
        temperature: run.rollout.temperature,
        top_p: run.rollout.top_p,
        max_new_tokens: run.rollout.max_new_tokens,
        greedy: false,
    };
    let ds = &run.dynamic_sampling;
    let mut batch: DynamicBatch<Group> = DynamicBatch::new(b, ds.std_eps, ds.enabled);
    let (mut rollout_s, mut scoring_s, mut gen_tokens) = (0.0f64, 0.0f64, 0usize);
    let (mut all_rewards, mut format_errors) = (Vec::new(), 0usize);
    let mut sample = String::new();
    while !batch.is_full() && batch.rounds() < ds.max_rounds {
        batch.start_round();
        let idx = state.cursor.take(b, items.len(), run.seed, stage.index);
        let prompts: Vec<std::rc::Rc<Vec<i64>>> =
            idx.iter().map(|&i| prompt_ids(policy, &items[i], prefix).map(std::rc::Rc::new)).collect::<Result<_>>()?;
        let expanded: Vec<Vec<i64>> = prompts.iter().flat_map(|p| std::iter::repeat_n(p.as_ref().clone(), g)).collect();
        let t0 = Instant::now();
        let mut outs = Vec::with_capacity(expanded.len());
        for (c, chunk) in expanded.chunks(run.rollout.generation_batch).enumerate() {
            let seed = SplitMix64::derive(run.seed, &[state.global_step, batch.rounds() as u64, c as u64]).next_u64();
            outs.extend(policy.generate(chunk, &sampling, seed)?);
        }
        rollout_s += t0.elapsed().as_secs_f64();
        gen_tokens += outs.iter().map(|o| o.ids.len()).sum::<usize>();
        let t1 = Instant::now();
        for (k, &i) in idx.iter().enumerate() {
            let group = &outs[k * g..(k + 1) * g];
            let texts: Vec<String> = group.iter().map(|o| format!("{prefix}{}", o.text)).collect();
            if sample.is_empty() {
                sample = format!("{}{}", texts[0], if group[0].finished { "<stop>" } else { "" });
            }
            let scored = reward.score_group(&texts, &items[i].target).map_err(|e| TrainError::Data {
                path: stage.config.data.clone(),
                line: 0,
                field: items[i].id.clone(),
                message: e.to_string(),
            })?;
            let rewards: Vec<f64> = scored.iter().map(|s| s.reward).collect();
            format_errors += scored.iter().filter(|s| !s.format_ok).count();
            all_rewards.extend_from_slice(&rewards);
            let rollouts = group
                .iter()
                .zip(&rewards)
                .map(|(o, &r)| Rollout { prompt: prompts[k].clone(), response: o.ids.clone(), reward: r })
                .collect();
            batch.offer(&rewards, Group { rollouts });
        }
        scoring_s += t1.elapsed().as_secs_f64();
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
    let clip = if stage.optimizer.grad_clip > 0.0 { stage.optimizer.grad_clip } else { f64::INFINITY };
    let stats = update(cfg, policy, reference, opt, &groups, lr, clip)?;
    let update_s = t2.elapsed().as_secs_f64();
    let n = all_rewards.len().max(1) as f64;
    let mean = all_rewards.iter().sum::<f64>() / n;
    let std = (all_rewards.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n).sqrt();
    let resp: Vec<usize> = groups.iter().flat_map(|gr| gr.rollouts.iter().map(|r| r.response.len())).collect();
    let u = stats.updates.max(1) as f64;
    Ok(StepMetrics {
        step: 0,
        stage: stage.config.name.clone(),
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
        lr,
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

/// Old log-probs, advantages, then the PPO epochs over mini- and micro-batches.
#[allow(clippy::too_many_arguments)]
fn update(
    cfg: &ResolvedConfig,
    policy: &Policy,
    reference: Option<&Policy>,
    opt: &mut AdamW,
    groups: &[Group],
    lr: f64,
    clip: f64,
) -> Result<UpdateStats> {
    let run = &cfg.run;
    let mut stats = UpdateStats::default();
    if groups.is_empty() {
        tracing::warn!("no informative groups this step; no update");
        return Ok(stats);
    }
    let g = run.rollout.group_size;
    let temp = run.rollout.temperature;
    let rollouts: Vec<&Rollout> = groups.iter().flat_map(|gr| gr.rollouts.iter()).collect();
    let rewards = Tensor::from_slice(&rollouts.iter().map(|r| r.reward).collect::<Vec<f64>>());
    let a = &run.algorithm;
    let adv: Vec<f64> =
        Vec::<f64>::try_from(&group_advantages(&rewards, g, a.adv_norm, a.adv_eps, a.adv_std_unbiased)?)?;
    let mbs = run.batch.micro_batch_size;
    let logprob_rows = |p: &Policy| -> Result<Vec<Vec<f32>>> {
        let _guard = tch::no_grad_guard();
        let mut rows = Vec::with_capacity(rollouts.len());
        for chunk in rollouts.chunks(mbs) {
            let pr: Vec<&[i64]> = chunk.iter().map(|r| r.prompt.as_slice()).collect();
            let rs: Vec<&[i64]> = chunk.iter().map(|r| r.response.as_slice()).collect();
            let lp = p.logprobs(&pr, &rs, temp, false)?;
            let m =
                Vec::<f32>::try_from(lp.logp.f_to_kind(Kind::Float)?.f_to_device(tch::Device::Cpu)?.f_flatten(0, -1)?)?;
            let w = lp.logp.size()[1] as usize;
            for (i, r) in chunk.iter().enumerate() {
                rows.push(m[i * w..i * w + r.response.len()].to_vec());
            }
        }
        Ok(rows)
    };
    let old = logprob_rows(policy)?;
    let refp = match reference {
        Some(r) => Some(logprob_rows(r)?),
        None => None,
    };
    let loss_cfg = a.policy_loss();
    let n_mini = run.batch.mini_batches.min(groups.len()).max(1);
    let groups_per_mini = groups.len().div_ceil(n_mini);
    let dev = policy.model().device().to_tch();
    for _epoch in 0..run.batch.ppo_epochs {
        for mini_start in (0..groups.len()).step_by(groups_per_mini) {
            let lo = mini_start * g;
            let hi = ((mini_start + groups_per_mini) * g).min(rollouts.len());
            let mini = lo..hi;
            let tokens: usize = rollouts[mini.clone()].iter().map(|r| r.response.len()).sum();
            let max_len = rollouts[mini.clone()].iter().map(|r| r.response.len()).max().unwrap_or(1);
            let norm = LossNorm::Global { tokens: tokens as f64, seqs: (hi - lo) as f64, max_len: max_len as f64 };
            opt.zero_grad()?;
            let (mut loss_v, mut ent, mut ent_tok) = (0.0, 0.0, 0.0);
            let (mut cf, mut cfl, mut akl, mut klv) = (0.0, 0.0, 0.0, 0.0);
            let mut micro = lo;
            while micro < hi {
                let end = (micro + mbs).min(hi);
                let chunk = &rollouts[micro..end];
                let pr: Vec<&[i64]> = chunk.iter().map(|r| r.prompt.as_slice()).collect();
                let rs: Vec<&[i64]> = chunk.iter().map(|r| r.response.as_slice()).collect();
                let lp = policy.logprobs(&pr, &rs, temp, true)?;
                let w = lp.logp.size()[1] as usize;
                let old_rows: Vec<&[f32]> = old[micro..end].iter().map(|v| v.as_slice()).collect();
                let old_t = pad_rows(&old_rows, w, dev)?;
                let adv_t = Tensor::from_slice(&adv[micro..end].iter().map(|&x| x as f32).collect::<Vec<f32>>())
                    .f_to_device(dev)?;
                let pl = policy_loss(&lp.logp, &old_t, &adv_t, &lp.mask, &loss_cfg, norm)?;
                let mut loss = pl.loss;
                if let (Some(refp), Some(_)) = (&refp, reference) {
                    let rows: Vec<&[f32]> = refp[micro..end].iter().map(|v| v.as_slice()).collect();
                    let ref_t = pad_rows(&rows, w, dev)?;
                    let kl = agg_loss(&kl_penalty(&lp.logp, &ref_t, a.kl_estimator)?, &lp.mask, a.loss_agg, norm)?;
                    klv += kl.f_double_value(&[])?;
                    loss = loss.f_add(&kl.f_mul_scalar(a.kl_coef)?)?;
                }
                if let Some(e) = &lp.entropy {
                    if a.entropy_coef != 0.0 {
                        let el = agg_loss(e, &lp.mask, a.loss_agg, norm)?;
                        loss = loss.f_sub(&el.f_mul_scalar(a.entropy_coef)?)?;
                    }
                    let tok = lp.mask.f_sum(Kind::Double)?.f_double_value(&[])?;
                    ent += e.f_detach()?.f_mul(&lp.mask)?.f_sum(Kind::Double)?.f_double_value(&[])?;
                    ent_tok += tok;
                }
                let tok = chunk.iter().map(|r| r.response.len()).sum::<usize>() as f64;
                let share = tok / tokens.max(1) as f64;
                cf += pl.clip_frac * share;
                cfl += pl.clip_frac_lower * share;
                akl += pl.approx_kl * share;
                loss_v += loss.f_double_value(&[])?;
                loss.f_backward()?;
                stats.tokens += chunk.iter().map(|r| (r.prompt.len() + r.response.len()) as f64).sum::<f64>();
                micro = end;
            }
            if !loss_v.is_finite() {
                return Err(TrainError::NonFinite { step: opt.step_count(), what: "loss" });
            }
            let gn = opt.clip_grad_norm(clip)?;
            if !gn.is_finite() {
                tracing::warn!("non-finite gradient norm; update skipped");
                opt.zero_grad()?;
                continue;
            }
            opt.step(lr)?;
            stats.updates += 1;
            stats.loss += loss_v;
            stats.clip_frac += cf;
            stats.clip_frac_lower += cfl;
            stats.approx_kl += akl;
            stats.kl += klv;
            stats.entropy += if ent_tok > 0.0 { ent / ent_tok } else { 0.0 };
            stats.grad_norm = gn;
        }
    }
    Ok(stats)
}
