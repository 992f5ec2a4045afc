//! s1K-1.1 solutions into step-wise SRL instances (paper §4.2, Fig. 3 and footnote 1;
//! docs/method.md §2.1; docs/formats.md §6).
//!
//! `deepseek_attempt` is cut at header lines `N. **Title**` (optional colon) that start a line
//! and number the steps 1, 2, 3, … in order; the text before step 1 (the intro) stays with
//! step 1, and each step runs up to the next header, so the closing `\boxed{}` sentence lands in
//! the last step. From N steps come N−1 instances predicting steps 2..N from the problem and the
//! steps before (`first_step` adds step 1 as a target). With the title hint, the user message
//! ends with the next step's header (`Next step: 2. **Coprime Pairs**`) and the target is the
//! rest of that step; otherwise the target is the whole step text.

use crate::prompts::MATH_STEP_SYSTEM_PROMPT;
use regex::Regex;
use serde::{Deserialize, Serialize};
use srl_core::{Message, Provenance, Role, StepInstance, TaskKind, RECORD_VERSION};
use std::sync::OnceLock;

/// One numbered step of a solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MathStep {
    /// Its number (1-based).
    pub number: u32,
    /// Title inside `**…**`.
    pub title: String,
    /// The whole step as written (intro included for step 1), trailing whitespace removed.
    pub text: String,
    /// The step without its intro and without `N. **Title**` and an optional colon: the target
    /// under the title hint.
    pub body: String,
}

fn header_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // A line starting with `N. **Title**`, then an optional colon.
    RE.get_or_init(|| {
        Regex::new(r"(?m)^(\d+)\.[ \t]+\*\*([^*\n]+?)\*\*[ \t]*:?").unwrap_or_else(|_| unreachable!("literal regex"))
    })
}

/// Cuts a solution into numbered steps (see the module docs). Returns no steps when there is
/// no `1. **…**` header.
pub fn split_steps(text: &str) -> Vec<MathStep> {
    // (header start, header end, number, title) for headers numbered 1, 2, 3, … in order.
    let mut headers: Vec<(usize, usize, u32, String)> = Vec::new();
    for cap in header_re().captures_iter(text) {
        let (Some(all), Some(num), Some(title)) = (cap.get(0), cap.get(1), cap.get(2)) else { continue };
        let Ok(n) = num.as_str().parse::<u32>() else { continue };
        if n as usize == headers.len() + 1 {
            headers.push((all.start(), all.end(), n, title.as_str().trim().to_string()));
        }
    }
    let mut steps = Vec::with_capacity(headers.len());
    for (i, (start, end, number, title)) in headers.iter().enumerate() {
        let stop = headers.get(i + 1).map_or(text.len(), |h| h.0);
        let from = if i == 0 { 0 } else { *start };
        let text_part = text[from..stop].trim_end().to_string();
        let body = text[*end..stop].trim().to_string();
        steps.push(MathStep { number: *number, title: title.clone(), text: text_part, body });
    }
    steps
}

/// The content of the last `\boxed{…}` (balanced braces), if any.
pub fn last_boxed(text: &str) -> Option<String> {
    let start = text.rfind("\\boxed")?;
    let rest = &text[start + "\\boxed".len()..];
    let rest = rest.trim_start();
    let inner = rest.strip_prefix('{')?;
    let mut depth = 1usize;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(inner[..i].trim().to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// The reference final answer of an s1K `solution`: its last `\boxed{}`, else the whole
/// solution when it is one short line (s1K keeps bare answers such as `128`).
pub fn reference_answer(solution: &str) -> Option<String> {
    if let Some(b) = last_boxed(solution) {
        return Some(b);
    }
    let t = solution.trim();
    (!t.is_empty() && !t.contains('\n') && t.chars().count() <= 100).then(|| t.to_string())
}

/// Options of math instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MathOptions {
    /// Also make step 1 a target (from the problem alone).
    pub first_step: bool,
    /// Show the next step's title and make the rest of the step the target.
    pub title_hint: bool,
}

impl Default for MathOptions {
    fn default() -> Self {
        Self { first_step: false, title_hint: true }
    }
}

/// Builds the instances of one problem.
pub fn math_instances(
    problem_id: &str,
    question: &str,
    steps: &[MathStep],
    answer: Option<&str>,
    source: &str,
    row: Option<u64>,
    opts: MathOptions,
) -> Vec<StepInstance> {
    let first = if opts.first_step { 0 } else { 1 };
    let num_steps = u32::try_from(steps.len()).unwrap_or(u32::MAX);
    (first..steps.len())
        .map(|k| {
            let mut user = format!("Problem:\n{}", question.trim());
            if k > 0 {
                user.push_str("\n\nSolution so far:\n");
                let prev: Vec<&str> = steps[..k].iter().map(|s| s.text.trim()).collect();
                user.push_str(&prev.join("\n"));
            }
            let step = &steps[k];
            let target = if opts.title_hint {
                user.push_str(&format!("\n\nNext step: {}. **{}**", step.number, step.title));
                step.body.clone()
            } else {
                step.text.trim().to_string()
            };
            StepInstance {
                version: RECORD_VERSION,
                id: format!("{problem_id}#{k}"),
                kind: TaskKind::Math,
                messages: vec![Message::new(Role::System, MATH_STEP_SYSTEM_PROMPT), Message::new(Role::User, user)],
                target,
                target_tool: None,
                target_thought: None,
                reference_answer: answer.map(str::to_string),
                provenance: Provenance {
                    source: source.to_string(),
                    row,
                    trajectory_id: problem_id.to_string(),
                    step_index: u32::try_from(k).unwrap_or(u32::MAX),
                    num_steps,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTEMPT: &str = "Write each fraction as a/b.\n\n1. **Prime Factorization of 20!**:\n   - 20! has 8 distinct primes.\n2. **Coprime Pairs**:\n   - 2^8 pairs.\n   3. **not a header** (indented)\n3. **Fractions Below 1**\n   - Half of them.\nThe answer is \\boxed{128}.\n";

    #[test]
    fn steps_keep_intro_with_step_one() {
        let steps = split_steps(ATTEMPT);
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[0].title, "Prime Factorization of 20!");
        assert_eq!(
            steps[0].text,
            "Write each fraction as a/b.\n\n1. **Prime Factorization of 20!**:\n   - 20! has 8 distinct primes."
        );
        assert_eq!(steps[1].body, "- 2^8 pairs.\n   3. **not a header** (indented)");
        assert_eq!(steps[2].text, "3. **Fractions Below 1**\n   - Half of them.\nThe answer is \\boxed{128}.");
        assert!(split_steps("No steps here.\n2. **Two**").is_empty());
    }

    #[test]
    fn instances_predict_steps_two_to_n() {
        let steps = split_steps(ATTEMPT);
        let inst = math_instances("p", "Q?", &steps, Some("128"), "s.jsonl", Some(0), MathOptions::default());
        assert_eq!(inst.len(), 2);
        assert_eq!(inst[0].id, "p#1");
        assert!(
            inst[0].messages[1].content.ends_with("\n\nNext step: 2. **Coprime Pairs**"),
            "{}",
            inst[0].messages[1].content
        );
        assert!(inst[0].messages[1].content.contains("Solution so far:\nWrite each fraction"));
        assert_eq!(inst[0].target, "- 2^8 pairs.\n   3. **not a header** (indented)");
        let plain =
            math_instances("p", "Q?", &steps, None, "s", None, MathOptions { first_step: true, title_hint: false });
        assert_eq!(plain.len(), 3);
        assert!(plain[0].target.starts_with("Write each fraction"));
        assert_eq!(plain[2].target, steps[2].text);
        assert_eq!(plain[0].messages[1].content, "Problem:\nQ?");
    }

    #[test]
    fn boxed_answers() {
        assert_eq!(last_boxed("a \\boxed{1} b \\boxed{\\frac{1}{2}}").as_deref(), Some("\\frac{1}{2}"));
        assert_eq!(last_boxed("\\boxed{unclosed"), None);
        assert_eq!(reference_answer("128").as_deref(), Some("128"));
        assert_eq!(reference_answer("long\nproof"), None);
    }
}
