//! Training forward: per-token log-probs of given completion tokens, with gradients, and per-token
//! entropy for logging (the quantities GRPO needs; SRL paper arXiv 2510.25992 §3, DeepSeekMath
//! arXiv 2402.03300 for GRPO).
//!
//! Only positions whose token is marked in `completion_mask` go through the LM head: the final
//! hidden states of those positions are gathered first and projected to the vocabulary in chunks
//! of [`LOGIT_CHUNK`] tokens, each reduced at once to `logit[target] − logsumexp(logits)`, so no
//! `[B, T, V]` tensor (and no full log-softmax) is ever built.
//!
//! For training, [`chunked_logprobs_backward`] also keeps autograd from holding every chunk's
//! logits: the gathered hidden states are cut from the graph into a leaf, each chunk's loss is
//! backpropagated as soon as it is computed (into the LM-head weight and the leaf's gradient), and
//! the accumulated hidden-state gradient then goes through the transformer in one backward. This
//! is exact for any loss that is a sum of per-token terms with normalizers known in advance (the
//! token-level GRPO and SFT losses are), and bounds the LM head's memory by one chunk's
//! `[chunk, V]` logits (the approach of Liger-Kernel's fused linear cross-entropy and of
//! torchtune's chunked output loss, here in plain libtorch ops).

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
        let rows: Vec<MaskedRow<'_>> =
            pairs.iter().map(|(p, c)| MaskedRow { prompt: p, completion: c, mask: None }).collect();
        Self::from_rows(&rows, pad_id, device)
    }

    /// Builds a left-padded batch whose `completion_mask` is 1 only where each row's `mask` is
    /// true (e.g. policy tokens of a multi-turn episode, with tool observations inside the
    /// completion masked out); `mask: None` marks every completion token.
    pub fn from_rows(rows: &[MaskedRow<'_>], pad_id: u32, device: crate::Device) -> Result<Self> {
        if rows.is_empty() {
            return Err(ModelError::Input("empty batch".into()));
        }
        let t = rows.iter().map(|r| r.prompt.len() + r.completion.len()).max().unwrap_or(0);
        let b = rows.len();
        let mut ids = vec![i64::from(pad_id); b * t];
        let mut attn = vec![0i64; b * t];
        let mut comp = vec![0i64; b * t];
        for (row, r) in rows.iter().enumerate() {
            let (p, c) = (r.prompt, r.completion);
            if p.is_empty() {
                return Err(ModelError::Input(format!("pair {row}: empty prompt (the first token has no log-prob)")));
            }
            if let Some(m) = r.mask {
                if m.len() != c.len() {
                    return Err(ModelError::Input(format!(
                        "row {row}: mask has {} entries for {} completion tokens",
                        m.len(),
                        c.len()
                    )));
                }
            }
            let start = t - p.len() - c.len();
            for (j, &tok) in p.iter().chain(c.iter()).enumerate() {
                ids[row * t + start + j] = i64::from(tok);
                attn[row * t + start + j] = 1;
                if j >= p.len() && r.mask.is_none_or(|m| m[j - p.len()]) {
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

/// One row of [`LogprobBatch::from_rows`].
#[derive(Debug, Clone, Copy)]
pub struct MaskedRow<'a> {
    /// Context tokens (never scored).
    pub prompt: &'a [u32],
    /// Tokens after the prompt.
    pub completion: &'a [u32],
    /// Which completion tokens are scored (`None`: all).
    pub mask: Option<&'a [bool]>,
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
    sequence_logprobs_at(model, batch, 1.0)
}

/// [`sequence_logprobs`] of the distribution `softmax(logits / temperature)` (veRL's actor
/// divides the logits by the rollout temperature before the log-softmax).
pub fn sequence_logprobs_at(model: &Qwen2Model, batch: &LogprobBatch, temperature: f64) -> Result<(Tensor, Tensor)> {
    let Selected { b, t, idx, h, targets } = match select(model, batch)? {
        Some(s) => s,
        None => {
            let size = batch.input_ids.size();
            let z = Tensor::f_zeros([size[0], size[1]], (Kind::Float, model.device().to_tch()))?;
            return Ok((z.shallow_clone(), z));
        }
    };
    let n = idx.size()[0];
    let mut logps = Vec::new();
    let mut ents = Vec::new();
    let mut start = 0;
    while start < n {
        let len = LOGIT_CHUNK.min(n - start);
        let (lp, ent) =
            chunk_logprobs(model, &h.f_narrow(0, start, len)?, &targets.f_narrow(0, start, len)?, temperature, false)?;
        logps.push(lp);
        ents.push(ent);
        start += len;
    }
    scatter_back(b, t, &idx, &logps, &ents, model.device().to_tch())
}

/// Settings of [`chunked_logprobs_backward`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChunkedOptions {
    /// Logits are divided by this before the softmax.
    pub temperature: f64,
    /// Scored tokens per LM-head chunk (bounds the `[chunk, V]` logits alive at once).
    pub chunk_tokens: i64,
    /// Whether the chunk's entropy carries gradients (needed for an entropy bonus).
    pub entropy_grad: bool,
}

impl Default for ChunkedOptions {
    fn default() -> Self {
        Self { temperature: 1.0, chunk_tokens: LOGIT_CHUNK, entropy_grad: false }
    }
}

/// One chunk of scored tokens handed to the loss of [`chunked_logprobs_backward`].
///
/// # Shapes
/// All `[n]`: `positions` int64 flat indices `b * T + t` into the batch's `[B, T]` layout (the
/// token `input_ids[b, t]`); `logp` f32 with gradients; `entropy` f32 (with gradients when asked).
#[derive(Debug)]
pub struct LogprobChunk {
    /// Where the chunk's tokens sit in `[B, T]`, flattened.
    pub positions: Tensor,
    /// log p(token) under `softmax(logits / temperature)`.
    pub logp: Tensor,
    /// Entropy of that distribution.
    pub entropy: Tensor,
}

/// Training forward and backward with a memory-bounded LM head.
///
/// Runs the transformer once with gradients, then for every chunk of at most
/// `opts.chunk_tokens` scored tokens: projects them to the vocabulary, computes log-probs (and
/// entropies), calls `loss(chunk)` and immediately backpropagates the scalar it returns (`None`:
/// nothing to backpropagate) into the LM-head weight and a detached copy of the hidden states.
/// Finally the accumulated hidden-state gradient is sent through the transformer in one
/// backward. Parameter gradients **accumulate** (call `zero_grad` before, as usual); the result
/// equals backpropagating the sum of all chunk losses through the full-logits computation.
///
/// Returns `(logp, entropy)`, detached, `[B, T]`, laid out like [`sequence_logprobs`].
pub fn chunked_logprobs_backward<E>(
    model: &Qwen2Model,
    batch: &LogprobBatch,
    opts: &ChunkedOptions,
    mut loss: impl FnMut(&LogprobChunk) -> std::result::Result<Option<Tensor>, E>,
) -> std::result::Result<(Tensor, Tensor), E>
where
    E: From<ModelError>,
{
    let dev = model.device().to_tch();
    let Selected { b, t, idx, h, targets } = match select(model, batch)? {
        Some(s) => s,
        None => {
            let size = batch.input_ids.size();
            let z = Tensor::f_zeros([size[0], size[1]], (Kind::Float, dev)).map_err(ModelError::from)?;
            return Ok((z.shallow_clone(), z));
        }
    };
    let tch_err = |e: tch::TchError| E::from(ModelError::from(e));
    let n = idx.size()[0];
    // The leaf cuts the graph: chunk backwards stop here and accumulate into `leaf.grad`.
    let leaf = h.f_detach().map_err(tch_err)?.f_set_requires_grad(true).map_err(tch_err)?;
    // Flat [B, T] positions of the targets (`idx` counts over [B, T − 1], shifted by one).
    let positions = idx
        .f_div_scalar_mode(t - 1, "floor")
        .and_then(|row| row.f_mul_scalar(t)?.f_add(&idx.f_remainder(t - 1)?)?.f_add_scalar(1))
        .map_err(tch_err)?;
    let chunk = opts.chunk_tokens.max(1);
    let mut logps = Vec::new();
    let mut ents = Vec::new();
    let mut start = 0;
    while start < n {
        let len = chunk.min(n - start);
        let hc = leaf.f_narrow(0, start, len).map_err(tch_err)?;
        let tc = targets.f_narrow(0, start, len).map_err(tch_err)?;
        let (logp, entropy) = chunk_logprobs(model, &hc, &tc, opts.temperature, opts.entropy_grad)?;
        let view = LogprobChunk {
            positions: positions.f_narrow(0, start, len).map_err(tch_err)?,
            logp: logp.shallow_clone(),
            entropy: entropy.shallow_clone(),
        };
        if let Some(l) = loss(&view)? {
            if l.requires_grad() {
                l.f_backward().map_err(tch_err)?;
            }
        }
        logps.push(logp.f_detach().map_err(tch_err)?);
        ents.push(entropy.f_detach().map_err(tch_err)?);
        start += len;
    }
    let grad = leaf.grad();
    if grad.defined() && h.requires_grad() {
        // d/dh Σ(h · g) = g: one backward of the accumulated gradient through the transformer.
        h.f_mul(&grad).and_then(|x| x.f_sum(Kind::Float)).and_then(|s| s.f_backward()).map_err(tch_err)?;
    }
    Ok(scatter_back(b, t, &idx, &logps, &ents, dev)?)
}

/// Hidden states and targets of the scored tokens of a batch.
struct Selected {
    b: i64,
    t: i64,
    /// `[N]` flat indices into `[B, T − 1]`.
    idx: Tensor,
    /// `[N, H]` final hidden states predicting the scored tokens.
    h: Tensor,
    /// `[N]` the scored tokens.
    targets: Tensor,
}

fn select(model: &Qwen2Model, batch: &LogprobBatch) -> Result<Option<Selected>> {
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
    if t < 2 {
        return Ok(None);
    }
    let hidden = model.forward_hidden(&batch.input_ids, &batch.attention_mask, None)?; // [B, T, H]
    let h_dim = hidden.size()[2];
    // Predictions for tokens 1..T come from hidden states 0..T-1.
    let sel = batch
        .completion_mask
        .f_to_device(dev)?
        .f_narrow(1, 1, t - 1)?
        .f_ne(0)?
        .f_logical_and(&batch.attention_mask.f_to_device(dev)?.f_narrow(1, 1, t - 1)?.f_ne(0)?)?
        .f_reshape([-1])?;
    let idx = sel.f_nonzero()?.f_reshape([-1])?; // [N]
    let flat_len = b * (t - 1);
    let h = hidden.f_narrow(1, 0, t - 1)?.f_reshape([flat_len, h_dim])?.f_index_select(0, &idx)?; // [N, H]
    let targets = batch
        .input_ids
        .f_to_device(dev)?
        .f_to_kind(Kind::Int64)?
        .f_narrow(1, 1, t - 1)?
        .f_reshape([-1])?
        .f_index_select(0, &idx)?;
    Ok(Some(Selected { b, t, idx, h, targets }))
}

/// Log-probs of `targets` and entropies for one chunk of hidden states.
///
/// # Shapes
/// `h: [n, H]`, `targets: [n]` → `([n], [n])` f32.
fn chunk_logprobs(
    model: &Qwen2Model,
    h: &Tensor,
    targets: &Tensor,
    temperature: f64,
    entropy_grad: bool,
) -> Result<(Tensor, Tensor)> {
    let mut logits = h.f_linear(model.lm_head_weight(), None::<&Tensor>)?.f_to_kind(Kind::Float)?; // [n, V]
    if temperature != 1.0 {
        logits = logits.f_div_scalar(temperature)?;
    }
    let lse = logits.f_logsumexp([-1i64].as_slice(), false)?; // [n]
    let tgt = logits.f_gather(1, &targets.f_unsqueeze(1)?, false)?.f_squeeze_dim(1)?;
    let logp = tgt.f_sub(&lse)?;
    let entropy = |logits: &Tensor, lse: &Tensor| -> Result<Tensor> {
        let p = logits.f_sub(&lse.f_unsqueeze(1)?)?.f_exp()?;
        Ok(lse.f_sub(&p.f_mul(logits)?.f_sum_dim_intlist([-1i64].as_slice(), false, Kind::Float)?)?)
    };
    let ent = if entropy_grad {
        entropy(&logits, &lse)?
    } else {
        tch::no_grad(|| entropy(&logits.f_detach()?, &lse.f_detach()?))?
    };
    Ok((logp, ent))
}

/// `[B, T]` tensors holding the chunk results at their tokens (0 elsewhere).
fn scatter_back(
    b: i64,
    t: i64,
    idx: &Tensor,
    logps: &[Tensor],
    ents: &[Tensor],
    dev: tch::Device,
) -> Result<(Tensor, Tensor)> {
    let flat_len = b * (t - 1);
    let zeros = Tensor::f_zeros([flat_len], (Kind::Float, dev))?;
    let (logp_sel, ent_sel) = if logps.is_empty() {
        (Tensor::f_zeros([0], (Kind::Float, dev))?, Tensor::f_zeros([0], (Kind::Float, dev))?)
    } else {
        (Tensor::f_cat(logps, 0)?, Tensor::f_cat(ents, 0)?)
    };
    let logp = zeros.f_index_add(0, idx, &logp_sel)?.f_reshape([b, t - 1])?.f_constant_pad_nd([1i64, 0].as_slice())?;
    let ent = zeros.f_index_add(0, idx, &ent_sel)?.f_reshape([b, t - 1])?.f_constant_pad_nd([1i64, 0].as_slice())?;
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

    /// Chunked backward (chunks of 2 tokens, masked tokens inside a completion, temperature,
    /// entropy with gradients) equals autograd through the full `[B, T, V]` log-softmax.
    #[test]
    fn chunked_backward_matches_full_logits_autograd() {
        let m = Qwen2Model::new_random_with_std(&small_config(true), Device::Cpu, DType::F32, 8, 0.2).unwrap();
        let rows = [
            MaskedRow { prompt: &[3, 4, 5], completion: &[6, 7, 8, 9], mask: Some(&[true, false, true, true]) },
            MaskedRow { prompt: &[8], completion: &[9, 10, 11], mask: None },
        ];
        let batch = LogprobBatch::from_rows(&rows, 0, Device::Cpu).unwrap();
        let temp = 0.7;
        let (b, t) = (2, 7);
        let weights = Tensor::arange(b * t, (Kind::Float, tch::Device::Cpu)).f_div_scalar(10.0).unwrap().sin();
        let grads =
            |m: &Qwen2Model| -> Vec<Tensor> { m.named_weights().iter().map(|(_, w)| w.grad().copy()).collect() };
        let zero = |m: &Qwen2Model| {
            for (_, w) in m.named_weights() {
                let mut g = w.grad();
                if g.defined() {
                    let _ = g.zero_();
                }
            }
        };
        // Full reference: [B, T, V] logits, log-softmax, gather, entropy, all with autograd.
        zero(&m);
        let logits = m.forward(&batch.input_ids, &batch.attention_mask, None).unwrap().narrow(1, 0, t - 1) / temp;
        let logsm = logits.log_softmax(-1, Kind::Float);
        let tgt = batch.input_ids.narrow(1, 1, t - 1).unsqueeze(-1);
        let lp = logsm.gather(-1, &tgt, false).squeeze_dim(-1).constant_pad_nd([1, 0]);
        let ent = (-(logsm.exp() * &logsm).sum_dim_intlist(-1, false, Kind::Float)).constant_pad_nd([1, 0]);
        let mask = batch.completion_mask.to_kind(Kind::Float);
        let w2 = weights.view([b, t]);
        let full_loss = ((&lp * &w2 + &ent * &w2 * 0.1) * &mask).sum(Kind::Float);
        full_loss.backward();
        let want = grads(&m);
        zero(&m);
        let opts = ChunkedOptions { temperature: temp, chunk_tokens: 2, entropy_grad: true };
        let (got_lp, got_ent) = chunked_logprobs_backward::<ModelError>(&m, &batch, &opts, |c| {
            let w = weights.index_select(0, &c.positions);
            Ok(Some((&c.logp * &w + &c.entropy * &w * 0.1).sum(Kind::Float)))
        })
        .unwrap();
        let got = grads(&m);
        let max_diff = |a: &Tensor, b: &Tensor| (a - b).abs().max().double_value(&[]);
        assert!(max_diff(&(got_lp * &mask), &(lp.detach() * &mask)) < 1e-5);
        assert!(max_diff(&(got_ent * &mask), &(ent.detach() * &mask)) < 1e-5);
        // 1e-5 relative to the gradient's scale: the chunked and the full backward sum the same
        // f32 terms in different orders (the tied embedding collects every chunk's LM-head part).
        for ((name, _), (g, w)) in m.named_weights().iter().zip(got.iter().zip(&want)) {
            let scale = 1.0 + w.abs().max().double_value(&[]);
            assert!(max_diff(g, w) < 1e-5 * scale, "{name}: gradient differs by {} (scale {scale})", max_diff(g, w));
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
