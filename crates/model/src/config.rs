//! Qwen2 `config.json`: the raw Hugging Face shape (transformers
//! `models/qwen2/configuration_qwen2.py`) and the validated runtime config
//! (candle's `LlamaConfig` → `Config` split).
//!
//! Unknown keys in `config.json` are kept (HF configs carry many bookkeeping fields) and written
//! back on save; options that change the computation and that we do not implement (sliding-window
//! layers, RoPE scaling, other activations) are refused with [`ModelError::Unsupported`].

use crate::device::DType;
use crate::error::{ModelError, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `config.json` as Hugging Face writes it for `Qwen2ForCausalLM`. Extra keys land in `extra`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawQwen2Config {
    /// Vocabulary size (rows of the embedding).
    pub vocab_size: Option<i64>,
    /// Model width.
    pub hidden_size: Option<i64>,
    /// MLP width.
    pub intermediate_size: Option<i64>,
    /// Number of decoder layers.
    pub num_hidden_layers: Option<i64>,
    /// Query heads.
    pub num_attention_heads: Option<i64>,
    /// Key/value heads (GQA).
    pub num_key_value_heads: Option<i64>,
    /// Explicit head size; default `hidden_size / num_attention_heads`.
    pub head_dim: Option<i64>,
    /// Longest position.
    pub max_position_embeddings: Option<i64>,
    /// RoPE base.
    pub rope_theta: Option<f64>,
    /// RMSNorm epsilon.
    pub rms_norm_eps: Option<f64>,
    /// Whether `lm_head` reuses the embedding.
    pub tie_word_embeddings: Option<bool>,
    /// Activation (`silu` only).
    pub hidden_act: Option<String>,
    /// Sliding-window attention switch.
    pub use_sliding_window: Option<bool>,
    /// Window size.
    pub sliding_window: Option<Value>,
    /// Layers below this index use full attention.
    pub max_window_layers: Option<i64>,
    /// Per-layer attention type (transformers ≥ 4.53).
    pub layer_types: Option<Vec<String>>,
    /// RoPE scaling (refused unless null / default).
    pub rope_scaling: Option<Value>,
    /// `qwen2`.
    pub model_type: Option<String>,
    /// Stored dtype.
    pub torch_dtype: Option<String>,
    /// BOS id.
    pub bos_token_id: Option<Value>,
    /// EOS id(s).
    pub eos_token_id: Option<Value>,
    /// Every other key, kept for save.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// Validated Qwen2 hyper-parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Qwen2Config {
    /// Vocabulary size.
    pub vocab_size: i64,
    /// Model width.
    pub hidden_size: i64,
    /// MLP width.
    pub intermediate_size: i64,
    /// Decoder layers.
    pub num_hidden_layers: i64,
    /// Query heads.
    pub num_attention_heads: i64,
    /// KV heads.
    pub num_key_value_heads: i64,
    /// Head size.
    pub head_dim: i64,
    /// Longest position.
    pub max_position_embeddings: i64,
    /// RoPE base.
    pub rope_theta: f64,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f64,
    /// Tied `lm_head`.
    pub tie_word_embeddings: bool,
    /// Dtype named in the file (`torch_dtype`), if any.
    pub torch_dtype: Option<DType>,
}

impl Qwen2Config {
    /// Reads and validates `dir/config.json`; returns the validated config and the raw JSON.
    pub fn load(dir: &Path) -> Result<(Self, Value)> {
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path).map_err(ModelError::io(&path))?;
        let value: Value =
            serde_json::from_str(&text).map_err(|source| ModelError::Json { path: path.clone(), source })?;
        let raw: RawQwen2Config =
            serde_json::from_value(value.clone()).map_err(|source| ModelError::Json { path: path.clone(), source })?;
        Ok((raw.resolve(&path)?, value))
    }

    /// Number of parameters (embedding counted once when tied).
    pub fn num_parameters(&self) -> i64 {
        let h = self.hidden_size;
        let q = self.num_attention_heads * self.head_dim;
        let kv = self.num_key_value_heads * self.head_dim;
        let attn = h * q + q + 2 * (h * kv + kv) + q * h;
        let mlp = 3 * h * self.intermediate_size;
        let layer = attn + mlp + 2 * h;
        let head = if self.tie_word_embeddings { 0 } else { self.vocab_size * h };
        self.vocab_size * h + self.num_hidden_layers * layer + h + head
    }

    /// The HF `config.json` for this config (used by presets and `init`).
    pub fn to_hf_json(&self, dtype: DType, bos: u32, eos: u32) -> Value {
        serde_json::json!({
            "architectures": ["Qwen2ForCausalLM"],
            "attention_dropout": 0.0,
            "bos_token_id": bos,
            "eos_token_id": eos,
            "hidden_act": "silu",
            "hidden_size": self.hidden_size,
            "initializer_range": 0.02,
            "intermediate_size": self.intermediate_size,
            "max_position_embeddings": self.max_position_embeddings,
            "max_window_layers": self.num_hidden_layers,
            "model_type": "qwen2",
            "num_attention_heads": self.num_attention_heads,
            "num_hidden_layers": self.num_hidden_layers,
            "num_key_value_heads": self.num_key_value_heads,
            "rms_norm_eps": self.rms_norm_eps,
            "rope_scaling": null,
            "rope_theta": self.rope_theta,
            "sliding_window": null,
            "tie_word_embeddings": self.tie_word_embeddings,
            "torch_dtype": dtype.hf_name(),
            "use_cache": true,
            "use_sliding_window": false,
            "vocab_size": self.vocab_size,
        })
    }
}

impl RawQwen2Config {
    /// Validates: required fields present and positive, heads divide, unsupported options refused.
    pub fn resolve(&self, path: &Path) -> Result<Qwen2Config> {
        let p = || PathBuf::from(path);
        let need = |v: Option<i64>, field: &str| -> Result<i64> {
            match v {
                Some(x) if x > 0 => Ok(x),
                Some(x) => {
                    Err(ModelError::Config { path: p(), field: field.into(), reason: format!("must be > 0, got {x}") })
                }
                None => Err(ModelError::Config { path: p(), field: field.into(), reason: "missing".into() }),
            }
        };
        let unsupported = |field: &str, value: String, hint: &str| ModelError::Unsupported {
            path: p(),
            field: field.into(),
            value,
            hint: hint.into(),
        };
        if let Some(mt) = &self.model_type {
            if mt != "qwen2" {
                return Err(unsupported("model_type", format!("{mt:?}"), "only \"qwen2\""));
            }
        }
        if let Some(act) = &self.hidden_act {
            if act != "silu" {
                return Err(unsupported("hidden_act", format!("{act:?}"), "only \"silu\""));
            }
        }
        if let Some(rs) = &self.rope_scaling {
            let default = rs.get("rope_type").or_else(|| rs.get("type")).and_then(Value::as_str) == Some("default");
            if !rs.is_null() && !default {
                return Err(unsupported("rope_scaling", rs.to_string(), "only null (plain RoPE)"));
            }
        }
        let num_hidden_layers = need(self.num_hidden_layers, "num_hidden_layers")?;
        if self.use_sliding_window == Some(true) {
            let first_sliding = self.max_window_layers.unwrap_or(28);
            if first_sliding < num_hidden_layers {
                return Err(unsupported(
                    "use_sliding_window",
                    "true".into(),
                    "sliding-window layers are not implemented; set use_sliding_window false",
                ));
            }
        }
        if let Some(types) = &self.layer_types {
            if let Some(t) = types.iter().find(|t| t.as_str() != "full_attention") {
                return Err(unsupported("layer_types", format!("{t:?}"), "only \"full_attention\" layers"));
            }
        }
        let hidden_size = need(self.hidden_size, "hidden_size")?;
        let num_attention_heads = need(self.num_attention_heads, "num_attention_heads")?;
        let num_key_value_heads = need(self.num_key_value_heads.or(Some(num_attention_heads)), "num_key_value_heads")?;
        if num_attention_heads % num_key_value_heads != 0 {
            return Err(ModelError::Config {
                path: p(),
                field: "num_key_value_heads".into(),
                reason: format!("{num_key_value_heads} does not divide num_attention_heads {num_attention_heads}"),
            });
        }
        let head_dim = match self.head_dim {
            Some(d) => need(Some(d), "head_dim")?,
            None => {
                if hidden_size % num_attention_heads != 0 {
                    return Err(ModelError::Config {
                        path: p(),
                        field: "hidden_size".into(),
                        reason: format!("{hidden_size} not divisible by num_attention_heads {num_attention_heads}"),
                    });
                }
                hidden_size / num_attention_heads
            }
        };
        if head_dim % 2 != 0 {
            return Err(ModelError::Config {
                path: p(),
                field: "head_dim".into(),
                reason: format!("{head_dim} must be even for RoPE"),
            });
        }
        let torch_dtype = match &self.torch_dtype {
            None => None,
            Some(s) => Some(
                DType::from_hf_name(s)
                    .ok_or_else(|| unsupported("torch_dtype", format!("{s:?}"), "float32, bfloat16, float16"))?,
            ),
        };
        let rope_theta = self.rope_theta.unwrap_or(10000.0);
        let rms_norm_eps = self.rms_norm_eps.unwrap_or(1e-6);
        if rope_theta <= 0.0 || rms_norm_eps <= 0.0 {
            return Err(ModelError::Config {
                path: p(),
                field: "rope_theta/rms_norm_eps".into(),
                reason: "must be > 0".into(),
            });
        }
        Ok(Qwen2Config {
            vocab_size: need(self.vocab_size, "vocab_size")?,
            hidden_size,
            intermediate_size: need(self.intermediate_size, "intermediate_size")?,
            num_hidden_layers,
            num_attention_heads,
            num_key_value_heads,
            head_dim,
            max_position_embeddings: self.max_position_embeddings.unwrap_or(32768),
            rope_theta,
            rms_norm_eps,
            tie_word_embeddings: self.tie_word_embeddings.unwrap_or(false),
            torch_dtype,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qwen25_05b() -> Value {
        serde_json::json!({
          "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
          "eos_token_id": 151645, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
          "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 21,
          "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
          "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
          "torch_dtype": "bfloat16", "transformers_version": "4.43.1", "use_cache": true,
          "use_sliding_window": false, "vocab_size": 151936
        })
    }

    fn resolve(v: Value) -> Result<Qwen2Config> {
        serde_json::from_value::<RawQwen2Config>(v).unwrap().resolve(Path::new("config.json"))
    }

    #[test]
    fn resolves_the_published_qwen25_05b_config() {
        let c = resolve(qwen25_05b()).unwrap();
        assert_eq!(c.head_dim, 64);
        assert_eq!(c.num_key_value_heads, 2);
        assert!(c.tie_word_embeddings);
        assert_eq!(c.torch_dtype, Some(DType::BF16));
        // Qwen2.5-0.5B has 494,032,768 parameters (model card: 0.49B).
        assert_eq!(c.num_parameters(), 494_032_768);
    }

    #[test]
    fn refuses_sliding_window_layers_and_rope_scaling() {
        let mut v = qwen25_05b();
        v["use_sliding_window"] = Value::Bool(true);
        let err = resolve(v).unwrap_err();
        assert!(matches!(&err, ModelError::Unsupported { field, .. } if field == "use_sliding_window"), "{err}");
        let mut v = qwen25_05b();
        v["rope_scaling"] = serde_json::json!({"type": "yarn", "factor": 4.0});
        let err = resolve(v).unwrap_err();
        assert!(err.to_string().contains("rope_scaling"), "{err}");
        let mut v = qwen25_05b();
        v["hidden_act"] = "gelu".into();
        assert_eq!(resolve(v).unwrap_err().kind(), "unsupported");
    }

    #[test]
    fn names_missing_and_inconsistent_fields() {
        let mut v = qwen25_05b();
        v.as_object_mut().unwrap().remove("hidden_size");
        let err = resolve(v).unwrap_err();
        assert!(err.to_string().contains("config.json: field `hidden_size`: missing"), "{err}");
        let mut v = qwen25_05b();
        v["num_key_value_heads"] = 3.into();
        assert!(resolve(v).unwrap_err().to_string().contains("num_key_value_heads"));
    }

    #[test]
    fn hf_json_round_trips_through_resolve() {
        let c = resolve(qwen25_05b()).unwrap();
        let again = resolve(c.to_hf_json(DType::BF16, 1, 2)).unwrap();
        assert_eq!(Qwen2Config { max_position_embeddings: c.max_position_embeddings, ..again }, c);
    }
}
