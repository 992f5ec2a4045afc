//! Wire formats of the reward server (`docs/engines.md` has the field-by-field reference).
//!
//! - `POST /get_reward`: OpenRLHF's remote-reward protocol (OpenRLHF `openrlhf/utils/agent.py`,
//!   `SingleTurnAgentExecutor`; its bundled server `openrlhf/cli/serve_rm.py`). Request
//!   `{"query": [str], "prompts": [str], "labels": [label]}` of equal lengths, where `query` is the
//!   decoded prompt + response with template markers, `prompts` the rendered prompt and a label
//!   either the expert action text or the object `{"expert", "kind", "answer", "id"}` (as a JSON
//!   string or an object). Response `{"rewards": [f], "scores": [f], "extra_logs": {"format_ok",
//!   "srl_ratio", "error"}}`.
//! - `POST /score`: `{"items": [{"response", "kind", "expert", "answer", "id"}]}` →
//!   `{"results": [{"score", "format_ok", "srl_ratio", "error"}]}` in input order.
//!
//! A body that is not JSON of that shape is a 400 whose `field` names the first bad field
//! (`items[3].response`, `labels`); everything else is a 200 with a number for every item.

use crate::config::{ItemKind, RewardServerConfig, ScoreScale};
use crate::scoring::{Item, ItemResult};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A 400 answer: what is wrong and which field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BadRequest {
    /// What is wrong.
    pub error: String,
    /// The field at fault (`items[2].kind`), or `null` when the body is not JSON at all.
    pub field: Option<String>,
}

/// Parses a body into `T`, naming the failing field.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, BadRequest> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = parsed.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let syntax = matches!(inner.classify(), serde_json::error::Category::Syntax | serde_json::error::Category::Eof);
        // serde names a missing field only in its message (`missing field `labels``).
        let missing = inner.to_string().split('`').nth(1).filter(|f| !f.contains(' ')).map(str::to_string);
        let field = if syntax {
            None
        } else {
            match (path.as_str(), missing) {
                (".", Some(m)) => Some(m),
                (".", None) => None,
                (p, Some(m)) if inner.to_string().starts_with("missing field") => Some(format!("{p}.{m}")),
                (p, _) => Some(p.to_string()),
            }
        };
        BadRequest { error: inner.to_string(), field }
    })?;
    de.end().map_err(|e| BadRequest { error: e.to_string(), field: None })?;
    Ok(value)
}

/// `POST /get_reward` request.
#[derive(Debug, Clone, Deserialize)]
pub struct GetRewardRequest {
    /// Decoded prompt + response, template markers and EOS included.
    pub query: Vec<String>,
    /// The rendered prompts.
    pub prompts: Vec<String>,
    /// One label per query.
    pub labels: Vec<Value>,
}

/// `POST /get_reward` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GetRewardResponse {
    /// Rewards for the advantages.
    pub rewards: Vec<f64>,
    /// Scores for OpenRLHF's dynamic filter (`rewards`, or mapped to [0, 1] with `--scores unit`).
    pub scores: Vec<f64>,
    /// Per-item logs, each a list aligned with `rewards`.
    pub extra_logs: ExtraLogs,
}

/// The `extra_logs` of `/get_reward`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExtraLogs {
    /// 1 if the output followed the format.
    pub format_ok: Vec<f64>,
    /// SequenceMatcher ratio of the action.
    pub srl_ratio: Vec<f64>,
    /// 1 if the item could not be scored.
    pub error: Vec<f64>,
}

/// One `/score` item.
#[derive(Debug, Clone, Deserialize)]
pub struct ScoreItem {
    /// The model's output.
    pub response: String,
    /// swe | math | rlvr.
    pub kind: ItemKind,
    /// Expert action (swe, math).
    #[serde(default)]
    pub expert: Option<String>,
    /// Reference answer (rlvr).
    #[serde(default)]
    pub answer: Option<String>,
    /// Caller's id (accepted for logs; results are in input order).
    #[serde(default)]
    pub id: Option<Value>,
}

/// `POST /score` request.
#[derive(Debug, Clone, Deserialize)]
pub struct ScoreRequest {
    /// The items.
    pub items: Vec<ScoreItem>,
}

/// `POST /score` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreResponse {
    /// One result per item, in input order.
    pub results: Vec<ItemResult>,
}

/// The structured label that `prepare --format openrlhf` writes.
#[derive(Debug, Clone, Deserialize)]
struct Label {
    #[serde(default)]
    expert: Option<String>,
    #[serde(default)]
    kind: Option<ItemKind>,
    #[serde(default)]
    answer: Option<String>,
}

/// The response text of an OpenRLHF `query`: `query` minus its `prompt` prefix (else the text
/// after the last assistant header), with trailing special tokens and whitespace stripped.
pub fn response_text<'a>(query: &'a str, prompt: &str, config: &RewardServerConfig) -> &'a str {
    let mut text = match query.strip_prefix(prompt) {
        Some(rest) if !prompt.is_empty() => rest,
        _ => match query.rfind(config.assistant_marker.as_str()) {
            Some(at) if !config.assistant_marker.is_empty() => &query[at + config.assistant_marker.len()..],
            _ => query,
        },
    };
    loop {
        let before = text.len();
        text = text.trim_end();
        for token in &config.strip_tokens {
            if let Some(rest) = text.strip_suffix(token.as_str()) {
                text = rest;
            }
        }
        if text.len() == before {
            return text;
        }
    }
}

/// The item of one `/get_reward` entry; `None` when the label is unusable (scored as an error).
pub fn item_from_label(response: &str, label: &Value, config: &RewardServerConfig) -> Option<Item> {
    let structured = match label {
        Value::Object(_) => serde_json::from_value::<Label>(label.clone()).ok()?,
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) if v.get("expert").is_some() || v.get("answer").is_some() => {
                serde_json::from_value::<Label>(v).ok()?
            }
            _ => Label { expert: Some(s.clone()), kind: Some(config.default_kind), answer: None },
        },
        _ => return None,
    };
    let kind =
        structured.kind.unwrap_or(if structured.expert.is_some() { config.default_kind } else { ItemKind::Rlvr });
    Some(Item { response: response.to_string(), kind, expert: structured.expert, answer: structured.answer })
}

/// `scores` entry for a reward.
pub fn scaled(reward: f64, scale: ScoreScale) -> f64 {
    match scale {
        ScoreScale::Reward => reward,
        ScoreScale::Unit => ((reward + 1.0) / 2.0).clamp(0.0, 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let e = parse_body::<GetRewardRequest>(br#"{"query": ["a"], "prompts": ["b"]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("labels"), "{e:?}");
        let e = parse_body::<ScoreRequest>(br#"{"items": [{"response": "x", "kind": "swe"}, {"kind": "swe"}]}"#)
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("items[1].response"), "{e:?}");
        let e = parse_body::<ScoreRequest>(br#"{"items": [{"response": 3, "kind": "swe"}]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("items[0].response"), "{e:?}");
        let e = parse_body::<ScoreRequest>(br#"{"items": [{"response": "x", "kind": "code"}]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("items[0].kind"), "{e:?}");
        let e = parse_body::<ScoreRequest>(b"{\"items\": [").unwrap_err();
        assert_eq!(e.field, None);
        let e = parse_body::<ScoreRequest>(br#"{"items": []} trailing"#).unwrap_err();
        assert_eq!(e.field, None);
    }

    #[test]
    fn response_is_query_minus_prompt_without_trailing_tokens() {
        let c = RewardServerConfig::default();
        let prompt = "<|im_start|>user\nfix<|im_end|>\n<|im_start|>assistant\n";
        let query = format!("{prompt}<think>t</think>x<|im_end|>\n<|endoftext|><|endoftext|>");
        assert_eq!(response_text(&query, prompt, &c), "<think>t</think>x");
        // Prompt re-rendered differently (not a prefix): the last assistant header decides.
        assert_eq!(response_text(&query, "other prompt", &c), "<think>t</think>x");
        assert_eq!(response_text("plain", "", &c), "plain");
    }

    #[test]
    fn labels_plain_json_string_and_object() {
        let c = RewardServerConfig::default();
        let plain = item_from_label("r", &Value::String("<function=submit>\n</function>".into()), &c).unwrap();
        assert_eq!((plain.kind, plain.expert.as_deref()), (ItemKind::Swe, Some("<function=submit>\n</function>")));
        let s = r#"{"expert": "step", "kind": "math", "answer": "4", "id": "p#1"}"#;
        let json = item_from_label("r", &Value::String(s.into()), &c).unwrap();
        assert_eq!(
            (json.kind, json.expert.as_deref(), json.answer.as_deref()),
            (ItemKind::Math, Some("step"), Some("4"))
        );
        let rlvr = item_from_label("r", &serde_json::json!({"answer": "4", "expert": null}), &c).unwrap();
        assert_eq!(rlvr.kind, ItemKind::Rlvr);
        assert!(item_from_label("r", &Value::Null, &c).is_none());
        assert!(item_from_label("r", &serde_json::json!({"kind": "chess"}), &c).is_none());
    }

    #[test]
    fn unit_scale_maps_minus_one_to_zero() {
        assert_eq!(scaled(-1.0, ScoreScale::Unit), 0.0);
        assert_eq!(scaled(1.0, ScoreScale::Unit), 1.0);
        assert_eq!(scaled(0.5, ScoreScale::Unit), 0.75);
        assert_eq!(scaled(-1.0, ScoreScale::Reward), -1.0);
    }
}
