//! Qwen2 in tch: HF checkpoints, tokenizer and chat template, batched KV-cache generation,
//! per-token log-probs.

pub mod checkpoint;
pub mod config;
mod device;
mod error;
pub mod qwen2;

pub use config::{Qwen2Config, RawQwen2Config};
pub use device::{DType, Device};
pub use error::{ModelError, Result};
pub use qwen2::{KvCache, Qwen2Model};
