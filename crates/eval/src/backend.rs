//! Model backends behind one trait: chat messages in, one completion out. Implementations:
//! [`GoldBackend`] (answers with the gold fix written as SEARCH/REPLACE edits, and localizes the
//! gold files; validates environments: 100% must resolve), [`EmptyBackend`] (answers nothing:
//! 0% must resolve), [`ReplayBackend`] (grades a predictions JSONL from elsewhere) and
//! [`crate::openai::OpenAiBackend`] (any OpenAI-compatible chat-completions server). The local
//! tch model plugs in through the same trait (`srl-model`), without this crate depending on tch.
//!
//! The trait is blocking and `Send + Sync`: the pipeline calls it from a blocking thread pool,
//! so an implementation may block (HTTP, GPU) and serializes internally when it must.

use crate::error::{EvalError, Result};
use crate::prompts::SourceFile;
use crate::search_replace::apply_answer;
use crate::unidiff::{self, FilePatch};
use serde::{Deserialize, Serialize};
use srl_core::{Message, Prediction, TaskInstance};
use std::collections::HashMap;
use std::path::Path;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// File-level localization (end-to-end mode).
    Localize,
    /// SEARCH/REPLACE repair.
    Repair,
}

/// One chat request.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// Task id (for logs, caching and structure-aware backends).
    pub instance_id: String,
    /// Localization or repair.
    pub purpose: Purpose,
    /// 0-based sample index (several samples per instance when sampling).
    pub sample: usize,
    /// The conversation (Agentless-mini sends one user message, no system message).
    pub messages: Vec<Message>,
    /// Sampling temperature (0 = greedy).
    pub temperature: f64,
    /// Maximum new tokens.
    pub max_tokens: u32,
    /// The files the repair prompt shows, as structured data (model backends ignore it; the
    /// gold backend uses it to write its edits against exactly these contents).
    pub files: Vec<SourceFile>,
}

/// One completion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// Generated text.
    pub text: String,
    /// Prompt tokens, when the backend knows them.
    pub prompt_tokens: Option<u64>,
    /// Generated tokens, when the backend knows them.
    pub completion_tokens: Option<u64>,
    /// Token ids of the generation (local models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_ids: Option<Vec<u32>>,
    /// Per-token log-probabilities of the generation (local models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Vec<f32>>,
    /// Why generation stopped (`stop`, `length`, ...).
    pub finish_reason: Option<String>,
}

impl Completion {
    /// A completion with text only.
    pub fn text(text: impl Into<String>) -> Self {
        Completion { text: text.into(), ..Completion::default() }
    }
}

/// A model backend.
pub trait ModelBackend: Send + Sync {
    /// Name written to `model_name_or_path`.
    fn name(&self) -> &str;

    /// A finished patch for the instance, bypassing prompting (the replay backend); `None`
    /// for backends that generate.
    fn ready_patch(&self, _instance_id: &str) -> Option<Result<String>> {
        None
    }

    /// Generates one completion.
    fn complete(&self, request: &ChatRequest) -> Result<Completion>;

    /// Tokens of `text` in the model's tokenizer, when the backend has one (the local model):
    /// the repair prompt's context cap then counts real tokens instead of 4 bytes per token.
    fn count_tokens(&self, _text: &str) -> Option<usize> {
        None
    }
}

/// Always answers with empty text: no files localized, no edits, empty patch.
#[derive(Debug, Default, Clone)]
pub struct EmptyBackend;

impl ModelBackend for EmptyBackend {
    fn name(&self) -> &str {
        "empty"
    }
    fn complete(&self, _request: &ChatRequest) -> Result<Completion> {
        Ok(Completion::text(""))
    }
}

/// Grades predictions made elsewhere (SWE-bench predictions JSONL).
#[derive(Debug, Clone)]
pub struct ReplayBackend {
    name: String,
    patches: HashMap<String, String>,
}

impl ReplayBackend {
    /// Reads `instance_id` / `model_name_or_path` / `model_patch` lines; later lines for the
    /// same id win. The name is the first `model_name_or_path` (or `replay`).
    pub fn from_jsonl(path: &Path) -> Result<Self> {
        let mut patches = HashMap::new();
        let mut name = None;
        for item in srl_core::io::jsonl_lines(path)? {
            let (line, text) = item?;
            let p: Prediction = serde_json::from_str(&text).map_err(|e| EvalError::Record {
                path: path.to_path_buf(),
                line,
                field: json_error_field(&e),
                message: e.to_string(),
            })?;
            name.get_or_insert(p.model_name_or_path.clone());
            patches.insert(p.instance_id, p.model_patch);
        }
        Ok(ReplayBackend { name: name.unwrap_or_else(|| "replay".into()), patches })
    }

    /// Number of predictions.
    pub fn len(&self) -> usize {
        self.patches.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.patches.is_empty()
    }
}

pub(crate) fn json_error_field(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    msg.split('`').nth(1).map_or_else(|| "-".to_string(), str::to_string)
}

impl ModelBackend for ReplayBackend {
    fn name(&self) -> &str {
        &self.name
    }
    fn ready_patch(&self, instance_id: &str) -> Option<Result<String>> {
        Some(self.patches.get(instance_id).cloned().ok_or_else(|| EvalError::Backend {
            backend: "replay".into(),
            message: format!("no prediction for `{instance_id}`"),
        }))
    }
    fn complete(&self, _request: &ChatRequest) -> Result<Completion> {
        Err(EvalError::Backend { backend: "replay".into(), message: "the replay backend does not generate".into() })
    }
}

/// Answers with the gold fix: for SWE-smith instances the reverse of the bug `patch`, for
/// SWE-bench rows the `patch` itself. Localization answers the fixed files; repair answers one
/// SEARCH/REPLACE edit per hunk (blank trailing context trimmed), checked by running the real
/// parser on the answer, with a whole-file edit as fallback.
#[derive(Debug, Clone, Default)]
pub struct GoldBackend {
    fixes: HashMap<String, Vec<FilePatch>>,
}

impl GoldBackend {
    /// Indexes the gold fixes of `instances`. A patch that does not parse is an error naming
    /// the instance.
    pub fn new(instances: &[TaskInstance]) -> Result<Self> {
        let mut fixes = HashMap::new();
        for t in instances {
            let parsed = unidiff::parse(&t.patch).map_err(|e| EvalError::Backend {
                backend: "gold".into(),
                message: format!("{}: {e}", t.instance_id),
            })?;
            let fix = if t.patch_is_bug { unidiff::reverse(&parsed) } else { parsed };
            fixes.insert(t.instance_id.clone(), fix);
        }
        Ok(GoldBackend { fixes })
    }

    fn fix(&self, id: &str) -> Result<&Vec<FilePatch>> {
        self.fixes
            .get(id)
            .ok_or_else(|| EvalError::Backend { backend: "gold".into(), message: format!("unknown instance `{id}`") })
    }
}

fn edit_block(path: &str, search: &str, replace: &str) -> String {
    format!("```python\n### {path}\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n```\n")
}

fn hunk_edits(path: &str, fp: &FilePatch) -> String {
    let mut out = String::new();
    for h in &fp.hunks {
        let mut lines: Vec<&str> = h.lines.iter().map(String::as_str).filter(|l| !l.starts_with('\\')).collect();
        while lines.len() > 1 && lines.last().is_some_and(|l| l.starts_with(' ') && l[1..].trim().is_empty()) {
            lines.pop();
        }
        let old: Vec<&str> = lines.iter().filter(|l| !l.starts_with('+')).map(|l| &l[1..]).collect();
        let new: Vec<&str> = lines.iter().filter(|l| !l.starts_with('-')).map(|l| &l[1..]).collect();
        out.push_str(&edit_block(path, &old.join("\n"), &new.join("\n")));
    }
    out
}

impl ModelBackend for GoldBackend {
    fn name(&self) -> &str {
        "gold"
    }

    fn complete(&self, request: &ChatRequest) -> Result<Completion> {
        let fix = self.fix(&request.instance_id)?;
        match request.purpose {
            Purpose::Localize => {
                let files: Vec<&str> = fix.iter().map(FilePatch::path).filter(|p| p.ends_with(".py")).collect();
                Ok(Completion::text(format!("```\n{}\n```", files.join("\n"))))
            }
            Purpose::Repair => {
                let mut answer = String::new();
                for fp in fix {
                    let Some(src) = request.files.iter().find(|f| f.path == fp.path()) else { continue };
                    let target = unidiff::apply_to_text(&src.content, fp)?;
                    let single = std::slice::from_ref(src);
                    let candidates = [
                        hunk_edits(&src.path, fp),
                        edit_block(
                            &src.path,
                            src.content.strip_suffix('\n').unwrap_or(&src.content),
                            target.strip_suffix('\n').unwrap_or(&target),
                        ),
                    ];
                    let good = candidates
                        .into_iter()
                        .find(|c| apply_answer(c, single).files.first().is_some_and(|f| f.new == target));
                    match good {
                        Some(c) => answer.push_str(&c),
                        None => {
                            return Err(EvalError::Backend {
                                backend: "gold".into(),
                                message: format!(
                                    "{}: the fix of `{}` cannot be written as SEARCH/REPLACE edits",
                                    request.instance_id, src.path
                                ),
                            })
                        }
                    }
                }
                Ok(Completion::text(answer))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use srl_core::Role;

    const BUG: &str = "diff --git a/pkg/m.py b/pkg/m.py\n--- a/pkg/m.py\n+++ b/pkg/m.py\n@@ -1,5 +1,5 @@\n def f(x):\n-    return x + 1\n+    return x - 1\n \n \n def g():\n";
    const BUGGY: &str = "def f(x):\n    return x - 1\n\n\ndef g():\n    return 0\n";
    const FIXED: &str = "def f(x):\n    return x + 1\n\n\ndef g():\n    return 0\n";

    fn task() -> TaskInstance {
        serde_json::from_value(serde_json::json!({
            "instance_id": "o__r.1.bug__1", "repo": "o/r", "problem_statement": "f is wrong",
            "patch": BUG, "patch_is_bug": true
        }))
        .unwrap()
    }

    fn request(purpose: Purpose, files: Vec<SourceFile>) -> ChatRequest {
        ChatRequest {
            instance_id: "o__r.1.bug__1".into(),
            purpose,
            sample: 0,
            messages: vec![Message::new(Role::User, "x")],
            temperature: 0.0,
            max_tokens: 10,
            files,
        }
    }

    #[test]
    fn gold_localizes_and_repairs_through_the_real_parser() {
        let gold = GoldBackend::new(&[task()]).unwrap();
        let loc = gold.complete(&request(Purpose::Localize, vec![])).unwrap();
        assert_eq!(loc.text, "```\npkg/m.py\n```");
        let files = vec![SourceFile { path: "pkg/m.py".into(), content: BUGGY.into() }];
        let answer = gold.complete(&request(Purpose::Repair, files.clone())).unwrap();
        let applied = apply_answer(&answer.text, &files);
        assert_eq!(applied.files[0].new, FIXED);
        assert!(
            answer.text.starts_with("```python\n### pkg/m.py\n<<<<<<< SEARCH\ndef f(x):\n    return x - 1\n"),
            "{}",
            answer.text
        );
    }

    #[test]
    fn empty_and_replay() {
        assert_eq!(EmptyBackend.complete(&request(Purpose::Repair, vec![])).unwrap().text, "");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("preds.jsonl");
        std::fs::write(&p, "{\"instance_id\":\"a\",\"model_name_or_path\":\"m\",\"model_patch\":\"d\"}\n").unwrap();
        let r = ReplayBackend::from_jsonl(&p).unwrap();
        assert_eq!(r.name(), "m");
        assert_eq!(r.ready_patch("a").unwrap().unwrap(), "d");
        assert!(r.ready_patch("b").unwrap().is_err());
        std::fs::write(&p, "{\"instance_id\":\"a\"}\n").unwrap();
        let err = ReplayBackend::from_jsonl(&p).unwrap_err().to_string();
        assert!(err.contains("preds.jsonl:1") && err.contains("model_name_or_path"), "{err}");
    }
}
