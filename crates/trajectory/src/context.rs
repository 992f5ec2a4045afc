//! Step-wise SRL instances from a replayed SWE trajectory (paper §4.2 and App. A, docs/method.md §2.2
//! and §3).
//!
//! For each target step k the policy sees:
//! 1. the system prompt ([`crate::prompts::swe_system_prompt`]);
//! 2. a user message with the task (the first user message of the trajectory);
//! 3. for each earlier step kept in the window, an assistant message holding that step's
//!    canonical action (not the expert's prose: the policy writes its own `<think>`), then a user
//!    message `OBSERVATION:\n<output>`.
//!
//! The conversation therefore always ends with a user message, and the target is the next
//! assistant turn: the trainer renders `messages` with the model's chat template and a generation
//! prompt. The window is the last 2 (action, observation) pairs by default, as in the paper's SWE
//! appendix, or the whole prefix. Observations longer than `max_observation_chars` keep their
//! head and tail around a marker saying how many characters were cut. When the prompt exceeds
//! `max_context_chars` / `max_context_tokens`, the oldest steps of the window are dropped first;
//! if even the window-less prompt is too long, the instance is skipped (`context_too_long`).

use crate::replay::{Replay, OBSERVATION_PREFIX};
use crate::tokens::{TokenCounter, MESSAGE_TOKEN_OVERHEAD};
use serde::{Deserialize, Serialize};
use srl_core::{Message, Provenance, Role, StepInstance, TaskKind, RECORD_VERSION};

/// How many earlier steps the context holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum History {
    /// The last N (action, observation) pairs.
    Last(usize),
    /// Every earlier step.
    All,
}

impl std::str::FromStr for History {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "all" {
            return Ok(Self::All);
        }
        s.parse::<usize>().map(Self::Last).map_err(|_| format!("expected `all` or a number of steps, got {s:?}"))
    }
}

/// Context options of SWE instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ContextOptions {
    /// Earlier steps shown.
    pub history: History,
    /// Observations longer than this many characters are clipped.
    pub max_observation_chars: usize,
    /// Bound on the characters of all message contents.
    pub max_context_chars: Option<usize>,
    /// Bound on prompt tokens (contents plus [`MESSAGE_TOKEN_OVERHEAD`] per message).
    pub max_context_tokens: Option<usize>,
    /// Tools whose calls become targets; empty means all.
    pub targets: Vec<String>,
}

impl Default for ContextOptions {
    fn default() -> Self {
        Self {
            history: History::Last(2),
            max_observation_chars: 8_000,
            max_context_chars: None,
            max_context_tokens: None,
            targets: Vec::new(),
        }
    }
}

/// One built instance and its prompt size.
#[derive(Debug, Clone)]
pub struct BuiltInstance {
    /// The record.
    pub instance: StepInstance,
    /// Characters of all message contents.
    pub context_chars: usize,
    /// Prompt tokens, when a counter was given.
    pub context_tokens: Option<usize>,
}

/// Instances of one trajectory.
#[derive(Debug, Clone, Default)]
pub struct TrajectoryInstances {
    /// Built instances in step order.
    pub instances: Vec<BuiltInstance>,
    /// Targets skipped because even the shortest prompt was over the limit.
    pub too_long: usize,
}

/// Where a trajectory came from, for provenance.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// Source file (relative to the input).
    pub source: &'a str,
    /// Row in the source file.
    pub row: Option<u64>,
    /// Trajectory id.
    pub trajectory_id: &'a str,
}

/// Clips `text` to at most about `max` characters, keeping head and tail around a marker.
pub fn clip_observation(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_string();
    }
    let head = max / 2;
    let tail = max - head;
    let cut = n - head - tail;
    let head_end = text.char_indices().nth(head).map_or(text.len(), |(i, _)| i);
    let tail_start = text.char_indices().nth(n - tail).map_or(text.len(), |(i, _)| i);
    format!("{}\n[... {cut} characters of this observation clipped ...]\n{}", &text[..head_end], &text[tail_start..])
}

pub(crate) struct Sized {
    pub(crate) text: String,
    pub(crate) chars: usize,
    pub(crate) tokens: usize,
}

pub(crate) fn sized(text: String, counter: Option<&dyn TokenCounter>) -> Sized {
    let chars = text.chars().count();
    let tokens = counter.map_or(0, |c| c.count(&text) + MESSAGE_TOKEN_OVERHEAD);
    Sized { text, chars, tokens }
}

/// The message texts of one trajectory's instances, each rendered once: the task, each step's
/// canonical action and its `OBSERVATION:` message (clipped).
pub(crate) struct Pieces {
    pub(crate) task: Sized,
    pub(crate) actions: Vec<Sized>,
    pub(crate) observations: Vec<Sized>,
}

impl Pieces {
    pub(crate) fn of(replay: &Replay, opts: &ContextOptions, counter: Option<&dyn TokenCounter>) -> Self {
        let task = sized(replay.task.clone(), counter);
        let actions = replay.steps.iter().map(|s| sized(s.action.to_canonical(), counter)).collect();
        let observations = replay
            .steps
            .iter()
            .map(|s| {
                sized(
                    format!("{OBSERVATION_PREFIX}{}", clip_observation(&s.observation, opts.max_observation_chars)),
                    counter,
                )
            })
            .collect();
        Self { task, actions, observations }
    }
}

/// Characters and tokens of one message content.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Size {
    pub(crate) chars: usize,
    pub(crate) tokens: usize,
}

impl Sized {
    pub(crate) fn size(&self) -> Size {
        Size { chars: self.chars, tokens: self.tokens }
    }
}

impl Pieces {
    /// Sizes of the actions and observations, for [`plan_windows`].
    pub(crate) fn sizes(&self) -> (Vec<Size>, Vec<Size>) {
        (self.actions.iter().map(Sized::size).collect(), self.observations.iter().map(Sized::size).collect())
    }
}

/// One instance to build: target step `k` with steps `start..k` in the window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) k: usize,
    pub(crate) start: usize,
    pub(crate) chars: usize,
    pub(crate) tokens: usize,
}

/// The windows of a trajectory's instances (oldest steps dropped first to fit the limits) and
/// how many targets could not fit at all. `tools[k]` is step k's tool; `counted` says whether
/// token sizes were measured.
pub(crate) fn plan_windows(
    tools: &[&str],
    system: Size,
    task: Size,
    actions: &[Size],
    observations: &[Size],
    opts: &ContextOptions,
    counted: bool,
) -> (Vec<Window>, usize) {
    let mut windows = Vec::with_capacity(tools.len());
    let mut too_long = 0;
    for (k, tool) in tools.iter().enumerate() {
        if !opts.targets.is_empty() && !opts.targets.iter().any(|t| t.as_str() == *tool) {
            continue;
        }
        let mut start = match opts.history {
            History::All => 0,
            History::Last(n) => k.saturating_sub(n),
        };
        let size = |start: usize| {
            let chars =
                system.chars + task.chars + (start..k).map(|j| actions[j].chars + observations[j].chars).sum::<usize>();
            let tokens = system.tokens
                + task.tokens
                + (start..k).map(|j| actions[j].tokens + observations[j].tokens).sum::<usize>();
            (chars, tokens)
        };
        let fits = |(chars, tokens): (usize, usize)| {
            opts.max_context_chars.is_none_or(|m| chars <= m)
                && (!counted || opts.max_context_tokens.is_none_or(|m| tokens <= m))
        };
        while !fits(size(start)) && start < k {
            start += 1;
        }
        let (chars, tokens) = size(start);
        if !fits((chars, tokens)) {
            too_long += 1;
            continue;
        }
        windows.push(Window { k, start, chars, tokens });
    }
    (windows, too_long)
}

/// The tool of each step.
pub(crate) fn tools_of(replay: &Replay) -> Vec<&str> {
    replay.steps.iter().map(|s| s.action.tool.as_str()).collect()
}

/// The `target_thought` of an instance: the expert's thought for the target step as the readers
/// extract it ([`crate::replay::Step::thought`]), absent when empty.
pub(crate) fn target_thought(thought: &str) -> Option<String> {
    (!thought.is_empty()).then(|| thought.to_string())
}

/// Builds the instances of one trajectory.
pub fn swe_instances(
    replay: &Replay,
    origin: Origin<'_>,
    system_prompt: &str,
    opts: &ContextOptions,
    counter: Option<&dyn TokenCounter>,
) -> TrajectoryInstances {
    let system = sized(system_prompt.to_string(), counter);
    let pieces = Pieces::of(replay, opts, counter);
    let (actions, observations) = pieces.sizes();
    let (windows, too_long) = plan_windows(
        &tools_of(replay),
        system.size(),
        pieces.task.size(),
        &actions,
        &observations,
        opts,
        counter.is_some(),
    );
    let num_steps = u32::try_from(replay.steps.len()).unwrap_or(u32::MAX);
    let mut out = TrajectoryInstances { instances: Vec::with_capacity(windows.len()), too_long };
    for Window { k, start, chars, tokens } in windows {
        let mut messages = Vec::with_capacity(2 + 2 * (k - start));
        messages.push(Message::new(Role::System, system.text.clone()));
        messages.push(Message::new(Role::User, pieces.task.text.clone()));
        for j in start..k {
            messages.push(Message::new(Role::Assistant, pieces.actions[j].text.clone()));
            messages.push(Message::new(Role::User, pieces.observations[j].text.clone()));
        }
        let instance = StepInstance {
            version: RECORD_VERSION,
            id: format!("{}#{k}", origin.trajectory_id),
            kind: TaskKind::Swe,
            messages,
            target: pieces.actions[k].text.clone(),
            target_tool: Some(replay.steps[k].action.tool.clone()),
            target_thought: target_thought(&replay.steps[k].thought),
            reference_answer: None,
            provenance: Provenance {
                source: origin.source.to_string(),
                row: origin.row,
                trajectory_id: origin.trajectory_id.to_string(),
                step_index: u32::try_from(k).unwrap_or(u32::MAX),
                num_steps,
            },
        };
        out.instances.push(BuiltInstance { instance, context_chars: chars, context_tokens: counter.map(|_| tokens) });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::Step;
    use crate::tokens::CharsPerToken;
    use srl_core::Action;

    fn replay(n: usize) -> Replay {
        let steps = (0..n)
            .map(|i| Step {
                thought: format!("thought {i}"),
                action: Action::new("bash", [("command", format!("echo {i}").as_str())]),
                observation: format!("out {i}"),
            })
            .collect();
        Replay { task: "Fix the bug.".into(), steps, exit: None }
    }

    const ORIGIN: Origin<'static> = Origin { source: "f.jsonl", row: Some(0), trajectory_id: "t" };

    #[test]
    fn window_of_two_pairs() {
        let built = swe_instances(&replay(4), ORIGIN, "SYS", &ContextOptions::default(), None);
        assert_eq!(built.instances.len(), 4);
        let last = &built.instances[3].instance;
        assert_eq!(last.id, "t#3");
        let roles: Vec<Role> = last.messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::System, Role::User, Role::Assistant, Role::User, Role::Assistant, Role::User]);
        assert_eq!(last.messages[2].content, "<function=bash>\n<parameter=command>echo 1</parameter>\n</function>");
        assert_eq!(last.messages[3].content, "OBSERVATION:\nout 1");
        assert_eq!(last.target, "<function=bash>\n<parameter=command>echo 3</parameter>\n</function>");
        assert_eq!(last.target_thought.as_deref(), Some("thought 3"));
        assert_eq!(built.instances[0].instance.messages.len(), 2);
        let all = swe_instances(
            &replay(4),
            ORIGIN,
            "SYS",
            &ContextOptions { history: History::All, ..Default::default() },
            None,
        );
        assert_eq!(all.instances[3].instance.messages.len(), 8);
    }

    #[test]
    fn limits_drop_oldest_steps_first() {
        let base = swe_instances(&replay(3), ORIGIN, "SYS", &ContextOptions::default(), None);
        let full = base.instances[2].context_chars;
        let one_pair = base.instances[1].context_chars;
        let opts = ContextOptions { max_context_chars: Some(full - 1), ..Default::default() };
        let clipped = swe_instances(&replay(3), ORIGIN, "SYS", &opts, None);
        let msgs = &clipped.instances[2].instance.messages;
        assert_eq!(msgs.len(), 4, "oldest pair dropped");
        assert!(msgs[2].content.contains("echo 1"));
        let tiny = ContextOptions { max_context_chars: Some(5), ..Default::default() };
        assert_eq!(swe_instances(&replay(3), ORIGIN, "SYS", &tiny, None).too_long, 3);
        let tok = ContextOptions { max_context_tokens: Some(1_000_000), ..Default::default() };
        let counted = swe_instances(&replay(3), ORIGIN, "SYS", &tok, Some(&CharsPerToken(1)));
        assert!(counted.instances[1].context_tokens.unwrap() >= one_pair);
    }

    #[test]
    fn targets_filter_keeps_context() {
        let mut r = replay(3);
        r.steps[2].action = Action::new("submit", []);
        r.steps[2].thought.clear();
        let opts = ContextOptions { targets: vec!["submit".into()], ..Default::default() };
        let built = swe_instances(&r, ORIGIN, "SYS", &opts, None);
        assert_eq!(built.instances.len(), 1);
        assert_eq!(built.instances[0].instance.messages.len(), 6);
        assert_eq!(built.instances[0].instance.target_tool.as_deref(), Some("submit"));
        assert_eq!(built.instances[0].instance.target_thought, None, "an empty thought is absent");
    }

    #[test]
    fn clipping_marks_the_cut() {
        let text = "a".repeat(50) + &"b".repeat(50);
        let c = clip_observation(&text, 20);
        assert_eq!(
            c,
            format!("{}\n[... 80 characters of this observation clipped ...]\n{}", "a".repeat(10), "b".repeat(10))
        );
        assert_eq!(clip_observation("short", 20), "short");
        assert_eq!(clip_observation("ééééé", 2), "é\n[... 3 characters of this observation clipped ...]\né");
    }
}
