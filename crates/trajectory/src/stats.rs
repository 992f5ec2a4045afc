//! `stats.json` of a prepare run: what was read, kept and skipped (by reason), instances per
//! tool and split, and prompt-length percentiles. Maps are sorted and nothing time-dependent is
//! recorded, so a re-run gives the same bytes.

use serde::Serialize;
use std::collections::BTreeMap;

/// Nearest-rank percentiles of prompt sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    /// Number of values.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest value.
    pub max: u64,
}

impl Percentiles {
    /// Computes percentiles; `None` for no values.
    pub fn of(mut values: Vec<u64>) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let n = values.len();
        let rank = |p: usize| values[(p * n).div_ceil(100).clamp(1, n) - 1];
        Some(Self { count: n as u64, p50: rank(50), p90: rank(90), p99: rank(99), max: values[n - 1] })
    }
}

impl Percentiles {
    /// [`Percentiles::of`] of values kept in 4 bytes each.
    pub fn of_u32(mut values: Vec<u32>) -> Option<Self> {
        values.sort_unstable();
        Self::of(values.into_iter().map(u64::from).collect())
    }
}

/// Files seen.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileStats {
    /// Files read.
    pub read: u64,
    /// Files ignored because their name declares another split.
    pub other_split: u64,
}

/// Records (trajectories, or math rows) seen.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecordStats {
    /// Records read (including skipped ones).
    pub read: u64,
    /// Records that gave at least one instance.
    pub kept: u64,
    /// Records skipped.
    pub skipped: u64,
    /// Skipped records by reason (bad input, filters, duplicates).
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// Kept trajectories that end with SWE-agent's exit turn (an autosubmission after a limit,
    /// which is not a target).
    #[serde(skip_serializing_if = "is_zero")]
    pub ended_by_exit_turn: u64,
    /// Kept `.traj` trajectories without an evaluation report (with `--resolved-only false`;
    /// with `--resolved-only` they are skipped as `resolution_unknown`).
    #[serde(skip_serializing_if = "is_zero")]
    pub resolution_unknown: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl RecordStats {
    /// Counts one skipped record.
    pub fn skip(&mut self, reason: &str) {
        self.skipped += 1;
        *self.skipped_by_reason.entry(reason.to_string()).or_insert(0) += 1;
    }
}

/// Instances written.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InstanceStats {
    /// In the training file.
    pub train: u64,
    /// In the validation file.
    pub val: u64,
    /// By target tool (SWE) or `step` (math).
    pub by_target: BTreeMap<String, u64>,
    /// Exact duplicates (same messages and target) removed.
    pub duplicates_removed: u64,
    /// Targets dropped because the prompt could not fit the context limit.
    pub context_too_long: u64,
}

/// RLVR items written (math).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RlvrStats {
    /// In `rlvr_train.jsonl`.
    pub train: u64,
    /// In `rlvr_val.jsonl`.
    pub val: u64,
    /// Rows without a reference final answer.
    pub no_final_answer: u64,
}

/// The whole `stats.json`.
#[derive(Debug, Clone, Serialize)]
pub struct PrepareStats {
    /// Always `prepare_stats`.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    /// Record version.
    pub version: u32,
    /// `swe` or `math`.
    pub kind: &'static str,
    /// Files.
    pub files: FileStats,
    /// Trajectories (SWE) or rows (math).
    pub records: RecordStats,
    /// Instances.
    pub instances: InstanceStats,
    /// RLVR items (math only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rlvr: Option<RlvrStats>,
    /// Ids held out for validation, in input order.
    pub val_ids: Vec<String>,
    /// Characters of all message contents per instance.
    pub context_chars: Option<Percentiles>,
    /// Prompt tokens per instance (with `--tokenizer`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<Percentiles>,
}

impl PrepareStats {
    /// The one-line summary `srl-swe prepare` prints: records read / kept / skipped by reason,
    /// train / val instances.
    pub fn summary_line(&self) -> String {
        format!(
            "prepare: {} records read, {} kept, {} skipped {:?}; {} train / {} val instances",
            self.records.read,
            self.records.kept,
            self.records.skipped,
            self.records.skipped_by_reason,
            self.instances.train,
            self.instances.val
        )
    }

    /// Empty stats of a kind.
    pub fn new(kind: &'static str) -> Self {
        Self {
            record_type: "prepare_stats",
            version: srl_core::RECORD_VERSION,
            kind,
            files: FileStats::default(),
            records: RecordStats::default(),
            instances: InstanceStats::default(),
            rlvr: None,
            val_ids: Vec::new(),
            context_chars: None,
            context_tokens: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let p = Percentiles::of((1..=100).collect()).unwrap();
        assert_eq!((p.p50, p.p90, p.p99, p.max, p.count), (50, 90, 99, 100, 100));
        let one = Percentiles::of(vec![7]).unwrap();
        assert_eq!((one.p50, one.p99), (7, 7));
        assert!(Percentiles::of(vec![]).is_none());
    }
}
