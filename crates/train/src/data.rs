//! Training data: SRL step instances (`srl_step` records, reward `srl`) and RLVR items
//! (`rlvr_item` records, reward `math`) from JSONL (`srl_core::records`, `srl_core` records),
//! turned into prompts with their reward targets. Bad records are counted and skipped, or fail
//! the run naming file, line and field when skipping is off (`--strict`). A seeded data cursor
//! walks a fresh permutation each epoch so that resume continues the exact order.

use crate::config::RewardKind;
use crate::error::{Result, TrainError};
use crate::rng::SplitMix64;
use serde::{Deserialize, Serialize};
use srl_core::{Message, RlvrItem, Role, StepInstance};
use srl_reward::RewardTarget;
use std::path::Path;

pub use srl_core::prompts::MATH_COT_SYSTEM_PROMPT;

/// One prompt and what its responses are scored against.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptItem {
    /// Record id.
    pub id: String,
    /// Chat shown to the policy.
    pub messages: Vec<Message>,
    /// Reward target.
    pub target: RewardTarget,
    /// The expert's own reasoning before the target action, when the record carries it
    /// (`target_thought`, or `thought`); SFT renders it inside `<think>…</think>`.
    pub thought: Option<String>,
}

/// The expert thought of a raw record line, if any.
fn record_thought(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    ["target_thought", "thought"].iter().find_map(|k| v.get(*k).and_then(|x| x.as_str()).map(str::to_string))
}

/// Items read from a file and how many records were skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// Usable items in file order.
    pub items: Vec<PromptItem>,
    /// Records skipped (bad JSON, wrong type, empty fields).
    pub skipped: usize,
}

fn check_step(s: &StepInstance) -> std::result::Result<(), (&'static str, String)> {
    if s.messages.is_empty() {
        return Err(("messages", "empty".into()));
    }
    if s.target.trim().is_empty() {
        return Err(("target", "empty".into()));
    }
    Ok(())
}

/// Reads `path` as records of the type `reward` needs. With `skip_bad` false the first bad
/// record is an error naming its line and field.
pub fn load_items(path: &Path, reward: RewardKind, skip_bad: bool) -> Result<Loaded> {
    load_items_with(path, reward, skip_bad, MATH_COT_SYSTEM_PROMPT)
}

/// [`load_items`] with the system prompt of RLVR prompts.
pub fn load_items_with(path: &Path, reward: RewardKind, skip_bad: bool, math_system: &str) -> Result<Loaded> {
    let mut items = Vec::new();
    let mut skipped = 0usize;
    for line in srl_core::io::jsonl_lines(path)? {
        let (line, text) = match line {
            Ok(x) => x,
            // A line that is not UTF-8 is a bad record like any other.
            Err(srl_core::CoreError::Record { line, message, .. }) if skip_bad => {
                tracing::warn!(file = %path.display(), line, %message, "skipping record");
                skipped += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let parsed: std::result::Result<PromptItem, (String, String)> = match reward {
            RewardKind::Srl => match serde_json::from_str::<StepInstance>(&text) {
                Err(e) => Err(("srl_step".into(), e.to_string())),
                Ok(s) => match check_step(&s) {
                    Err((f, m)) => Err((f.into(), m)),
                    Ok(()) => Ok(PromptItem {
                        id: s.id.clone(),
                        target: RewardTarget::from_step(&s),
                        messages: s.messages,
                        thought: record_thought(&text),
                    }),
                },
            },
            RewardKind::Math => match serde_json::from_str::<RlvrItem>(&text) {
                Err(e) => Err(("rlvr_item".into(), e.to_string())),
                Ok(r) if r.question.trim().is_empty() => Err(("question".into(), "empty".into())),
                Ok(r) if r.answer.trim().is_empty() => Err(("answer".into(), "empty".into())),
                Ok(r) => Ok(PromptItem {
                    id: r.id.clone(),
                    target: RewardTarget::from_rlvr(&r),
                    messages: vec![Message::new(Role::System, math_system), Message::new(Role::User, r.question)],
                    thought: None,
                }),
            },
        };
        match parsed {
            Ok(item) => items.push(item),
            Err((field, message)) if !skip_bad => {
                return Err(TrainError::Data { path: path.to_path_buf(), line, field, message });
            }
            Err((field, message)) => {
                tracing::warn!(file = %path.display(), line, field, %message, "skipping record");
                skipped += 1;
            }
        }
    }
    if items.is_empty() {
        return Err(TrainError::EmptyData { path: path.to_path_buf(), skipped });
    }
    Ok(Loaded { items, skipped })
}

/// Position in a stage's data: epoch and index into that epoch's permutation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataCursor {
    /// Epoch (0-based).
    pub epoch: u64,
    /// Next index in the epoch's order.
    pub position: usize,
}

/// The order of items in `epoch` of stage `stage`: a permutation seeded by (seed, stage, epoch).
pub fn epoch_order(n: usize, seed: u64, stage: usize, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    SplitMix64::derive(seed, &[0x5EED_DA7A, stage as u64, epoch]).shuffle(&mut order);
    order
}

impl DataCursor {
    /// The next `k` item indices (crossing into new epochs as needed); advances the cursor.
    pub fn take(&mut self, k: usize, n: usize, seed: u64, stage: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(k);
        if n == 0 {
            return out;
        }
        let mut order = epoch_order(n, seed, stage, self.epoch);
        while out.len() < k {
            if self.position >= n {
                self.epoch += 1;
                self.position = 0;
                order = epoch_order(n, seed, stage, self.epoch);
            }
            out.push(order[self.position]);
            self.position += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_records_are_skipped_or_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.jsonl");
        let good = r#"{"type":"rlvr_item","id":"a","question":"1+1?","answer":"2","source":"x"}"#;
        let bad = r#"{"type":"rlvr_item","id":"b","question":"","answer":"2","source":"x"}"#;
        let mut bytes = format!("{good}\n{bad}\nnot json\n").into_bytes();
        bytes.extend_from_slice(b"{\"type\":\"rlvr_item\",\"id\":\"\xff\"}\n");
        std::fs::write(&p, bytes).unwrap();
        let l = load_items(&p, RewardKind::Math, true).unwrap();
        assert_eq!((l.items.len(), l.skipped), (1, 3), "the invalid UTF-8 line is a counted skip");
        assert_eq!(l.items[0].messages[1].content, "1+1?");
        let e = load_items(&p, RewardKind::Math, false).unwrap_err().to_string();
        assert!(e.contains("d.jsonl:2") && e.contains("question"), "{e}");
    }

    #[test]
    fn cursor_walks_permutations_and_resumes_exactly() {
        let mut a = DataCursor::default();
        let first = a.take(7, 5, 9, 0);
        let mut sorted = first[..5].to_vec();
        sorted.sort();
        assert_eq!(sorted, vec![0, 1, 2, 3, 4]);
        assert_eq!(a, DataCursor { epoch: 1, position: 2 });
        let mut b = a;
        assert_eq!(a.take(3, 5, 9, 0), b.take(3, 5, 9, 0));
    }
}
