//! The policy seam of an episode: what writes the agent's turns. [`ModelPolicy`] samples them
//! from `srl-model`'s [`Policy`] (batched over the episodes still running, stopping at
//! `</function>` or the end-of-turn token); [`ScriptedPolicy`] replays fixed turn texts (an
//! expert trajectory's actions, or an immediate `submit`) for tests. The chat template and the
//! tokenizer always come from the run's [`Policy`], so both produce the token ids the update
//! trains on.
use crate::{AgentError, Result};
use srl_model::{GenerationConfig, Policy};
use std::path::Path;

/// The stop string of an agent turn: the end of the canonical call.
pub const STOP_STRING: &str = "</function>";

/// One turn to write.
#[derive(Debug, Clone, Copy)]
pub struct TurnRequest<'a> {
    /// Index of the episode in the current batch of episodes.
    pub episode: usize,
    /// 0-based turn of that episode.
    pub turn: usize,
    /// The whole episode so far (prompt and all turns), ending with the assistant header.
    pub context: &'a [u32],
    /// Most tokens this turn may have.
    pub max_new_tokens: usize,
    /// Sampling seed of this turn.
    pub seed: u64,
}

/// Writes agent turns as token ids.
pub trait AgentPolicy {
    /// A short name for logs.
    fn name(&self) -> &str;
    /// One turn per request, in order; `sampling` carries temperature and top-p.
    fn generate(&self, requests: &[TurnRequest<'_>], sampling: &GenerationConfig) -> Result<Vec<Vec<u32>>>;
}

/// Turns sampled from the model.
#[derive(Debug, Clone, Copy)]
pub struct ModelPolicy<'a> {
    /// The policy being trained.
    pub policy: &'a Policy,
    /// Sequences per generate call.
    pub batch: usize,
}

impl AgentPolicy for ModelPolicy<'_> {
    fn name(&self) -> &str {
        "model"
    }

    fn generate(&self, requests: &[TurnRequest<'_>], sampling: &GenerationConfig) -> Result<Vec<Vec<u32>>> {
        let mut out = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(self.batch.max(1)) {
            let max_new = chunk.iter().map(|r| r.max_new_tokens).max().unwrap_or(1).max(1);
            let config = GenerationConfig {
                max_new_tokens: max_new,
                stop_strings: vec![STOP_STRING.to_string()],
                sequence_seeds: chunk.iter().map(|r| r.seed).collect(),
                ..sampling.clone()
            };
            let prompts: Vec<Vec<u32>> = chunk.iter().map(|r| r.context.to_vec()).collect();
            for (gen, r) in self.policy.generate(&prompts, &config)?.into_iter().zip(chunk) {
                let mut ids = gen.token_ids;
                ids.truncate(r.max_new_tokens);
                out.push(ids);
            }
        }
        Ok(out)
    }
}

/// Replays fixed turn texts, one script per episode of the batch (episode `i` uses script
/// `i % scripts.len()`); past its end a script submits.
#[derive(Debug)]
pub struct ScriptedPolicy<'a> {
    policy: &'a Policy,
    scripts: Vec<Vec<String>>,
}

/// The canonical `submit` call.
pub const SUBMIT: &str = "<function=submit>\n</function>";

impl<'a> ScriptedPolicy<'a> {
    /// Scripts encoded with `policy`'s tokenizer.
    pub fn new(policy: &'a Policy, scripts: Vec<Vec<String>>) -> Self {
        Self { policy, scripts }
    }

    /// A policy whose every episode submits at once.
    pub fn submit_at_once(policy: &'a Policy) -> Self {
        Self::new(policy, vec![Vec::new()])
    }

    /// The text of turn `turn` of episode `episode`.
    pub fn turn_text(&self, episode: usize, turn: usize) -> &str {
        if self.scripts.is_empty() {
            return SUBMIT;
        }
        self.scripts[episode % self.scripts.len()].get(turn).map(String::as_str).unwrap_or(SUBMIT)
    }

    /// The turns of an expert spec (`datasets/swe-smith-src/<traj_id>.json`, see
    /// `srl_sandbox::expert`): `<think>thought</think>` then the canonical action, per step.
    pub fn expert_turns(spec_path: &Path) -> Result<Vec<String>> {
        let err = |message: String| AgentError::Script { path: spec_path.to_path_buf(), message };
        let text = std::fs::read_to_string(spec_path)
            .map_err(|source| AgentError::Io { path: spec_path.to_path_buf(), source })?;
        let spec: srl_sandbox::expert::ExpertSpec = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
        spec.steps
            .iter()
            .map(|s| {
                let action = s.action().map_err(|e| err(e.to_string()))?;
                Ok(format!("<think>{}</think>\n{}", s.thought, action.to_canonical()))
            })
            .collect()
    }
}

impl AgentPolicy for ScriptedPolicy<'_> {
    fn name(&self) -> &str {
        "scripted"
    }

    fn generate(&self, requests: &[TurnRequest<'_>], _sampling: &GenerationConfig) -> Result<Vec<Vec<u32>>> {
        requests.iter().map(|r| Ok(self.policy.encode_text(self.turn_text(r.episode, r.turn))?)).collect()
    }
}
