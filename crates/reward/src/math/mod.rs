//! Symbolic equality of final answers without a computer algebra system, replacing the
//! sympy step of Qwen2.5-Math's grader (QwenLM/Qwen2.5-Math `evaluation/grader.py`
//! `symbolic_equal`); the rules and every departure from the reference are in
//! docs/math-grading.md.
//!
//! - [`lexer`]: LaTeX tokens (spacing commands, doubled backslashes, digit groups).
//! - [`parser`]: the answer expression grammar, bounded nesting.
//! - [`rational`], [`modular`]: exact `i128` rationals, F_p arithmetic for 62-bit primes.
//! - [`eval`]: compilation to evaluation plans (radicals in canonical form, uninterpreted
//!   functions) and evaluation.
//! - [`equality`]: random-point identity testing, equations up to a constant factor, decimals.
//! - [`structure`]: tuples, intervals, sets, unions, matrices, `\pm`, equations.

mod equality;
mod eval;
mod lexer;
mod modular;
mod parser;
mod rational;
mod structure;

/// Whether two normalized answers are mathematically equal (structure first, then symbolic
/// equality of the elements). Never panics; inputs outside the bounds are "not equal".
pub(crate) fn answers_match(prediction: &str, reference: &str) -> bool {
    structure::answers_equal(&structure::parse_answer(prediction), &structure::parse_answer(reference))
}

pub(crate) use equality::isclose;
