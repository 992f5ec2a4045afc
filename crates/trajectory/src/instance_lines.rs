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
//! the SHA-256 of its text, then the target's: equal instances get equal keys, and the pieces are
//! hashed once each rather than once per instance that shows them.

use crate::context::{plan_windows, sized, ContextOptions, Origin, Pieces, Sized, Window};
use crate::error::{Issue, IssueKind};
use crate::replay::Replay;
use crate::tokens::TokenCounter;
use sha2::{Digest, Sha256};
use srl_core::{Role, RECORD_VERSION};

/// The system prompt, measured, escaped and hashed once per run.
pub(crate) struct SystemPiece {
    sized: Sized,
    json: Vec<u8>,
    digest: [u8; 32],
}

impl SystemPiece {
    pub(crate) fn new(text: String, counter: Option<&dyn TokenCounter>) -> Result<Self, Issue> {
        let json = json_string(&text)?;
        let digest = Sha256::digest(text.as_bytes()).into();
        Ok(Self { sized: sized(text, counter), json, digest })
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

fn json_string(text: &str) -> Result<Vec<u8>, Issue> {
    serde_json::to_vec(text).map_err(|e| Issue::new(IssueKind::InvalidAction, "instance", e.to_string()))
}

struct Escaped {
    json: Vec<u8>,
    digest: [u8; 32],
}

fn escaped(text: &str) -> Result<Escaped, Issue> {
    Ok(Escaped { json: json_string(text)?, digest: Sha256::digest(text.as_bytes()).into() })
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
    let (windows, too_long) = plan_windows(replay, &system.sized, &pieces, opts, counter);
    if windows.is_empty() {
        return Ok((Vec::new(), too_long));
    }
    let task = escaped(&pieces.task.text)?;
    let actions = pieces.actions.iter().map(|a| escaped(&a.text)).collect::<Result<Vec<_>, _>>()?;
    // Observations are only shown before a later target.
    let last_k = windows.iter().map(|w| w.k).max().unwrap_or(0);
    let observations = pieces.observations[..last_k].iter().map(|o| escaped(&o.text)).collect::<Result<Vec<_>, _>>()?;
    let source = json_string(origin.source)?;
    let trajectory_id = json_string(origin.trajectory_id)?;
    let num_steps = u32::try_from(replay.steps.len()).unwrap_or(u32::MAX);
    let row = origin.row.map_or_else(|| "null".to_string(), |r| r.to_string());
    let mut out = Vec::with_capacity(windows.len());
    for Window { k, start, chars, tokens } in windows {
        let tool = replay.steps[k].action.tool.clone();
        let id = json_string(&format!("{}#{k}", origin.trajectory_id))?;
        let window_len: usize = (start..k).map(|j| actions[j].json.len() + observations[j].json.len() + 64).sum();
        let mut line = Vec::with_capacity(
            system.json.len()
                + task.json.len()
                + window_len
                + actions[k].json.len()
                + 2 * id.len()
                + source.len()
                + 256,
        );
        line.extend_from_slice(b"{\"type\":\"srl_step\",\"version\":");
        line.extend_from_slice(RECORD_VERSION.to_string().as_bytes());
        line.extend_from_slice(b",\"id\":");
        line.extend_from_slice(&id);
        line.extend_from_slice(b",\"kind\":\"swe\",\"messages\":[{\"role\":\"system\",\"content\":");
        line.extend_from_slice(&system.json);
        line.extend_from_slice(b"},{\"role\":\"user\",\"content\":");
        line.extend_from_slice(&task.json);
        line.push(b'}');
        let mut h = Sha256::new();
        h.update([Role::System as u8]);
        h.update(system.digest);
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
        line.extend_from_slice(b",\"provenance\":{\"source\":");
        line.extend_from_slice(&source);
        line.extend_from_slice(b",\"row\":");
        line.extend_from_slice(row.as_bytes());
        line.extend_from_slice(b",\"trajectory_id\":");
        line.extend_from_slice(&trajectory_id);
        line.extend_from_slice(format!(",\"step_index\":{k},\"num_steps\":{num_steps}}}}}\n").as_bytes());
        let mut key = [0u8; 16];
        key.copy_from_slice(&h.finalize()[..16]);
        out.push(InstanceLine { line, tool, chars, tokens: counter.map(|_| tokens), key });
    }
    Ok((out, too_long))
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
                thought: String::new(),
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
