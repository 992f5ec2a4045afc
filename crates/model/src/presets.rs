//! Model shapes: `toy` (a ~0.1M-parameter Qwen2 over a character vocabulary, for the toy
//! step-wise task of `datasets/toy-srl` and fast trainer tests), `tiny` (a few million
//! parameters, for the demo and tests) and the real Qwen2.5
//! shapes 0.5B / 1.5B / 7B (values from the published `config.json` files), used
//! with random weights for benchmarks.

use crate::config::Qwen2Config;
use crate::error::{ModelError, Result};
use std::str::FromStr;

/// A named model shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// 2 layers × 64 wide over a character tokenizer ([`crate::init::TOY_CHARS`]).
    Toy,
    /// 4 layers × 256 wide, tied embeddings, vocabulary from the trained tokenizer.
    Tiny,
    /// Qwen2.5-0.5B.
    Qwen25_0_5B,
    /// Qwen2.5-1.5B.
    Qwen25_1_5B,
    /// Qwen2.5-7B.
    Qwen25_7B,
}

/// Preset names accepted on the command line.
pub const PRESET_NAMES: &str = "toy, tiny, 0.5b, 1.5b, 7b";

impl FromStr for Preset {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "toy" => Ok(Self::Toy),
            "tiny" => Ok(Self::Tiny),
            "0.5b" | "qwen2.5-0.5b" => Ok(Self::Qwen25_0_5B),
            "1.5b" | "qwen2.5-1.5b" => Ok(Self::Qwen25_1_5B),
            "7b" | "qwen2.5-7b" => Ok(Self::Qwen25_7B),
            _ => Err(ModelError::UnknownName { what: "preset", name: s.into(), expected: PRESET_NAMES.into() }),
        }
    }
}

impl Preset {
    /// Canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Toy => "toy",
            Self::Tiny => "tiny",
            Self::Qwen25_0_5B => "0.5b",
            Self::Qwen25_1_5B => "1.5b",
            Self::Qwen25_7B => "7b",
        }
    }

    /// Tokenizer vocabulary (BPE merges + byte alphabet + special tokens) trained for this preset.
    pub fn tokenizer_vocab_size(self) -> usize {
        4096
    }

    /// The shape, with `tokenizer_vocab` (trained tokenizer size incl. added tokens) deciding the
    /// embedding rows of `tiny` (rounded up to a multiple of 64, as Qwen pads its vocabulary) and
    /// of `toy` (exactly the character vocabulary).
    pub fn config(self, tokenizer_vocab: usize) -> Qwen2Config {
        let base = Qwen2Config {
            vocab_size: 151_936,
            hidden_size: 896,
            intermediate_size: 4864,
            num_hidden_layers: 24,
            num_attention_heads: 14,
            num_key_value_heads: 2,
            head_dim: 64,
            max_position_embeddings: 32_768,
            rope_theta: 1_000_000.0,
            rms_norm_eps: 1e-6,
            tie_word_embeddings: true,
            torch_dtype: None,
        };
        match self {
            Self::Toy => Qwen2Config {
                vocab_size: tokenizer_vocab as i64,
                hidden_size: 64,
                intermediate_size: 128,
                num_hidden_layers: 2,
                num_attention_heads: 4,
                num_key_value_heads: 2,
                head_dim: 16,
                max_position_embeddings: 512,
                rope_theta: 10000.0,
                ..base
            },
            Self::Tiny => Qwen2Config {
                vocab_size: (tokenizer_vocab as i64 + 63) / 64 * 64,
                hidden_size: 256,
                intermediate_size: 768,
                num_hidden_layers: 4,
                num_attention_heads: 4,
                num_key_value_heads: 2,
                head_dim: 64,
                max_position_embeddings: 8192,
                ..base
            },
            Self::Qwen25_0_5B => base,
            Self::Qwen25_1_5B => Qwen2Config {
                hidden_size: 1536,
                intermediate_size: 8960,
                num_hidden_layers: 28,
                num_attention_heads: 12,
                num_key_value_heads: 2,
                head_dim: 128,
                ..base
            },
            Self::Qwen25_7B => Qwen2Config {
                vocab_size: 152_064,
                hidden_size: 3584,
                intermediate_size: 18_944,
                num_hidden_layers: 28,
                num_attention_heads: 28,
                num_key_value_heads: 4,
                head_dim: 128,
                tie_word_embeddings: false,
                ..base
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_sizes_match_the_published_models() {
        // Parameter counts of the Hugging Face model cards / safetensors headers.
        assert_eq!(Preset::Qwen25_0_5B.config(0).num_parameters(), 494_032_768);
        assert_eq!(Preset::Qwen25_1_5B.config(0).num_parameters(), 1_543_714_304);
        assert_eq!(Preset::Qwen25_7B.config(0).num_parameters(), 7_615_616_512);
        let tiny = Preset::Tiny.config(4100);
        assert_eq!(tiny.vocab_size, 4160);
        let n = tiny.num_parameters();
        assert!((2_000_000..10_000_000).contains(&n), "{n}");
        assert_eq!("1.5B".parse::<Preset>().unwrap(), Preset::Qwen25_1_5B);
        assert!("3b".parse::<Preset>().unwrap_err().to_string().contains("tiny, 0.5b"));
        assert_eq!(Preset::Toy.config(50).vocab_size, 50);
    }
}
