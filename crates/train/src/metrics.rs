//! Per-step training metrics (the quantities veRL logs: reward, filter rate, clip fraction, KL,
//! entropy, grad norm, lr, lengths, throughput; `docs/training.md`), written as one JSON
//! line per step (the whole file is rewritten atomically each step), plus a PNG of the main
//! curves at the end of a run and the [`Reporter`] seam through which the binary draws progress.

use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One training step's record in `metrics.jsonl`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    /// Global step (1-based: the number of completed steps).
    pub step: u64,
    /// Stage name.
    pub stage: String,
    /// `grpo` or `sft` (SFT steps have no rollouts: their reward fields are 0 and left out of
    /// the reward curves).
    #[serde(default)]
    pub kind: String,
    /// Step within the stage (1-based).
    pub stage_step: u64,
    /// Mean reward of all rollouts generated this step (before filtering).
    pub reward_mean: f64,
    /// Std of those rewards.
    pub reward_std: f64,
    /// Share of rollouts with a format error.
    pub format_error_rate: f64,
    /// Share of groups dropped by dynamic sampling.
    pub filter_rate: f64,
    /// Generation rounds used.
    pub gen_rounds: usize,
    /// Groups trained on.
    pub groups: usize,
    /// Whether the round limit stopped filling.
    pub hit_round_limit: bool,
    /// Policy loss (mean over updates).
    pub loss: f64,
    /// Clip fraction.
    pub clip_frac: f64,
    /// Dual-clip fraction.
    pub clip_frac_lower: f64,
    /// Mean −log-ratio vs the rollout policy.
    pub approx_kl: f64,
    /// KL to the reference (0 without one).
    pub kl: f64,
    /// Mean token entropy.
    pub entropy: f64,
    /// Gradient norm before clipping (last update).
    pub grad_norm: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Mean response length (tokens) of trained rollouts.
    pub response_length: f64,
    /// Seconds generating.
    pub rollout_s: f64,
    /// Seconds scoring.
    pub scoring_s: f64,
    /// Seconds in forward/backward/optimizer (including old log-probs).
    pub update_s: f64,
    /// Generated tokens per second.
    pub rollout_tokens_per_s: f64,
    /// Tokens (prompt + response) through forward+backward per second.
    pub update_tokens_per_s: f64,
    /// Peak resident memory of the process so far (MiB).
    pub peak_rss_mib: f64,
    /// The first rollout of the step (prefix + response text), for eyeballing.
    #[serde(default)]
    pub sample: String,
    /// Validation score when validation ran after this step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_score: Option<f64>,
}

/// Progress events of a run; the binary draws them, tests ignore them.
pub trait Reporter {
    /// The run starts (or resumes) at `done` of `total` steps.
    fn start(&self, done: u64, total: u64);
    /// A step finished.
    fn step(&self, m: &StepMetrics);
    /// Validation finished.
    fn validation(&self, step: u64, score: f64);
    /// The run ended.
    fn finish(&self);
}

/// A [`Reporter`] that reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReporter;

impl Reporter for NoReporter {
    fn start(&self, _done: u64, _total: u64) {}
    fn step(&self, _m: &StepMetrics) {}
    fn validation(&self, _step: u64, _score: f64) {}
    fn finish(&self) {}
}

/// `metrics.jsonl` of a run folder.
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    records: Vec<StepMetrics>,
}

impl MetricsLog {
    /// Opens `dir/metrics.jsonl`, keeping records up to `keep_through_step` (resume) or none.
    pub fn open(dir: &Path, keep_through_step: Option<u64>) -> Result<Self> {
        let path = dir.join("metrics.jsonl");
        let records = match keep_through_step {
            Some(s) if path.exists() => {
                srl_core::io::read_jsonl::<StepMetrics>(&path)?.into_iter().filter(|r| r.step <= s).collect()
            }
            _ => Vec::new(),
        };
        Ok(Self { path, records })
    }

    /// Appends a record and rewrites the file atomically.
    pub fn push(&mut self, m: StepMetrics) -> Result<()> {
        self.records.push(m);
        self.flush()
    }

    /// Sets the validation score of the last record.
    pub fn set_last_val(&mut self, score: f64) -> Result<()> {
        if let Some(r) = self.records.last_mut() {
            r.val_score = Some(score);
        }
        self.flush()
    }

    fn flush(&self) -> Result<()> {
        let mut f = srl_core::io::AtomicFile::create(&self.path)?;
        for r in &self.records {
            f.write_json_line(r)?;
        }
        Ok(f.commit()?)
    }

    /// All records.
    pub fn records(&self) -> &[StepMetrics] {
        &self.records
    }

    /// Writes `curves.png` (labelled plots of the run, `crate::curves`) and `curves.json` with
    /// the range of each series (reward mean, validation score, format-error rate, filter rate,
    /// SFT loss, entropy, grad norm).
    pub fn write_curves(&self, dir: &Path) -> Result<PathBuf> {
        type Getter = fn(&StepMetrics) -> Option<f64>;
        let series: [(&str, Getter); 7] = [
            ("reward_mean", |m| (m.kind != "sft").then_some(m.reward_mean)),
            ("val_score", |m| m.val_score),
            ("format_error_rate", |m| (m.kind != "sft").then_some(m.format_error_rate)),
            ("filter_rate", |m| (m.kind != "sft").then_some(m.filter_rate)),
            ("sft_loss", |m| (m.kind == "sft").then_some(m.loss)),
            ("entropy", |m| (m.kind != "sft").then_some(m.entropy)),
            ("grad_norm", |m| Some(m.grad_norm)),
        ];
        let data: Vec<(String, Vec<(f64, f64)>)> = series
            .iter()
            .map(|(name, get)| {
                (name.to_string(), self.records.iter().filter_map(|m| get(m).map(|v| (m.step as f64, v))).collect())
            })
            .collect();
        let path = dir.join("curves.png");
        crate::curves::draw(&self.records, &path)?;
        let legend: Vec<serde_json::Value> = data
            .iter()
            .map(|(name, pts)| {
                let ys = pts.iter().map(|p| p.1);
                serde_json::json!({
                    "panel": name,
                    "points": pts.len(),
                    "min": ys.clone().fold(f64::INFINITY, f64::min),
                    "max": ys.fold(f64::NEG_INFINITY, f64::max),
                })
            })
            .collect();
        srl_core::io::write_json_pretty(dir.join("curves.json"), &legend)?;
        Ok(path)
    }
}

/// Peak resident set size of this process in MiB (`VmHWM` of `/proc/self/status`; 0 elsewhere).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_round_trips_and_truncates_on_resume() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = MetricsLog::open(dir.path(), None).unwrap();
        for s in 1..=4 {
            log.push(StepMetrics { step: s, reward_mean: s as f64, ..Default::default() }).unwrap();
        }
        log.set_last_val(0.5).unwrap();
        let again = MetricsLog::open(dir.path(), Some(2)).unwrap();
        assert_eq!(again.records().iter().map(|r| r.step).collect::<Vec<_>>(), vec![1, 2]);
        let png = log.write_curves(dir.path()).unwrap();
        assert!(std::fs::read(png).unwrap().starts_with(b"\x89PNG"));
        let legend: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("curves.json")).unwrap()).unwrap();
        assert_eq!(legend[0]["max"], 4.0);
        assert_eq!(legend[1]["points"], 1);
        assert!(peak_rss_mib() > 0.0);
    }
}
