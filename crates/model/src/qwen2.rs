//! The Qwen2 / Qwen2.5 decoder (Qwen2 Technical Report, arXiv 2407.10671) in tch, following
//! transformers `models/qwen2/modeling_qwen2.py` and candle `qwen2.rs`:
//! GQA attention with q/k/v bias, half-split RoPE with `rope_theta`, RMSNorm in f32, SwiGLU MLP,
//! tied embeddings when `lm_head.weight` is absent.
//!
//! Batches are **left-padded**: `attention_mask` is 1 on real tokens and 0 on padding, positions
//! are `cumsum(mask) − 1` (as transformers' `generate` computes them), padded keys are masked out
//! and a padded query attends only to itself so no NaN appears anywhere.

use crate::checkpoint;
use crate::config::Qwen2Config;
use crate::device::{DType, Device};
use crate::error::{ModelError, Result};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use tch::{nn, Kind, Tensor};

/// Tokenizer-side files copied along with the weights on save.
pub const TOKENIZER_FILES: &[&str] = &[
    "tokenizer.json",
    "tokenizer_config.json",
    "generation_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "chat_template.jinja",
];

/// Per-layer key/value cache for incremental decoding.
///
/// # Shapes
/// Each layer holds `k, v: [B, num_key_value_heads, S, head_dim]` (after RoPE), `S` = tokens seen.
#[derive(Debug, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
}

impl KvCache {
    /// An empty cache for `num_layers` layers.
    pub fn new(num_layers: usize) -> Self {
        Self { layers: (0..num_layers).map(|_| None).collect() }
    }

    /// Number of cached positions (0 when empty).
    pub fn len(&self) -> i64 {
        self.layers.first().and_then(|l| l.as_ref()).map_or(0, |(k, _)| k.size()[2])
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops everything (between prompts).
    pub fn clear(&mut self) {
        self.layers.iter_mut().for_each(|l| *l = None);
    }

    /// Keeps only the batch rows in `rows` (int64 indices), e.g. to drop finished sequences.
    pub fn select_rows(&mut self, rows: &Tensor) -> Result<()> {
        for (k, v) in self.layers.iter_mut().flatten() {
            *k = k.f_index_select(0, rows)?;
            *v = v.f_index_select(0, rows)?;
        }
        Ok(())
    }

    fn append(&mut self, layer: usize, k: Tensor, v: Tensor) -> Result<(Tensor, Tensor)> {
        let slot =
            self.layers.get_mut(layer).ok_or_else(|| ModelError::Input(format!("KV cache has no layer {layer}")))?;
        let (k, v) = match slot.take() {
            None => (k, v),
            Some((pk, pv)) => (Tensor::f_cat(&[pk, k], 2)?, Tensor::f_cat(&[pv, v], 2)?),
        };
        *slot = Some((k.shallow_clone(), v.shallow_clone()));
        Ok((k, v))
    }
}

struct Layer {
    input_norm: Tensor,
    q_w: Tensor,
    q_b: Tensor,
    k_w: Tensor,
    k_b: Tensor,
    v_w: Tensor,
    v_b: Tensor,
    o_w: Tensor,
    post_norm: Tensor,
    gate_w: Tensor,
    up_w: Tensor,
    down_w: Tensor,
}

/// How attention is masked for one forward call.
enum AttnMask {
    /// One new token, nothing padded: attend to everything.
    Full,
    /// No padding, no cache: plain causal (top-left equals bottom-right here).
    Causal,
    /// `[B, 1, T, S]` bool, true = attend.
    Explicit(Tensor),
}

/// What every layer of one forward call shares.
///
/// # Shapes
/// `cos`, `sin`: `[B, 1, T, head_dim]` in the model dtype.
#[derive(Clone, Copy)]
struct Step<'a> {
    cos: &'a Tensor,
    sin: &'a Tensor,
    mask: &'a AttnMask,
    b: i64,
    t: i64,
}

/// Qwen2 causal LM with its weights in a [`nn::VarStore`] (every weight is a trainable variable).
pub struct Qwen2Model {
    vs: nn::VarStore,
    config: Qwen2Config,
    raw_config: Value,
    embed: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    lm_head: Option<Tensor>,
    inv_freq: Tensor,
    device: Device,
    dtype: DType,
    source_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Qwen2Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qwen2Model")
            .field("config", &self.config)
            .field("device", &self.device)
            .field("dtype", &self.dtype)
            .field("source_dir", &self.source_dir)
            .finish_non_exhaustive()
    }
}

/// Name → shape of every weight of `config` (HF names; `lm_head.weight` only when untied).
pub fn weight_shapes(config: &Qwen2Config) -> BTreeMap<String, Vec<i64>> {
    let h = config.hidden_size;
    let q = config.num_attention_heads * config.head_dim;
    let kv = config.num_key_value_heads * config.head_dim;
    let i = config.intermediate_size;
    let mut m = BTreeMap::new();
    m.insert("model.embed_tokens.weight".to_string(), vec![config.vocab_size, h]);
    m.insert("model.norm.weight".to_string(), vec![h]);
    if !config.tie_word_embeddings {
        m.insert("lm_head.weight".to_string(), vec![config.vocab_size, h]);
    }
    for l in 0..config.num_hidden_layers {
        let p = |s: &str| format!("model.layers.{l}.{s}");
        m.insert(p("input_layernorm.weight"), vec![h]);
        m.insert(p("post_attention_layernorm.weight"), vec![h]);
        m.insert(p("self_attn.q_proj.weight"), vec![q, h]);
        m.insert(p("self_attn.q_proj.bias"), vec![q]);
        m.insert(p("self_attn.k_proj.weight"), vec![kv, h]);
        m.insert(p("self_attn.k_proj.bias"), vec![kv]);
        m.insert(p("self_attn.v_proj.weight"), vec![kv, h]);
        m.insert(p("self_attn.v_proj.bias"), vec![kv]);
        m.insert(p("self_attn.o_proj.weight"), vec![h, q]);
        m.insert(p("mlp.gate_proj.weight"), vec![i, h]);
        m.insert(p("mlp.up_proj.weight"), vec![i, h]);
        m.insert(p("mlp.down_proj.weight"), vec![h, i]);
    }
    m
}

/// `n` draws of normal(0, std) from a ChaCha8 generator seeded by `(seed, name)`: reproducible
/// per tensor, independent of libtorch's global generator and of other threads.
fn normal_values(seed: u64, name: &str, n: usize, std: f64) -> Vec<f32> {
    use rand::{Rng, SeedableRng};
    let h = srl_core::rng::fnv1a(srl_core::rng::FNV_OFFSET_BASIS ^ seed, name.bytes());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(h);
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        // Box-Muller: two independent normals per pair of uniforms.
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random::<f64>();
        let r = (-2.0 * u1.ln()).sqrt() * std;
        let th = std::f64::consts::TAU * u2;
        out.push((r * th.cos()) as f32);
        out.push((r * th.sin()) as f32);
    }
    out.truncate(n);
    out
}

fn rms_norm(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    let kind = x.kind();
    let xf = x.f_to_kind(Kind::Float)?;
    let var = xf.f_pow_tensor_scalar(2)?.f_mean_dim(Some([-1i64].as_slice()), true, Kind::Float)?;
    let y = xf.f_mul(&var.f_add_scalar(eps)?.f_rsqrt()?)?;
    Ok(weight.f_mul(&y.f_to_kind(kind)?)?)
}

fn rotate_half(x: &Tensor) -> Result<Tensor> {
    let d = x.size()[x.dim() - 1];
    let x1 = x.f_narrow(-1, 0, d / 2)?;
    let x2 = x.f_narrow(-1, d / 2, d / 2)?;
    Ok(Tensor::f_cat(&[x2.f_neg()?, x1], -1)?)
}

fn apply_rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    Ok(x.f_mul(cos)?.f_add(&rotate_half(x)?.f_mul(sin)?)?)
}

impl Qwen2Model {
    /// Loads a Hugging Face Qwen2 checkpoint folder (`config.json` + `model.safetensors` or a
    /// sharded index) onto `device` in `dtype`.
    pub fn load(dir: &Path, device: Device, dtype: DType) -> Result<Self> {
        device.check_available()?;
        let (config, raw) = Qwen2Config::load(dir)?;
        let mut shapes = weight_shapes(&config);
        let names = checkpoint::tensor_names(dir)?;
        let has_lm_head = names.iter().any(|n| n == "lm_head.weight");
        let mut config = config;
        if config.tie_word_embeddings && has_lm_head {
            // Some exporters store the tied head anyway; transformers ignores it, and so do we.
            tracing::debug!(dir = %dir.display(), "tied config also stores lm_head.weight; using the embedding");
        }
        if !config.tie_word_embeddings && !has_lm_head {
            return Err(ModelError::MissingTensor { dir: dir.into(), name: "lm_head.weight".into() });
        }
        if config.tie_word_embeddings {
            shapes.remove("lm_head.weight");
        }
        let tensors = checkpoint::load_tensors(dir, &shapes, dtype.to_kind(), device.to_tch())?;
        config.torch_dtype = Some(dtype);
        tracing::info!(dir = %dir.display(), params = config.num_parameters(), %device, %dtype, "loaded Qwen2 checkpoint");
        Self::from_tensors(config, raw, tensors, device, dtype, Some(dir.to_path_buf()))
    }

    /// A model with random weights (normal(0, 0.02) for matrices, zero biases, unit norms, as
    /// transformers' `_init_weights`), reproducible for a given seed.
    pub fn new_random(config: &Qwen2Config, device: Device, dtype: DType, seed: u64) -> Result<Self> {
        Self::new_random_with_std(config, device, dtype, seed, 0.02)
    }

    /// [`Self::new_random`] with a chosen standard deviation.
    pub fn new_random_with_std(
        config: &Qwen2Config,
        device: Device,
        dtype: DType,
        seed: u64,
        std: f64,
    ) -> Result<Self> {
        device.check_available()?;
        let mut tensors = HashMap::new();
        for (name, shape) in weight_shapes(config) {
            let opts = (Kind::Float, device.to_tch());
            let t = if name.ends_with("norm.weight") {
                Tensor::f_ones(&shape, opts)?
            } else if name.ends_with(".bias") {
                Tensor::f_zeros(&shape, opts)?
            } else {
                let numel: i64 = shape.iter().product();
                let values = normal_values(seed, &name, numel as usize, std);
                Tensor::from_slice(&values).f_reshape(&shape)?.f_to_device(device.to_tch())?
            };
            tensors.insert(name, t.f_to_kind(dtype.to_kind())?);
        }
        let mut config = config.clone();
        config.torch_dtype = Some(dtype);
        let raw = config.to_hf_json(dtype, 0, 0);
        Self::from_tensors(config, raw, tensors, device, dtype, None)
    }

    fn from_tensors(
        config: Qwen2Config,
        raw_config: Value,
        mut tensors: HashMap<String, Tensor>,
        device: Device,
        dtype: DType,
        source_dir: Option<PathBuf>,
    ) -> Result<Self> {
        let vs = nn::VarStore::new(device.to_tch());
        let root = vs.root();
        let mut take = |name: &str| -> Result<Tensor> {
            let t = tensors.remove(name).ok_or_else(|| ModelError::MissingTensor {
                dir: source_dir.clone().unwrap_or_default(),
                name: name.into(),
            })?;
            let mut parts: Vec<&str> = name.split('.').collect();
            let last = parts.pop().unwrap_or(name);
            let path = parts.iter().fold(root.clone(), |p, s| p.sub(*s));
            Ok(path.add(last, t, true))
        };
        let embed = take("model.embed_tokens.weight")?;
        let norm = take("model.norm.weight")?;
        let lm_head = if config.tie_word_embeddings { None } else { Some(take("lm_head.weight")?) };
        let mut layers = Vec::with_capacity(config.num_hidden_layers as usize);
        for l in 0..config.num_hidden_layers {
            let mut t = |s: &str| take(&format!("model.layers.{l}.{s}"));
            layers.push(Layer {
                input_norm: t("input_layernorm.weight")?,
                q_w: t("self_attn.q_proj.weight")?,
                q_b: t("self_attn.q_proj.bias")?,
                k_w: t("self_attn.k_proj.weight")?,
                k_b: t("self_attn.k_proj.bias")?,
                v_w: t("self_attn.v_proj.weight")?,
                v_b: t("self_attn.v_proj.bias")?,
                o_w: t("self_attn.o_proj.weight")?,
                post_norm: t("post_attention_layernorm.weight")?,
                gate_w: t("mlp.gate_proj.weight")?,
                up_w: t("mlp.up_proj.weight")?,
                down_w: t("mlp.down_proj.weight")?,
            });
        }
        // inv_freq = 1 / theta^(arange(0, d, 2) / d), in f32 as transformers computes it.
        let d = config.head_dim;
        let exponents = Tensor::f_arange_start(0, d, (Kind::Int64, device.to_tch()))?
            .f_slice(0, 0, d, 2)?
            .f_to_kind(Kind::Float)?
            .f_div_scalar(d as f64)?;
        let inv_freq = Tensor::f_pow_scalar(config.rope_theta, &exponents)?.f_to_kind(Kind::Float)?.f_reciprocal()?;
        Ok(Self { vs, config, raw_config, embed, layers, norm, lm_head, inv_freq, device, dtype, source_dir })
    }

    /// Validated hyper-parameters.
    pub fn config(&self) -> &Qwen2Config {
        &self.config
    }

    /// Device of the weights.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Dtype of the weights.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Folder the model was loaded from (tokenizer files are copied from there on save).
    pub fn source_dir(&self) -> Option<&Path> {
        self.source_dir.as_deref()
    }

    /// The variable store (for optimizers: `trainable_variables()`).
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// Mutable variable store (freeze/unfreeze, casting).
    pub fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }

    /// A fresh KV cache sized for this model.
    pub fn new_cache(&self) -> KvCache {
        KvCache::new(self.layers.len())
    }

    /// The output projection `[V, H]` (the embedding when tied).
    pub fn lm_head_weight(&self) -> &Tensor {
        self.lm_head.as_ref().unwrap_or(&self.embed)
    }

    /// Logits for all positions.
    ///
    /// # Shapes
    /// `input_ids: [B, T]` int64, `attention_mask: [B, S_past + T]` (1 real, 0 padding; with no
    /// cache `S_past = 0`) → logits `[B, T, V]` in the model dtype.
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor, cache: Option<&mut KvCache>) -> Result<Tensor> {
        let hidden = self.forward_hidden(input_ids, attention_mask, cache)?;
        self.logits(&hidden)
    }

    /// Logits from final hidden states: `[.., H]` → `[.., V]`.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        Ok(hidden.f_linear(self.lm_head_weight(), None::<&Tensor>)?)
    }

    /// Final hidden states (after `model.norm`), before the LM head.
    ///
    /// # Shapes
    /// `input_ids: [B, T]`, `attention_mask: [B, S_past + T]` → `[B, T, H]`.
    pub fn forward_hidden(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        mut cache: Option<&mut KvCache>,
    ) -> Result<Tensor> {
        let dev = self.device.to_tch();
        let (b, t) = match input_ids.size().as_slice() {
            &[b, t] => (b, t),
            s => return Err(ModelError::Input(format!("input_ids must be [B, T], got {s:?}"))),
        };
        let past = cache.as_ref().map_or(0, |c| c.len());
        let s = past + t;
        if attention_mask.size() != [b, s] {
            return Err(ModelError::Input(format!(
                "attention_mask must be [B, S_past + T] = [{b}, {s}], got {:?}",
                attention_mask.size()
            )));
        }
        let input_ids = input_ids.f_to_device(dev)?.f_to_kind(Kind::Int64)?;
        let mask = attention_mask.f_to_device(dev)?.f_to_kind(Kind::Int64)?;
        // Positions: cumsum(mask) - 1 with padding set to 1 (transformers' generate), last T columns.
        let pos =
            mask.f_cumsum(1, Kind::Int64)?.f_sub_scalar(1)?.f_masked_fill(&mask.f_eq(0)?, 1)?.f_narrow(1, past, t)?;
        let freqs = pos.f_to_kind(Kind::Float)?.f_unsqueeze(-1)?.f_mul(&self.inv_freq)?; // [B, T, D/2]
        let emb = Tensor::f_cat(&[&freqs, &freqs], -1)?;
        let kind = self.dtype.to_kind();
        let cos = emb.f_cos()?.f_to_kind(kind)?.f_unsqueeze(1)?; // [B, 1, T, D]
        let sin = emb.f_sin()?.f_to_kind(kind)?.f_unsqueeze(1)?;
        let attn_mask = self.attention_mask(&mask, past, t)?;

        let step = Step { cos: &cos, sin: &sin, mask: &attn_mask, b, t };
        let mut x = Tensor::f_embedding(&self.embed, &input_ids, -1, false, false)?;
        for (i, layer) in self.layers.iter().enumerate() {
            x = self.layer_forward(layer, i, &x, &step, cache.as_deref_mut())?;
        }
        rms_norm(&x, &self.norm, self.config.rms_norm_eps)
    }

    fn attention_mask(&self, mask: &Tensor, past: i64, t: i64) -> Result<AttnMask> {
        let all_real = mask.f_min()?.int64_value(&[]) == 1;
        if all_real && t == 1 {
            return Ok(AttnMask::Full);
        }
        if all_real && past == 0 {
            return Ok(AttnMask::Causal);
        }
        let dev = mask.device();
        let s = past + t;
        let q_idx = Tensor::f_arange_start(past, s, (Kind::Int64, dev))?.f_unsqueeze(1)?; // [T, 1]
        let k_idx = Tensor::f_arange(s, (Kind::Int64, dev))?.f_unsqueeze(0)?; // [1, S]
        let causal = k_idx.f_le_tensor(&q_idx)?; // [T, S]
        let diag = k_idx.f_eq_tensor(&q_idx)?;
        let key_ok = mask.f_ne(0)?.f_unsqueeze(1)?.f_unsqueeze(1)?; // [B, 1, 1, S]
        let allowed = causal.f_unsqueeze(0)?.f_unsqueeze(0)?.f_logical_and(&key_ok)?.f_logical_or(&diag)?;
        Ok(AttnMask::Explicit(allowed))
    }

    fn layer_forward(
        &self,
        l: &Layer,
        index: usize,
        x: &Tensor,
        step: &Step<'_>,
        cache: Option<&mut KvCache>,
    ) -> Result<Tensor> {
        let Step { cos, sin, mask, b, t } = *step;
        let c = &self.config;
        let d = c.head_dim;
        let h = rms_norm(x, &l.input_norm, c.rms_norm_eps)?;
        let q = h.f_linear(&l.q_w, Some(&l.q_b))?.f_view([b, t, c.num_attention_heads, d])?.f_transpose(1, 2)?;
        let k = h.f_linear(&l.k_w, Some(&l.k_b))?.f_view([b, t, c.num_key_value_heads, d])?.f_transpose(1, 2)?;
        let v = h.f_linear(&l.v_w, Some(&l.v_b))?.f_view([b, t, c.num_key_value_heads, d])?.f_transpose(1, 2)?;
        let q = apply_rope(&q, cos, sin)?;
        let k = apply_rope(&k, cos, sin)?;
        let (k, v) = match cache {
            Some(cache) => cache.append(index, k, v)?,
            None => (k, v),
        };
        let gqa = c.num_attention_heads != c.num_key_value_heads;
        let attn = match mask {
            AttnMask::Full => {
                Tensor::f_scaled_dot_product_attention(&q, &k, &v, None::<&Tensor>, 0.0, false, None, gqa)?
            }
            AttnMask::Causal => {
                Tensor::f_scaled_dot_product_attention(&q, &k, &v, None::<&Tensor>, 0.0, true, None, gqa)?
            }
            AttnMask::Explicit(m) => {
                Tensor::f_scaled_dot_product_attention(&q, &k, &v, Some(m), 0.0, false, None, gqa)?
            }
        };
        let attn =
            attn.f_transpose(1, 2)?.f_reshape([b, t, c.num_attention_heads * d])?.f_linear(&l.o_w, None::<&Tensor>)?;
        let x = x.f_add(&attn)?;
        let h = rms_norm(&x, &l.post_norm, c.rms_norm_eps)?;
        let gate = h.f_linear(&l.gate_w, None::<&Tensor>)?.f_silu()?;
        let up = h.f_linear(&l.up_w, None::<&Tensor>)?;
        let mlp = gate.f_mul(&up)?.f_linear(&l.down_w, None::<&Tensor>)?;
        Ok(x.f_add(&mlp)?)
    }

    /// Named weights in HF layout (no `lm_head.weight` when tied).
    pub fn named_weights(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![
            ("model.embed_tokens.weight".to_string(), self.embed.shallow_clone()),
            ("model.norm.weight".to_string(), self.norm.shallow_clone()),
        ];
        if let Some(w) = &self.lm_head {
            out.push(("lm_head.weight".to_string(), w.shallow_clone()));
        }
        for (i, l) in self.layers.iter().enumerate() {
            let p = |s: &str| format!("model.layers.{i}.{s}");
            for (name, t) in [
                ("input_layernorm.weight", &l.input_norm),
                ("post_attention_layernorm.weight", &l.post_norm),
                ("self_attn.q_proj.weight", &l.q_w),
                ("self_attn.q_proj.bias", &l.q_b),
                ("self_attn.k_proj.weight", &l.k_w),
                ("self_attn.k_proj.bias", &l.k_b),
                ("self_attn.v_proj.weight", &l.v_w),
                ("self_attn.v_proj.bias", &l.v_b),
                ("self_attn.o_proj.weight", &l.o_w),
                ("mlp.gate_proj.weight", &l.gate_w),
                ("mlp.up_proj.weight", &l.up_w),
                ("mlp.down_proj.weight", &l.down_w),
            ] {
                out.push((p(name), t.shallow_clone()));
            }
        }
        out
    }

    /// Saves in Hugging Face layout: `config.json` (original keys kept, `torch_dtype` set to the
    /// current dtype), `model.safetensors`, and the tokenizer files of the folder the model was
    /// loaded from (when `dir` differs). transformers' `Qwen2ForCausalLM.from_pretrained` and vLLM
    /// load the result.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(ModelError::io(dir))?;
        let mut raw = self.raw_config.clone();
        if let Some(obj) = raw.as_object_mut() {
            obj.insert("torch_dtype".into(), Value::String(self.current_dtype().hf_name().into()));
        }
        checkpoint::save_tensors(dir, &self.named_weights())?;
        srl_core::io::write_json_pretty(dir.join("config.json"), &raw)?;
        if let Some(src) = &self.source_dir {
            let same = src.canonicalize().ok() == dir.canonicalize().ok();
            if !same {
                for name in TOKENIZER_FILES {
                    let from = src.join(name);
                    if from.is_file() {
                        let bytes = std::fs::read(&from).map_err(ModelError::io(&from))?;
                        srl_core::io::write_atomic(dir.join(name), &bytes)?;
                    }
                }
            }
        }
        tracing::info!(dir = %dir.display(), "saved Qwen2 checkpoint");
        Ok(())
    }

    /// Replaces the HF config JSON written on save (used by `init` to record token ids).
    pub fn set_raw_config(&mut self, raw: Value) {
        self.raw_config = raw;
    }

    fn current_dtype(&self) -> DType {
        match self.embed.kind() {
            Kind::BFloat16 => DType::BF16,
            Kind::Half => DType::F16,
            _ => DType::F32,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn small_config(tied: bool) -> Qwen2Config {
        Qwen2Config {
            vocab_size: 97,
            hidden_size: 32,
            intermediate_size: 48,
            num_hidden_layers: 2,
            num_attention_heads: 4,
            num_key_value_heads: 2,
            head_dim: 8,
            max_position_embeddings: 256,
            rope_theta: 10000.0,
            rms_norm_eps: 1e-6,
            tie_word_embeddings: tied,
            torch_dtype: None,
        }
    }

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
        a.to_kind(Kind::Float).f_sub(&b.to_kind(Kind::Float)).unwrap().abs().max().double_value(&[])
    }

    #[test]
    fn cached_decoding_matches_full_forward() {
        let m = Qwen2Model::new_random_with_std(&small_config(true), Device::Cpu, DType::F32, 1, 0.2).unwrap();
        let ids = Tensor::from_slice(&[5i64, 7, 9, 11, 13, 2, 4, 6, 8, 10]).reshape([2, 5]);
        let mask = Tensor::ones([2, 5], (Kind::Int64, tch::Device::Cpu));
        let full = m.forward(&ids, &mask, None).unwrap();
        let mut cache = m.new_cache();
        let prefix = m.forward(&ids.narrow(1, 0, 3), &mask.narrow(1, 0, 3), Some(&mut cache)).unwrap();
        let step4 = m.forward(&ids.narrow(1, 3, 1), &mask.narrow(1, 0, 4), Some(&mut cache)).unwrap();
        let step5 = m.forward(&ids.narrow(1, 4, 1), &mask, Some(&mut cache)).unwrap();
        assert_eq!(cache.len(), 5);
        let inc = Tensor::cat(&[prefix, step4, step5], 1);
        assert!(max_abs_diff(&full, &inc) < 1e-5, "diff {}", max_abs_diff(&full, &inc));
    }

    #[test]
    fn left_padding_does_not_change_real_token_logits() {
        let m = Qwen2Model::new_random_with_std(&small_config(false), Device::Cpu, DType::F32, 2, 0.2).unwrap();
        let alone = m
            .forward(
                &Tensor::from_slice(&[3i64, 1, 4]).reshape([1, 3]),
                &Tensor::ones([1, 3], (Kind::Int64, tch::Device::Cpu)),
                None,
            )
            .unwrap();
        let ids = Tensor::from_slice(&[0i64, 0, 3, 1, 4, 1, 5, 9, 2, 6]).reshape([2, 5]);
        let mask = Tensor::from_slice(&[0i64, 0, 1, 1, 1, 1, 1, 1, 1, 1]).reshape([2, 5]);
        let batch = m.forward(&ids, &mask, None).unwrap();
        assert!(!bool::try_from(batch.isnan().any()).unwrap(), "NaN in padded batch");
        let padded_row = batch.get(0).narrow(0, 2, 3).unsqueeze(0);
        assert!(max_abs_diff(&alone, &padded_row) < 1e-5, "diff {}", max_abs_diff(&alone, &padded_row));
    }

    #[test]
    fn save_then_load_gives_identical_weights_and_config() {
        let dir = tempfile::tempdir().unwrap();
        for tied in [true, false] {
            let m = Qwen2Model::new_random(&small_config(tied), Device::Cpu, DType::F32, 3).unwrap();
            m.save(dir.path()).unwrap();
            let back = Qwen2Model::load(dir.path(), Device::Cpu, DType::F32).unwrap();
            assert_eq!(back.config().tie_word_embeddings, tied);
            let names = checkpoint::tensor_names(dir.path()).unwrap();
            assert_eq!(names.iter().any(|n| n == "lm_head.weight"), !tied);
            for ((n1, a), (n2, b)) in m.named_weights().iter().zip(back.named_weights().iter()) {
                assert_eq!(n1, n2);
                assert!(max_abs_diff(a, b) == 0.0, "{n1} differs");
            }
            let bf = Qwen2Model::load(dir.path(), Device::Cpu, DType::BF16).unwrap();
            assert_eq!(bf.named_weights()[0].1.kind(), Kind::BFloat16);
        }
    }

    #[test]
    fn half_precision_forward_stays_close_to_f32() {
        let dir = tempfile::tempdir().unwrap();
        Qwen2Model::new_random_with_std(&small_config(true), Device::Cpu, DType::F32, 8, 0.1)
            .unwrap()
            .save(dir.path())
            .unwrap();
        let ids = Tensor::from_slice(&[0i64, 5, 6, 7, 8, 9]).reshape([2, 3]);
        let mask = Tensor::from_slice(&[0i64, 1, 1, 1, 1, 1]).reshape([2, 3]);
        let f32_logits =
            Qwen2Model::load(dir.path(), Device::Cpu, DType::F32).unwrap().forward(&ids, &mask, None).unwrap();
        for dtype in [DType::BF16, DType::F16] {
            let m = Qwen2Model::load(dir.path(), Device::Cpu, dtype).unwrap();
            let logits = m.forward(&ids, &mask, None).unwrap();
            assert_eq!(logits.kind(), dtype.to_kind());
            let d = max_abs_diff(&logits.narrow(1, 1, 2), &f32_logits.narrow(1, 1, 2));
            assert!(d < 0.05, "{dtype}: max diff {d}");
        }
    }

    #[test]
    fn every_weight_is_a_trainable_variable() {
        let m = Qwen2Model::new_random(&small_config(true), Device::Cpu, DType::F32, 4).unwrap();
        assert_eq!(m.var_store().trainable_variables().len(), m.named_weights().len());
        let total: i64 = m.named_weights().iter().map(|(_, t)| t.numel() as i64).sum();
        assert_eq!(total, m.config().num_parameters());
    }
}
