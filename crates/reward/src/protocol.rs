//! The JSONL records of `srl-swe reward` (one request per line, one response per request, in
//! order), kept in the library so a reward server can speak the same format.
//!
//! Requests:
//! - SRL: `{"output": "...", "expert": "...", "kind": "swe"|"math"}` →
//!   `{"reward": r, "format_ok": bool, "reason": null|"code"}`
//! - math answer (RLVR): `{"output": "...", "answer": "..."}` → `{"reward": r, "extracted": "..."}`
//! - raw (`--raw`): `{"a": "...", "b": "..."}` → `{"ratio": r}`, CPython's
//!   `SequenceMatcher(None, a, b).ratio()`
//!
//! Every request may carry an `"id"` (any JSON value), echoed in its response. A bad line
//! yields `{"line": n, "error": "..."}`. Floats are written by serde_json in the shortest form
//! that parses back to the same f64.

use crate::math_grader::MathAnswerReward;
use crate::sequence_matcher::{MatcherOptions, SequenceMatcher};
use crate::srl::{Progress, SrlConfig, SrlReward};
use crate::{Result, RewardError};
use rayon::prelude::*;
use serde::Deserialize;
use srl_core::TaskKind;

/// One parsed request line.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// SRL reward of an output against an expert action.
    Srl {
        /// Echoed id.
        id: Option<serde_json::Value>,
        /// Model output.
        output: String,
        /// Expert action.
        expert: String,
        /// SWE or math.
        kind: TaskKind,
    },
    /// Math answer reward.
    Answer {
        /// Echoed id.
        id: Option<serde_json::Value>,
        /// Model output.
        output: String,
        /// Reference final answer.
        answer: String,
    },
    /// Plain SequenceMatcher ratio.
    Raw {
        /// Echoed id.
        id: Option<serde_json::Value>,
        /// CPython's `a`.
        a: String,
        /// CPython's `b`.
        b: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SrlLine {
    #[serde(default)]
    id: Option<serde_json::Value>,
    output: String,
    expert: String,
    kind: TaskKind,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerLine {
    #[serde(default)]
    id: Option<serde_json::Value>,
    output: String,
    answer: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    #[serde(default)]
    id: Option<serde_json::Value>,
    a: String,
    b: String,
}

/// Which requests a run expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// SRL and math-answer requests (told apart by the `answer` field).
    Reward,
    /// Raw `{"a", "b"}` requests.
    Raw,
}

fn bad(line: usize, err: &serde_json::Error) -> RewardError {
    let message = err.to_string();
    // serde names the field in its message (`missing field `expert``); pull it out for callers.
    let field = message.split('`').nth(1).filter(|f| !f.contains(' ')).map(str::to_string);
    RewardError::BadRequest { line, field, message }
}

/// Parses one request line (`line` is its 1-based number, for errors).
pub fn parse_request(line: usize, text: &str, mode: Mode) -> Result<Request> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(line, &e))?;
    if !value.is_object() {
        return Err(RewardError::BadRequest { line, field: None, message: "expected a JSON object".into() });
    }
    match mode {
        Mode::Raw => {
            let r: RawLine = serde_json::from_value(value).map_err(|e| bad(line, &e))?;
            Ok(Request::Raw { id: r.id, a: r.a, b: r.b })
        }
        Mode::Reward if value.get("answer").is_some() => {
            let r: AnswerLine = serde_json::from_value(value).map_err(|e| bad(line, &e))?;
            Ok(Request::Answer { id: r.id, output: r.output, answer: r.answer })
        }
        Mode::Reward => {
            let r: SrlLine = serde_json::from_value(value).map_err(|e| bad(line, &e))?;
            Ok(Request::Srl { id: r.id, output: r.output, expert: r.expert, kind: r.kind })
        }
    }
}

/// One response line.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Response {
    /// SRL reward.
    Srl {
        /// Echoed id.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<serde_json::Value>,
        /// Reward in [0, 1] or −1.
        reward: f64,
        /// Whether the output followed the format.
        format_ok: bool,
        /// Format error reason code.
        reason: Option<&'static str>,
    },
    /// Math answer reward.
    Answer {
        /// Echoed id.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<serde_json::Value>,
        /// Reward (1.0 / 0.0 by default).
        reward: f64,
        /// The extracted, normalized answer.
        extracted: String,
    },
    /// Raw ratio.
    Raw {
        /// Echoed id.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<serde_json::Value>,
        /// `SequenceMatcher(None, a, b).ratio()`.
        ratio: f64,
    },
    /// A line that could not be scored.
    Error {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        error: String,
    },
}

/// Settings for scoring requests.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScoreOptions {
    /// SRL reward settings (its `autojunk` also applies to raw requests).
    pub srl: SrlConfig,
    /// Math answer reward settings.
    pub answer: MathAnswerReward,
}

/// Scores one request.
pub fn score_request(request: &Request, options: &ScoreOptions) -> Response {
    match request {
        Request::Srl { id, output, expert, kind } => {
            let o = SrlReward::new(options.srl).prepare(*kind, expert).score(output);
            Response::Srl { id: id.clone(), reward: o.reward, format_ok: o.format_ok, reason: o.reason }
        }
        Request::Answer { id, output, answer } => {
            let o = options.answer.grade(output, answer);
            Response::Answer { id: id.clone(), reward: o.reward, extracted: o.extracted.unwrap_or_default() }
        }
        Request::Raw { id, a, b } => {
            let m = SequenceMatcher::with_options(b, MatcherOptions { autojunk: options.srl.autojunk, isjunk: None });
            Response::Raw { id: id.clone(), ratio: m.ratio(a) }
        }
    }
}

/// Scores parsed lines on all cores, in order; lines that failed to parse become
/// [`Response::Error`] records naming their line.
pub fn score_lines(lines: &[Result<Request>], options: &ScoreOptions, progress: &dyn Progress) -> Vec<Response> {
    lines
        .par_iter()
        .map(|item| {
            let r = match item {
                Ok(request) => score_request(request, options),
                Err(RewardError::BadRequest { line, message, .. }) => {
                    Response::Error { line: *line, error: message.clone() }
                }
                Err(other) => Response::Error { line: 0, error: other.to_string() },
            };
            progress.advance(1);
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srl::NoProgress;

    #[test]
    fn request_kinds_and_errors() {
        let srl = parse_request(1, r#"{"output":"<think>t</think>abcd","expert":"bcde","kind":"math"}"#, Mode::Reward);
        let answer = parse_request(2, r#"{"output":"so \\boxed{4}","answer":"4","id":7}"#, Mode::Reward);
        let raw = parse_request(3, r#"{"a":"abcd","b":"bcde"}"#, Mode::Raw);
        let missing = parse_request(4, r#"{"output":"x","kind":"swe"}"#, Mode::Reward);
        let not_json = parse_request(5, "{oops", Mode::Reward);
        let lines = vec![srl, answer, raw, missing, not_json];
        let out = score_lines(&lines, &ScoreOptions::default(), &NoProgress);
        let text: Vec<String> = out.iter().map(|r| serde_json::to_string(r).unwrap()).collect();
        assert_eq!(text[0], r#"{"reward":0.75,"format_ok":true,"reason":null}"#);
        assert_eq!(text[1], r#"{"id":7,"reward":1.0,"extracted":"4"}"#);
        assert_eq!(text[2], r#"{"ratio":0.75}"#);
        assert!(text[3].starts_with(r#"{"line":4,"error":"missing field `expert`"#), "{}", text[3]);
        assert!(text[4].starts_with(r#"{"line":5,"error":"#), "{}", text[4]);
        assert!(matches!(&lines[3], Err(RewardError::BadRequest { field: Some(f), .. }) if f == "expert"));
    }
}
