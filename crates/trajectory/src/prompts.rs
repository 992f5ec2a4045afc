//! System prompts of the step instances.
//!
//! - SWE: the paper gives none (docs/method.md §3); ours asks for a free `<think>…</think>` monologue
//!   and then exactly one action in the canonical form of [`srl_core::Action`], and lists the
//!   tools with [`srl_core::tools::describe_tools`].
//! - Math: the paper's App. B.2 prompt in substance (think freely inside `<think>…</think>` like on
//!   scratch paper, then output only the single next step). The paper shows that prompt as a
//!   figure whose text is not in the paper's text layer, so this wording follows the gist recorded
//!   in docs/method.md §3. Replace it here if the verbatim text becomes available.

/// The SWE system prompt.
pub fn swe_system_prompt() -> String {
    format!(
        "You are an expert software engineer resolving an issue in a repository checked out at /testbed. \
You work one step at a time. You are shown the task and the most recent steps taken so far: each of \
your earlier actions followed by the OBSERVATION the environment returned.\n\n\
First think about what to do next inside <think> and </think>, freely and as long as you need. Then, \
after </think>, write exactly one action and nothing else, in this form:\n\n\
<function=TOOL_NAME>\n<parameter=PARAMETER_NAME>VALUE</parameter>\n</function>\n\n\
Write one parameter per line, in the order the tool lists them, with values verbatim (no quoting or \
escaping). A tool without parameters is written <function=submit>\n</function>.\n\n\
You can use these tools:\n\n{}",
        srl_core::tools::describe_tools()
    )
}

pub use srl_core::prompts::MATH_STEP_SYSTEM_PROMPT;
