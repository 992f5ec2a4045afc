//! Training forward: per-token log-probs of given completion tokens, with gradients, and per-token
//! entropy for logging (the quantities GRPO needs; SRL paper arXiv 2510.25992 §3, DeepSeekMath
//! arXiv 2402.03300 for GRPO).
//!
//! Only positions whose token is marked in `completion_mask` go through the LM head: the final
//! hidden states of those positions are gathered first and projected to the vocabulary in chunks
//! of [`LOGIT_CHUNK`] tokens, each reduced at once to `logit[target] − logsumexp(logits)`, so no
//! `[B, T, V]` tensor (and no full log-softmax) is ever built.

use crate::error::{ModelError, Result};
use crate::qwen2::Qwen2Model;
use tch::{Kind, Tensor};

/// Tokens per LM-head chunk.
pub const LOGIT_CHUNK: i64 = 1024;

/// A left-padded batch of prompt + completion sequences.
///
/// # Shapes
/// All `[B, T]`: `input_ids` int64 token ids; `attention_mask` 1 on real tokens, 0 on padding;
/// `completion_mask` 1 on completion tokens whose log-prob is wanted (0 on prompt and padding).
#[derive(Debug)]
pub struct LogprobBatch {
    /// Token ids.
    pub input_ids: Tensor,
    /// Real (1) vs padding (0).
    pub attention_mask: Tensor,
    /// Completion tokens (1) whose log-prob is returned.
    pub completion_mask: Tensor,
}

impl LogprobBatch {
    /// Builds a left-padded batch from (prompt, completion) token lists; `completion_mask` covers
    /// exactly the completion tokens. `pad_id` fills padding (its value does not matter).
    pub fn from_pairs(pairs: &[(Vec<u32>, Vec<u32>)], pad_id: u32, device: crate::Device) -> Result<Self> {
        if pairs.is_empty() {
            return Err(ModelError::Input("empty batch".into()));
        }
        let t = pairs.iter().map(|(p, c)| p.len() + c.len()).max().unwrap_or(0);
        let b = pairs.len();
        let mut ids = vec![i64::from(pad_id); b * t];
        let mut attn = vec![0i64; b * t];
        let mut comp = vec![0i64; b * t];
        for (row, (p, c)) in pairs.iter().enumerate() {
            if p.is_empty() {
                return Err(ModelError::Input(format!("pair {row}: empty prompt (the first token has no log-prob)")));
            }
            let start = t - p.len() - c.len();
            for (j, &tok) in p.iter().chain(c.iter()).enumerate() {
                ids[row * t + start + j] = i64::from(tok);
                attn[row * t + start + j] = 1;
                if j >= p.len() {
                    comp[row * t + start + j] = 1;
                }
            }
        }
        let dev = device.to_tch();
        let shape = [b as i64, t as i64];
        Ok(Self {
            input_ids: Tensor::from_slice(&ids).f_reshape(shape)?.f_to_device(dev)?,
            attention_mask: Tensor::from_slice(&attn).f_reshape(shape)?.f_to_device(dev)?,
            completion_mask: Tensor::from_slice(&comp).f_reshape(shape)?.f_to_device(dev)?,
        })
    }
}

/// Per-token log-probs and entropies of a batch.
///
/// Returns `(logp, entropy)`, both `[B, T]` f32, **aligned with the tokens**: `logp[b, t]` is
/// `log p(input_ids[b, t] | input_ids[b, ..t])` (predicted from position `t − 1`) where
/// `completion_mask[b, t] == 1`, and exactly 0 elsewhere (also at `t = 0`, which has no
/// prediction). `logp` carries gradients to the model's variables (call under `tch::no_grad` for
/// reference / old-policy log-probs); `entropy[b, t]` is the entropy of that same predictive
/// distribution, computed without gradients.
pub fn sequence_logprobs(model: &Qwen2Model, batch: &LogprobBatch) -> Result<(Tensor, Tensor)> {
    let size = batch.input_ids.size();
    let (b, t) = match size.as_slice() {
        &[b, t] => (b, t),
        s => return Err(ModelError::Input(format!("input_ids must be [B, T], got {s:?}"))),
    };
    for (name, m) in [("attention_mask", &batch.attention_mask), ("completion_mask", &batch.completion_mask)] {
        if m.size() != size {
            return Err(ModelError::Input(format!("{name} must be {size:?} like input_ids, got {:?}", m.size())));
        }
    }
    let dev = model.device().to_tch();
    let hidden = model.forward_hidden(&batch.input_ids, &batch.attention_mask, None)?; // [B, T, H]
    let h_dim = hidden.size()[2];
    if t < 2 {
        let z = Tensor::f_zeros([b, t], (Kind::Float, dev))?;
        return Ok((z.shallow_clone(), z));
    }
    // Predictions for tokens 1..T come from hidden states 0..T-1.
    let sel = batch
        .completion_mask
        .f_to_device(dev)?
        .f_narrow(1, 1, t - 1)?
        .f_ne(0)?
        .f_logical_and(&batch.attention_mask.f_to_device(dev)?.f_narrow(1, 1, t - 1)?.f_ne(0)?)?
        .f_reshape([-1])?;
    let idx = sel.f_nonzero()?.f_reshape([-1])?; // [N]
    let n = idx.size()[0];
    let flat_len = b * (t - 1);
    let h = hidden.f_narrow(1, 0, t - 1)?.f_reshape([flat_len, h_dim])?.f_index_select(0, &idx)?; // [N, H]
    let targets = batch
        .input_ids
        .f_to_device(dev)?
        .f_to_kind(Kind::Int64)?
        .f_narrow(1, 1, t - 1)?
        .f_reshape([-1])?
        .f_index_select(0, &idx)?;
    let w = model.lm_head_weight();
    let mut logps = Vec::new();
    let mut ents = Vec::new();
    let mut start = 0;
    while start < n {
        let len = LOGIT_CHUNK.min(n - start);
        let logits = h.f_narrow(0, start, len)?.f_linear(w, None::<&Tensor>)?.f_to_kind(Kind::Float)?; // [n, V]
        let lse = logits.f_logsumexp([-1i64].as_slice(), false)?; // [n]
        let tgt = logits.f_gather(1, &targets.f_narrow(0, start, len)?.f_unsqueeze(1)?, false)?.f_squeeze_dim(1)?;
        logps.push(tgt.f_sub(&lse)?);
        let ent = tch::no_grad(|| -> Result<Tensor> {
            let logits = logits.f_detach()?;
            let lse = lse.f_detach()?;
            let p = logits.f_sub(&lse.f_unsqueeze(1)?)?.f_exp()?;
            Ok(lse.f_sub(&p.f_mul(&logits)?.f_sum_dim_intlist([-1i64].as_slice(), false, Kind::Float)?)?)
        })?;
        ents.push(ent);
        start += len;
    }
    let zeros = Tensor::f_zeros([flat_len], (Kind::Float, dev))?;
    let (logp_sel, ent_sel) = if logps.is_empty() {
        (Tensor::f_zeros([0], (Kind::Float, dev))?, Tensor::f_zeros([0], (Kind::Float, dev))?)
    } else {
        (Tensor::f_cat(&logps, 0)?, Tensor::f_cat(&ents, 0)?)
    };
    let logp = zeros.f_index_add(0, &idx, &logp_sel)?.f_reshape([b, t - 1])?.f_constant_pad_nd([1i64, 0].as_slice())?;
    let ent = zeros.f_index_add(0, &idx, &ent_sel)?.f_reshape([b, t - 1])?.f_constant_pad_nd([1i64, 0].as_slice())?;
    Ok((logp, ent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qwen2::tests::small_config;
    use crate::{DType, Device};

    /// Reference: full log-softmax over the vocabulary for one unpadded sequence.
    fn reference(model: &Qwen2Model, tokens: &[i64]) -> (Vec<f32>, Vec<f32>) {
        let n = tokens.len() as i64;
        let ids = Tensor::from_slice(tokens).reshape([1, n]);
        let logits = model.forward(&ids, &Tensor::ones([1, n], (Kind::Int64, tch::Device::Cpu)), None).unwrap().get(0);
        let logsm = logits.log_softmax(-1, Kind::Float);
        let mut lp = vec![0f32];
        let mut ent = vec![0f32];
        for i in 1..n {
            let row = logsm.get(i - 1);
            lp.push(row.double_value(&[tokens[i as usize]]) as f32);
            ent.push(-(row.exp() * &row).sum(Kind::Float).double_value(&[]) as f32);
        }
        (lp, ent)
    }

    #[test]
    fn matches_full_log_softmax_on_a_padded_batch_and_masks_prompts() {
        let m = Qwen2Model::new_random_with_std(&small_config(true), Device::Cpu, DType::F32, 5, 0.2).unwrap();
        let pairs = vec![(vec![3u32, 4, 5], vec![6u32, 7]), (vec![8u32], vec![9u32, 10, 11, 12, 13])];
        let batch = LogprobBatch::from_pairs(&pairs, 0, Device::Cpu).unwrap();
        let (lp, ent) = sequence_logprobs(&m, &batch).unwrap();
        assert_eq!(lp.size(), vec![2, 6]);
        assert!(lp.requires_grad(), "log-probs must carry gradients");
        for (row, (p, c)) in pairs.iter().enumerate() {
            let toks: Vec<i64> = p.iter().chain(c).map(|&x| i64::from(x)).collect();
            let (ref_lp, ref_ent) = reference(&m, &toks);
            let pad = 6 - toks.len();
            for (j, (&rl, &re)) in ref_lp.iter().zip(&ref_ent).enumerate() {
                let got = lp.double_value(&[row as i64, (pad + j) as i64]) as f32;
                let got_e = ent.double_value(&[row as i64, (pad + j) as i64]) as f32;
                if j >= p.len() {
                    assert!((got - rl).abs() < 1e-5, "row {row} tok {j}: {got} vs {rl}");
                    assert!((got_e - re).abs() < 1e-4, "row {row} tok {j}: entropy {got_e} vs {re}");
                } else {
                    assert_eq!(got, 0.0, "prompt token {j} of row {row} must be masked");
                }
            }
        }
    }

    #[test]
    fn gradients_reach_the_tied_embedding() {
        let m = Qwen2Model::new_random(&small_config(true), Device::Cpu, DType::F32, 6).unwrap();
        let batch = LogprobBatch::from_pairs(&[(vec![1, 2], vec![3, 4])], 0, Device::Cpu).unwrap();
        let (lp, _) = sequence_logprobs(&m, &batch).unwrap();
        lp.sum(Kind::Float).backward();
        let g = m.lm_head_weight().grad();
        assert!(g.defined() && g.abs().sum(Kind::Float).double_value(&[]) > 0.0);
    }

    #[test]
    fn rejects_mismatched_masks() {
        let m = Qwen2Model::new_random(&small_config(true), Device::Cpu, DType::F32, 7).unwrap();
        let batch = LogprobBatch {
            input_ids: Tensor::zeros([1, 4], (Kind::Int64, tch::Device::Cpu)),
            attention_mask: Tensor::ones([1, 4], (Kind::Int64, tch::Device::Cpu)),
            completion_mask: Tensor::ones([1, 3], (Kind::Int64, tch::Device::Cpu)),
        };
        assert!(sequence_logprobs(&m, &batch).unwrap_err().to_string().contains("completion_mask"));
        assert!(LogprobBatch::from_pairs(&[(vec![], vec![1])], 0, Device::Cpu).is_err());
    }
}
