//! What the episode rollouts log, besides the trainer's per-step `metrics.jsonl`: one
//! [`EpisodeRecord`] per episode in `<run>/episodes.jsonl` and one [`RoundSummary`] per
//! generation round in `<run>/episode_rounds.jsonl` (turns per episode, resolve rate, time in
//! the environment vs time generating vs time grading). Both files are appended to, one JSON
//! object per line, each with `"type"` and `"version"`.
use crate::{AgentError, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Version of the records below.
pub const RECORD_VERSION: u32 = 1;

/// One finished episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeRecord {
    /// `swe_episode`.
    #[serde(rename = "type")]
    pub kind: String,
    /// [`RECORD_VERSION`].
    pub version: u32,
    /// Generation round of this source (0-based, counts every `sample` call).
    pub round: u64,
    /// Slot of the request the episode belongs to (its GRPO group).
    pub slot: usize,
    /// Index within the group.
    pub sample: usize,
    /// The task.
    pub instance_id: String,
    /// Agent turns.
    pub turns: usize,
    /// Malformed actions.
    pub format_errors: usize,
    /// Ended by the final `submit`.
    pub submitted: bool,
    /// Ended by a cap (turns, context, wall clock).
    pub truncated: bool,
    /// The graded tests resolve the task.
    pub resolved: bool,
    /// The reward given.
    pub reward: f64,
    /// FAIL_TO_PASS tests passing / in all (0 / n when the diff was empty or not graded).
    pub f2p: (usize, usize),
    /// PASS_TO_PASS tests passing / in all.
    pub p2p: (usize, usize),
    /// Characters of the final diff.
    pub patch_chars: usize,
    /// Policy tokens (loss mask on).
    pub model_tokens: usize,
    /// All tokens (prompt, policy and observation turns).
    pub total_tokens: usize,
    /// Seconds of the generation calls this episode took part in.
    pub generate_s: f64,
    /// Seconds in the sandbox's tools.
    pub env_s: f64,
    /// What went wrong in the sandbox or grading (the reward is then 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One generation round (all episodes of one `sample` call).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundSummary {
    /// `swe_rollout_round`.
    #[serde(rename = "type")]
    pub kind: String,
    /// [`RECORD_VERSION`].
    pub version: u32,
    /// Generation round.
    pub round: u64,
    /// Episodes run.
    pub episodes: usize,
    /// Mean agent turns per episode.
    pub turns_per_episode: f64,
    /// Share of episodes resolved.
    pub resolve_rate: f64,
    /// Mean reward.
    pub reward_mean: f64,
    /// Share of turns that were malformed.
    pub format_error_rate: f64,
    /// Share of episodes ended by `submit`.
    pub submit_rate: f64,
    /// Wall seconds generating (the policy).
    pub generate_s: f64,
    /// Wall seconds in the environment (container start, tool calls, final diffs, removal).
    pub env_s: f64,
    /// Wall seconds grading final diffs in fresh containers.
    pub grade_s: f64,
    /// Wall seconds of the round.
    pub wall_s: f64,
    /// Containers alive at once at most.
    pub pool: usize,
}

impl RoundSummary {
    /// The summary of `records`.
    pub fn of(round: u64, records: &[EpisodeRecord], times: (f64, f64, f64, f64), pool: usize) -> Self {
        let n = records.len().max(1) as f64;
        let turns: usize = records.iter().map(|r| r.turns).sum();
        Self {
            kind: "swe_rollout_round".into(),
            version: RECORD_VERSION,
            round,
            episodes: records.len(),
            turns_per_episode: turns as f64 / n,
            resolve_rate: records.iter().filter(|r| r.resolved).count() as f64 / n,
            reward_mean: records.iter().map(|r| r.reward).sum::<f64>() / n,
            format_error_rate: records.iter().map(|r| r.format_errors).sum::<usize>() as f64 / turns.max(1) as f64,
            submit_rate: records.iter().filter(|r| r.submitted).count() as f64 / n,
            generate_s: times.0,
            env_s: times.1,
            grade_s: times.2,
            wall_s: times.3,
            pool,
        }
    }
}

/// Appends JSON lines to the two files in a run folder.
#[derive(Debug, Clone)]
pub struct EpisodeLog {
    dir: PathBuf,
}

impl EpisodeLog {
    /// Logs into `dir` (created when missing).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `<dir>/episodes.jsonl`.
    pub fn episodes_path(&self) -> PathBuf {
        self.dir.join("episodes.jsonl")
    }

    /// `<dir>/episode_rounds.jsonl`.
    pub fn rounds_path(&self) -> PathBuf {
        self.dir.join("episode_rounds.jsonl")
    }

    /// Appends one round.
    pub fn append(&self, records: &[EpisodeRecord], summary: &RoundSummary) -> Result<()> {
        let mut lines = String::new();
        for r in records {
            lines.push_str(&serde_json::to_string(r).unwrap_or_default());
            lines.push('\n');
        }
        append(&self.episodes_path(), &lines)?;
        append(&self.rounds_path(), &format!("{}\n", serde_json::to_string(summary).unwrap_or_default()))
    }
}

fn append(path: &Path, text: &str) -> Result<()> {
    let io = |source| AgentError::Io { path: path.to_path_buf(), source };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)
}
