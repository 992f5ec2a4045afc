//! Math evaluation as in the SRL paper (arXiv 2510.25992 Table 1) with the Qwen2.5-Math protocol
//! (`docs/training.md`, data shapes the Hugging Face checkpoint layout): greedy accuracy and Avg@k
//! (k samples at temperature 1.0, mean correctness) graded by `srl-reward`'s Qwen2.5-Math grader
//! ([`srl_reward::MathAnswerReward`]). `srl-swe eval --mode math` and the trainer's RLVR
//! validation both call [`evaluate_math`].

use crate::data::MATH_COT_SYSTEM_PROMPT;
use crate::error::{Result, TrainError};
use crate::rollout::trajectory_seed;
use serde::{Deserialize, Serialize};
use srl_core::{Message, Role};
use srl_model::{GenerationConfig, Policy};
use srl_reward::{extract_answer, GraderOptions, MathAnswerReward};
use std::path::Path;

/// One problem with its raw ground truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MathProblem {
    /// `id`/`idx` or the 0-based row.
    pub id: String,
    /// Question text.
    pub question: String,
    /// Ground-truth answer (raw; the grader normalizes it).
    pub answer: String,
}

/// Reads Qwen2.5-Math-style JSONL: question from `question`, `problem`, `Question` or `input`
/// (that priority); answer from `answer` (string or number) or the last `\boxed{}` of
/// `solution` (Minerva). Returns the problems and the number of skipped rows.
pub fn load_math_problems(path: &Path, skip_bad: bool) -> Result<(Vec<MathProblem>, usize)> {
    let mut out = Vec::new();
    let mut skipped = 0;
    let grader = GraderOptions::default();
    for (row, item) in srl_core::io::jsonl_lines(path)?.enumerate() {
        let (line, text) = item?;
        let fail = |field: &str, message: String| TrainError::Data {
            path: path.to_path_buf(),
            line,
            field: field.into(),
            message,
        };
        let parsed = (|| -> Result<MathProblem> {
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| fail("<json>", e.to_string()))?;
            let question = ["question", "problem", "Question", "input"]
                .iter()
                .find_map(|k| v.get(*k).and_then(|x| x.as_str()).filter(|s| !s.trim().is_empty()))
                .ok_or_else(|| {
                    fail("question", "none of question/problem/Question/input is a non-empty string".into())
                })?;
            let answer = match v.get("answer") {
                Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.clone(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                _ => match v.get("solution").and_then(|s| s.as_str()) {
                    Some(sol) => {
                        let a = extract_answer(sol, &grader);
                        if a.is_empty() {
                            return Err(fail("solution", "no final answer found".into()));
                        }
                        a
                    }
                    None => return Err(fail("answer", "missing (and no solution)".into())),
                },
            };
            let id = match v.get("id").or_else(|| v.get("idx")) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                _ => row.to_string(),
            };
            Ok(MathProblem { id, question: question.to_string(), answer })
        })();
        match parsed {
            Ok(p) => out.push(p),
            Err(e) if !skip_bad => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "skipping row");
                skipped += 1;
            }
        }
    }
    Ok((out, skipped))
}

/// Settings of [`evaluate_math`].
#[derive(Debug, Clone, PartialEq)]
pub struct MathEvalOptions {
    /// Samples per problem for Avg@k (0 = greedy only).
    pub k: usize,
    /// Sampling temperature for Avg@k (paper: 1.0).
    pub temperature: f64,
    /// Longest response.
    pub max_new_tokens: usize,
    /// Sequences per generation call.
    pub batch_size: usize,
    /// Seed of the Avg@k samples.
    pub seed: u64,
    /// Text opening each response (see the trainer's `rollout.response-prefix`).
    pub response_prefix: String,
    /// System turn (default: Qwen2.5-Math's CoT prompt).
    pub system_prompt: Option<String>,
}

/// Per-problem result (one JSON line of `results.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemResult {
    /// Problem id.
    pub id: String,
    /// Ground truth.
    pub answer: String,
    /// Greedy response.
    pub greedy_output: String,
    /// Answer extracted from it.
    pub greedy_extracted: String,
    /// Whether it is correct.
    pub greedy_correct: bool,
    /// Correct samples among k.
    pub samples_correct: usize,
    /// k.
    pub k: usize,
}

/// Aggregate scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MathEvalSummary {
    /// Problems evaluated.
    pub problems: usize,
    /// Greedy accuracy in [0, 1].
    pub greedy_accuracy: f64,
    /// k of Avg@k (0 = not computed).
    pub k: usize,
    /// Mean over problems of correct/k.
    pub avg_at_k: Option<f64>,
    /// Rows skipped while loading.
    pub skipped: usize,
}

/// The prompt of a problem: the Qwen2.5-Math CoT system turn and the question.
pub fn math_prompt(policy: &Policy, question: &str, prefix: &str, system: Option<&str>) -> Result<Vec<u32>> {
    let system = system.unwrap_or(MATH_COT_SYSTEM_PROMPT);
    crate::rollout::prompt_ids(
        policy,
        &[Message::new(Role::System, system), Message::new(Role::User, question)],
        prefix,
    )
}

/// Greedy accuracy and Avg@k of `policy` on `problems`; `progress` gets the number of problems
/// finished after each batch.
pub fn evaluate_math(
    policy: &Policy,
    problems: &[MathProblem],
    opts: &MathEvalOptions,
    progress: &dyn Fn(usize),
) -> Result<(Vec<ProblemResult>, MathEvalSummary)> {
    let grader = MathAnswerReward::default();
    let prompts: Vec<Vec<u32>> = problems
        .iter()
        .map(|p| math_prompt(policy, &p.question, &opts.response_prefix, opts.system_prompt.as_deref()))
        .collect::<Result<_>>()?;
    let greedy = GenerationConfig::greedy(opts.max_new_tokens);
    let bs = opts.batch_size.max(1);
    let mut results = Vec::with_capacity(problems.len());
    for (c, chunk) in prompts.chunks(bs).enumerate() {
        let outs = policy.generate(chunk, &greedy)?;
        for (j, o) in outs.into_iter().enumerate() {
            let p = &problems[c * bs + j];
            let text = format!("{}{}", opts.response_prefix, o.text.unwrap_or_default());
            let g = grader.grade(&text, &p.answer);
            results.push(ProblemResult {
                id: p.id.clone(),
                answer: p.answer.clone(),
                greedy_output: text,
                greedy_extracted: g.extracted.unwrap_or_default(),
                greedy_correct: g.reward >= grader.correct,
                samples_correct: 0,
                k: opts.k,
            });
        }
        progress(results.len().min(problems.len()));
    }
    if let Some(per_call) = bs.checked_div(opts.k) {
        let per_call = per_call.max(1);
        for (c, chunk) in prompts.chunks(per_call).enumerate() {
            let expanded: Vec<Vec<u32>> = chunk.iter().flat_map(|p| std::iter::repeat_n(p.clone(), opts.k)).collect();
            let sample = GenerationConfig {
                max_new_tokens: opts.max_new_tokens,
                temperature: opts.temperature,
                // One seed per (problem, sample), whatever the batching.
                sequence_seeds: (0..expanded.len())
                    .map(|j| trajectory_seed(opts.seed, c * per_call + j / opts.k, j % opts.k))
                    .collect(),
                ..GenerationConfig::default()
            };
            let outs = policy.generate(&expanded, &sample)?;
            for (j, o) in outs.iter().enumerate() {
                let idx = c * per_call + j / opts.k;
                let text = format!("{}{}", opts.response_prefix, o.text.as_deref().unwrap_or(""));
                if grader.grade(&text, &problems[idx].answer).reward >= grader.correct {
                    results[idx].samples_correct += 1;
                }
            }
        }
    }
    let n = results.len();
    let acc = if n == 0 { 0.0 } else { results.iter().filter(|r| r.greedy_correct).count() as f64 / n as f64 };
    let avg = (opts.k > 0 && n > 0)
        .then(|| results.iter().map(|r| r.samples_correct as f64 / opts.k as f64).sum::<f64>() / n as f64);
    Ok((results, MathEvalSummary { problems: n, greedy_accuracy: acc, k: opts.k, avg_at_k: avg, skipped: 0 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_aime_amc_and_minerva_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.jsonl");
        let rows = [
            r#"{"id":0,"problem":"P1","question":"Q1","solution":"s","answer":"025","url":"u"}"#,
            r#"{"id":1,"problem":"P2","question":"Q2","answer":27.0,"url":"u"}"#,
            r#"{"problem":"P3","solution":"so \\boxed{\\frac{1}{2}} done","type":"x","idx":5}"#,
            r#"{"problem":"P4","type":"x"}"#,
        ];
        std::fs::write(&p, rows.join("\n")).unwrap();
        let (probs, skipped) = load_math_problems(&p, true).unwrap();
        assert_eq!(skipped, 1);
        assert_eq!(probs[0], MathProblem { id: "0".into(), question: "Q1".into(), answer: "025".into() });
        assert_eq!(probs[1].answer, "27.0");
        assert_eq!(
            (probs[2].id.as_str(), probs[2].question.as_str(), probs[2].answer.as_str()),
            ("5", "P3", "\\frac{1}{2}")
        );
        let e = load_math_problems(&p, false).unwrap_err().to_string();
        assert!(e.contains("t.jsonl:4") && e.contains("answer"), "{e}");
    }
}
