//! Counting prompt tokens for `--max-context-tokens`: a small trait with the real implementation
//! (a Hugging Face `tokenizer.json` through the `tokenizers` crate) and a deterministic stand-in
//! for tests and for estimates without a tokenizer.

use crate::error::{Result, TrajectoryError};
use std::path::Path;

/// Tokens a chat template adds around one message (Qwen2.5: `<|im_start|>role\n` … `<|im_end|>\n`).
pub const MESSAGE_TOKEN_OVERHEAD: usize = 5;

/// Counts tokens of a text.
pub trait TokenCounter: Send + Sync {
    /// Number of tokens of `text` (without special tokens).
    fn count(&self, text: &str) -> usize;
}

/// A Hugging Face tokenizer loaded from `tokenizer.json`.
pub struct HfTokenCounter {
    tokenizer: tokenizers::Tokenizer,
}

impl HfTokenCounter {
    /// Loads `tokenizer.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let tokenizer = tokenizers::Tokenizer::from_file(path)
            .map_err(|e| TrajectoryError::Tokenizer { path: path.to_path_buf(), message: e.to_string() })?;
        Ok(Self { tokenizer })
    }
}

impl TokenCounter for HfTokenCounter {
    fn count(&self, text: &str) -> usize {
        // Encoding plain text without special tokens does not fail for a loaded tokenizer; a
        // failure counts as "too long" so the limit is never silently exceeded.
        self.tokenizer.encode(text, false).map(|e| e.len()).unwrap_or(usize::MAX / 4)
    }
}

/// One token per `n` characters, rounded up: a stand-in with no files.
pub struct CharsPerToken(pub usize);

impl TokenCounter for CharsPerToken {
    fn count(&self, text: &str) -> usize {
        text.chars().count().div_ceil(self.0.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chars_per_token_rounds_up() {
        assert_eq!(CharsPerToken(4).count(""), 0);
        assert_eq!(CharsPerToken(4).count("abcde"), 2);
        assert_eq!(CharsPerToken(1).count("αβ"), 2);
    }

    #[test]
    fn missing_tokenizer_file_is_an_error() {
        let err = HfTokenCounter::from_file(Path::new("/nonexistent/tokenizer.json")).err().unwrap();
        assert!(err.to_string().contains("/nonexistent/tokenizer.json"), "{err}");
    }
}
