//! The output format of an SRL policy (paper §4.2, docs/method.md §4): a private monologue in
//! `<think>…</think>`, then the action, then nothing but whitespace.
//!
//! # Grammar
//! ```text
//! output    := WS* "<think>" THOUGHT "</think>" action WS*
//! THOUGHT   := any text; the FIRST "</think>" closes it
//! action    := swe_action | math_step
//! swe_action:= exactly one canonical function call (srl_core::Action::parse_canonical):
//!              <function=TOOL> (<parameter=KEY>VALUE</parameter>)* </function>
//!              known tool, known parameters, required ones present, layout whitespace
//!              between tags free
//! math_step := non-empty step text, optionally wrapped in <solution>…</solution>
//!              (Figure 3 of the paper shows the tags; the system prompt does not ask for them)
//! ```
//! Anything else is a format error (reward −1) with a stable reason code ([`FormatError::kind`]):
//! `missing_think`, `text_before_think`, `unclosed_think`, `empty_action`, `extra_think`
//! (math: a second think tag in the step), `text_before_solution`, `unclosed_solution`,
//! `trailing_text`, and for SWE the action parser's codes (`no_function`, `leading_text`,
//! `multiple_calls`, `unknown_tool`, `unknown_parameter`, `missing_parameter`,
//! `unclosed_function`, `unclosed_parameter`, `stray_text`, `duplicate_parameter`,
//! `invalid_value`, `trailing_text`).

use srl_core::{Action, ActionParseError, TaskKind};

const THINK_OPEN: &str = "<think>";
const THINK_CLOSE: &str = "</think>";
const SOLUTION_OPEN: &str = "<solution>";
const SOLUTION_CLOSE: &str = "</solution>";

/// Why an output does not follow the format. [`FormatError::kind`] is the reason code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// No `<think>` in the output.
    #[error("no <think> block")]
    MissingThink,
    /// Non-whitespace text before `<think>`.
    #[error("text before <think>")]
    TextBeforeThink,
    /// `<think>` without a closing `</think>`.
    #[error("<think> is not closed")]
    UnclosedThink,
    /// Nothing (or only whitespace, or empty solution tags) after `</think>`.
    #[error("no action after </think>")]
    EmptyAction,
    /// A math step containing another `<think>` or `</think>`.
    #[error("a second think tag after </think>")]
    ExtraThink,
    /// Text before `<solution>` in a math step.
    #[error("text before <solution>")]
    TextBeforeSolution,
    /// `<solution>` without `</solution>`, or `</solution>` without `<solution>`.
    #[error("unbalanced <solution> tags")]
    UnclosedSolution,
    /// Text after `</solution>` in a math step.
    #[error("text after </solution>")]
    TrailingText,
    /// The SWE action is not exactly one valid function call.
    #[error("invalid action: {0}")]
    Action(#[from] ActionParseError),
}

impl FormatError {
    /// A short stable label, for counting format errors by reason.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MissingThink => "missing_think",
            Self::TextBeforeThink => "text_before_think",
            Self::UnclosedThink => "unclosed_think",
            Self::EmptyAction => "empty_action",
            Self::ExtraThink => "extra_think",
            Self::TextBeforeSolution => "text_before_solution",
            Self::UnclosedSolution => "unclosed_solution",
            Self::TrailingText => "trailing_text",
            Self::Action(e) => e.kind(),
        }
    }
}

/// A well-formed output, split into its parts (slices of the output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedOutput<'a> {
    /// The monologue between `<think>` and `</think>`.
    pub thought: &'a str,
    /// The action as written: the text after `</think>`, trimmed; for math without the
    /// `<solution>` tags (and trimmed inside them).
    pub action_text: &'a str,
    /// The parsed, schema-validated call (SWE only).
    pub action: Option<Action>,
}

impl ParsedOutput<'_> {
    /// The action text the SRL reward compares: for SWE the canonical rendering of the parsed
    /// call (so layout whitespace between tags does not count), for math the step text.
    pub fn canonical_action(&self) -> String {
        match &self.action {
            Some(a) => a.to_canonical(),
            None => self.action_text.to_string(),
        }
    }
}

/// Splits `output` into thought and the text after the first `</think>`.
pub fn split_think(output: &str) -> Result<(&str, &str), FormatError> {
    let start = output.trim_start();
    let Some(body) = start.strip_prefix(THINK_OPEN) else {
        return Err(if output.contains(THINK_OPEN) { FormatError::TextBeforeThink } else { FormatError::MissingThink });
    };
    let end = body.find(THINK_CLOSE).ok_or(FormatError::UnclosedThink)?;
    Ok((&body[..end], &body[end + THINK_CLOSE.len()..]))
}

/// Parses a model output of the given kind (see the module docs for the grammar).
pub fn parse_output(output: &str, kind: TaskKind) -> Result<ParsedOutput<'_>, FormatError> {
    let (thought, rest) = split_think(output)?;
    let text = rest.trim();
    if text.is_empty() {
        return Err(FormatError::EmptyAction);
    }
    match kind {
        TaskKind::Swe => {
            let action = Action::parse_canonical(text)?;
            Ok(ParsedOutput { thought, action_text: text, action: Some(action) })
        }
        TaskKind::Math => {
            let step = math_step(text)?;
            Ok(ParsedOutput { thought, action_text: step, action: None })
        }
    }
}

/// The step text of a trimmed, non-empty math action: optional `<solution>` tags removed.
fn math_step(text: &str) -> Result<&str, FormatError> {
    if text.contains(THINK_OPEN) || text.contains(THINK_CLOSE) {
        return Err(FormatError::ExtraThink);
    }
    let step = match text.find(SOLUTION_OPEN) {
        None if text.contains(SOLUTION_CLOSE) => return Err(FormatError::UnclosedSolution),
        None => text,
        Some(open) => {
            if !text[..open].trim().is_empty() {
                return Err(FormatError::TextBeforeSolution);
            }
            let inner = &text[open + SOLUTION_OPEN.len()..];
            let close = inner.find(SOLUTION_CLOSE).ok_or(FormatError::UnclosedSolution)?;
            let after = &inner[close + SOLUTION_CLOSE.len()..];
            if !after.trim().is_empty() {
                return Err(FormatError::TrailingText);
            }
            let step = &inner[..close];
            if step.contains(SOLUTION_OPEN) {
                return Err(FormatError::UnclosedSolution);
            }
            step.trim()
        }
    };
    if step.is_empty() {
        return Err(FormatError::EmptyAction);
    }
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LS: &str = "<function=bash>\n<parameter=command>ls</parameter>\n</function>";

    #[test]
    fn well_formed_swe_output() {
        let out = format!("  \n<think>look around</think>\n\n{LS}\n  ");
        let p = parse_output(&out, TaskKind::Swe).unwrap();
        assert_eq!(p.thought, "look around");
        assert_eq!(p.action_text, LS);
        assert_eq!(p.canonical_action(), LS);
        let spaced = "<think>x</think><function=bash>   <parameter=command>ls</parameter>\n\n</function>";
        assert_eq!(parse_output(spaced, TaskKind::Swe).unwrap().canonical_action(), LS);
    }

    #[test]
    fn well_formed_math_output() {
        let p = parse_output("<think>hmm</think>\n2. **Sum**: 1 + 1 = 2\n", TaskKind::Math).unwrap();
        assert_eq!(p.action_text, "2. **Sum**: 1 + 1 = 2");
        let p = parse_output("<think>hmm</think> <solution>\n step \n</solution>\n", TaskKind::Math).unwrap();
        assert_eq!(p.action_text, "step");
        assert_eq!(p.canonical_action(), "step");
    }

    #[test]
    fn reason_codes() {
        let swe: &[(&str, &str)] = &[
            ("just text", "missing_think"),
            (LS, "missing_think"),
            ("ok <think>a</think>x", "text_before_think"),
            ("<think>a", "unclosed_think"),
            ("<think>a</think>   \n", "empty_action"),
            ("<think>a</think>run ls", "no_function"),
            ("<think>a</think>I will run <function=bash><parameter=command>ls</parameter></function>", "leading_text"),
            (
                "<think>a</think><function=bash><parameter=command>ls</parameter></function><function=submit></function>",
                "multiple_calls",
            ),
            ("<think>a</think><function=bash><parameter=command>ls</parameter></function> done", "trailing_text"),
            ("<think>a</think><function=python><parameter=code>1</parameter></function>", "unknown_tool"),
            ("<think>a</think><function=bash><parameter=cmd>ls</parameter></function>", "unknown_parameter"),
            ("<think>a</think><function=bash></function>", "missing_parameter"),
            ("<think>a</think><function=bash><parameter=command>ls</parameter>", "unclosed_function"),
            ("<think>a</think><function=bash><parameter=command>ls</function>", "unclosed_parameter"),
        ];
        for (out, kind) in swe {
            assert_eq!(parse_output(out, TaskKind::Swe).unwrap_err().kind(), *kind, "{out}");
        }
        let math: &[(&str, &str)] = &[
            ("step", "missing_think"),
            ("<think>a</think>", "empty_action"),
            ("<think>a</think><solution> </solution>", "empty_action"),
            ("<think>a</think>step<think>b</think>", "extra_think"),
            ("<think>a</think>so <solution>x</solution>", "text_before_solution"),
            ("<think>a</think><solution>x", "unclosed_solution"),
            ("<think>a</think>x</solution>", "unclosed_solution"),
            ("<think>a</think><solution>x</solution> more", "trailing_text"),
        ];
        for (out, kind) in math {
            assert_eq!(parse_output(out, TaskKind::Math).unwrap_err().kind(), *kind, "{out}");
        }
    }
}
