//! [`SweEpisodes`]: multi-turn SWE agent episodes as GRPO rollouts (RLVR on SWE tasks after
//! SRL, docs/agent.md). For each requested task, G episodes run side by side: each in its own
//! container of the task ([`srl_sandbox::start_task`]), the policy's turns generated in one
//! batch over the episodes still running, the actions executed concurrently with the SWE-agent
//! tools, observations appended as user turns ([`srl_sandbox::episode`]), until the final
//! `submit`, the turn cap, the context cap or the wall-clock cap. The final diff (the submitted
//! one, else the state's, as SWE-agent's autosubmit does) is then graded in a **fresh**
//! container with the task's test files reset ([`srl_sandbox::replay::grade_in_fresh_container`])
//! and becomes the reward (`resolved` or `f2p-fraction`).
//!
//! Containers: at most `max-containers` alive at once (episodes run in waves of that size, and
//! grading runs after the wave's containers are gone); every container is removed on every
//! path, on Ctrl-C ([`srl_sandbox::docker::install_ctrl_c_cleanup`]) and, after a crash, by the
//! start-up clean-up of the next run ([`srl_sandbox::docker::gc`] of orphans, which
//! `srl-swe sandbox gc` also runs).
use crate::conversation::{Conversation, END_OF_TURN};
use crate::metrics::{EpisodeLog, EpisodeRecord, RoundSummary, RECORD_VERSION};
use crate::policy::{AgentPolicy, ModelPolicy, TurnRequest};
use crate::{AgentError, Result};
use futures_util::StreamExt;
use srl_core::TaskInstance;
use srl_model::Policy;
use srl_sandbox::episode::{task_prompt, EpisodeLimits, EpisodeState};
use srl_sandbox::grading::TestReport;
use srl_sandbox::{DockerSandbox, Sandbox, SandboxConfig, SweTools, TaskEnv};
use srl_train::config::{EpisodeReward, SweEpisodeConfig};
use srl_train::rng::SplitMix64;
use srl_train::rollout::{trajectory_seed, RolloutBatch, RolloutGroup, RolloutRequest, RolloutSource, Trajectory};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Settings of a [`SweEpisodes`] source.
#[derive(Debug, Clone)]
pub struct SweEpisodesOptions {
    /// Caps and tool settings (the stage's `rollout` table).
    pub episode: SweEpisodeConfig,
    /// The reward.
    pub reward: EpisodeReward,
    /// Container limits; `run_id` names this run's containers.
    pub sandbox: SandboxConfig,
    /// System prompt (with the tool descriptions).
    pub system_prompt: String,
    /// Sequences per generate call.
    pub generation_batch: usize,
    /// Where `episodes.jsonl` and `episode_rounds.jsonl` go (none: not written).
    pub log_dir: Option<PathBuf>,
}

impl SweEpisodesOptions {
    /// Defaults for `reward`: the stage defaults, the SRL system prompt, no log.
    pub fn new(episode: SweEpisodeConfig, reward: EpisodeReward) -> Self {
        Self {
            episode,
            reward,
            sandbox: SandboxConfig::default(),
            system_prompt: srl_trajectory::prompts::swe_system_prompt(),
            generation_batch: 16,
            log_dir: None,
        }
    }

    /// Containers alive at once.
    pub fn pool(&self) -> usize {
        match self.episode.max_containers {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            n => n,
        }
    }
}

/// One episode's outcome before grading.
struct Driven {
    conversation: Conversation,
    state: EpisodeState,
    patch: String,
    generate_s: f64,
    error: Option<String>,
}

/// The rollout source (see the module docs).
pub struct SweEpisodes {
    instances: Vec<TaskInstance>,
    options: SweEpisodesOptions,
    origin: PathBuf,
    runtime: tokio::runtime::Runtime,
    log: Option<EpisodeLog>,
    rounds: u64,
    /// The records of the last round (for callers that want more than the trajectories).
    pub last_records: Vec<EpisodeRecord>,
}

impl std::fmt::Debug for SweEpisodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SweEpisodes").field("instances", &self.instances.len()).field("origin", &self.origin).finish()
    }
}

impl SweEpisodes {
    /// A source over `instances` (read from `origin`, named in errors). Removes the containers
    /// of crashed runs and arms the Ctrl-C clean-up.
    pub fn new(instances: Vec<TaskInstance>, options: SweEpisodesOptions, origin: PathBuf) -> Result<Self> {
        if instances.is_empty() {
            return Err(AgentError::NoInstances { path: origin, filter: options.episode.instances.clone() });
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(AgentError::Runtime)?;
        runtime.block_on(async {
            srl_sandbox::docker::install_ctrl_c_cleanup();
            if let Ok(docker) = srl_sandbox::docker::connect().await {
                match srl_sandbox::docker::gc(&docker, srl_sandbox::docker::GcScope::Orphaned).await {
                    Ok(o) if !o.removed.is_empty() => {
                        tracing::warn!(removed = o.removed.len(), "removed containers of crashed runs")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "start-up clean-up of orphaned containers failed"),
                }
            }
        });
        let log = options.log_dir.clone().map(EpisodeLog::new);
        Ok(Self { instances, options, origin, runtime, log, rounds: 0, last_records: Vec::new() })
    }

    /// The instances (the trainer's items).
    pub fn instances(&self) -> &[TaskInstance] {
        &self.instances
    }

    /// Runs G episodes for each requested item with `agent` writing the turns and `chat`'s
    /// template and tokenizer making the tokens.
    pub fn sample_with(
        &mut self,
        chat: &Policy,
        agent: &dyn AgentPolicy,
        request: &RolloutRequest<'_>,
    ) -> Result<RolloutBatch> {
        let t0 = Instant::now();
        let g = request.group_size;
        let jobs: Vec<(usize, usize, usize)> =
            request.items.iter().enumerate().flat_map(|(slot, &item)| (0..g).map(move |j| (slot, j, item))).collect();
        for &(_, _, item) in &jobs {
            if item >= self.instances.len() {
                return Err(AgentError::NoInstances {
                    path: self.origin.clone(),
                    filter: vec![format!("item {item}")],
                });
            }
        }
        let pool = self.options.pool();
        let mut done: Vec<(Trajectory, EpisodeRecord)> = Vec::with_capacity(jobs.len());
        let mut times = (0.0, 0.0, 0.0);
        for (w, wave) in jobs.chunks(pool).enumerate() {
            let out = self.run_wave(chat, agent, request, wave, w * pool, &mut times)?;
            done.extend(out);
        }
        let round = self.rounds;
        self.rounds += 1;
        let records: Vec<EpisodeRecord> = done.iter().map(|(_, r)| r.clone()).collect();
        let summary = RoundSummary::of(round, &records, (times.0, times.1, times.2, t0.elapsed().as_secs_f64()), pool);
        tracing::info!(
            round,
            episodes = summary.episodes,
            turns_per_episode = format!("{:.2}", summary.turns_per_episode),
            resolve_rate = format!("{:.3}", summary.resolve_rate),
            generate_s = format!("{:.1}", summary.generate_s),
            env_s = format!("{:.1}", summary.env_s),
            grade_s = format!("{:.1}", summary.grade_s),
            "swe episodes"
        );
        if let Some(log) = &self.log {
            log.append(&records, &summary)?;
        }
        self.last_records = records;
        let generated_tokens = done.iter().map(|(t, _)| t.trained_tokens()).sum();
        let mut groups: Vec<RolloutGroup> =
            request.items.iter().map(|&item| RolloutGroup { item, trajectories: Vec::with_capacity(g) }).collect();
        for (t, r) in done {
            groups[r.slot].trajectories.push(t);
        }
        Ok(RolloutBatch { groups, generated_tokens, generate_s: times.0, score_s: times.1 + times.2 })
    }

    /// One wave: start its containers, drive the episodes, remove the containers, grade.
    fn run_wave(
        &self,
        chat: &Policy,
        agent: &dyn AgentPolicy,
        request: &RolloutRequest<'_>,
        wave: &[(usize, usize, usize)],
        first_episode: usize,
        times: &mut (f64, f64, f64),
    ) -> Result<Vec<(Trajectory, EpisodeRecord)>> {
        let cfg = &self.options.sandbox;
        let t_env = Instant::now();
        let started = self.runtime.block_on(futures_util::future::join_all(
            wave.iter().map(|&(_, _, item)| srl_sandbox::start_task(&self.instances[item], cfg)),
        ));
        let mut envs = Vec::with_capacity(wave.len());
        let mut failed = None;
        for r in started {
            match r {
                Ok(e) => envs.push(e),
                Err(e) => failed = failed.or(Some(e)),
            }
        }
        times.1 += t_env.elapsed().as_secs_f64();
        if let Some(e) = failed {
            self.remove_all(&envs);
            return Err(e.into());
        }
        let driven = self.drive(chat, agent, request, wave, first_episode, &envs, times);
        let t_rm = Instant::now();
        self.remove_all(&envs);
        times.1 += t_rm.elapsed().as_secs_f64();
        let driven = driven?;
        let t_grade = Instant::now();
        let graded = self.grade(wave, &driven);
        times.2 += t_grade.elapsed().as_secs_f64();
        Ok(wave
            .iter()
            .zip(driven)
            .zip(graded)
            .map(|((&(slot, sample, item), d), grade)| self.finish(slot, sample, item, d, grade))
            .collect())
    }

    fn remove_all(&self, envs: &[TaskEnv<DockerSandbox>]) {
        let removed = self.runtime.block_on(futures_util::future::join_all(envs.iter().map(|e| e.sandbox.remove())));
        for r in removed {
            if let Err(e) = r {
                tracing::warn!(error = %e, "removing an episode container failed (srl-swe sandbox gc removes it)");
            }
        }
    }

    /// Drives the episodes of a wave to their end.
    #[allow(clippy::too_many_arguments)]
    fn drive(
        &self,
        chat: &Policy,
        agent: &dyn AgentPolicy,
        request: &RolloutRequest<'_>,
        wave: &[(usize, usize, usize)],
        first_episode: usize,
        envs: &[TaskEnv<DockerSandbox>],
        times: &mut (f64, f64, f64),
    ) -> Result<Vec<Driven>> {
        let ep = &self.options.episode;
        let limits =
            EpisodeLimits { max_turns: ep.max_turns, wall_clock: Some(Duration::from_secs(ep.max_episode_secs)) };
        let bash_timeout = Duration::from_secs(ep.bash_timeout_secs);
        let mut tools: Vec<SweTools<'_, DockerSandbox>> = envs
            .iter()
            .map(|e| {
                SweTools::new(&e.sandbox, e.base_sha.clone())
                    .with_review(ep.review_submit)
                    .with_bash_timeout(bash_timeout)
            })
            .collect();
        let mut driven = Vec::with_capacity(envs.len());
        for e in envs {
            driven.push(Driven {
                conversation: Conversation::new(chat, &self.options.system_prompt, &task_prompt(&e.instance))?,
                state: EpisodeState::new(limits),
                patch: String::new(),
                generate_s: 0.0,
                error: None,
            });
        }
        let seeds: Vec<u64> = wave.iter().map(|&(slot, j, _)| trajectory_seed(request.seed, slot, j)).collect();
        let mut eot: Vec<u32> = chat.tokenizer.eos_token_ids().to_vec();
        eot.extend(chat.tokenizer.token_to_id(END_OF_TURN));
        let max_ctx = ep.max_context_tokens;
        loop {
            let mut contexts: Vec<(usize, Vec<u32>, usize)> = Vec::new();
            for (i, d) in driven.iter_mut().enumerate() {
                if d.state.done {
                    continue;
                }
                let room = max_ctx.saturating_sub(d.conversation.len()).min(request.generation.max_new_tokens);
                if room == 0 || d.state.out_of_time() {
                    d.state.cut();
                    continue;
                }
                contexts.push((i, d.conversation.context(), room));
            }
            if contexts.is_empty() {
                break;
            }
            let requests: Vec<TurnRequest<'_>> = contexts
                .iter()
                .map(|(i, ctx, room)| TurnRequest {
                    episode: first_episode + i,
                    turn: driven[*i].state.turns,
                    context: ctx,
                    max_new_tokens: *room,
                    seed: SplitMix64::derive(seeds[*i], &[driven[*i].state.turns as u64]).next_u64(),
                })
                .collect();
            let t_gen = Instant::now();
            let outputs = agent.generate(&requests, request.generation)?;
            let gen_s = t_gen.elapsed().as_secs_f64();
            times.0 += gen_s;
            let mut texts: Vec<Option<(String, bool)>> = vec![None; driven.len()];
            for ((i, _, _), ids) in contexts.iter().zip(outputs) {
                let d = &mut driven[*i];
                d.generate_s += gen_s;
                let text = d.conversation.push_turn(chat, &ids)?;
                texts[*i] = Some((text, ids.last().is_some_and(|t| eot.contains(t))));
            }
            let t_env = Instant::now();
            let stepped: Vec<(usize, srl_sandbox::Result<srl_sandbox::episode::StepOutcome>)> =
                self.runtime.block_on(futures_util::future::join_all(
                    tools.iter_mut().zip(driven.iter_mut()).zip(texts.iter()).enumerate().filter_map(
                        |(i, ((t, d), text))| {
                            text.as_ref().map(|(txt, _)| async move { (i, d.state.step(t, txt).await) })
                        },
                    ),
                ));
            times.1 += t_env.elapsed().as_secs_f64();
            for (i, outcome) in stepped {
                let d = &mut driven[i];
                match outcome {
                    Ok(out) if !out.done => {
                        let eot_done = texts[i].as_ref().is_some_and(|(_, e)| *e);
                        d.conversation.push_observation(chat, &out.observation, eot_done)?;
                        if d.conversation.len() >= max_ctx {
                            d.state.cut();
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(instance = %envs[i].instance.instance_id, error = %e, "episode failed in the sandbox");
                        d.error = Some(e.to_string());
                        d.state.cut();
                    }
                }
            }
        }
        if driven.iter().all(|d| d.error.is_some()) {
            let e = driven.iter().find_map(|d| d.error.clone()).unwrap_or_default();
            return Err(AgentError::Sandbox(srl_sandbox::SandboxError::Removed {
                name: format!("every episode: {e}"),
            }));
        }
        // The final diff: the submitted one, else the state's (SWE-agent's autosubmit).
        let t_env = Instant::now();
        let diffs = self.runtime.block_on(futures_util::future::join_all(tools.iter().zip(driven.iter()).map(
            |(t, d)| async move {
                match (&d.state.submission, &d.error) {
                    (Some(p), _) => Ok(p.clone()),
                    (None, Some(_)) => Ok(String::new()),
                    (None, None) => t.submission().await,
                }
            },
        )));
        times.1 += t_env.elapsed().as_secs_f64();
        for (d, diff) in driven.iter_mut().zip(diffs) {
            match diff {
                Ok(p) => d.patch = p,
                Err(e) => d.error = d.error.take().or(Some(format!("final diff: {e}"))),
            }
        }
        Ok(driven)
    }

    /// Grades each distinct (task, diff) once in a fresh container; an empty diff leaves the
    /// task unresolved without a test run.
    fn grade(
        &self,
        wave: &[(usize, usize, usize)],
        driven: &[Driven],
    ) -> Vec<std::result::Result<Option<TestReport>, String>> {
        let mut unique: Vec<(usize, &str)> = Vec::new();
        let mut index: HashMap<(usize, &str), usize> = HashMap::new();
        let keys: Vec<Option<usize>> = wave
            .iter()
            .zip(driven)
            .map(|(&(_, _, item), d)| {
                if d.patch.trim().is_empty() || d.error.is_some() {
                    return None;
                }
                let key = (item, d.patch.as_str());
                Some(*index.entry(key).or_insert_with(|| {
                    unique.push(key);
                    unique.len() - 1
                }))
            })
            .collect();
        let cfg = &self.options.sandbox;
        let reports: Vec<std::result::Result<TestReport, String>> = self.runtime.block_on(
            futures_util::stream::iter(unique.iter().map(|&(item, patch)| async move {
                srl_sandbox::replay::grade_in_fresh_container(&self.instances[item], patch, cfg)
                    .await
                    .map_err(|e| format!("grading: {e}"))
            }))
            .buffered(self.options.pool())
            .collect(),
        );
        keys.into_iter()
            .zip(driven)
            .map(|(k, d)| match (k, &d.error) {
                (_, Some(e)) => Err(e.clone()),
                (None, None) => Ok(None),
                (Some(k), None) => reports[k].clone().map(Some),
            })
            .collect()
    }

    fn finish(
        &self,
        slot: usize,
        sample: usize,
        item: usize,
        d: Driven,
        grade: std::result::Result<Option<TestReport>, String>,
    ) -> (Trajectory, EpisodeRecord) {
        let inst = &self.instances[item];
        let (report, error) = match grade {
            Ok(r) => (r, None),
            Err(e) => (None, Some(e)),
        };
        let f2p_total = inst.fail_to_pass.len();
        let p2p_total = inst.pass_to_pass.len();
        let (f2p, p2p, resolved) = match &report {
            Some(r) => (
                (r.fail_to_pass.success.len(), r.fail_to_pass.success.len() + r.fail_to_pass.failure.len()),
                (r.pass_to_pass.success.len(), r.pass_to_pass.success.len() + r.pass_to_pass.failure.len()),
                r.resolved,
            ),
            None => ((0, f2p_total), (0, p2p_total), false),
        };
        let reward = match self.options.reward {
            EpisodeReward::Resolved => f64::from(u8::from(resolved)),
            EpisodeReward::F2pFraction => match &report {
                Some(r) if r.pass_to_pass.failure.is_empty() => r.fail_to_pass.ratio(),
                _ => 0.0,
            },
        };
        let c = &d.conversation;
        let record = EpisodeRecord {
            kind: "swe_episode".into(),
            version: RECORD_VERSION,
            round: self.rounds,
            slot,
            sample,
            instance_id: inst.instance_id.clone(),
            turns: d.state.turns,
            format_errors: d.state.format_errors,
            submitted: d.state.submission.is_some(),
            truncated: d.state.truncated,
            resolved,
            reward,
            f2p,
            p2p,
            patch_chars: d.patch.len(),
            model_tokens: c.model_tokens(),
            total_tokens: c.len(),
            generate_s: d.generate_s,
            env_s: d.state.env_s,
            error: error.or(d.error),
        };
        let turns: Vec<&str> = c.messages.iter().skip(2).step_by(2).map(|m| m.content.as_str()).collect();
        let mut text = format!("[{} turns={} resolved={resolved}] ", inst.instance_id, d.state.turns);
        text.push_str(&turns.join("\n"));
        if text.len() > 4000 {
            let cut = (0..=4000).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            text.truncate(cut);
        }
        let trajectory = Trajectory {
            prompt_ids: c.prompt_ids.clone(),
            response_ids: c.response_ids.clone(),
            loss_mask: c.loss_mask.clone(),
            reward,
            format_ok: d.state.format_errors == 0,
            text,
        };
        (trajectory, record)
    }
}

impl RolloutSource for SweEpisodes {
    fn name(&self) -> &str {
        "swe-episode"
    }

    fn len(&self) -> usize {
        self.instances.len()
    }

    fn sample(&mut self, policy: &Policy, request: &RolloutRequest<'_>) -> srl_train::Result<RolloutBatch> {
        let agent = ModelPolicy { policy, batch: self.options.generation_batch };
        self.sample_with(policy, &agent, request).map_err(|e| srl_train::TrainError::Data {
            path: self.origin.clone(),
            line: 0,
            field: "swe-episode".into(),
            message: e.to_string(),
        })
    }
}
