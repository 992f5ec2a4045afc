//! Text ↔ token ids for the policy: the [`TextCodec`] seam, and [`ToyCodec`], a character-level
//! codec with ChatML special tokens (`<|im_start|>`, `<|im_end|>`, `<think>`, `</think>`) used by
//! the toy step-wise task of `datasets/toy-srl` and the demo, so that a tiny randomly initialized
//! Qwen2 can learn the SRL output format on a CPU in minutes. Prompts render in the Qwen2.5
//! ChatML layout (`reference/formats.md` §8): `<|im_start|>{role}\n{content}<|im_end|>\n`, then
//! `<|im_start|>assistant\n`.

use crate::error::{Result, TrainError};
use serde::{Deserialize, Serialize};
use srl_core::{Message, Role};
use std::path::Path;

/// Converts chats to prompt ids and generated ids back to text.
pub trait TextCodec: Send {
    /// Short name for logs.
    fn name(&self) -> &'static str;
    /// Token ids of a chat rendered with the generation prompt (the assistant turn opened).
    fn encode_chat(&self, messages: &[Message]) -> Result<Vec<i64>>;
    /// Token ids of plain text (e.g. a response prefix such as `<think>`).
    fn encode_text(&self, text: &str) -> Result<Vec<i64>>;
    /// Text of generated ids (stop tokens are not passed in).
    fn decode(&self, ids: &[i64]) -> String;
    /// Ids that end a response (`<|im_end|>`, `<|endoftext|>`).
    fn stop_ids(&self) -> Vec<i64>;
    /// Id used for padding.
    fn pad_id(&self) -> i64;
    /// Writes the files needed to rebuild this codec into a checkpoint folder.
    fn save(&self, dir: &Path) -> Result<()>;
}

/// File name of a [`ToyCodec`] vocabulary inside a checkpoint folder.
pub const TOY_VOCAB_FILE: &str = "toy_vocab.json";

/// The vocabulary file of a [`ToyCodec`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "toy_vocab")]
pub struct ToyVocab {
    /// Record version (1).
    pub version: u32,
    /// Multi-character tokens, matched first (longest first). Index 0 is padding.
    pub specials: Vec<String>,
    /// Single-character tokens, after the specials.
    pub chars: String,
}

impl Default for ToyVocab {
    fn default() -> Self {
        Self {
            version: 1,
            specials: ["<pad>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"].map(String::from).to_vec(),
            chars: "0123456789 \n+-=:.,abcdefghijklmnopqrstuvwxyz".into(),
        }
    }
}

/// Character-level codec over a [`ToyVocab`].
#[derive(Debug, Clone)]
pub struct ToyCodec {
    vocab: ToyVocab,
    specials_by_len: Vec<(String, i64)>,
    chars: Vec<char>,
}

impl ToyCodec {
    /// A codec over `vocab`; fails when a token repeats.
    pub fn new(vocab: ToyVocab) -> Result<Self> {
        let mut seen = std::collections::HashSet::new();
        for s in vocab.specials.iter().cloned().chain(vocab.chars.chars().map(String::from)) {
            if !seen.insert(s.clone()) {
                return Err(TrainError::invalid("toy_vocab", format!("token {s:?} appears twice")));
            }
        }
        for required in ["<pad>", "<|im_start|>", "<|im_end|>"] {
            if !vocab.specials.iter().any(|s| s == required) {
                return Err(TrainError::invalid("toy_vocab.specials", format!("missing {required}")));
            }
        }
        let mut specials_by_len: Vec<(String, i64)> =
            vocab.specials.iter().enumerate().map(|(i, s)| (s.clone(), i as i64)).collect();
        specials_by_len.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
        let chars = vocab.chars.chars().collect();
        Ok(Self { vocab, specials_by_len, chars })
    }

    /// Reads a vocabulary file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(TrainError::io(path))?;
        let vocab: ToyVocab = serde_json::from_str(&text).map_err(|e| TrainError::Data {
            path: path.to_path_buf(),
            line: e.line(),
            field: "toy_vocab".into(),
            message: e.to_string(),
        })?;
        Self::new(vocab)
    }

    /// Number of tokens.
    pub fn vocab_size(&self) -> usize {
        self.vocab.specials.len() + self.chars.len()
    }

    fn special(&self, s: &str) -> i64 {
        self.vocab.specials.iter().position(|x| x == s).map_or(-1, |i| i as i64)
    }

    fn role(r: Role) -> &'static str {
        match r {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

impl TextCodec for ToyCodec {
    fn name(&self) -> &'static str {
        "toy"
    }

    fn encode_chat(&self, messages: &[Message]) -> Result<Vec<i64>> {
        let mut text = String::new();
        for m in messages {
            text.push_str(&format!("<|im_start|>{}\n{}<|im_end|>\n", Self::role(m.role), m.content));
        }
        text.push_str("<|im_start|>assistant\n");
        self.encode_text(&text)
    }

    fn encode_text(&self, text: &str) -> Result<Vec<i64>> {
        let mut out = Vec::with_capacity(text.len());
        let mut rest = text;
        'outer: while let Some(c) = rest.chars().next() {
            for (s, id) in &self.specials_by_len {
                if rest.starts_with(s.as_str()) {
                    out.push(*id);
                    rest = &rest[s.len()..];
                    continue 'outer;
                }
            }
            let pos = self.chars.iter().position(|x| *x == c).ok_or_else(|| {
                TrainError::invalid("prompt", format!("character {c:?} is not in the toy vocabulary"))
            })?;
            out.push((self.vocab.specials.len() + pos) as i64);
            rest = &rest[c.len_utf8()..];
        }
        Ok(out)
    }

    fn decode(&self, ids: &[i64]) -> String {
        let ns = self.vocab.specials.len() as i64;
        let mut out = String::new();
        for &id in ids {
            if id > 0 && id < ns {
                out.push_str(&self.vocab.specials[id as usize]);
            } else if id >= ns {
                if let Some(c) = self.chars.get((id - ns) as usize) {
                    out.push(*c);
                }
            }
        }
        out
    }

    fn stop_ids(&self) -> Vec<i64> {
        vec![self.special("<|im_end|>")]
    }

    fn pad_id(&self) -> i64 {
        0
    }

    fn save(&self, dir: &Path) -> Result<()> {
        Ok(srl_core::io::write_json_pretty(dir.join(TOY_VOCAB_FILE), &self.vocab)?)
    }
}

/// A Hugging Face checkpoint's tokenizer and chat template (`srl-model`), for real Qwen2
/// checkpoints. Stops at the tokenizer's EOS ids plus `<|im_end|>`/`<|endoftext|>` when known.
pub struct HfCodec {
    tokenizer: srl_model::Tokenizer,
    template: srl_model::ChatTemplate,
    stops: Vec<i64>,
    pad: i64,
}

impl std::fmt::Debug for HfCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HfCodec").field("stops", &self.stops).field("pad", &self.pad).finish()
    }
}

impl HfCodec {
    /// Loads `tokenizer.json`, `tokenizer_config.json` (template) from a checkpoint folder.
    pub fn load(dir: &Path) -> Result<Self> {
        let merr = |e: srl_model::ModelError| TrainError::Model { message: e.to_string() };
        let tokenizer = srl_model::Tokenizer::load(dir).map_err(merr)?;
        let template = srl_model::ChatTemplate::load(dir).map_err(merr)?;
        let mut stops: Vec<i64> = tokenizer.eos_token_ids().iter().map(|&x| x as i64).collect();
        for t in ["<|im_end|>", "<|endoftext|>"] {
            if let Some(id) = tokenizer.token_to_id(t) {
                if !stops.contains(&(id as i64)) {
                    stops.push(id as i64);
                }
            }
        }
        if stops.is_empty() {
            return Err(TrainError::Checkpoint {
                path: dir.to_path_buf(),
                message: "tokenizer has no EOS token".into(),
            });
        }
        let pad = tokenizer.pad_token_id().map_or(stops[0], |x| x as i64);
        Ok(Self { tokenizer, template, stops, pad })
    }
}

impl TextCodec for HfCodec {
    fn name(&self) -> &'static str {
        "hf"
    }

    fn encode_chat(&self, messages: &[Message]) -> Result<Vec<i64>> {
        let text = self.template.render(messages, true).map_err(|e| TrainError::Model { message: e.to_string() })?;
        self.encode_text(&text)
    }

    fn encode_text(&self, text: &str) -> Result<Vec<i64>> {
        let ids = self.tokenizer.encode(text, false).map_err(|e| TrainError::Model { message: e.to_string() })?;
        Ok(ids.into_iter().map(|x| x as i64).collect())
    }

    fn decode(&self, ids: &[i64]) -> String {
        let ids: Vec<u32> = ids.iter().filter(|&&x| x >= 0).map(|&x| x as u32).collect();
        self.tokenizer.decode(&ids, false).unwrap_or_default()
    }

    fn stop_ids(&self) -> Vec<i64> {
        self.stops.clone()
    }

    fn pad_id(&self) -> i64 {
        self.pad
    }

    fn save(&self, _dir: &Path) -> Result<()> {
        // The tokenizer files are copied by `Qwen2Model::save` from the source folder.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_renders_chatml_and_round_trips() {
        let c = ToyCodec::new(ToyVocab::default()).unwrap();
        let ids = c.encode_chat(&[Message::new(Role::User, "1 2")]).unwrap();
        assert_eq!(c.decode(&ids), "<|im_start|>user\n1 2<|im_end|>\n<|im_start|>assistant\n");
        assert_eq!(ids[0], 1);
        let t = c.encode_text("<think>ab</think>3").unwrap();
        assert_eq!(t.len(), 5);
        assert_eq!(c.decode(&t), "<think>ab</think>3");
        assert!(c.encode_text("é").unwrap_err().to_string().contains("toy vocabulary"));
        assert_eq!(c.stop_ids(), vec![2]);
    }
}
