//! Tokenizer wrapper over the `tokenizers` crate (0.23) that also reads the
//! special-token settings of a Hugging Face checkpoint: `eos_token` / `pad_token` / `bos_token`
//! from `tokenizer_config.json` and `eos_token_id` from `generation_config.json` (Qwen2.5 instruct
//! models stop on both `<|im_end|>` and `<|endoftext|>`).

use crate::error::{ModelError, Result};
use serde_json::Value;
use std::path::Path;

/// A loaded tokenizer with the checkpoint's special tokens.
#[derive(Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    eos_token_ids: Vec<u32>,
    pad_token_id: Option<u32>,
    bos_token: Option<String>,
    eos_token: Option<String>,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.vocab_size())
            .field("eos_token_ids", &self.eos_token_ids)
            .field("pad_token_id", &self.pad_token_id)
            .finish_non_exhaustive()
    }
}

fn read_json(path: &Path) -> Result<Option<Value>> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(ModelError::io(path))?;
    serde_json::from_str(&text).map(Some).map_err(|source| ModelError::Json { path: path.into(), source })
}

/// `"<|im_end|>"` or `{"content": "<|im_end|>", ...}` (both forms appear in tokenizer configs).
pub(crate) fn token_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content").and_then(Value::as_str).map(String::from),
        _ => None,
    }
}

impl Tokenizer {
    /// Loads `dir/tokenizer.json` plus the special tokens of `tokenizer_config.json` and
    /// `generation_config.json` when present.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("tokenizer.json");
        let inner = tokenizers::Tokenizer::from_file(&path)
            .map_err(|e| ModelError::Tokenizer { context: path.display().to_string(), reason: e.to_string() })?;
        let tok_cfg = read_json(&dir.join("tokenizer_config.json"))?.unwrap_or(Value::Null);
        let gen_cfg = read_json(&dir.join("generation_config.json"))?.unwrap_or(Value::Null);
        let eos_token = token_string(tok_cfg.get("eos_token"));
        let bos_token = token_string(tok_cfg.get("bos_token"));
        let pad_token = token_string(tok_cfg.get("pad_token"));
        let mut eos_token_ids: Vec<u32> = match gen_cfg.get("eos_token_id") {
            Some(Value::Number(n)) => n.as_u64().map(|x| vec![x as u32]).unwrap_or_default(),
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_u64).map(|x| x as u32).collect(),
            _ => Vec::new(),
        };
        if let Some(id) = eos_token.as_deref().and_then(|t| inner.token_to_id(t)) {
            if !eos_token_ids.contains(&id) {
                eos_token_ids.push(id);
            }
        }
        let pad_token_id = pad_token.as_deref().and_then(|t| inner.token_to_id(t));
        Ok(Self { inner, eos_token_ids, pad_token_id, bos_token, eos_token })
    }

    /// Wraps an in-memory tokenizer (e.g. one just trained) with explicit special tokens.
    pub fn from_parts(inner: tokenizers::Tokenizer, eos_token: Option<&str>, pad_token: Option<&str>) -> Self {
        let eos_token_ids = eos_token.and_then(|t| inner.token_to_id(t)).into_iter().collect();
        let pad_token_id = pad_token.and_then(|t| inner.token_to_id(t));
        Self { inner, eos_token_ids, pad_token_id, bos_token: None, eos_token: eos_token.map(String::from) }
    }

    /// Token ids of `text`; `add_special_tokens` applies the post-processor (Qwen adds none).
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
        let enc = self
            .inner
            .encode(text, add_special_tokens)
            .map_err(|e| ModelError::Tokenizer { context: "encode".into(), reason: e.to_string() })?;
        Ok(enc.get_ids().to_vec())
    }

    /// Text of `ids`; `skip_special_tokens` drops `<|im_end|>` and friends.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        self.inner
            .decode(ids, skip_special_tokens)
            .map_err(|e| ModelError::Tokenizer { context: "decode".into(), reason: e.to_string() })
    }

    /// Id of a token string (special tokens included).
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Token string of an id.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Vocabulary size including added tokens.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Ids that end generation: `generation_config.json` `eos_token_id` plus `eos_token`.
    pub fn eos_token_ids(&self) -> &[u32] {
        &self.eos_token_ids
    }

    /// Padding id, when the checkpoint names one.
    pub fn pad_token_id(&self) -> Option<u32> {
        self.pad_token_id
    }

    /// `bos_token` of tokenizer_config.json (passed to chat templates).
    pub fn bos_token(&self) -> Option<&str> {
        self.bos_token.as_deref()
    }

    /// `eos_token` of tokenizer_config.json (passed to chat templates).
    pub fn eos_token(&self) -> Option<&str> {
        self.eos_token.as_deref()
    }

    /// The underlying `tokenizers::Tokenizer`.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }
}
