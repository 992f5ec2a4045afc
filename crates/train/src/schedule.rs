//! Learning-rate schedules: linear warmup, then constant or cosine decay, as
//! `transformers.get_constant_schedule_with_warmup` / `get_cosine_schedule_with_warmup` and
//! veRL's `get_cosine_schedule_with_warmup` (with `min_lr_ratio`) compute them
//! (`docs/training.md`: the paper uses warmup 0 and a constant 5e-7 for GRPO/SRL).

use serde::{Deserialize, Serialize};

/// Shape of the schedule after warmup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleKind {
    /// Constant after warmup.
    Constant,
    /// Half-cosine from the peak down to `min_lr_ratio · lr` at the last step.
    Cosine,
}

/// A resolved schedule for one stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// Peak learning rate.
    pub lr: f64,
    /// Warmup steps (linear from 0).
    pub warmup_steps: u64,
    /// Total steps of the stage.
    pub total_steps: u64,
    /// Constant or cosine.
    pub kind: ScheduleKind,
    /// Floor of the cosine as a fraction of `lr`.
    pub min_lr_ratio: f64,
}

impl Schedule {
    /// Multiplier of `lr` at 0-based `step` (the value the optimizer uses for update `step`).
    pub fn factor(&self, step: u64) -> f64 {
        if step < self.warmup_steps {
            return step as f64 / self.warmup_steps.max(1) as f64;
        }
        match self.kind {
            ScheduleKind::Constant => 1.0,
            ScheduleKind::Cosine => {
                let span = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
                let progress = (step - self.warmup_steps) as f64 / span;
                let x = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
                (x * (1.0 - self.min_lr_ratio) + self.min_lr_ratio).max(0.0)
            }
        }
    }

    /// Learning rate at 0-based `step`.
    pub fn lr_at(&self, step: u64) -> f64 {
        self.lr * self.factor(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_constant() {
        let s = Schedule { lr: 1.0, warmup_steps: 4, total_steps: 10, kind: ScheduleKind::Constant, min_lr_ratio: 0.0 };
        let got: Vec<f64> = (0..6).map(|i| s.lr_at(i)).collect();
        assert_eq!(got, vec![0.0, 0.25, 0.5, 0.75, 1.0, 1.0]);
    }

    #[test]
    fn cosine_hits_peak_middle_and_floor() {
        let s = Schedule { lr: 2.0, warmup_steps: 2, total_steps: 10, kind: ScheduleKind::Cosine, min_lr_ratio: 0.1 };
        assert_eq!(s.lr_at(2), 2.0);
        // Halfway through the 8 decay steps: x = 0.5 → 0.5·0.9 + 0.1 = 0.55.
        assert!((s.lr_at(6) - 1.1).abs() < 1e-12);
        assert!((s.lr_at(10) - 0.2).abs() < 1e-12);
    }
}
