//! JSONL lines of SWE step instances, assembled from message texts that are JSON-escaped and
//! hashed once per trajectory (docs/prepare.md, "Speed").
//!
//! A trajectory of n steps gives n instances that repeat the same system prompt and task and
//! share each (action, observation) pair between the windows of up to three targets, so
//! serializing each [`srl_core::StepInstance`] with `serde_json` escapes (and the dedup hashes)
//! the same text several times over. Here every piece is escaped once — the system prompt once per
//! run — and each line is a concatenation of escaped pieces, byte for byte what `serde_json`
//! writes for the instance (tested below and by `tests/golden_prepare.rs`).
//!
//! The dedup key of an instance is the first 16 bytes of a SHA-256 over each message's role and
//! the SHA-256 of its escaped text, then the target's: equal instances get equal keys, and the
//! pieces are hashed once each rather than once per instance that shows them. The fast path of
//! [`crate::fast_lines`] hands over pieces escaped straight from the input and meets here.

use crate::context::{plan_windows, sized, tools_of, ContextOptions, Origin, Pieces, Size, Sized, Window};
use crate::error::{Issue, IssueKind};
use crate::replay::Replay;
use crate::tokens::TokenCounter;
use sha2::{Digest, Sha256};
use srl_core::{Role, RECORD_VERSION};

/// The system prompt, measured, escaped and hashed once per run.
pub(crate) struct SystemPiece {
    pub(crate) sized: Sized,
    piece: Escaped,
}

impl SystemPiece {
    pub(crate) fn new(text: String, counter: Option<&dyn TokenCounter>) -> Result<Self, Issue> {
        let piece = Escaped::of_text(&text)?;
        Ok(Self { sized: sized(text, counter), piece })
    }
}

/// One instance line and what the pipeline needs to know about it.
pub(crate) struct InstanceLine {
    /// The JSONL line, with its newline.
    pub(crate) line: Vec<u8>,
    /// Target tool.
    pub(crate) tool: String,
    /// Characters of all message contents.
    pub(crate) chars: usize,
    /// Prompt tokens, when counted.
    pub(crate) tokens: Option<usize>,
    /// Dedup key.
    pub(crate) key: [u8; 16],
}

pub(crate) fn json_string(text: &str) -> Result<Vec<u8>, Issue> {
    serde_json::to_vec(text).map_err(|e| Issue::new(IssueKind::InvalidAction, "instance", e.to_string()))
}

/// A message text as a JSON string (quotes included) and the SHA-256 of those bytes (one text
/// has one escaping, so equal digests mean equal texts).
pub(crate) struct Escaped {
    pub(crate) json: Vec<u8>,
    pub(crate) digest: [u8; 32],
}

impl Escaped {
    pub(crate) fn of_text(text: &str) -> Result<Self, Issue> {
        Ok(Self::of_json(json_string(text)?))
    }

    pub(crate) fn of_json(json: Vec<u8>) -> Self {
        let digest = Sha256::digest(&json).into();
        Self { json, digest }
    }
}

/// The escaped message texts of one trajectory: the task, each step's action and (up to the
/// last target shown) its `OBSERVATION:` message.
pub(crate) struct EscapedPieces {
    pub(crate) task: Escaped,
    pub(crate) actions: Vec<Escaped>,
    pub(crate) observations: Vec<Escaped>,
}

/// Step k's tool and thought.
pub(crate) struct TargetInfo<'a> {
    pub(crate) tool: &'a str,
    pub(crate) thought: &'a str,
}

/// The instance lines of one trajectory and the number of targets that did not fit.
pub(crate) fn instance_lines(
    replay: &Replay,
    origin: Origin<'_>,
    system: &SystemPiece,
    opts: &ContextOptions,
    counter: Option<&dyn TokenCounter>,
) -> Result<(Vec<InstanceLine>, usize), Issue> {
    let pieces = Pieces::of(replay, opts, counter);
    let (actions, observations) = pieces.sizes();
    let tools = tools_of(replay);
    let (windows, too_long) =
        plan_windows(&tools, system.sized.size(), pieces.task.size(), &actions, &observations, opts, counter.is_some());
    if windows.is_empty() {
        return Ok((Vec::new(), too_long));
    }
    // Observations are only shown before a later target.
    let last_k = windows.iter().map(|w| w.k).max().unwrap_or(0);
    let escaped = EscapedPieces {
        task: Escaped::of_text(&pieces.task.text)?,
        actions: pieces.actions.iter().map(|a| Escaped::of_text(&a.text)).collect::<Result<_, _>>()?,
        observations: pieces.observations[..last_k]
            .iter()
            .map(|o| Escaped::of_text(&o.text))
            .collect::<Result<_, _>>()?,
    };
    let targets: Vec<TargetInfo<'_>> =
        replay.steps.iter().map(|s| TargetInfo { tool: &s.action.tool, thought: &s.thought }).collect();
    let lines = assemble(system, &escaped, &targets, windows, origin, counter.is_some())?;
    Ok((lines, too_long))
}

/// The lines of `windows`: concatenations of the escaped pieces, byte for byte what
/// `serde_json` writes for each `StepInstance`.
pub(crate) fn assemble(
    system: &SystemPiece,
    pieces: &EscapedPieces,
    targets: &[TargetInfo<'_>],
    windows: Vec<Window>,
    origin: Origin<'_>,
    counted: bool,
) -> Result<Vec<InstanceLine>, Issue> {
    let (task, actions, observations) = (&pieces.task, &pieces.actions, &pieces.observations);
    let source = json_string(origin.source)?;
    let trajectory_id = json_string(origin.trajectory_id)?;
    let num_steps = u32::try_from(targets.len()).unwrap_or(u32::MAX);
    let row = origin.row.map_or_else(|| "null".to_string(), |r| r.to_string());
    let system_piece = &system.piece;
    let mut out = Vec::with_capacity(windows.len());
    for Window { k, start, chars, tokens } in windows {
        let tool = targets[k].tool.to_string();
        let thought = targets[k].thought;
        let id = json_string(&format!("{}#{k}", origin.trajectory_id))?;
        let window_len: usize = (start..k).map(|j| actions[j].json.len() + observations[j].json.len() + 64).sum();
        let mut line = Vec::with_capacity(
            system_piece.json.len()
                + task.json.len()
                + window_len
                + actions[k].json.len()
                + 2 * thought.len()
                + 2 * id.len()
                + source.len()
                + 256,
        );
        line.extend_from_slice(b"{\"type\":\"srl_step\",\"version\":");
        line.extend_from_slice(RECORD_VERSION.to_string().as_bytes());
        line.extend_from_slice(b",\"id\":");
        line.extend_from_slice(&id);
        line.extend_from_slice(b",\"kind\":\"swe\",\"messages\":[{\"role\":\"system\",\"content\":");
        line.extend_from_slice(&system_piece.json);
        line.extend_from_slice(b"},{\"role\":\"user\",\"content\":");
        line.extend_from_slice(&task.json);
        line.push(b'}');
        let mut h = Sha256::new();
        h.update([Role::System as u8]);
        h.update(system_piece.digest);
        h.update([Role::User as u8]);
        h.update(task.digest);
        for j in start..k {
            line.extend_from_slice(b",{\"role\":\"assistant\",\"content\":");
            line.extend_from_slice(&actions[j].json);
            line.extend_from_slice(b"},{\"role\":\"user\",\"content\":");
            line.extend_from_slice(&observations[j].json);
            line.push(b'}');
            h.update([Role::Assistant as u8]);
            h.update(actions[j].digest);
            h.update([Role::User as u8]);
            h.update(observations[j].digest);
        }
        h.update([0xff]);
        h.update(actions[k].digest);
        line.extend_from_slice(b"],\"target\":");
        line.extend_from_slice(&actions[k].json);
        line.extend_from_slice(b",\"target_tool\":");
        line.extend_from_slice(&json_string(&tool)?);
        if !thought.is_empty() {
            line.extend_from_slice(b",\"target_thought\":");
            line.extend_from_slice(&json_string(thought)?);
        }
        line.extend_from_slice(b",\"provenance\":{\"source\":");
        line.extend_from_slice(&source);
        line.extend_from_slice(b",\"row\":");
        line.extend_from_slice(row.as_bytes());
        line.extend_from_slice(b",\"trajectory_id\":");
        line.extend_from_slice(&trajectory_id);
        line.extend_from_slice(format!(",\"step_index\":{k},\"num_steps\":{num_steps}}}}}\n").as_bytes());
        let mut key = [0u8; 16];
        key.copy_from_slice(&h.finalize()[..16]);
        out.push(InstanceLine { line, tool, chars, tokens: counted.then_some(tokens), key });
    }
    Ok(out)
}

/// A [`Size`] without tokens.
pub(crate) fn chars_only(chars: usize) -> Size {
    Size { chars, tokens: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{swe_instances, History};
    use crate::replay::Step;
    use crate::tokens::CharsPerToken;
    use srl_core::Action;

    fn replay() -> Replay {
        let steps = vec![
            Step {
                thought: "Try \"it\"\u{1}\n".into(),
                action: Action::new("bash", [("command", "printf '\"\\\\\u{1}\t\u{7f}é\u{2028}'")]),
                observation: "a\u{0}b\r\n</parameter> \u{1f600}".into(),
            },
            Step {
                thought: String::new(),
                action: Action::new("str_replace_editor", [("command", "view"), ("path", "/testbed/x.py")]),
                observation: "x".repeat(50),
            },
            Step { thought: String::new(), action: Action::new("submit", []), observation: String::new() },
        ];
        Replay { task: "Fix \"it\"\n\u{8}".into(), steps, exit: None }
    }

    #[test]
    fn lines_are_what_serde_json_writes() {
        for (opts, row, counter) in [
            (ContextOptions::default(), Some(7), None),
            (ContextOptions { history: History::All, max_observation_chars: 10, ..Default::default() }, None, None),
            (
                ContextOptions { max_context_tokens: Some(10_000), ..Default::default() },
                Some(0),
                Some(&CharsPerToken(3) as &dyn TokenCounter),
            ),
        ] {
            let origin = Origin { source: "d/\"q\".jsonl", row, trajectory_id: "t\u{1}#x" };
            let sys = SystemPiece::new("SYS \u{1b}[0m".into(), counter).unwrap();
            let (lines, too_long) = instance_lines(&replay(), origin, &sys, &opts, counter).unwrap();
            let want = swe_instances(&replay(), origin, "SYS \u{1b}[0m", &opts, counter);
            assert_eq!(too_long, want.too_long);
            assert_eq!(lines.len(), want.instances.len());
            for (l, w) in lines.iter().zip(&want.instances) {
                let mut line = serde_json::to_vec(&w.instance).unwrap();
                line.push(b'\n');
                assert_eq!(String::from_utf8_lossy(&l.line), String::from_utf8_lossy(&line));
                assert_eq!((l.chars, l.tokens), (w.context_chars, w.context_tokens));
            }
        }
    }

    #[test]
    fn keys_tell_instances_apart_by_content_only() {
        let sys = SystemPiece::new("S".into(), None).unwrap();
        let o = |id| Origin { source: "a", row: None, trajectory_id: id };
        let opts = ContextOptions::default();
        let (a, _) = instance_lines(&replay(), o("one"), &sys, &opts, None).unwrap();
        let (b, _) = instance_lines(&replay(), o("two"), &sys, &opts, None).unwrap();
        assert_eq!(a.iter().map(|l| l.key).collect::<Vec<_>>(), b.iter().map(|l| l.key).collect::<Vec<_>>());
        let mut other = replay();
        other.steps[0].observation.push('!');
        let (c, _) = instance_lines(&other, o("one"), &sys, &opts, None).unwrap();
        assert_eq!(a[0].key, c[0].key, "the first target does not show the observation");
        assert_ne!(a[1].key, c[1].key);
        let keys: std::collections::HashSet<_> = a.iter().map(|l| l.key).collect();
        assert_eq!(keys.len(), 3);
    }
}
