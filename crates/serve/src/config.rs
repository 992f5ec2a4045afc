//! Settings of the reward server (`srl-swe serve reward` maps its flags onto
//! [`RewardServerConfig`]). Defaults are named constants; `docs/engines.md` explains each limit.

use crate::error::{Result, ServeError};
use serde::{Deserialize, Serialize};
use srl_reward::{MathAnswerReward, SrlConfig};
use std::net::SocketAddr;
use std::path::Path;

/// Default listen address: loopback only, so nothing is exposed unless asked.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Default per-item time budget (ms of scoring, queueing not counted).
pub const DEFAULT_ITEM_BUDGET_MS: u64 = 2_000;
/// Default cap on the characters of one response, expert action or answer.
pub const DEFAULT_MAX_ITEM_CHARS: usize = 100_000;
/// Default cap on one request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 << 20;
/// Default trailing tokens stripped from OpenRLHF's `query` (Qwen2/2.5 end-of-turn, EOS and pad).
pub const DEFAULT_STRIP_TOKENS: [&str; 2] = ["<|im_end|>", "<|endoftext|>"];
/// Default assistant header: where the response starts when `prompts` is not a prefix of `query`.
pub const DEFAULT_ASSISTANT_MARKER: &str = "<|im_start|>assistant\n";

/// What an item is scored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// SRL reward against an expert SWE action.
    Swe,
    /// SRL reward against an expert math step.
    Math,
    /// RLVR: the final answer against the reference answer (Qwen2.5-Math grading).
    Rlvr,
}

impl std::str::FromStr for ItemKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "swe" => Ok(Self::Swe),
            "math" => Ok(Self::Math),
            "rlvr" => Ok(Self::Rlvr),
            o => Err(format!("unknown kind {o:?} (expected swe, math or rlvr)")),
        }
    }
}

/// How `/get_reward` fills its `scores` list (OpenRLHF's dynamic filter reads `scores`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreScale {
    /// `scores` = `rewards`, in [−1, 1].
    #[default]
    Reward,
    /// `scores` = (reward + 1) / 2, in [0, 1], for OpenRLHF's `--algo.dynamic_filtering_range`.
    Unit,
}

/// Settings of the reward server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RewardServerConfig {
    /// Listen address.
    pub bind: SocketAddr,
    /// Scoring threads (the HTTP side runs on tokio's own threads).
    pub workers: usize,
    /// Per-item scoring budget in milliseconds; an item over it scores −1 with `error = 1`.
    pub item_budget_ms: u64,
    /// Longest response / expert / answer scored, in characters; longer ones score −1, `error = 1`.
    pub max_item_chars: usize,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// `scores` of `/get_reward`.
    pub scores: ScoreScale,
    /// Tokens stripped (repeatedly) from the end of the response text of `/get_reward`.
    pub strip_tokens: Vec<String>,
    /// Assistant header used when `prompts` is not a prefix of `query`.
    pub assistant_marker: String,
    /// Kind of a `/get_reward` label given as plain expert text.
    pub default_kind: ItemKind,
    /// SRL reward settings.
    pub srl: SrlConfig,
    /// RLVR (math answer) reward settings.
    pub answer: MathAnswerReward,
}

impl Default for RewardServerConfig {
    fn default() -> Self {
        Self {
            bind: DEFAULT_BIND.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            item_budget_ms: DEFAULT_ITEM_BUDGET_MS,
            max_item_chars: DEFAULT_MAX_ITEM_CHARS,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            scores: ScoreScale::Reward,
            strip_tokens: DEFAULT_STRIP_TOKENS.iter().map(|t| t.to_string()).collect(),
            assistant_marker: DEFAULT_ASSISTANT_MARKER.to_string(),
            default_kind: ItemKind::Swe,
            srl: SrlConfig::default(),
            answer: MathAnswerReward::default(),
        }
    }
}

impl RewardServerConfig {
    /// Checks the limits.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, message: &str| Err(ServeError::Config { field, message: message.to_string() });
        if self.workers == 0 {
            return bad("workers", "must be at least 1");
        }
        if self.item_budget_ms == 0 {
            return bad("item-budget-ms", "must be at least 1");
        }
        if self.max_item_chars == 0 {
            return bad("max-item-chars", "must be at least 1");
        }
        if self.max_body_bytes < 1024 {
            return bad("max-body-bytes", "must be at least 1024");
        }
        if self.strip_tokens.iter().any(String::is_empty) {
            return bad("strip-tokens", "an empty token would strip nothing");
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct TokenizerFile {
    #[serde(default)]
    added_tokens: Vec<AddedToken>,
}

#[derive(Deserialize)]
struct AddedToken {
    content: String,
    #[serde(default)]
    special: bool,
}

/// The special added tokens of a Hugging Face `tokenizer.json` (`added_tokens` with
/// `special: true`): end-of-turn, EOS and pad markers that a decoded `query` may end with.
pub fn special_tokens_of(path: &Path) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ServeError::TokenizerRead { path: path.into(), source })?;
    let file: TokenizerFile =
        serde_json::from_str(&text).map_err(|source| ServeError::TokenizerParse { path: path.into(), source })?;
    Ok(file.added_tokens.into_iter().filter(|t| t.special && !t.content.is_empty()).map(|t| t.content).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_zero_workers_do_not() {
        let c = RewardServerConfig::default();
        assert_eq!(c.bind.to_string(), DEFAULT_BIND);
        c.validate().unwrap();
        let e = RewardServerConfig { workers: 0, ..c }.validate().unwrap_err();
        assert!(matches!(e, ServeError::Config { field: "workers", .. }), "{e}");
    }

    #[test]
    fn special_tokens_are_read_from_tokenizer_json() {
        let dir = std::env::temp_dir().join(format!("srl-serve-tok-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokenizer.json");
        let json = r#"{"added_tokens":[{"id":1,"content":"<|im_end|>","special":true},
            {"id":2,"content":"<tool_call>","special":false},{"id":3,"content":"<|endoftext|>","special":true}]}"#;
        std::fs::write(&path, json).unwrap();
        assert_eq!(special_tokens_of(&path).unwrap(), vec!["<|im_end|>", "<|endoftext|>"]);
        std::fs::write(&path, "[1]").unwrap();
        assert!(matches!(special_tokens_of(&path), Err(ServeError::TokenizerParse { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
