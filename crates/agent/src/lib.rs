//! `srl-agent`: multi-turn SWE agent episodes in the Docker sandbox as a GRPO rollout source,
//! the RLVR stage after SRL for software engineering (SRL, Deng et al., arXiv 2510.25992: the
//! paper's best recipe is SRL then RLVR; docs/agent.md).
//!
//! - [`SweEpisodes`] ([`source`]): a [`srl_train::rollout::RolloutSource`] running G episodes
//!   per task, the policy's tokens trained (loss mask 1) and the template and observation tokens
//!   not (0), rewarded by the task's graded tests on the final diff in a fresh container;
//! - [`policy`]: the seam that writes the turns ([`ModelPolicy`] samples `srl-model`'s policy,
//!   [`ScriptedPolicy`] replays fixed turns for tests);
//! - [`conversation`]: the token sequence and loss mask of one episode;
//! - [`metrics`]: `episodes.jsonl` / `episode_rounds.jsonl` (turns, resolve rate, env vs
//!   generation vs grading time);
//! - [`source_factory`]: the stage hook `srl-swe train` passes to
//!   [`srl_train::train_with_sources`] for `rollout = { type = "swe-episode" }` stages.
//!
//! The environment side of an episode (task turn, format errors, caps) is
//! `srl_sandbox::episode`, shared with `srl-swe serve sandbox`. Sibling crates: `srl-train`
//! (the update, config), `srl-model` (the policy), `srl-sandbox` (containers, tools, grading).
//!
//! ```no_run
//! # fn demo(policy: &srl_model::Policy, instances: Vec<srl_core::TaskInstance>) -> srl_agent::Result<()> {
//! use srl_agent::{SweEpisodes, SweEpisodesOptions};
//! use srl_train::config::{EpisodeReward, SweEpisodeConfig};
//! use srl_train::rollout::RolloutRequest;
//! let options = SweEpisodesOptions::new(SweEpisodeConfig::default(), EpisodeReward::Resolved);
//! let mut source = SweEpisodes::new(instances, options, "environments".into())?;
//! let generation = srl_model::GenerationConfig::default();
//! let req = RolloutRequest { items: &[0], group_size: 2, generation: &generation, seed: 1 };
//! let agent = srl_agent::ModelPolicy { policy, batch: 8 };
//! let batch = source.sample_with(policy, &agent, &req)?;
//! assert_eq!(batch.groups[0].trajectories.len(), 2);
//! # Ok(()) }
//! ```

pub mod conversation;
mod error;
pub mod metrics;
pub mod policy;
pub mod source;

pub use error::{AgentError, Result};
pub use policy::{AgentPolicy, ModelPolicy, ScriptedPolicy, TurnRequest};
pub use source::{SweEpisodes, SweEpisodesOptions};

use srl_core::TaskInstance;
use srl_train::config::{ResolvedStage, RunConfig, StageRollout};
use srl_train::rollout::RolloutSource;
use std::path::Path;

/// The task instances a swe-episode stage's `data` names: one environment's folder (holding
/// `instances.jsonl`) or a folder of environments, filtered by `only` (instance ids or
/// environment names; empty keeps all).
pub fn stage_instances(data: &Path, only: &[String]) -> Result<Vec<TaskInstance>> {
    let envs = if data.join("instances.jsonl").is_file() {
        let name = data.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        vec![(name, srl_sandbox::environments::read_instances(&data.join("instances.jsonl"))?)]
    } else {
        srl_sandbox::environments::load_environments(data)?.into_iter().map(|e| (e.name, e.instances)).collect()
    };
    let keep =
        |env: &str, inst: &TaskInstance| only.is_empty() || only.iter().any(|o| o == env || *o == inst.instance_id);
    let out: Vec<TaskInstance> =
        envs.iter().flat_map(|(env, insts)| insts.iter().filter(|i| keep(env, i)).cloned()).collect();
    if out.is_empty() {
        return Err(AgentError::NoInstances { path: data.to_path_buf(), filter: only.to_vec() });
    }
    Ok(out)
}

/// The rollout source of a stage: [`SweEpisodes`] for `rollout = { type = "swe-episode" }`,
/// `None` for text stages. Episode logs go into the run folder.
pub fn stage_source(stage: &ResolvedStage, run: &RunConfig) -> Result<Option<SweEpisodes>> {
    let StageRollout::SweEpisode(episode) = &stage.config.rollout else { return Ok(None) };
    let Some(reward) = stage.config.episode_reward else { return Ok(None) };
    let instances = stage_instances(&stage.config.data, &episode.instances)?;
    let mut options = SweEpisodesOptions::new(episode.clone(), reward);
    options.generation_batch = run.rollout.generation_batch;
    options.log_dir = Some(run.output_dir.clone());
    Ok(Some(SweEpisodes::new(instances, options, stage.config.data.clone())?))
}

/// The source factory `srl-swe train` hands to [`srl_train::train_with_sources`].
pub fn source_factory(
    run: &RunConfig,
) -> impl Fn(&ResolvedStage) -> srl_train::Result<Option<Box<dyn RolloutSource>>> + '_ {
    move |stage| {
        stage_source(stage, run).map(|s| s.map(|s| Box::new(s) as Box<dyn RolloutSource>)).map_err(|e| {
            srl_train::TrainError::ConfigInvalid {
                field: format!("stages.{}.rollout", stage.index),
                message: e.to_string(),
            }
        })
    }
}
