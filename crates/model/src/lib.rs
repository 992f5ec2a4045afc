//! Qwen2 in tch: Hugging Face checkpoints, tokenizer and chat template, batched KV-cache
//! generation, per-token log-probs — the policy the SRL trainer optimizes (SRL, arXiv 2510.25992)
//! and the local backend of eval. Architecture: Qwen2 Technical Report (arXiv 2407.10671),
//! transformers `modeling_qwen2.py`.
//!
//! # Public API (stable; used by `srl-train` and `srl-eval`)
//!
//! ```text
//! Qwen2Model::load(dir: &Path, device: Device, dtype: DType) -> Result<Qwen2Model>
//! Qwen2Model::new_random(config: &Qwen2Config, device, dtype, seed: u64) -> Result<Qwen2Model>
//! model.save(&self, dir: &Path) -> Result<()>            // HF layout, tokenizer files copied
//! model.var_store() -> &tch::nn::VarStore / var_store_mut() -> &mut VarStore
//! model.forward(&self, input_ids: &Tensor /*[B,T]*/, attention_mask: &Tensor /*[B,S_past+T]*/,
//!               cache: Option<&mut KvCache>) -> Result<Tensor /*[B,T,V]*/>
//! model.new_cache() -> KvCache; model.config() -> &Qwen2Config; device(); dtype()
//!
//! Tokenizer::load(dir) -> Result<Tokenizer>
//!   encode(&str, add_special_tokens) -> Result<Vec<u32>>; decode(&[u32], skip_special) -> Result<String>
//!   token_to_id(&str) -> Option<u32>; eos_token_ids() -> &[u32]; pad_token_id() -> Option<u32>
//! ChatTemplate::load(dir) / ChatTemplate::qwen25()
//!   render(&[srl_core::Message], add_generation_prompt: bool) -> Result<String>
//!   render_json(&serde_json::Value, add_generation_prompt, tools: Option<&Value>) -> Result<String>
//!
//! generate(&Qwen2Model, prompts: &[Vec<u32>], &GenerationConfig) -> Result<Vec<Generation>>
//! generate_with(&model, Option<&Tokenizer>, prompts, &GenerationConfig, &dyn GenerationProgress)
//!   GenerationConfig { max_new_tokens, temperature /*0 = greedy*/, top_p, top_k /*0 = off*/,
//!                      stop_token_ids, stop_strings, seed }
//!   Generation { token_ids, text: Option<String>, logprobs: Vec<f32>, finish_reason }
//!
//! sequence_logprobs(&Qwen2Model, &LogprobBatch { input_ids, attention_mask, completion_mask })
//!   -> Result<(Tensor /*logp [B,T], with grad*/, Tensor /*entropy [B,T], no grad*/)>
//!   logp[b,t] = log p(input_ids[b,t] | input_ids[b,..t]) where completion_mask[b,t] = 1, else 0
//! LogprobBatch::from_pairs(&[(prompt_ids, completion_ids)], pad_id, device) -> Result<LogprobBatch>
//!
//! Policy::load(dir, device, dtype) -> Result<Policy>   // model + tokenizer + template together
//!   policy.prompt_ids(&[Message]) -> Result<Vec<u32>>   // chat template + generation prompt, encoded
//!   policy.encode_text(&str) / decode(&[u32]) / pad_id() / named_parameters()
//!   policy.generate(&[Vec<u32>], &GenerationConfig) -> Result<Vec<Generation>> // text + EOS stops
//!
//! chunked_logprobs_backward(&model, &LogprobBatch, &ChunkedOptions, |chunk| loss) // training
//!   log-probs with the LM head run chunk by chunk, each chunk's loss backpropagated at once
//!
//! init::init_checkpoint(&InitOptions { preset, out, seed, dtype, corpus }) -> Result<InitReport>
//! ```
//!
//! Batches are left-padded; positions come from the attention mask. Generation reports the
//! log-prob of each sampled token under the unmodified model distribution, the same quantity
//! `sequence_logprobs` returns. All tensors live on the model's device.

pub mod chat_template;
pub mod checkpoint;
pub mod config;
mod device;
mod error;
pub mod generate;
pub mod init;
pub mod logprobs;
pub mod presets;
pub mod qwen2;
pub mod tokenizer;

pub use chat_template::{ChatTemplate, QWEN25_CHAT_TEMPLATE};
pub use config::{Qwen2Config, RawQwen2Config};
pub use device::{DType, Device};
pub use error::{ModelError, Result};
pub use generate::{
    generate, generate_with, FinishReason, Generation, GenerationConfig, GenerationProgress, NoProgress,
};
pub use init::{init_checkpoint, InitOptions, InitReport};
pub use logprobs::{
    chunked_logprobs_backward, sequence_logprobs, sequence_logprobs_at, ChunkedOptions, LogprobBatch, LogprobChunk,
    MaskedRow,
};
pub use presets::Preset;
pub use qwen2::{KvCache, Qwen2Model};
pub use tch::Tensor;
pub use tokenizer::Tokenizer;

use std::path::Path;

/// A checkpoint's model, tokenizer and chat template, loaded together.
#[derive(Debug)]
pub struct Policy {
    /// The network.
    pub model: Qwen2Model,
    /// Its tokenizer.
    pub tokenizer: Tokenizer,
    /// Its chat template.
    pub template: ChatTemplate,
}

impl Policy {
    /// Loads `dir` (config, weights, tokenizer, chat template).
    pub fn load(dir: &Path, device: Device, dtype: DType) -> Result<Self> {
        Ok(Self {
            model: Qwen2Model::load(dir, device, dtype)?,
            tokenizer: Tokenizer::load(dir)?,
            template: ChatTemplate::load(dir)?,
        })
    }

    /// Token ids of `messages` rendered with the chat template and the assistant header appended.
    pub fn prompt_ids(&self, messages: &[srl_core::Message]) -> Result<Vec<u32>> {
        let text = self.template.render(messages, true)?;
        self.tokenizer.encode(&text, false)
    }

    /// Token ids of plain text (no chat template), e.g. a response prefix such as `<think>`.
    pub fn encode_text(&self, text: &str) -> Result<Vec<u32>> {
        self.tokenizer.encode(text, false)
    }

    /// Text of generated ids with special tokens (`<|im_end|>`, …) dropped.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.tokenizer.decode(ids, true)
    }

    /// The padding id: the tokenizer's pad token, else its first EOS id, else 0 (its value never
    /// matters: padded positions are masked out everywhere).
    pub fn pad_id(&self) -> u32 {
        self.tokenizer.pad_token_id().or_else(|| self.tokenizer.eos_token_ids().first().copied()).unwrap_or(0)
    }

    /// Trainable weights by Hugging Face name (shallow clones sharing storage and gradients).
    pub fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.model.named_weights()
    }

    /// Generates with text decoding; the tokenizer's EOS ids are added to the stop ids.
    pub fn generate(&self, prompts: &[Vec<u32>], config: &GenerationConfig) -> Result<Vec<Generation>> {
        self.generate_with_progress(prompts, config, &NoProgress)
    }

    /// [`Self::generate`] reporting progress.
    pub fn generate_with_progress(
        &self,
        prompts: &[Vec<u32>],
        config: &GenerationConfig,
        progress: &dyn GenerationProgress,
    ) -> Result<Vec<Generation>> {
        let mut config = config.clone();
        for &id in self.tokenizer.eos_token_ids() {
            if !config.stop_token_ids.contains(&id) {
                config.stop_token_ids.push(id);
            }
        }
        generate_with(&self.model, Some(&self.tokenizer), prompts, &config, progress)
    }

    /// Saves the model (and the tokenizer files it was loaded with) to `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        self.model.save(dir)
    }
}
