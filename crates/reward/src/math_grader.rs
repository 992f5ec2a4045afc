//! Final-answer extraction and equivalence after Qwen2.5-Math's evaluation (QwenLM/Qwen2.5-Math,
//! `evaluation/parser.py` `extract_answer`, `evaluation/grader.py` `math_equal`), and the RLVR
//! reward built on them. The full rules, and every departure from the reference with its
//! reason, are in docs/math-grading.md.
//!
//! # Extraction ([`extract_answer`])
//! Drop the tag "ки"; then the first rule that applies: Minerva's
//! `final answer is $…$. I hope`; the text after the **last** `boxed`, brace-matched from `{`
//! (nested braces kept; with no `{`, up to the next `$`); the tail after `he answer is` or
//! `final answer is`; the text after `答案是` up to a blank line; else the last number
//! `-?\d*\.?\d+` after removing commas. Then newlines (with following whitespace) are removed,
//! one leading `:` and one trailing `.` and `/` are stripped, and [`strip_string`] normalizes.
//! The RLVR reward reads only the text after the first `</think>` when there is one.
//!
//! # Equivalence ([`math_equal`])
//! In the reference's order: case-insensitive string equality; choice letters; two plain
//! numbers (commas removed, `%` → /100) equal within relative tolerance 1e-4 — exactly when
//! both are integers — also against ref/100 and ref·100 (`include_percentage`); then, instead of
//! sympy, the answer's structure (matrices, unions, tuples and intervals with their brackets,
//! sets, comma lists, `\pm`, equations) and symbolic equality of its elements without a CAS:
//! exact evaluation of rational functions at random points modulo large primes, with π, e and
//! variables as indeterminates, radicals and i as algebraic numbers, equations up to a nonzero
//! constant factor (`crate::math`). Decimals match constants free of π, e and i within the
//! reference's 1e-4; a decimal never matches a π expression.

use crate::srl::{RewardFn, RewardOutcome, RewardTarget};
use crate::strip_string::strip_string;
use crate::{Result, RewardError};
use regex::Regex;
use std::sync::OnceLock;

/// Options of the grader (`math_equal` keyword arguments and the `skip_unit` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct GraderOptions {
    /// Numbers also match ref/100 and ref·100 (reference default: true).
    pub include_percentage: bool,
    /// Numbers compare with relative tolerance 1e-4 rather than exactly (default: true).
    pub is_close: bool,
    /// Keep unit words (the reference does so for `minerva_math`).
    pub skip_unit: bool,
}

impl Default for GraderOptions {
    fn default() -> Self {
        Self { include_percentage: true, is_close: true, skip_unit: false }
    }
}

struct Patterns {
    last_number: Regex,
    newline_ws: Regex,
    choice: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        // The patterns are constants; a failure here is a programming error caught by every test.
        let re = |p: &str| Regex::new(p).unwrap_or_else(|e| panic!("bad built-in pattern {p:?}: {e}"));
        Patterns { last_number: re(r"-?\d*\.?\d+"), newline_ws: re(r"\n\s*"), choice: re(r"\b(A|B|C|D|E)\b") }
    })
}

/// The content of the brace group that opens `text` (which starts with `{`), nested braces
/// kept; the rest of the text if the group never closes.
fn brace_group(text: &str) -> &str {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[1..i];
                }
            }
            _ => {}
        }
    }
    &text[1..]
}

/// The raw answer text before normalization (`None`: the output has `boxed` with nothing after).
fn raw_answer(text: &str) -> Option<String> {
    const MINERVA_OPEN: &str = "final answer is $";
    const MINERVA_CLOSE: &str = "$. I hope";
    if text.contains(MINERVA_OPEN) && text.contains(MINERVA_CLOSE) {
        let tail = text.split_once(MINERVA_OPEN).map_or("", |(_, t)| t);
        let ans = tail.split_once(MINERVA_CLOSE).map_or(tail, |(a, _)| a);
        return Some(ans.trim().to_string());
    }
    if let Some(pos) = text.rfind("boxed") {
        let tail = &text[pos + "boxed".len()..];
        if tail.is_empty() {
            return None;
        }
        if tail.starts_with('{') {
            return Some(brace_group(tail).to_string());
        }
        return Some(tail.split('$').next().unwrap_or_default().trim().to_string());
    }
    for marker in ["he answer is", "final answer is"] {
        if let Some(pos) = text.rfind(marker) {
            return Some(text[pos + marker.len()..].trim().to_string());
        }
    }
    if let Some((_, tail)) = text.split_once("答案是") {
        // The reference takes the piece right after the first marker, up to the next marker.
        let piece = tail.split("答案是").next().unwrap_or_default().trim();
        return Some(piece.split("\n\n").next().unwrap_or_default().trim().to_string());
    }
    let no_commas = text.replace(',', "");
    Some(patterns().last_number.find_iter(&no_commas).last().map(|m| m.as_str().to_string()).unwrap_or_default())
}

/// Extracts and normalizes the final answer of a model output (see the module docs).
pub fn extract_answer(output: &str, options: &GraderOptions) -> String {
    let text = output.replace("\u{43a}\u{438}", "");
    let Some(raw) = raw_answer(&text) else { return String::new() };
    let mut pred = patterns().newline_ws.replace_all(&raw, "").into_owned();
    if pred.starts_with(':') {
        pred.remove(0);
    }
    if pred.ends_with('.') {
        pred.pop();
    }
    if pred.ends_with('/') {
        pred.pop();
    }
    strip_string(&pred, options.skip_unit)
}

/// Normalizes a reference answer (`strip_string`, as the reference does for `answer` fields).
pub fn normalize_reference(answer: &str, options: &GraderOptions) -> String {
    strip_string(answer, options.skip_unit)
}

/// Python's `float(s)` for the forms answers take: surrounding whitespace, sign, digits with
/// optional `.` and exponent, `inf`/`infinity`/`nan`, underscores between digits.
fn python_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let bytes = t.as_bytes();
    let mut cleaned = String::with_capacity(t.len());
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let around = i > 0 && i + 1 < bytes.len() && bytes[i - 1].is_ascii_digit() && bytes[i + 1].is_ascii_digit();
            if !around {
                return None;
            }
            continue;
        }
        cleaned.push(b as char);
    }
    let body = cleaned.trim_start_matches(['+', '-']);
    if cleaned.len() - body.len() > 1 {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let special = matches!(lower.as_str(), "inf" | "infinity" | "nan");
    if !special && !body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    cleaned.parse::<f64>().ok()
}

/// Whether every comma of `s` separates thousands (`1,234,567.5`, `-10,000`).
fn commas_group_thousands(s: &str) -> bool {
    let body = s.trim().trim_start_matches(['-', '+']);
    let int = body.split('.').next().unwrap_or_default();
    let groups: Vec<&str> = int.split(',').collect();
    (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// `parse_digits`: commas removed, then a float, or a percentage (`50%`, `50\%`) divided by 100.
/// Departure: commas are removed only where they group thousands; the reference removes every
/// comma, so the list `1,2,3` was the number 123.
fn parse_digits(s: &str) -> Option<f64> {
    if s.contains(',') && !commas_group_thousands(s) {
        return None;
    }
    let s = s.replace(',', "");
    if let Some(v) = python_float(&s) {
        return Some(v);
    }
    let num = s.strip_suffix('%')?;
    let num = num.strip_suffix('\\').unwrap_or(num);
    python_float(num).map(|v| v / 100.0)
}

/// `numeric_equal(prediction, reference)`: `isclose(reference, prediction, rel_tol=1e-4)`.
fn numeric_equal(prediction: f64, reference: f64) -> bool {
    crate::math::isclose(reference, prediction, 1e-4)
}

/// Whether a plain number was written as an integer (no point, exponent or percent sign).
fn is_integer_literal(s: &str) -> bool {
    let t = s.trim().replace(',', "");
    let body = t.strip_prefix(['-', '+']).unwrap_or(&t);
    !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit())
}

/// `is_numerical_equal` on two plain numbers. Two integers compare exactly (departure: the
/// reference's tolerance makes `100000` equal `100001`).
fn numbers_equal(prediction: &str, reference: &str, pred: f64, refv: f64, options: &GraderOptions) -> bool {
    let exact = !options.is_close || (is_integer_literal(prediction) && is_integer_literal(reference));
    let candidates: &[f64] = if options.include_percentage { &[refv / 100.0, refv, refv * 100.0] } else { &[refv] };
    candidates.iter().any(|&item| if exact { item == pred } else { numeric_equal(pred, item) })
}

/// `choice_answer_clean`: the last standalone letter A–E, or the cleaned text.
fn choice_answer_clean(pred: &str) -> String {
    let p =
        pred.trim_matches('\n').trim_end_matches('.').trim_end_matches('/').trim_matches(' ').trim_start_matches(':');
    let upper = p.to_uppercase();
    let picked = match patterns().choice.find_iter(&upper).last() {
        Some(m) => m.as_str().to_string(),
        None => p.trim().trim_matches('.').to_string(),
    };
    picked.trim_end_matches('.').trim_end_matches('/').to_string()
}

/// `math_equal(prediction, reference)` on normalized answers (see the module docs).
pub fn math_equal(prediction: &str, reference: &str, options: &GraderOptions) -> bool {
    let (prediction, reference) = (prediction.trim(), reference.trim());
    if prediction.to_lowercase() == reference.to_lowercase() {
        return true;
    }
    if ["A", "B", "C", "D", "E"].contains(&reference) && choice_answer_clean(prediction) == reference {
        return true;
    }
    if let (Some(pred), Some(refv)) = (parse_digits(prediction), parse_digits(reference)) {
        return numbers_equal(prediction, reference, pred, refv, options);
    }
    if prediction.is_empty() {
        return false;
    }
    crate::math::answers_match(prediction, reference)
}

/// The RLVR reward: `correct` if the extracted answer equals the reference, else `wrong`.
/// The answer is extracted from the text after the first `</think>` when there is one (the
/// monologue may hold scratch answers), else from the whole output.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct MathAnswerReward {
    /// Reward of a correct answer (default 1.0).
    pub correct: f64,
    /// Reward of a wrong or missing answer (default 0.0).
    pub wrong: f64,
    /// Grader options.
    pub grader: GraderOptions,
}

impl Default for MathAnswerReward {
    fn default() -> Self {
        Self { correct: 1.0, wrong: 0.0, grader: GraderOptions::default() }
    }
}

impl MathAnswerReward {
    /// Grades `output` against a raw reference answer; the outcome carries the extracted answer.
    pub fn grade(&self, output: &str, answer: &str) -> RewardOutcome {
        let text = output.split_once("</think>").map_or(output, |(_, after)| after);
        let extracted = extract_answer(text, &self.grader);
        let reference = normalize_reference(answer, &self.grader);
        let (reward, reason) = if extracted.is_empty() {
            (self.wrong, Some("no_answer"))
        } else if math_equal(&extracted, &reference, &self.grader) {
            (self.correct, None)
        } else {
            (self.wrong, None)
        };
        RewardOutcome { reward, format_ok: true, reason, extracted: Some(extracted) }
    }
}

impl RewardFn for MathAnswerReward {
    fn name(&self) -> &'static str {
        "math_answer"
    }

    fn score(&self, output: &str, target: &RewardTarget) -> Result<RewardOutcome> {
        let answer = target
            .answer
            .as_deref()
            .ok_or(RewardError::MissingTargetField { reward: "math_answer", field: "answer" })?;
        Ok(self.grade(output, answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_unknown_fields() {
        let r: MathAnswerReward = serde_json::from_str(r#"{"wrong": -1.0, "grader": {"skip-unit": true}}"#).unwrap();
        assert_eq!((r.correct, r.wrong, r.grader.skip_unit, r.grader.include_percentage), (1.0, -1.0, true, true));
        assert!(serde_json::from_str::<MathAnswerReward>(r#"{"right": 1.0}"#).is_err());
    }

    /// Arbitrary text never panics and deep nesting is refused, not overflowed.
    #[test]
    fn garbage_and_deep_nesting_are_safe() {
        let o = GraderOptions::default();
        let deep = format!("{}1{}", "{".repeat(100_000), "}".repeat(100_000));
        assert!(!math_equal(&deep, "2", &o));
        // Past the nesting bound the answer is not parsed, so it is "not equal" (a bounded false
        // negative: 100,001 minus signs do make -5).
        assert!(!math_equal(&format!("{}5", "-".repeat(100_001)), "-5", &o));
        assert!(!math_equal(&"2^".repeat(50_000), "2", &o));
        assert!(!math_equal(&"(x+1)".repeat(5_000), "x", &o));
        assert!(!math_equal("x^{10^{9}}", "x^{10^{9}+1}", &o));
        let nested = format!("{}1{}", "(".repeat(5_000), ",1)".repeat(5_000));
        assert!(!math_equal(&nested, &nested.replace('1', "2"), &GraderOptions::default()));
        let alphabet: Vec<char> = "\\{}()[]^-+/=,.%$ 0123456789abcxπ&frac sqrt boxed".chars().collect();
        let mut state = 12345u64;
        for _ in 0..3_000 {
            let len = (state % 40) as usize;
            let text: String = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    alphabet[(state >> 33) as usize % alphabet.len()]
                })
                .collect();
            let extracted = extract_answer(&text, &GraderOptions::default());
            let _ = math_equal(&extracted, &text, &GraderOptions::default());
        }
    }

    #[test]
    fn python_float_forms() {
        assert_eq!(python_float(" 1_000 "), Some(1000.0));
        assert_eq!(python_float("1e3"), Some(1000.0));
        assert_eq!(python_float("-.5"), Some(-0.5));
        assert_eq!(python_float("5."), Some(5.0));
        assert_eq!(python_float("--5"), None);
        assert_eq!(python_float("_1"), None);
        assert_eq!(python_float("0x10"), None);
        assert!(python_float("inf").is_some_and(f64::is_infinite));
    }
}
