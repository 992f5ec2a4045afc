//! Dynamic sampling (SRL paper, arXiv 2510.25992 §4.3; DAPO, veRL
//! `recipe/dapo/dapo_ray_trainer.py`), see `docs/training.md`: keep a prompt only if the
//! **population** standard deviation of its G rollout rewards exceeds ε, and keep generating
//! until the batch holds B prompts or the number of generation rounds reaches a maximum (then the
//! trainer trains on what it has and logs it).

/// Population standard deviation sqrt(Σ(r − r̄)² / G); exactly 0 for an empty slice or equal
/// rewards (where rounding in the mean could otherwise leave ~1e-16).
pub fn population_std(rewards: &[f64]) -> f64 {
    if rewards.is_empty() || rewards.iter().all(|r| *r == rewards[0]) {
        return 0.0;
    }
    let n = rewards.len() as f64;
    let mean = rewards.iter().sum::<f64>() / n;
    (rewards.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n).sqrt()
}

/// Whether a group is informative: population std strictly above `eps`.
pub fn keep_group(rewards: &[f64], eps: f64) -> bool {
    population_std(rewards) > eps
}

/// Accumulates scored groups over generation rounds until `target` prompts are kept.
///
/// With `enabled == false` every group is kept (plain GRPO).
#[derive(Debug, Clone)]
pub struct DynamicBatch<T> {
    target: usize,
    eps: f64,
    enabled: bool,
    kept: Vec<T>,
    seen: usize,
    rounds: usize,
}

/// What one batch took to fill.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FilterStats {
    /// Groups generated and scored.
    pub seen: usize,
    /// Groups kept (before truncation to the target).
    pub kept: usize,
    /// Generation rounds used.
    pub rounds: usize,
    /// Share of scored groups dropped: 1 − kept / seen.
    pub filter_rate: f64,
    /// True when the round limit ended filling before the target was reached.
    pub hit_round_limit: bool,
}

impl<T> DynamicBatch<T> {
    /// An empty batch that wants `target` prompts.
    pub fn new(target: usize, eps: f64, enabled: bool) -> Self {
        Self { target, eps, enabled, kept: Vec::new(), seen: 0, rounds: 0 }
    }

    /// Marks the start of a generation round.
    pub fn start_round(&mut self) {
        self.rounds += 1;
    }

    /// Rounds started so far.
    pub fn rounds(&self) -> usize {
        self.rounds
    }

    /// Offers a scored group; returns whether it was kept.
    pub fn offer(&mut self, rewards: &[f64], group: T) -> bool {
        self.seen += 1;
        let keep = !self.enabled || keep_group(rewards, self.eps);
        if keep {
            self.kept.push(group);
        }
        keep
    }

    /// Whether `target` groups have been kept.
    pub fn is_full(&self) -> bool {
        self.kept.len() >= self.target
    }

    /// Groups still missing.
    pub fn missing(&self) -> usize {
        self.target.saturating_sub(self.kept.len())
    }

    /// Ends filling: the kept groups truncated to the target, and the statistics.
    pub fn finish(mut self, max_rounds: usize) -> (Vec<T>, FilterStats) {
        let kept = self.kept.len();
        let stats = FilterStats {
            seen: self.seen,
            kept,
            rounds: self.rounds,
            filter_rate: if self.seen == 0 { 0.0 } else { 1.0 - kept as f64 / self.seen as f64 },
            hit_round_limit: kept < self.target && self.rounds >= max_rounds,
        };
        self.kept.truncate(self.target);
        (self.kept, stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_std_matches_hand_computed_values() {
        assert_eq!(population_std(&[1.0, 0.0, 0.0, 1.0]), 0.5);
        assert_eq!(population_std(&[0.7; 8]), 0.0);
        // [0, 0, 0, 1]: mean 0.25, var (3·0.0625 + 0.5625)/4 = 0.1875.
        assert!((population_std(&[0.0, 0.0, 0.0, 1.0]) - 0.1875f64.sqrt()).abs() < 1e-15);
        assert_eq!(population_std(&[]), 0.0);
    }

    #[test]
    fn filter_keeps_only_groups_with_spread_and_reports_rate() {
        let mut b = DynamicBatch::new(2, 1e-4, true);
        b.start_round();
        assert!(!b.offer(&[1.0, 1.0], "flat"));
        assert!(b.offer(&[1.0, 0.0], "a"));
        assert!(!b.offer(&[-1.0, -1.0], "flat2"));
        assert!(!b.is_full());
        b.start_round();
        assert!(b.offer(&[0.5, 0.6], "b"));
        assert!(b.offer(&[0.1, 0.9], "c"));
        assert!(b.is_full());
        let (kept, stats) = b.finish(10);
        assert_eq!(kept, vec!["a", "b"]);
        assert_eq!(stats, FilterStats { seen: 5, kept: 3, rounds: 2, filter_rate: 0.4, hit_round_limit: false });
    }

    #[test]
    fn round_limit_is_reported_and_disabled_filter_keeps_all() {
        let mut b = DynamicBatch::new(3, 1e-4, true);
        b.start_round();
        b.offer(&[0.0, 0.0], 1);
        b.offer(&[0.0, 1.0], 2);
        let (kept, stats) = b.finish(1);
        assert_eq!(kept, vec![2]);
        assert!(stats.hit_round_limit);
        let mut b = DynamicBatch::new(2, 1e-4, false);
        b.start_round();
        assert!(b.offer(&[0.0, 0.0], 1));
        assert!(b.offer(&[0.3, 0.3], 2));
        assert_eq!(b.finish(1).1.filter_rate, 0.0);
    }
}
