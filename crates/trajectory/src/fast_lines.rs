//! The fast path of SWE instance lines: a `messages` text scanned by [`crate::raw_json`] is
//! replayed with its user and tool texts kept escaped, so the task and every observation go from
//! the input to the instance lines without being decoded and escaped again (docs/prepare.md,
//! "Speed").
//!
//! [`replay_escaped`] follows [`crate::replay`] rule for rule (same steps, same exit turns, same
//! errors; assistant turns are decoded and read by the same functions), and [`fast_lines`] builds
//! the same lines as [`crate::instance_lines::instance_lines`] (clipping observations on the
//! escaped text, where one escape is one character). It is used for JSONL output without a token
//! counter; everything else, and any text the scanner leaves alone, takes the general path.

use crate::context::{plan_windows, ContextOptions, Origin, Window};
use crate::error::{Issue, IssueKind};
use crate::instance_lines::{assemble, chars_only, Escaped, EscapedPieces, InstanceLine, SystemPiece, TargetInfo};
use crate::raw_json::{canonical, char_offset, chars_of, RawContent, RawMsg};
use crate::replay::{exit_turn, ticks_call, tool_call, xml_call, OBSERVATION_PREFIX};
use crate::split::Split;
use srl_core::Action;

/// Text in `serde_json`'s escaping (no quotes) and the bytes its escapes add.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct EscText {
    pub(crate) bytes: Vec<u8>,
    pub(crate) extra: usize,
}

impl EscText {
    fn push_raw(&mut self, raw: &str) {
        self.bytes.reserve(raw.len());
        self.extra += canonical(raw, &mut self.bytes);
    }

    fn push_content(&mut self, content: &RawContent<'_>) {
        match content {
            RawContent::Text(t) => self.push_raw(t),
            RawContent::Blocks(blocks) => blocks.iter().for_each(|b| self.push_raw(b)),
            RawContent::Empty => {}
        }
    }

    /// Appends a newline-separated `other`.
    fn push_line(&mut self, newlines: usize, other: &EscText) {
        for _ in 0..newlines {
            self.bytes.extend_from_slice(b"\\n");
        }
        self.extra += newlines + other.extra;
        self.bytes.extend_from_slice(&other.bytes);
    }

    fn chars(&self) -> usize {
        chars_of(&self.bytes, self.extra)
    }

    /// Removes `OBSERVATION:\n` (or `OBSERVATION:`) at the start.
    fn strip_observation(&mut self) {
        if self.bytes.starts_with(b"OBSERVATION:\\n") {
            self.bytes.drain(..14);
            self.extra -= 1;
        } else if self.bytes.starts_with(b"OBSERVATION:") {
            self.bytes.drain(..12);
        }
    }
}

/// One step with its observation escaped.
#[derive(Debug)]
pub(crate) struct EscStep {
    pub(crate) thought: String,
    pub(crate) action: Action,
    pub(crate) observation: EscText,
}

/// A conversation replayed with escaped task and observations.
#[derive(Debug)]
pub(crate) struct EscReplay {
    pub(crate) task: EscText,
    pub(crate) steps: Vec<EscStep>,
    pub(crate) exit: Option<String>,
}

/// [`crate::replay`]'s replay over scanned messages.
pub(crate) fn replay_escaped(list: Vec<RawMsg<'_>>, split: Split) -> Result<EscReplay, Issue> {
    let mut task: Option<EscText> = None;
    let mut steps: Vec<EscStep> = Vec::new();
    let mut pending_obs: Option<EscText> = None;
    let mut exit: Option<String> = None;
    for (i, mut m) in list.into_iter().enumerate() {
        let role = m.role.take().ok_or_else(|| {
            Issue::new(IssueKind::MissingColumn, format!("messages[{i}].role"), "message without a role")
        })?;
        let role = role.as_ref();
        match role {
            "system" => {}
            "user" | "tool" => {
                let mut text = EscText::default();
                text.push_content(&m.content);
                if role == "user" && task.is_none() && steps.is_empty() {
                    task = Some(text);
                    continue;
                }
                if steps.is_empty() {
                    if let Some(t) = task.as_mut() {
                        t.push_line(2, &text);
                    }
                    continue;
                }
                text.strip_observation();
                match pending_obs.as_mut() {
                    Some(p) => p.push_line(1, &text),
                    None => pending_obs = Some(text),
                }
            }
            "assistant" => {
                if let (Some(last), Some(obs)) = (steps.last_mut(), pending_obs.take()) {
                    last.observation = obs;
                }
                let m = m.into_msg();
                let text = m.content.text();
                if let Some(reason) = exit_turn(&m, &text, split) {
                    exit = Some(reason);
                    break;
                }
                let (thought, action) = match split {
                    Split::Tool => tool_call(&m, &text, i)?,
                    Split::Xml => xml_call(&text, i)?,
                    Split::Ticks => ticks_call(&text, i)?,
                };
                steps.push(EscStep { thought, action, observation: EscText::default() });
            }
            other => {
                return Err(Issue::new(
                    IssueKind::MissingColumn,
                    format!("messages[{i}].role"),
                    format!("unknown role {other:?}"),
                ))
            }
        }
    }
    if let (Some(last), Some(obs)) = (steps.last_mut(), pending_obs.take()) {
        last.observation = obs;
    }
    let task =
        task.ok_or_else(|| Issue::new(IssueKind::EmptyTrajectory, "messages", "no user message with the task"))?;
    if steps.is_empty() {
        return Err(Issue::new(IssueKind::EmptyTrajectory, "messages", "no assistant step"));
    }
    Ok(EscReplay { task, steps, exit })
}

/// `"OBSERVATION:\n<clipped observation>"` as a JSON string, and its characters
/// ([`crate::context::clip_observation`] on the escaped text).
fn observation_piece(obs: &EscText, max: usize) -> (Vec<u8>, usize) {
    let prefix_chars = OBSERVATION_PREFIX.chars().count();
    let n = obs.chars();
    let mut json = Vec::with_capacity(obs.bytes.len() + 96);
    json.extend_from_slice(b"\"OBSERVATION:\\n");
    if n <= max {
        json.extend_from_slice(&obs.bytes);
        json.push(b'"');
        return (json, prefix_chars + n);
    }
    let head = max / 2;
    let tail = max - head;
    let cut = n - head - tail;
    let head_end = char_offset(&obs.bytes, head);
    let tail_start = char_offset(&obs.bytes, n - tail);
    let marker = format!("\n[... {cut} characters of this observation clipped ...]\n");
    json.extend_from_slice(&obs.bytes[..head_end]);
    json.extend_from_slice(marker.replace('\n', "\\n").as_bytes());
    json.extend_from_slice(&obs.bytes[tail_start..]);
    json.push(b'"');
    (json, prefix_chars + head + marker.len() + tail)
}

fn quoted(text: &EscText) -> Vec<u8> {
    let mut json = Vec::with_capacity(text.bytes.len() + 2);
    json.push(b'"');
    json.extend_from_slice(&text.bytes);
    json.push(b'"');
    json
}

/// The instance lines of one escaped replay and the number of targets that did not fit (no
/// token counter: `max_context_tokens` needs one and takes the general path).
pub(crate) fn fast_lines(
    replay: &EscReplay,
    origin: Origin<'_>,
    system: &SystemPiece,
    opts: &ContextOptions,
) -> Result<(Vec<InstanceLine>, usize), Issue> {
    let canonical_actions: Vec<String> = replay.steps.iter().map(|s| s.action.to_canonical()).collect();
    let action_sizes: Vec<_> = canonical_actions.iter().map(|a| chars_only(a.chars().count())).collect();
    let mut observations = Vec::with_capacity(replay.steps.len());
    let mut observation_sizes = Vec::with_capacity(replay.steps.len());
    for s in &replay.steps {
        let (json, chars) = observation_piece(&s.observation, opts.max_observation_chars);
        observations.push(json);
        observation_sizes.push(chars_only(chars));
    }
    let tools: Vec<&str> = replay.steps.iter().map(|s| s.action.tool.as_str()).collect();
    let task_size = chars_only(replay.task.chars());
    let (windows, too_long) =
        plan_windows(&tools, chars_only(system.sized.chars), task_size, &action_sizes, &observation_sizes, opts, false);
    if windows.is_empty() {
        return Ok((Vec::new(), too_long));
    }
    let last_k = windows.iter().map(|w: &Window| w.k).max().unwrap_or(0);
    observations.truncate(last_k);
    let pieces = EscapedPieces {
        task: Escaped::of_json(quoted(&replay.task)),
        actions: canonical_actions.iter().map(|a| Escaped::of_text(a)).collect::<Result<_, _>>()?,
        observations: observations.into_iter().map(Escaped::of_json).collect(),
    };
    let targets: Vec<TargetInfo<'_>> =
        replay.steps.iter().map(|s| TargetInfo { tool: &s.action.tool, thought: &s.thought }).collect();
    let lines = assemble(system, &pieces, &targets, windows, origin, false)?;
    Ok((lines, too_long))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::History;
    use crate::instance_lines::instance_lines;
    use crate::raw_json::scan;
    use crate::replay::replay_text;

    /// Rows in all three splits with escapes, non-ASCII text, blocks, second task messages,
    /// several observations per step and an exit turn.
    fn rows() -> Vec<(Split, String)> {
        let obs = "x\\u00e9\\ud83d\\ude00\\n\\t\\\"q\\\"\\u0001 \\/ ".repeat(40);
        let tool = format!(
            r#"[{{"role":"system","content":"sys"}},
            {{"role":"user","content":[{{"type":"text","text":"Fix \u00e9 \"it\"\n"}}]}},
            {{"role":"user","content":"more"}},
            {{"role":"assistant","content":"Look.","thought":" Look \u2192 here. ","tool_calls":[{{"function":{{"name":"bash","arguments":"{{\"command\": \"ls\"}}"}}}}]}},
            {{"role":"tool","content":[{{"type":"text","text":"OBSERVATION:\n{obs}"}},{{"type":"text","text":"tail"}}]}},
            {{"role":"user","content":"OBSERVATION:second"}},
            {{"role":"assistant","content":"Edit.","tool_calls":[{{"function":{{"name":"str_replace_editor","arguments":{{"command":"view","path":"/testbed/a.py","view_range":[1,5]}}}}}}]}},
            {{"role":"tool","content":"{obs}"}},
            {{"role":"assistant","content":"","tool_calls":[{{"function":{{"name":"submit","arguments":"{{}}"}}}}]}},
            {{"role":"assistant","content":"Exit due to cost limit","tool_calls":null}}]"#
        );
        let xml = r#"[{"role":"user","content":"Task"},
            {"role":"assistant","content":"Grep.\n\n<function=bash>\n<parameter=command>grep -r '</parameter>' .</parameter>\n</function>"},
            {"role":"user","content":"OBSERVATION:\nnone"}]"#;
        let ticks = r#"[{"role":"user","content":"Task"},
            {"role":"assistant","content":"Run:\n\n```\nls -la\n```"},
            {"role":"user","content":"OBSERVATION:\nfiles\n"}]"#;
        vec![(Split::Tool, tool), (Split::Xml, xml.into()), (Split::Ticks, ticks.into())]
    }

    #[test]
    fn fast_lines_equal_the_general_path() {
        let sys = SystemPiece::new("SYS \u{1b}".into(), None).unwrap();
        for (split, text) in rows() {
            for opts in [
                ContextOptions::default(),
                ContextOptions { history: History::All, max_observation_chars: 37, ..Default::default() },
                ContextOptions { max_context_chars: Some(600), targets: vec!["submit".into()], ..Default::default() },
                ContextOptions { max_observation_chars: 1, ..Default::default() },
            ] {
                let origin = Origin { source: "d/x.parquet", row: Some(3), trajectory_id: "t\"1" };
                let slow = replay_text(&text, split).unwrap();
                let fast = replay_escaped(scan(&text).expect("scanned"), split).unwrap();
                assert_eq!(fast.steps.len(), slow.steps.len());
                assert_eq!(fast.exit, slow.exit);
                let (want, want_too_long) = instance_lines(&slow, origin, &sys, &opts, None).unwrap();
                let (got, too_long) = fast_lines(&fast, origin, &sys, &opts).unwrap();
                assert_eq!(too_long, want_too_long);
                assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(String::from_utf8_lossy(&g.line), String::from_utf8_lossy(&w.line));
                    assert_eq!((g.chars, g.key, &g.tool), (w.chars, w.key, &w.tool));
                }
            }
        }
    }

    #[test]
    fn errors_are_the_general_paths() {
        for (split, text) in [
            (Split::Tool, r#"[{"role":"user","content":"T"},{"role":"assistant","content":"x"}]"#),
            (Split::Tool, r#"[{"content":"T"}]"#),
            (Split::Tool, r#"[{"role":"robot","content":"T"}]"#),
            (Split::Tool, r#"[{"role":"tool","content":"T"}]"#),
            (Split::Xml, r#"[{"role":"user","content":"T"},{"role":"assistant","content":"no call"}]"#),
        ] {
            let want = replay_text(text, split).unwrap_err();
            let got = replay_escaped(scan(text).unwrap(), split).unwrap_err();
            assert_eq!(got, want, "{text}");
        }
    }
}
