//! Final-answer extraction and equivalence the Qwen2.5-Math way (QwenLM/Qwen2.5-Math,
//! `evaluation/parser.py` `extract_answer`, `evaluation/grader.py` `math_equal`; method.md §13),
//! and the RLVR reward built on them.
//!
//! # Extraction ([`extract_answer`])
//! Drop the tag "ки"; then the first rule that applies: Minerva's
//! `final answer is $…$. I hope`; the text after the **last** `boxed`, brace-matched from `{`
//! (nested braces kept; with no `{`, up to the next `$`); the tail after `he answer is` or
//! `final answer is`; the text after `答案是` up to a blank line; else the last number
//! `-?\d*\.?\d+` after removing commas. Then newlines (with following whitespace) are removed,
//! one leading `:` and one trailing `.` and `/` are stripped, and [`strip_string`] normalizes.
//!
//! # Equivalence ([`math_equal`])
//! In the reference's order: case-insensitive string equality; choice letters; both numbers
//! (commas removed, `%` → /100) equal within relative tolerance 1e-4, also against ref/100 and
//! ref·100 (`include_percentage`); brackets stripped and compared; tuples/intervals and pmatrix
//! element-wise; `a=b` vs `c=d` as `a-(b)` vs `c-(d)`; `x=v` vs `v`; finally "symbolic".
//!
//! **No CAS.** The reference's last step parses both sides with sympy and tries `simplify`.
//! Here that step only decides what can be decided safely: both sides must be *constant*
//! expressions in a small LaTeX grammar (numbers, `+ - * / ^`, `\cdot`, `\times`, `\div`,
//! `\frac{}{}`, `\sqrt{}`, `\sqrt[n]{}`, `\pi`, brackets, implicit products like `2\sqrt{3}`),
//! evaluated in f64 and compared with the same 1e-4 relative tolerance (the reference's
//! `numeric_equal(N(a), N(b))`). Anything with variables, functions (`\sin`, `\log`),
//! matrices, sets or units that survive normalization is **not equal** unless the strings match:
//! the grader returns "not equal" rather than guess. So `\frac{x}{7}+\frac{2}{7}` vs
//! `\frac{x+2}{7}` is graded wrong here (sympy would say equal).

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
    list_format: Regex,
    braced_pair: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        // The patterns are constants; a failure here is a programming error caught by every test.
        let re = |p: &str| Regex::new(p).unwrap_or_else(|e| panic!("bad built-in pattern {p:?}: {e}"));
        Patterns {
            last_number: re(r"-?\d*\.?\d+"),
            newline_ws: re(r"\n\s*"),
            choice: re(r"\b(A|B|C|D|E)\b"),
            list_format: re(r"^(\(|\[).+(\)|\])"),
            braced_pair: re(r"\{.*,.*\}"),
        }
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

/// `parse_digits`: commas removed, then a float, or a percentage (`50%`, `50\%`) divided by 100.
fn parse_digits(s: &str) -> Option<f64> {
    let s = s.replace(',', "");
    if let Some(v) = python_float(&s) {
        return Some(v);
    }
    let num = s.strip_suffix('%')?;
    let num = num.strip_suffix('\\').unwrap_or(num);
    python_float(num).map(|v| v / 100.0)
}

/// Python's `math.isclose(a, b, rel_tol, abs_tol=0)`.
fn isclose(a: f64, b: f64, rel_tol: f64) -> bool {
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    let diff = (b - a).abs();
    diff <= (rel_tol * b).abs() || diff <= (rel_tol * a).abs()
}

/// `numeric_equal(prediction, reference)`: `isclose(reference, prediction, rel_tol=1e-4)`.
fn numeric_equal(prediction: f64, reference: f64) -> bool {
    isclose(reference, prediction, 1e-4)
}

fn is_numerical_equal(prediction: &str, reference: &str, options: &GraderOptions) -> bool {
    let (Some(pred), Some(reference)) = (parse_digits(prediction), parse_digits(reference)) else { return false };
    let candidates: &[f64] =
        if options.include_percentage { &[reference / 100.0, reference, reference * 100.0] } else { &[reference] };
    candidates.iter().any(|&item| if options.is_close { numeric_equal(pred, item) } else { item == pred })
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

/// `str_to_pmatrix`: `{1,2}` groups → `\begin{pmatrix}1\2\end{pmatrix}`, joined by ", ".
fn str_to_pmatrix(input: &str) -> String {
    let found: Vec<String> = patterns()
        .braced_pair
        .find_iter(input.trim())
        .map(|m| {
            let inner = m.as_str().trim_matches(['{', '}']);
            format!("\\begin{{pmatrix}}{}\\end{{pmatrix}}", inner.replace(',', "\\"))
        })
        .collect();
    found.join(", ")
}

fn has_format(s: &str, start: char, end: char) -> bool {
    s.starts_with(start) && s.ends_with(end)
}

fn is_matrix_format(s: &str) -> bool {
    (s.starts_with("\\begin{pmatrix}") || s.starts_with("\\begin{bmatrix}"))
        && (s.ends_with("\\end{pmatrix}") || s.ends_with("\\end{bmatrix}"))
}

/// `s[1:-1]` by code points.
fn inner(s: &str) -> &str {
    let mut it = s.char_indices();
    let start = it.next().map_or(0, |(_, c)| c.len_utf8());
    let end = s.char_indices().last().map_or(0, |(i, _)| i);
    if end <= start {
        ""
    } else {
        &s[start..end]
    }
}

fn compare_lists(prediction: &str, reference: &str, options: &GraderOptions, depth: usize) -> bool {
    let pred_parts: Vec<&str> = inner(prediction).split(',').collect();
    let ref_parts: Vec<&str> = inner(reference).split(',').collect();
    pred_parts.len() == ref_parts.len()
        && pred_parts.iter().zip(&ref_parts).all(|(p, r)| math_equal_at(p, r, options, depth + 1))
}

fn matrix_rows(s: &str) -> Vec<&str> {
    const OPEN: usize = "\\begin{pmatrix}".len();
    const CLOSE: usize = "\\end{pmatrix}".len();
    let body = s.get(OPEN..s.len().saturating_sub(CLOSE)).unwrap_or("");
    body.split("\\\\").map(str::trim).filter(|l| !l.is_empty()).collect()
}

fn compare_matrices(prediction: &str, reference: &str, options: &GraderOptions, depth: usize) -> bool {
    let (pred_rows, ref_rows) = (matrix_rows(prediction), matrix_rows(reference));
    if pred_rows.len() != ref_rows.len() {
        return false;
    }
    pred_rows.iter().zip(&ref_rows).all(|(p, r)| {
        let (pp, rp): (Vec<&str>, Vec<&str>) = (p.split('&').collect(), r.split('&').collect());
        pp.len() == rp.len() && pp.iter().zip(&rp).all(|(a, b)| math_equal_at(a, b, options, depth + 1))
    })
}

fn format_equation(eq: &str) -> String {
    let mut parts = eq.split('=');
    let lhs = parts.next().unwrap_or_default().trim();
    let rhs = parts.next().unwrap_or_default().trim();
    format!("{lhs} - ({rhs})")
}

fn is_simple_equation(eq: &str) -> bool {
    eq.matches('=').count() == 1 && eq.split('=').next().unwrap_or_default().trim().chars().count() <= 2
}

/// The decidable part of the reference's `symbolic_equal`: equal strings, or two constant
/// expressions with numerically close values.
fn symbolic_equal(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (eval_constant(a), eval_constant(b)) {
        (Some(x), Some(y)) => numeric_equal(x, y),
        _ => false,
    }
}

/// Nesting limit of the element-wise comparisons (tuples inside tuples…).
const MAX_DEPTH: usize = 16;

/// `math_equal(prediction, reference)` on normalized answers (see the module docs).
pub fn math_equal(prediction: &str, reference: &str, options: &GraderOptions) -> bool {
    math_equal_at(prediction, reference, options, 0)
}

fn math_equal_at(prediction: &str, reference: &str, options: &GraderOptions, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    if prediction.trim().to_lowercase() == reference.trim().to_lowercase() {
        return true;
    }
    if ["A", "B", "C", "D", "E"].contains(&reference) && choice_answer_clean(prediction) == reference {
        return true;
    }
    if is_numerical_equal(prediction, reference, options) {
        return true;
    }
    if prediction.is_empty() {
        return false;
    }
    let mut reference = reference.trim().to_string();
    let prediction = prediction.trim();
    if prediction.contains("pmatrix") && !reference.contains("pmatrix") {
        reference = str_to_pmatrix(&reference);
    }
    let reference = reference.as_str();
    let (mut pred_str, mut ref_str) = (prediction, reference);
    if (has_format(pred_str, '[', ']') && !has_format(ref_str, '(', ')'))
        || (has_format(pred_str, '(', ')') && !has_format(ref_str, '[', ']'))
    {
        pred_str = pred_str.trim_matches(['[', ']', '(', ')']);
        ref_str = ref_str.trim_matches(['[', ']', '(', ')']);
    }
    let strip = |s: &str| s.replace(['{', '}', '(', ')'], "").to_lowercase();
    if strip(pred_str) == strip(ref_str) {
        return true;
    }
    let list = &patterns().list_format;
    if list.is_match(prediction) && list.is_match(reference) {
        return compare_lists(prediction, reference, options, depth);
    }
    if is_matrix_format(prediction) && is_matrix_format(reference) {
        return compare_matrices(prediction, reference, options, depth);
    }
    if prediction.matches('=').count() == 1 && reference.matches('=').count() == 1 {
        let (p, r) = (format_equation(prediction), format_equation(reference));
        return symbolic_equal(&p, &r) || symbolic_equal(&format!("-({p})"), &r);
    } else if is_simple_equation(prediction) && !reference.contains('=') {
        let rhs = prediction.split('=').nth(1).unwrap_or_default();
        return math_equal_at(rhs, reference, options, depth + 1);
    } else if is_simple_equation(reference) && !prediction.contains('=') {
        let rhs = reference.split('=').nth(1).unwrap_or_default();
        return math_equal_at(prediction, rhs, options, depth + 1);
    }
    symbolic_equal(prediction, reference)
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

/// Evaluates a constant expression of the small LaTeX grammar in the module docs.
fn eval_constant(s: &str) -> Option<f64> {
    let tokens: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    let mut parser = ExprParser { s: &tokens, pos: 0, depth: 0 };
    let value = parser.expr()?;
    (parser.pos == tokens.len() && value.is_finite()).then_some(value)
}

/// Nesting limit of the expression evaluator (deeper input is "not a constant").
const MAX_EXPR_DEPTH: usize = 64;

/// Recursive-descent evaluator over code points.
struct ExprParser<'a> {
    s: &'a [char],
    pos: usize,
    depth: usize,
}

impl ExprParser<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes the control word `\name` if it is next (and not a prefix of a longer word).
    fn eat_command(&mut self, name: &str) -> bool {
        let n = name.chars().count();
        let end = self.pos + 1 + n;
        if self.peek() != Some('\\') || end > self.s.len() {
            return false;
        }
        if !self.s[self.pos + 1..end].iter().copied().eq(name.chars()) {
            return false;
        }
        if self.s.get(end).is_some_and(|c| c.is_ascii_alphabetic()) {
            return false;
        }
        self.pos = end;
        true
    }

    fn expr(&mut self) -> Option<f64> {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            return None;
        }
        let mut value = self.term()?;
        loop {
            if self.eat('+') {
                value += self.term()?;
            } else if self.eat('-') {
                value -= self.term()?;
            } else {
                break;
            }
        }
        self.depth -= 1;
        Some(value)
    }

    fn term(&mut self) -> Option<f64> {
        let mut value = self.unary()?;
        loop {
            if self.eat('*') || self.eat_command("cdot") || self.eat_command("times") {
                value *= self.unary()?;
            } else if self.eat('/') || self.eat_command("div") {
                value /= self.unary()?;
            } else if self.starts_atom() {
                value *= self.power()?;
            } else {
                break;
            }
        }
        Some(value)
    }

    fn unary(&mut self) -> Option<f64> {
        let mut negate = false;
        loop {
            if self.eat('-') {
                negate = !negate;
            } else if !self.eat('+') {
                break;
            }
        }
        let v = self.power()?;
        Some(if negate { -v } else { v })
    }

    fn power(&mut self) -> Option<f64> {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            return None;
        }
        let base = self.atom()?;
        let value = if self.eat('^') { base.powf(self.unary()?) } else { base };
        self.depth -= 1;
        Some(value)
    }

    fn starts_atom(&self) -> bool {
        match self.peek() {
            Some(c) if c.is_ascii_digit() || matches!(c, '.' | '{' | '(' | 'π') => true,
            Some('\\') => {
                let rest: String = self.s[self.pos + 1..].iter().take(5).collect();
                rest.starts_with("frac") || rest.starts_with("sqrt") || rest.starts_with("pi")
            }
            _ => false,
        }
    }

    fn group(&mut self, open: char, close: char) -> Option<f64> {
        if !self.eat(open) {
            return None;
        }
        let v = self.expr()?;
        self.eat(close).then_some(v)
    }

    fn atom(&mut self) -> Option<f64> {
        match self.peek()? {
            c if c.is_ascii_digit() || c == '.' => self.number(),
            '{' => self.group('{', '}'),
            '(' => self.group('(', ')'),
            'π' => {
                self.pos += 1;
                Some(std::f64::consts::PI)
            }
            '\\' => {
                if self.eat_command("frac") {
                    let num = self.group('{', '}')?;
                    let den = self.group('{', '}')?;
                    Some(num / den)
                } else if self.eat_command("sqrt") {
                    let index = if self.peek() == Some('[') { Some(self.group('[', ']')?) } else { None };
                    let radicand = self.group('{', '}')?;
                    match index {
                        None => Some(radicand.sqrt()),
                        Some(n) if radicand >= 0.0 => Some(radicand.powf(1.0 / n)),
                        // Odd roots of negative numbers: real root, as sympy's real_root.
                        Some(n) if n.fract() == 0.0 && (n as i64) % 2 != 0 => Some(-(-radicand).powf(1.0 / n)),
                        Some(_) => None,
                    }
                } else if self.eat_command("pi") {
                    Some(std::f64::consts::PI)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    fn number(&mut self) -> Option<f64> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.eat('.') {
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        let text: String = self.s[start..self.pos].iter().collect();
        if text == "." {
            return None;
        }
        text.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_expressions() {
        let cases: &[(&str, Option<f64>)] = &[
            ("\\frac{1}{2}", Some(0.5)),
            ("2\\sqrt{3}", Some(2.0 * 3f64.sqrt())),
            ("\\sqrt[3]{8}", Some(2.0)),
            ("3\\pi", Some(3.0 * std::f64::consts::PI)),
            ("10^{-3}", Some(0.001)),
            ("-\\frac{7}{4}", Some(-1.75)),
            ("(1+2)\\cdot3", Some(9.0)),
            ("1/0", None),
            ("x+1", None),
            ("\\sin(1)", None),
            ("2,3", None),
        ];
        for (s, want) in cases {
            assert_eq!(eval_constant(s), *want, "{s}");
        }
    }

    #[test]
    fn config_defaults_and_unknown_fields() {
        let r: MathAnswerReward = serde_json::from_str(r#"{"wrong": -1.0, "grader": {"skip-unit": true}}"#).unwrap();
        assert_eq!((r.correct, r.wrong, r.grader.skip_unit, r.grader.include_percentage), (1.0, -1.0, true, true));
        assert!(serde_json::from_str::<MathAnswerReward>(r#"{"right": 1.0}"#).is_err());
    }

    /// Arbitrary text never panics and deep nesting is refused, not overflowed.
    #[test]
    fn garbage_and_deep_nesting_are_safe() {
        let deep = format!("{}1{}", "{".repeat(100_000), "}".repeat(100_000));
        assert_eq!(eval_constant(&deep), None);
        assert_eq!(eval_constant(&format!("{}5", "-".repeat(100_001))), Some(-5.0));
        assert_eq!(eval_constant(&"2^".repeat(50_000)), None);
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
