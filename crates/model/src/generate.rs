//! Batched autoregressive generation with a KV cache: left-padded prefill over prompts of
//! different lengths, then one token per step for every unfinished sequence; greedy or
//! temperature / top-k / top-p (nucleus, Holtzman et al. arXiv 1904.09751) sampling, seeded per
//! sequence; stops on EOS ids, stop strings or `max_new_tokens`. Mirrors what transformers'
//! `generate` (and vLLM's sampler) do, and returns the log-prob of every sampled token.
//!
//! The reported log-prob is the one of the **unmodified** model distribution (temperature 1, no
//! truncation), the same quantity [`crate::sequence_logprobs`] computes, so a trainer can use it
//! as the old-policy log-prob when sampling at temperature 1.

use crate::error::{ModelError, Result};
use crate::qwen2::Qwen2Model;
use crate::tokenizer::Tokenizer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// Sampling settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GenerationConfig {
    /// Most tokens generated per sequence.
    pub max_new_tokens: usize,
    /// Softmax temperature; 0 means greedy (argmax).
    pub temperature: f64,
    /// Nucleus mass in (0, 1]; 1 disables.
    pub top_p: f64,
    /// Keep only the `top_k` most likely tokens; 0 disables.
    pub top_k: usize,
    /// Token ids that end a sequence (kept as its last token), e.g. `<|im_end|>`, `<|endoftext|>`.
    pub stop_token_ids: Vec<u32>,
    /// Strings that end a sequence (needs a tokenizer; the text is cut before the match).
    pub stop_strings: Vec<String>,
    /// Seed; sequence `i` of a call samples from its own generator seeded with `(seed, i)`.
    pub seed: u64,
    /// One seed per prompt: when non-empty (it must then have one entry per prompt), sequence `i`
    /// samples from a generator seeded with `sequence_seeds[i]` alone, so what it draws does not
    /// depend on which other sequences share the batch or where it sits (`seed` is ignored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sequence_seeds: Vec<u64>,
}

impl Default for GenerationConfig {
    fn default() -> Self {
        Self {
            max_new_tokens: 256,
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            stop_token_ids: Vec::new(),
            stop_strings: Vec::new(),
            seed: 0,
            sequence_seeds: Vec::new(),
        }
    }
}

impl GenerationConfig {
    /// Greedy decoding of at most `max_new_tokens` tokens.
    pub fn greedy(max_new_tokens: usize) -> Self {
        Self { max_new_tokens, temperature: 0.0, ..Self::default() }
    }

    fn validate(&self) -> Result<()> {
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return Err(ModelError::Input(format!("temperature must be >= 0, got {}", self.temperature)));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(ModelError::Input(format!("top_p must be in (0, 1], got {}", self.top_p)));
        }
        Ok(())
    }
}

/// Why a sequence ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FinishReason {
    /// A stop token or stop string.
    Stop,
    /// `max_new_tokens` reached.
    Length,
}

/// One generated continuation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    /// New token ids (a final stop token included).
    pub token_ids: Vec<u32>,
    /// Decoded text without special tokens, cut before a stop string (only with a tokenizer).
    pub text: Option<String>,
    /// Log-prob of each token of `token_ids` under the model (temperature 1, no truncation).
    pub logprobs: Vec<f32>,
    /// Why it ended.
    pub finish_reason: FinishReason,
}

/// Progress of a generation call (the binary draws it; libraries never do).
pub trait GenerationProgress {
    /// Called after every decoding step with the number of still-running sequences.
    fn step(&self, step: usize, running: usize);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl GenerationProgress for NoProgress {
    fn step(&self, _step: usize, _running: usize) {}
}

/// Generates continuations of token-id prompts (no text, no stop strings).
pub fn generate(model: &Qwen2Model, prompts: &[Vec<u32>], config: &GenerationConfig) -> Result<Vec<Generation>> {
    generate_with(model, None, prompts, config, &NoProgress)
}

/// Generates continuations; with a tokenizer, fills `text` and honours `stop_strings`.
pub fn generate_with(
    model: &Qwen2Model,
    tokenizer: Option<&Tokenizer>,
    prompts: &[Vec<u32>],
    config: &GenerationConfig,
    progress: &dyn GenerationProgress,
) -> Result<Vec<Generation>> {
    config.validate()?;
    if !config.stop_strings.is_empty() && tokenizer.is_none() {
        return Err(ModelError::Input("stop_strings need a tokenizer (use generate_with)".into()));
    }
    if let Some(i) = prompts.iter().position(Vec::is_empty) {
        return Err(ModelError::Input(format!("prompt {i} is empty")));
    }
    let vocab = model.config().vocab_size;
    if let Some(bad) = prompts.iter().flatten().find(|&&t| i64::from(t) >= vocab) {
        return Err(ModelError::Input(format!("token id {bad} is outside the vocabulary ({vocab})")));
    }
    let n = prompts.len();
    if !config.sequence_seeds.is_empty() && config.sequence_seeds.len() != n {
        return Err(ModelError::Input(format!(
            "sequence_seeds has {} entries for {n} prompts",
            config.sequence_seeds.len()
        )));
    }
    let mut outs: Vec<Generation> = (0..n)
        .map(|_| Generation {
            token_ids: Vec::new(),
            text: None,
            logprobs: Vec::new(),
            finish_reason: FinishReason::Length,
        })
        .collect();
    if n == 0 || config.max_new_tokens == 0 {
        return finish_text(outs, tokenizer);
    }
    let _guard = tch::no_grad_guard();
    let dev = model.device().to_tch();
    let longest = prompts.iter().map(Vec::len).max().unwrap_or(0);
    let mut ids = vec![0i64; n * longest];
    let mut mask = vec![0i64; n * longest];
    for (row, p) in prompts.iter().enumerate() {
        let start = longest - p.len();
        for (j, &tok) in p.iter().enumerate() {
            ids[row * longest + start + j] = i64::from(tok);
            mask[row * longest + start + j] = 1;
        }
    }
    let shape = [n as i64, longest as i64];
    let ids = Tensor::from_slice(&ids).f_reshape(shape)?.f_to_device(dev)?;
    let mut mask = Tensor::from_slice(&mask).f_reshape(shape)?.f_to_device(dev)?;
    let mut cache = model.new_cache();
    let hidden = model.forward_hidden(&ids, &mask, Some(&mut cache))?;
    let mut last = hidden.f_select(1, longest as i64 - 1)?; // [B, H]
    let mut rngs: Vec<ChaCha8Rng> = (0..n)
        .map(|i| match config.sequence_seeds.get(i) {
            Some(&s) => ChaCha8Rng::seed_from_u64(s),
            None => ChaCha8Rng::seed_from_u64(config.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        })
        .collect();
    let mut running: Vec<usize> = (0..n).collect();
    for step in 0..config.max_new_tokens {
        let logp = model.logits(&last)?.f_to_kind(Kind::Float)?.f_log_softmax(-1, Kind::Float)?; // [B', V]
        let picked = pick_tokens(&logp, config, &running, &mut rngs)?;
        let mut keep = Vec::with_capacity(running.len());
        let mut next = Vec::with_capacity(running.len());
        for (row, (&seq, (tok, lp))) in running.iter().zip(picked).enumerate() {
            let out = &mut outs[seq];
            out.token_ids.push(tok);
            out.logprobs.push(lp);
            let stopped =
                config.stop_token_ids.contains(&tok) || hits_stop_string(tokenizer, out, &config.stop_strings)?;
            if stopped {
                out.finish_reason = FinishReason::Stop;
            } else {
                keep.push(row as i64);
                next.push(i64::from(tok));
            }
        }
        let new_running: Vec<usize> = keep.iter().map(|&r| running[r as usize]).collect();
        progress.step(step, new_running.len());
        if new_running.is_empty() || step + 1 == config.max_new_tokens {
            break;
        }
        if new_running.len() != running.len() {
            let rows = Tensor::from_slice(&keep).f_to_device(dev)?;
            cache.select_rows(&rows)?;
            mask = mask.f_index_select(0, &rows)?;
        }
        running = new_running;
        let b = running.len() as i64;
        mask = Tensor::f_cat(&[mask, Tensor::f_ones([b, 1], (Kind::Int64, dev))?], 1)?;
        let next = Tensor::from_slice(&next).f_reshape([b, 1])?.f_to_device(dev)?;
        last = model.forward_hidden(&next, &mask, Some(&mut cache))?.f_select(1, 0)?;
    }
    finish_text(outs, tokenizer)
}

fn finish_text(mut outs: Vec<Generation>, tokenizer: Option<&Tokenizer>) -> Result<Vec<Generation>> {
    if let Some(tok) = tokenizer {
        for out in &mut outs {
            if out.text.is_none() {
                out.text = Some(tok.decode(&out.token_ids, true)?);
            }
        }
    }
    Ok(outs)
}

/// Checks the decoded text for a stop string; on a hit stores the text cut before it.
fn hits_stop_string(tokenizer: Option<&Tokenizer>, out: &mut Generation, stops: &[String]) -> Result<bool> {
    let (Some(tok), false) = (tokenizer, stops.is_empty()) else { return Ok(false) };
    let text = tok.decode(&out.token_ids, true)?;
    let hit = stops.iter().filter(|s| !s.is_empty()).filter_map(|s| text.find(s.as_str())).min();
    match hit {
        Some(at) => {
            out.text = Some(text[..at].to_string());
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Picks one token per running row: greedy on the device, sampling on the host.
///
/// # Shapes
/// `logp: [B', V]` f32 log-softmax of the raw logits.
fn pick_tokens(
    logp: &Tensor,
    config: &GenerationConfig,
    running: &[usize],
    rngs: &mut [ChaCha8Rng],
) -> Result<Vec<(u32, f32)>> {
    if config.temperature == 0.0 {
        let tok = logp.f_argmax(-1, true)?; // [B', 1]
        let lp = logp.f_gather(1, &tok, false)?;
        let tok = Vec::<i64>::try_from(tok.f_reshape([-1])?.f_to_device(tch::Device::Cpu)?)?;
        let lp = Vec::<f32>::try_from(lp.f_reshape([-1])?.f_to_device(tch::Device::Cpu)?)?;
        return Ok(tok.into_iter().zip(lp).map(|(t, l)| (t as u32, l)).collect());
    }
    let v = logp.size()[1] as usize;
    let host = Vec::<f32>::try_from(logp.f_reshape([-1])?.f_to_device(tch::Device::Cpu)?)?;
    let mut out = Vec::with_capacity(running.len());
    for (row, &seq) in running.iter().enumerate() {
        let lp = &host[row * v..(row + 1) * v];
        let tok = sample_one(lp, config, &mut rngs[seq]);
        out.push((tok as u32, lp[tok]));
    }
    Ok(out)
}

/// Samples from `softmax(logp / temperature)` restricted to top-k, then to the nucleus top-p.
pub(crate) fn sample_one(logp: &[f32], config: &GenerationConfig, rng: &mut ChaCha8Rng) -> usize {
    let inv_t = 1.0 / config.temperature;
    let mut cand: Vec<(usize, f64)> = logp.iter().enumerate().map(|(i, &l)| (i, f64::from(l) * inv_t)).collect();
    let by_score = |a: &(usize, f64), b: &(usize, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if config.top_k > 0 && config.top_k < cand.len() {
        cand.select_nth_unstable_by(config.top_k - 1, by_score);
        cand.truncate(config.top_k);
    }
    let max = cand.iter().map(|c| c.1).fold(f64::NEG_INFINITY, f64::max);
    for c in &mut cand {
        c.1 = (c.1 - max).exp();
    }
    if config.top_p < 1.0 {
        cand.sort_by(by_score);
        let total: f64 = cand.iter().map(|c| c.1).sum();
        let mut cum = 0.0;
        let mut keep = cand.len();
        for (i, c) in cand.iter().enumerate() {
            cum += c.1 / total;
            if cum >= config.top_p {
                keep = i + 1;
                break;
            }
        }
        cand.truncate(keep.max(1));
    }
    let total: f64 = cand.iter().map(|c| c.1).sum();
    let mut u = rng.random::<f64>() * total;
    for c in &cand {
        u -= c.1;
        if u <= 0.0 {
            return c.0;
        }
    }
    cand.last().map_or(0, |c| c.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qwen2::tests::small_config;
    use crate::{DType, Device};

    fn model() -> Qwen2Model {
        Qwen2Model::new_random_with_std(&small_config(true), Device::Cpu, DType::F32, 11, 0.3).unwrap()
    }

    /// Greedy reference without cache or batching: full forward over the growing sequence.
    fn greedy_reference(m: &Qwen2Model, prompt: &[u32], steps: usize) -> Vec<u32> {
        let mut seq: Vec<i64> = prompt.iter().map(|&t| i64::from(t)).collect();
        let mut out = Vec::new();
        for _ in 0..steps {
            let n = seq.len() as i64;
            let logits = m
                .forward(
                    &Tensor::from_slice(&seq).reshape([1, n]),
                    &Tensor::ones([1, n], (Kind::Int64, tch::Device::Cpu)),
                    None,
                )
                .unwrap();
            let tok = logits.get(0).get(n - 1).argmax(-1, false).int64_value(&[]);
            out.push(tok as u32);
            seq.push(tok);
        }
        out
    }

    #[test]
    fn batched_greedy_with_cache_matches_unbatched_full_recompute() {
        let m = model();
        let prompts = vec![vec![1u32, 2, 3, 4, 5, 6], vec![7u32], vec![8u32, 9, 10]];
        let gens = generate(&m, &prompts, &GenerationConfig::greedy(12)).unwrap();
        for (p, g) in prompts.iter().zip(&gens) {
            assert_eq!(g.token_ids, greedy_reference(&m, p, 12), "prompt {p:?}");
            assert_eq!(g.finish_reason, FinishReason::Length);
            assert_eq!(g.logprobs.len(), 12);
            assert!(g.logprobs.iter().all(|&l| l <= 0.0 && l.is_finite()));
        }
    }

    #[test]
    fn stops_on_stop_ids_and_reports_logprobs_that_match_the_training_forward() {
        let m = model();
        let free = generate(&m, &[vec![4u32, 5]], &GenerationConfig::greedy(6)).unwrap().remove(0);
        let stop = free.token_ids[2];
        let cfg = GenerationConfig { stop_token_ids: vec![stop], ..GenerationConfig::greedy(6) };
        let g = generate(&m, &[vec![4u32, 5], vec![1u32]], &cfg).unwrap();
        let first = free.token_ids.iter().position(|&t| t == stop).unwrap();
        assert_eq!(g[0].token_ids, free.token_ids[..=first].to_vec());
        assert_eq!(g[0].finish_reason, FinishReason::Stop);
        let batch = crate::LogprobBatch::from_pairs(&[(vec![4, 5], g[0].token_ids.clone())], 0, Device::Cpu).unwrap();
        let (lp, _) = tch::no_grad(|| crate::sequence_logprobs(&m, &batch)).unwrap();
        let k = g[0].token_ids.len() as i64;
        let tail = Vec::<f32>::try_from(lp.get(0).narrow(0, 2, k)).unwrap();
        for (a, b) in tail.iter().zip(&g[0].logprobs) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn sampling_is_seeded_and_respects_top_k() {
        let m = model();
        let cfg = GenerationConfig { max_new_tokens: 8, temperature: 1.0, seed: 42, ..Default::default() };
        let a = generate(&m, &[vec![1u32, 2], vec![3u32]], &cfg).unwrap();
        let b = generate(&m, &[vec![1u32, 2], vec![3u32]], &cfg).unwrap();
        assert_eq!(a, b);
        let c = generate(&m, &[vec![1u32, 2], vec![3u32]], &GenerationConfig { seed: 43, ..cfg.clone() }).unwrap();
        assert_ne!(a, c);
        // top_k = 1 at any temperature is greedy.
        let k1 = GenerationConfig { top_k: 1, temperature: 1.5, ..cfg.clone() };
        let greedy = GenerationConfig::greedy(8);
        assert_eq!(
            generate(&m, &[vec![1u32, 2]], &k1).unwrap()[0].token_ids,
            generate(&m, &[vec![1u32, 2]], &greedy).unwrap()[0].token_ids
        );
    }

    #[test]
    fn per_sequence_seeds_make_samples_independent_of_batch_composition() {
        let m = model();
        let cfg = |seeds: Vec<u64>| GenerationConfig {
            max_new_tokens: 8,
            temperature: 1.0,
            sequence_seeds: seeds,
            ..Default::default()
        };
        let alone = generate(&m, &[vec![3u32, 4]], &cfg(vec![77])).unwrap().remove(0);
        let mixed = generate(&m, &[vec![9u32], vec![3u32, 4], vec![5u32, 6, 7]], &cfg(vec![1, 77, 2])).unwrap();
        assert_eq!(mixed[1].token_ids, alone.token_ids, "the sample must not depend on its batch neighbours");
        assert!(generate(&m, &[vec![1u32]], &cfg(vec![1, 2])).unwrap_err().to_string().contains("sequence_seeds"));
    }

    #[test]
    fn sample_one_follows_the_distribution_and_the_nucleus() {
        let logp: Vec<f32> = [0.5f32, 0.3, 0.15, 0.05].iter().map(|p| p.ln()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let cfg = GenerationConfig::default();
        let mut counts = [0usize; 4];
        for _ in 0..20000 {
            counts[sample_one(&logp, &cfg, &mut rng)] += 1;
        }
        for (c, p) in counts.iter().zip([0.5, 0.3, 0.15, 0.05]) {
            assert!((*c as f64 / 20000.0 - p).abs() < 0.015, "{counts:?}");
        }
        // top_p 0.7: nucleus {0, 1} (0.5 < 0.7 <= 0.8).
        let cfg = GenerationConfig { top_p: 0.7, ..Default::default() };
        for _ in 0..2000 {
            assert!(sample_one(&logp, &cfg, &mut rng) < 2);
        }
    }

    #[test]
    fn rejects_bad_settings_and_prompts() {
        let m = model();
        assert!(generate(&m, &[vec![]], &GenerationConfig::greedy(2)).is_err());
        assert!(generate(&m, &[vec![1000]], &GenerationConfig::greedy(2))
            .unwrap_err()
            .to_string()
            .contains("vocabulary"));
        let bad = GenerationConfig { top_p: 0.0, ..Default::default() };
        assert!(generate(&m, &[vec![1]], &bad).is_err());
    }
}
