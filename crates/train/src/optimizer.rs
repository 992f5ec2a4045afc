//! AdamW with explicit moment tensors and global-norm gradient clipping, written to match
//! `torch.optim.AdamW` (single-tensor path, amsgrad off) and `torch.nn.utils.clip_grad_norm_`
//! step for step, so that the moments can be saved and restored bit for bit (exact resume;
//! tch's `nn::Optimizer` keeps its state out of reach, tch-rs issue #825).

use crate::error::{Result, TrainError};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// AdamW hyperparameters except the learning rate (which comes from the schedule).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AdamWConfig {
    /// β1.
    pub beta1: f64,
    /// β2.
    pub beta2: f64,
    /// ε added to the denominator.
    pub eps: f64,
    /// Decoupled weight decay (veRL default 0.01).
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01 }
    }
}

/// AdamW over a fixed, named list of parameters.
pub struct AdamW {
    cfg: AdamWConfig,
    names: Vec<String>,
    params: Vec<Tensor>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    step: u64,
}

impl std::fmt::Debug for AdamW {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdamW")
            .field("cfg", &self.cfg)
            .field("params", &self.names.len())
            .field("step", &self.step)
            .finish()
    }
}

impl AdamW {
    /// Zero moments for `params` (shallow clones of the model's variables).
    pub fn new(params: Vec<(String, Tensor)>, cfg: AdamWConfig) -> Result<Self> {
        let mut names = Vec::with_capacity(params.len());
        let mut ps = Vec::with_capacity(params.len());
        let mut m = Vec::with_capacity(params.len());
        let mut v = Vec::with_capacity(params.len());
        for (name, p) in params {
            m.push(p.f_zeros_like()?.f_detach()?);
            v.push(p.f_zeros_like()?.f_detach()?);
            names.push(name);
            ps.push(p);
        }
        Ok(Self { cfg, names, params: ps, m, v, step: 0 })
    }

    /// Replaces the hyperparameters (stage overrides); moments are kept.
    pub fn set_config(&mut self, cfg: AdamWConfig) {
        self.cfg = cfg;
    }

    /// Updates taken so far.
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// Clears all gradients.
    pub fn zero_grad(&mut self) -> Result<()> {
        for p in &self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.f_detach_()?;
                let _ = g.f_zero_()?;
            }
        }
        Ok(())
    }

    /// Global L2 norm of all gradients; when above `max_norm`, scales them by
    /// `max_norm / (norm + 1e-6)` (as `clip_grad_norm_`). Returns the norm before clipping.
    pub fn clip_grad_norm(&mut self, max_norm: f64) -> Result<f64> {
        tch::no_grad(|| -> Result<f64> {
            let mut sq = 0.0f64;
            for p in &self.params {
                let g = p.grad();
                if g.defined() {
                    let n = g.f_norm()?.f_to_kind(Kind::Double)?.double_value(&[]);
                    sq += n * n;
                }
            }
            let total = sq.sqrt();
            if !total.is_finite() {
                return Ok(total);
            }
            let coef = (max_norm / (total + 1e-6)).min(1.0);
            if coef < 1.0 {
                for p in &self.params {
                    let mut g = p.grad();
                    if g.defined() {
                        let _ = g.f_mul_scalar_(coef)?;
                    }
                }
            }
            Ok(total)
        })
    }

    /// One AdamW update with learning rate `lr` (parameters without a gradient are skipped).
    pub fn step(&mut self, lr: f64) -> Result<()> {
        self.step += 1;
        let t = self.step as i32;
        let AdamWConfig { beta1, beta2, eps, weight_decay } = self.cfg;
        let bc1 = 1.0 - beta1.powi(t);
        let bc2_sqrt = (1.0 - beta2.powi(t)).sqrt();
        tch::no_grad(|| -> Result<()> {
            for ((p, m), v) in self.params.iter_mut().zip(self.m.iter_mut()).zip(self.v.iter_mut()) {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                let g = g.f_to_kind(m.kind())?;
                let _ = p.f_mul_scalar_(1.0 - lr * weight_decay)?;
                let _ = m.f_lerp_(&g, 1.0 - beta1)?;
                let _ = v.f_mul_scalar_(beta2)?.f_addcmul_(&g.f_mul_scalar(1.0 - beta2)?, &g)?;
                let denom = v.f_sqrt()?.f_div_scalar(bc2_sqrt)?.f_add_scalar(eps)?;
                let update = m.f_div(&denom)?.f_mul_scalar(-lr / bc1)?;
                let _ = p.f_add_(&update.f_to_kind(p.kind())?)?;
            }
            Ok(())
        })
    }

    /// Moments as named tensors (`exp_avg.<name>`, `exp_avg_sq.<name>`) for checkpoints.
    pub fn state_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(2 * self.names.len());
        for ((n, m), v) in self.names.iter().zip(&self.m).zip(&self.v) {
            out.push((format!("exp_avg.{n}"), m.shallow_clone()));
            out.push((format!("exp_avg_sq.{n}"), v.shallow_clone()));
        }
        out
    }

    /// Restores moments saved by [`AdamW::state_tensors`] and the update count.
    pub fn load_state(&mut self, tensors: &[(String, Tensor)], step: u64, origin: &std::path::Path) -> Result<()> {
        let map: std::collections::HashMap<&str, &Tensor> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
        for ((n, m), v) in self.names.iter().zip(self.m.iter_mut()).zip(self.v.iter_mut()) {
            for (prefix, dst) in [("exp_avg", m), ("exp_avg_sq", v)] {
                let key = format!("{prefix}.{n}");
                let src = map.get(key.as_str()).ok_or_else(|| TrainError::Checkpoint {
                    path: origin.to_path_buf(),
                    message: format!("optimizer state lacks `{key}`"),
                })?;
                if src.size() != dst.size() {
                    return Err(TrainError::Checkpoint {
                        path: origin.to_path_buf(),
                        message: format!("`{key}` has shape {:?}, model wants {:?}", src.size(), dst.size()),
                    });
                }
                tch::no_grad(|| dst.f_copy_(src))?;
            }
        }
        self.step = step;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_weight_by_lr_against_the_gradient_sign() {
        // Step 1: m̂ = g, v̂ = g², update = lr·g/(|g|+eps) ≈ lr·sign(g); decay multiplies by (1 − lr·wd).
        let p = Tensor::from_slice(&[1.0f64, -2.0]).set_requires_grad(true);
        let mut opt =
            AdamW::new(vec![("w".into(), p.shallow_clone())], AdamWConfig { eps: 0.0, ..Default::default() }).unwrap();
        let loss = (&p * Tensor::from_slice(&[3.0f64, -0.5])).sum(Kind::Double);
        loss.backward();
        opt.step(0.1).unwrap();
        let got = Vec::<f64>::try_from(&p).unwrap();
        let want = [1.0 * (1.0 - 0.1 * 0.01) - 0.1, -2.0 * (1.0 - 0.1 * 0.01) + 0.1];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn clip_scales_to_max_norm() {
        let p = Tensor::from_slice(&[0.0f64, 0.0]).set_requires_grad(true);
        let mut opt = AdamW::new(vec![("w".into(), p.shallow_clone())], AdamWConfig::default()).unwrap();
        (&p * Tensor::from_slice(&[3.0f64, 4.0])).sum(Kind::Double).backward();
        let norm = opt.clip_grad_norm(1.0).unwrap();
        assert!((norm - 5.0).abs() < 1e-12);
        let g = Vec::<f64>::try_from(p.grad()).unwrap();
        let c = 1.0 / (5.0 + 1e-6);
        assert!((g[0] - 3.0 * c).abs() < 1e-12 && (g[1] - 4.0 * c).abs() < 1e-12, "{g:?}");
    }
}
