//! Stage settings of multi-turn SWE episodes (RLVR on SWE tasks, docs/agent.md): the
//! `rollout = { type = "swe-episode", … }` table of a stage and its episode rewards
//! (`reward = "resolved"` / `"f2p-fraction"`). The rollouts themselves run in `srl-agent`
//! (this crate stays Docker-free); the trainer takes them through
//! [`crate::train_with_sources`].
//!
//! ```toml
//! [[stages]]
//! name = "rlvr-swe"
//! data = "environments"          # environments folder (or one environment's folder)
//! rollout = { type = "swe-episode", max-turns = 30 }
//! reward = "resolved"
//! steps = 2
//! ```

use super::{OptimizerOverride, RewardKind, ScheduleOverride, StageConfig, StageKind};
use crate::error::{Result, TrainError};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Default agent turns per episode.
pub const DEFAULT_MAX_TURNS: usize = 30;
/// Default cap on an episode's tokens (prompt + all turns).
pub const DEFAULT_MAX_CONTEXT_TOKENS: usize = 16_384;
/// Default wall-clock cap of one episode, seconds.
pub const DEFAULT_EPISODE_SECS: u64 = 900;
/// Default per-call timeout of `bash`, seconds.
pub const DEFAULT_BASH_TIMEOUT_SECS: u64 = 60;

/// Where a GRPO stage's rollouts come from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum StageRollout {
    /// One text turn per trajectory from the stage's `data` (the default).
    #[default]
    Text,
    /// Multi-turn agent episodes in the sandbox on the task environments named by `data`.
    SweEpisode(SweEpisodeConfig),
}

/// Settings of `rollout = { type = "swe-episode", … }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct SweEpisodeConfig {
    /// Agent turns (malformed ones included) before an episode is cut.
    pub max_turns: usize,
    /// Cap on an episode's tokens; the episode is cut when the next turn would not fit.
    pub max_context_tokens: usize,
    /// Wall-clock cap of one episode in seconds.
    pub max_episode_secs: u64,
    /// Per-call timeout of `bash` in seconds.
    pub bash_timeout_secs: u64,
    /// Containers alive at once (episodes and grading); 0 = the number of cores.
    pub max_containers: usize,
    /// Only these instances (ids) or environments (folder names); empty = all under `data`.
    pub instances: Vec<String>,
    /// SWE-agent's review step: the first `submit` shows the diff, the second submits.
    pub review_submit: bool,
}

impl Default for SweEpisodeConfig {
    fn default() -> Self {
        Self {
            max_turns: DEFAULT_MAX_TURNS,
            max_context_tokens: DEFAULT_MAX_CONTEXT_TOKENS,
            max_episode_secs: DEFAULT_EPISODE_SECS,
            bash_timeout_secs: DEFAULT_BASH_TIMEOUT_SECS,
            max_containers: 0,
            instances: Vec::new(),
            review_submit: true,
        }
    }
}

/// Reward of a swe-episode stage, computed from the final diff graded in a fresh container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EpisodeReward {
    /// 1 when the task's graded tests resolve it (FAIL_TO_PASS and PASS_TO_PASS all pass), else 0.
    Resolved,
    /// The fraction of FAIL_TO_PASS tests that pass (0 when PASS_TO_PASS tests break).
    F2pFraction,
}

/// Every `reward = …` a stage accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageReward {
    /// SRL step reward (text rollouts).
    Srl,
    /// Math answer reward (text rollouts).
    Math,
    /// [`EpisodeReward::Resolved`].
    Resolved,
    /// [`EpisodeReward::F2pFraction`].
    F2pFraction,
}

/// The file layer of a stage (what `[[stages]]` holds); [`StageConfig`] splits its `reward`
/// into the text reward and the episode reward.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StageFile {
    name: String,
    #[serde(default)]
    kind: StageKind,
    data: PathBuf,
    #[serde(default)]
    val_data: Option<PathBuf>,
    #[serde(default = "default_stage_reward")]
    reward: StageReward,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rollout: Option<StageRollout>,
    #[serde(default)]
    steps: Option<u64>,
    #[serde(default)]
    epochs: Option<u64>,
    #[serde(default)]
    optimizer: OptimizerOverride,
    #[serde(default)]
    schedule: ScheduleOverride,
    #[serde(default)]
    system_prompt: Option<String>,
}

fn default_stage_reward() -> StageReward {
    match super::default_reward() {
        RewardKind::Srl => StageReward::Srl,
        RewardKind::Math => StageReward::Math,
    }
}

impl From<StageFile> for StageConfig {
    fn from(f: StageFile) -> Self {
        let (reward, episode_reward) = match f.reward {
            StageReward::Srl => (RewardKind::Srl, None),
            StageReward::Math => (RewardKind::Math, None),
            StageReward::Resolved => (RewardKind::Srl, Some(EpisodeReward::Resolved)),
            StageReward::F2pFraction => (RewardKind::Srl, Some(EpisodeReward::F2pFraction)),
        };
        StageConfig {
            name: f.name,
            kind: f.kind,
            data: f.data,
            val_data: f.val_data,
            reward,
            steps: f.steps,
            epochs: f.epochs,
            optimizer: f.optimizer,
            schedule: f.schedule,
            system_prompt: f.system_prompt,
            rollout: f.rollout.unwrap_or_default(),
            episode_reward,
        }
    }
}

impl From<StageConfig> for StageFile {
    fn from(s: StageConfig) -> Self {
        let reward = match (s.episode_reward, s.reward) {
            (Some(EpisodeReward::Resolved), _) => StageReward::Resolved,
            (Some(EpisodeReward::F2pFraction), _) => StageReward::F2pFraction,
            (None, RewardKind::Srl) => StageReward::Srl,
            (None, RewardKind::Math) => StageReward::Math,
        };
        StageFile {
            name: s.name,
            kind: s.kind,
            data: s.data,
            val_data: s.val_data,
            reward,
            rollout: (s.rollout != StageRollout::Text).then_some(s.rollout),
            steps: s.steps,
            epochs: s.epochs,
            optimizer: s.optimizer,
            schedule: s.schedule,
            system_prompt: s.system_prompt,
        }
    }
}

/// Checks that a stage's rollout and reward fit together.
pub(crate) fn validate_stage(s: &StageConfig, i: usize) -> Result<()> {
    let field = |k: &str| format!("stages.{i}.{k}");
    match (&s.rollout, s.episode_reward) {
        (StageRollout::SweEpisode(c), Some(_)) => {
            if s.kind != StageKind::Grpo {
                return Err(TrainError::invalid(field("rollout"), "swe-episode rollouts need a grpo stage"));
            }
            if c.max_turns == 0 || c.max_context_tokens == 0 || c.max_episode_secs == 0 || c.bash_timeout_secs == 0 {
                return Err(TrainError::invalid(
                    field("rollout"),
                    "max-turns, max-context-tokens, max-episode-secs and bash-timeout-secs must be ≥ 1",
                ));
            }
            if s.val_data.is_some() {
                return Err(TrainError::invalid(
                    field("val-data"),
                    "swe-episode stages do not validate on held-out data",
                ));
            }
            Ok(())
        }
        (StageRollout::SweEpisode(_), None) => Err(TrainError::invalid(
            field("reward"),
            "a swe-episode stage needs an episode reward: \"resolved\" or \"f2p-fraction\"",
        )),
        (StageRollout::Text, Some(_)) => Err(TrainError::invalid(
            field("reward"),
            "\"resolved\" and \"f2p-fraction\" need rollout = { type = \"swe-episode\" }",
        )),
        (StageRollout::Text, None) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{RunConfig, StageRollout};
    use std::path::Path;

    const RUN: &str = r#"
[model]
path = "m"
[[stages]]
name = "sft"
kind = "sft"
data = "a.jsonl"
steps = 1
[[stages]]
name = "rlvr-swe"
data = "environments"
rollout = { type = "swe-episode", max-turns = 7 }
reward = "resolved"
steps = 2
"#;

    #[test]
    fn swe_episode_stages_parse_validate_and_round_trip() {
        let c = RunConfig::from_toml_str(RUN, Path::new("run.toml"), &[]).unwrap().resolve().unwrap();
        let st = &c.stages[1].config;
        assert_eq!(st.episode_reward, Some(super::EpisodeReward::Resolved));
        let StageRollout::SweEpisode(e) = &st.rollout else { panic!("{:?}", st.rollout) };
        assert_eq!((e.max_turns, e.bash_timeout_secs, e.review_submit), (7, 60, true));
        assert_eq!(c.stages[0].config.rollout, StageRollout::Text);
        let again = RunConfig::from_toml_str(&c.to_toml().unwrap(), Path::new("x"), &[]).unwrap();
        assert_eq!(again, c.run);
        let set = ["stages.1.reward=f2p-fraction".to_string(), "stages.1.rollout.max-turns=3".to_string()];
        let c = RunConfig::from_toml_str(RUN, Path::new("run.toml"), &set).unwrap().resolve().unwrap();
        assert_eq!(c.stages[1].config.episode_reward, Some(super::EpisodeReward::F2pFraction));
    }

    #[test]
    fn mismatched_rollout_and_reward_are_named() {
        let e = RunConfig::from_toml_str(RUN, Path::new("r"), &["stages.1.reward=srl".into()])
            .unwrap()
            .resolve()
            .unwrap_err();
        assert!(e.to_string().contains("stages.1.reward"), "{e}");
        let e = RunConfig::from_toml_str(RUN, Path::new("r"), &["stages.0.reward=resolved".into()])
            .unwrap()
            .resolve()
            .unwrap_err();
        assert!(e.to_string().contains("swe-episode"), "{e}");
        let e = RunConfig::from_toml_str(RUN, Path::new("r"), &["stages.1.rollout.max-turn=3".into()]).unwrap_err();
        assert!(e.to_string().contains("max-turn"), "{e}");
    }
}
