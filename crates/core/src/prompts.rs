//! The fixed system prompts that more than one crate uses, each named for what it is used for.

/// The system prompt of SRL math *step* instances (`srl-swe prepare --math`): the paper's App. B.2
/// prompt in substance (its figure text is not in the paper's text layer; docs/method.md §3).
pub const MATH_STEP_SYSTEM_PROMPT: &str = "You are a helpful assistant for solving mathematical problems. \
A user will provide a math problem, which may be accompanied by a partial solution consisting of the \
steps taken so far. Your task is to continue the solution by providing only the single next step.\n\n\
Before giving the step, think it through inside <think> and </think>. Use this space as scratch paper: \
reason freely, try ideas and check them, at any length. After </think>, write only the next step of the \
solution, and nothing else.";

/// The system prompt of whole-solution math prompts (RLVR items, `eval --mode math`):
/// Qwen2.5-Math's `qwen25-math-cot` system turn (QwenLM/Qwen2.5-Math `evaluation/utils.py`,
/// `PROMPT_TEMPLATES`; docs/training.md).
pub const MATH_COT_SYSTEM_PROMPT: &str = "Please reason step by step, and put your final answer within \\boxed{}.";
