//! Table-driven test of the math answer reward (RLVR): (model output, reference answer,
//! expected verdict, expected extracted answer). Every expected value was worked out by hand
//! from the Qwen2.5-Math grading rules (QwenLM/Qwen2.5-Math `evaluation/parser.py`
//! `extract_answer`, `strip_string`; `evaluation/grader.py` `math_equal`) and the departures in
//! docs/math-grading.md, not by running the code. Equality by category: `math_equal_table.rs`.

use srl_core::TaskKind;
use srl_reward::{MathAnswerReward, RewardFn, RewardTarget};

/// (output, reference, correct?, extracted answer when the case checks it)
const CASES: &[(&str, &str, bool, Option<&str>)] = &[
    // --- extraction: last \boxed{}, nested braces, fallbacks ---
    (r"So the answer is \boxed{42}.", "42", true, Some("42")),
    (r"\boxed{\frac{1}{2}}", r"\frac{1}{2}", true, Some(r"\frac{1}{2}")),
    (r"first \boxed{1} then \boxed{2}", "2", true, Some("2")),
    (r"first \boxed{1} then \boxed{2}", "1", false, Some("2")),
    (r"\boxed{\{1,2\}}", r"\{1,2\}", true, Some("{1,2}")),
    (r"\boxed 5$ done", "5", true, Some("5")),
    (r"The final answer is $\frac{3}{4}$. I hope it is correct.", "0.75", true, Some(r"\frac{3}{4}")),
    ("Thus the answer is 17.", "17", true, Some("17")),
    ("We get 3 apples and 5 pears, total 8", "8", true, Some("8")),
    ("Total: 1,234,567", "1234567", true, Some("1234567")),
    ("no numbers here", "3", false, Some("")),
    (r"\boxed{x=3}", "3", true, Some("3")),
    (r"\boxed{5\text{ cm}}", "5", true, Some("5")),
    (r"\boxed{\dfrac{3}{4}}", r"\frac34", true, Some(r"\frac{3}{4}")),
    (r"\boxed{90^\circ}", "90", true, Some("90")),
    (r"\boxed{10\%}", "10", true, Some("10")),
    (r"<think>maybe \boxed{3}</think> final: \boxed{4}", "4", true, Some("4")),
    (r"<think>maybe \boxed{3}</think> final: \boxed{4}", "3", false, Some("4")),
    (r"\boxed{1/2}", "0.5", true, Some(r"\frac{1}{2}")),
    ("The answer is: 12", "12", true, Some("12")),
    ("so the value is -3.5", "-3.5", true, Some("-3.5")),
    ("ки step \\boxed{7} ки", "7", true, Some("7")),
    (r"\boxed{\text{(B)}}", "B", true, Some("(B)")),
    ("\\boxed{3}\n\nWait, actually \\boxed{5}", "5", true, Some("5")),
    (r"\boxed{}", "0", false, Some("")),
    ("<think>I think it is 8</think>", "8", false, Some("")),
    ("so we get x = 12 and y = 13", "13", true, Some("13")),
    ("the result is -4", "-4", true, Some("-4")),
    (r"The final answer is $2.5 \times 10^{3}$. I hope it is correct.", "2500", true, None),
    ("The answer is 3.5.", "7/2", true, Some("3.5")),
    (r"\boxed{.5}", "0.5", true, Some("0.5")),
    ("The answer is (C)", "C", true, Some("(C)")),
    ("The answer is\n  42", "42", true, Some("42")),
    ("Result: 7/", "7", true, Some("7")),
    // --- normalization (strip_string) ---
    (r"\boxed{025}", "25", true, Some("25")),
    (r"\boxed{25}", "025", true, Some("25")),
    (r"\boxed{50\%}", "50", true, Some("50")),
    (r"\boxed{\$5}", "5", true, Some("5")),
    (r"\boxed{5\text{ dollars}}", "5", true, Some("5")),
    (r"\boxed{12 \text{ inches}}", "12", true, Some("12")),
    (r"\boxed{4 feet}", "4", true, Some("4")),
    (r"\boxed{5 dollars}", "5", false, Some("5dollars")),
    (r"\boxed{\text{Evelyn}}", "Evelyn", true, Some("Evelyn")),
    (r"\boxed{evelyn}", "Evelyn", true, None),
    (r"\boxed{1.0}", "1", true, Some("1")),
    (r"\boxed{27.000}", "27", true, Some("27")),
    (r"\boxed{\frac12}", r"\frac{1}{2}", true, Some(r"\frac{1}{2}")),
    (r"\boxed{\tfrac{1}{2}}", r"\frac{1}{2}", true, Some(r"\frac{1}{2}")),
    (r"\boxed{k=7}", "7", true, Some("7")),
    (r"\boxed{y = 2x + 1}", "2x+1", true, Some("2x+1")),
    (r"\boxed{x^2 + 1}", "x^2+1", true, Some("x^2+1")),
    (r"\boxed{\left( 3, 4 \right)}", "(3,4)", true, Some("(3,4)")),
    (r"\boxed{\{1, 2\}}", r"\{1,2\}", true, Some("{1,2}")),
    (r"\boxed{\infty}", r"\infty", true, Some(r"\infty")),
    (r"\boxed{inf}", r"\infty", true, Some(r"\infty")),
    (r"\boxed{(-\infty,\infty)}", r"\mathbb{R}", true, Some(r"\mathbb{R}")),
    (r"\boxed{\emptyset}", r"\{\}", true, Some("{}")),
    (r"\boxed{3i}", "3j", true, Some("3i")),
    (r"\boxed{twelve}", "12", true, Some("12")),
    (r"\boxed{5}", "five", true, Some("5")),
    (r"\boxed{\begin{bmatrix}1&2\end{bmatrix}}", r"\begin{pmatrix}1&2\end{pmatrix}", true, None),
    (r"\boxed{\frac{\sqrt{3}}{2}}", r"\frac{\sqrt3}{2}", true, Some(r"\frac{\sqrt{3}}{2}")),
    (r"\boxed{\sqrt{2}/2}", r"\frac{\sqrt{2}}{2}", true, Some(r"\frac{\sqrt{2}}{2}")),
    (r"\boxed{\mathbf{(2, 3)}}", "(2,3)", true, None),
    (r"\boxed{90}", r"90^\circ", true, Some("90")),
    (r"\boxed{25}", r"25\%", true, Some("25")),
    // --- numbers: relative tolerance 1e-4, percentages, leading zeros, commas ---
    (r"\boxed{0.5}", r"\frac{1}{2}", true, Some("0.5")),
    (r"\boxed{\frac{1}{2}}", "0.5", true, None),
    (r"\boxed{1/2}", r"\frac{2}{4}", true, None),
    (r"\boxed{50\%}", "0.5", true, None),
    (r"\boxed{0.25}", r"25\%", true, None),
    (r"\boxed{0.5}", "50", true, None),
    // The reference's percentage rule also accepts ref·100 and ref/100 for plain numbers.
    (r"\boxed{5}", "500", true, None),
    (r"\boxed{3.14159}", "3.1416", true, None),
    (r"\boxed{1.50}", "1.5", true, None),
    (r"\boxed{1.5001}", "1.5", true, None),
    (r"\boxed{1.51}", "1.5", false, None),
    (r"\boxed{100}", "99.9", false, None),
    // Integers compare exactly (the reference's tolerance would accept this; docs/math-grading.md).
    (r"\boxed{100000}", "100001", false, None),
    (r"\boxed{0}", "0", true, None),
    (r"\boxed{0.00001}", "0", false, None),
    (r"\boxed{-3}", "3", false, None),
    (r"\boxed{-0}", "0", true, None),
    (r"\boxed{1e3}", "1000", true, None),
    (r"\boxed{1,000}", "1000", true, Some("1,000")),
    (r"\boxed{7}", "8", false, None),
    (r"\boxed{0.33333}", r"\frac{1}{3}", true, None),
    (r"\boxed{0.33}", r"\frac{1}{3}", false, None),
    (r"\boxed{\frac{9}{2}}", "4.5", true, None),
    (r"\boxed{-\frac{7}{4}}", "-1.75", true, None),
    (r"\boxed{\frac{-7}{4}}", r"-\frac{7}{4}", true, None),
    (r"\boxed{\sqrt{2}}", "1.4142", true, None),
    (r"\boxed{\sqrt{2}}", "1.414", false, None),
    // --- constant expressions (the decidable part of the symbolic step) ---
    (r"\boxed{2\sqrt{3}}", r"\sqrt{12}", true, None),
    (r"\boxed{\sqrt[3]{27}}", "3", true, None),
    (r"\boxed{2^{10}}", "1024", true, None),
    (r"\boxed{10^{-2}}", "0.01", true, None),
    (r"\boxed{\frac{1}{2}\pi}", r"\frac{\pi}{2}", true, None),
    (r"\boxed{\pi/2}", r"\frac{\pi}{2}", true, None),
    (r"\boxed{3.14}", r"\pi", false, None),
    (r"\boxed{\dfrac{1}{\sqrt{2}}}", r"\frac{\sqrt{2}}{2}", true, None),
    (r"\boxed{\frac{1}{0}}", r"\infty", false, None),
    (r"\boxed{(1+2)\cdot 3}", "9", true, None),
    // --- tuples, intervals, sets, matrices ---
    (r"\boxed{(1,2)}", "(1, 2)", true, Some("(1,2)")),
    (r"\boxed{(1,2)}", "(2,1)", false, None),
    (r"\boxed{(1,2,3)}", "(1,2)", false, None),
    (r"\boxed{(1, 4.5)}", r"(1,\frac{9}{2})", true, None),
    (r"\boxed{[0.5, 1)}", r"[\frac{1}{2},1)", true, None),
    // Brackets are part of an interval (the reference ignores them); sets are unordered.
    (r"\boxed{(0.5,1]}", "[0.5,1)", false, None),
    (r"\boxed{\{2, 1\}}", r"\{1,2\}", true, None),
    (r"\boxed{\begin{pmatrix}1\\2\end{pmatrix}}", r"\begin{pmatrix}1\\2\end{pmatrix}", true, None),
    (r"\boxed{\begin{pmatrix}0.5\\2\end{pmatrix}}", r"\begin{pmatrix}\frac{1}{2}\\2\end{pmatrix}", true, None),
    (r"\boxed{\begin{pmatrix}1&2\\3&4\end{pmatrix}}", r"\begin{pmatrix}1&2\\3&5\end{pmatrix}", false, None),
    // --- choices ---
    (r"\boxed{B}", "B", true, Some("B")),
    (r"\boxed{C}", "B", false, None),
    (r"\boxed{(D)}", "D", true, Some("(D)")),
    (r"\boxed{(D)}", "B", false, None),
    (r"\boxed{\text{D}}", "D", true, Some("D")),
    (r"\boxed{\text{(A)}}", "A", true, None),
    // --- equations ---
    (r"\boxed{3k+1=n}", "3k+1=n", true, None),
    (r"\boxed{3k+1 = 10}", "10=3k+1", true, None),
    // --- symbolic equality ---
    (r"\boxed{2x+1}", "1+2x", true, None),
    (r"\boxed{\frac{x+2}{7}}", r"\frac{x}{7}+\frac{2}{7}", true, None),
    (r"\boxed{x^2+2}", "x^2+1", false, None),
];

#[test]
fn math_answer_table() {
    assert!(CASES.len() >= 100, "only {} cases", CASES.len());
    let reward = MathAnswerReward::default();
    let mut failures = Vec::new();
    for (i, (output, reference, correct, extracted)) in CASES.iter().enumerate() {
        let outcome = reward.grade(output, reference);
        let want = if *correct { 1.0 } else { 0.0 };
        let got_extracted = outcome.extracted.as_deref().unwrap_or("<none>");
        if outcome.reward != want || extracted.is_some_and(|e| e != got_extracted) {
            failures.push(format!(
                "case {i}: output {output:?} reference {reference:?}: reward {} (want {want}), extracted {got_extracted:?} (want {extracted:?})",
                outcome.reward
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases fail:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

#[test]
fn rewards_are_configurable_and_missing_answers_are_reported() {
    let reward = MathAnswerReward { correct: 2.0, wrong: -0.5, ..MathAnswerReward::default() };
    let target = RewardTarget::answer("4");
    assert_eq!(reward.score(r"\boxed{4}", &target).unwrap().reward, 2.0);
    assert_eq!(reward.score(r"\boxed{5}", &target).unwrap().reward, -0.5);
    let none = reward.score("nothing", &target).unwrap();
    assert_eq!((none.reward, none.reason), (-0.5, Some("no_answer")));
    let srl_target = RewardTarget::expert(TaskKind::Math, "step");
    assert!(reward.score(r"\boxed{4}", &srl_target).is_err());
}
