//! Table of answer pairs by category (`support/math_cases.rs`), graded through the RLVR reward
//! (`\boxed{prediction}` vs the reference answer, both normalized the Qwen2.5-Math way, then
//! compared). Each category has equal and not-equal pairs.

use srl_reward::MathAnswerReward;

#[path = "support/math_cases.rs"]
mod math_cases;
use math_cases::CASES;

#[test]
fn equality_table() {
    let reward = MathAnswerReward::default();
    assert!(CASES.len() >= 300, "only {} cases", CASES.len());
    let mut failures = Vec::new();
    let mut per_category: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (category, prediction, reference, equal) in CASES {
        let output = format!("The answer is \\boxed{{{prediction}}}.");
        let got = reward.grade(&output, reference).reward == 1.0;
        let entry = per_category.entry(category).or_default();
        if *equal {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
        if got != *equal {
            failures.push(format!("[{category}] {prediction:?} vs {reference:?}: got {got}, want {equal}"));
        }
    }
    for (category, (eq, ne)) in &per_category {
        assert!(*eq > 0 && *ne > 0, "category {category} needs equal and not-equal cases ({eq}/{ne})");
    }
    assert!(failures.is_empty(), "{} of {} cases fail:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}
