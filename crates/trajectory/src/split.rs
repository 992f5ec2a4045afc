//! The three renderings of SWE-smith trajectories (docs/prepare.md) and how a file's split is
//! told: from its name (the hub's `data/<split>-NNNNN-of-NNNNN.parquet`, `<split>.jsonl`, or
//! `collect_trajs.py`'s `<eval dir>.<style>.jsonl`, e.g. `run_evaluation.xml.jsonl`), else from the
//! content of its first rows, once per file ([`Split::vote`]).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// A SWE-smith trajectories split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Raw SWE-agent history with `tool_calls` (`arguments` a JSON string).
    #[default]
    Tool,
    /// `<function=…>` blocks after the thought.
    Xml,
    /// SWE-agent command lines in a backtick fence after the thought.
    Ticks,
}

impl Split {
    /// All splits.
    pub const ALL: [Split; 3] = [Split::Tool, Split::Xml, Split::Ticks];

    /// The split's name as in the shard file names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tool => "tool",
            Self::Xml => "xml",
            Self::Ticks => "ticks",
        }
    }

    /// The split a file name declares: the stem without a `-NNNNN-of-NNNNN` suffix, when it is
    /// `tool`, `xml` or `ticks`. `None` when the name does not tell.
    pub fn from_file_name(path: &Path) -> Option<Split> {
        let stem = path.file_stem()?.to_str()?;
        let base = strip_shard_suffix(stem);
        // `collect_trajs.py` names its output `<eval_dir name>.<style>.jsonl`.
        let style = base.rsplit_once('.').map_or(base, |(_, style)| style);
        style.parse().ok()
    }

    /// Guesses the split from a decoded `messages` list ([`Split::vote`] over its turns).
    pub fn detect(messages: &serde_json::Value) -> Option<Split> {
        let mut votes = SplitVotes::default();
        Self::vote(messages, &mut votes);
        votes.winner()
    }

    /// Adds the votes of one conversation's assistant turns: a turn with `tool_calls` is `tool`;
    /// otherwise SWE-smith's renderings end every turn with the call, so a turn ending in
    /// `</function>` is `xml` and one ending in a ``` fence is `ticks` (what the prose mentions
    /// does not count).
    pub fn vote(messages: &serde_json::Value, votes: &mut SplitVotes) {
        let Some(list) = messages.as_array() else { return };
        for m in list {
            if m.get("role").and_then(|r| r.as_str()) != Some("assistant") {
                continue;
            }
            if m.get("tool_calls").and_then(|t| t.as_array()).is_some_and(|t| !t.is_empty()) {
                votes.0[0] += 1;
                continue;
            }
            let text = crate::replay::content_text(m.get("content"));
            let end = text.trim_end();
            if end.ends_with("</function>") {
                votes.0[1] += 1;
            } else if end.ends_with("```") {
                votes.0[2] += 1;
            }
        }
    }
}

/// Turns counted per split (tool, xml, ticks) while detecting a file's split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SplitVotes(pub [u64; 3]);

impl SplitVotes {
    /// The split with the most votes (ties go to the earlier of tool, xml, ticks); `None`
    /// without votes.
    pub fn winner(&self) -> Option<Split> {
        let (best, n) = self.0.iter().enumerate().fold((0, 0), |acc, (i, &n)| if n > acc.1 { (i, n) } else { acc });
        (n > 0).then_some(Split::ALL[best])
    }
}

/// `tool-00003-of-00008` → `tool`.
fn strip_shard_suffix(stem: &str) -> &str {
    let parts: Vec<&str> = stem.rsplitn(4, '-').collect();
    // rsplitn gives [of-total, "of", index, base] for `base-index-of-total`.
    if parts.len() == 4
        && parts[1] == "of"
        && !parts[0].is_empty()
        && parts[0].bytes().all(|b| b.is_ascii_digit())
        && !parts[2].is_empty()
        && parts[2].bytes().all(|b| b.is_ascii_digit())
    {
        parts[3]
    } else {
        stem
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Split {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tool" => Ok(Self::Tool),
            "xml" => Ok(Self::Xml),
            "ticks" => Ok(Self::Ticks),
            other => Err(format!("unknown split {other:?} (expected tool, xml or ticks)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_from_shard_names() {
        assert_eq!(Split::from_file_name(Path::new("data/tool-00003-of-00008.parquet")), Some(Split::Tool));
        assert_eq!(Split::from_file_name(Path::new("xml-00000-of-00001.parquet")), Some(Split::Xml));
        assert_eq!(Split::from_file_name(Path::new("jsonl/ticks.jsonl")), Some(Split::Ticks));
        assert_eq!(Split::from_file_name(Path::new("data/train-00000-of-00001.parquet")), None);
        assert_eq!(Split::from_file_name(Path::new("rows.jsonl")), None);
        // SWE-smith's collect_trajs.py output names.
        assert_eq!(Split::from_file_name(Path::new("out/run_evaluation.ticks.jsonl")), Some(Split::Ticks));
        assert_eq!(Split::from_file_name(Path::new("run_evaluation.xml.jsonl")), Some(Split::Xml));
        assert_eq!(Split::from_file_name(Path::new("my_run.tool.jsonl")), Some(Split::Tool));
        assert_eq!(Split::from_file_name(Path::new("run_evaluation.jsonl")), None);
    }

    #[test]
    fn split_from_content() {
        let tool =
            serde_json::json!([{"role": "assistant", "content": "x", "tool_calls": [{"function": {"name": "bash"}}]}]);
        let xml = serde_json::json!([{"role": "user", "content": "```"}, {"role": "assistant", "content": "a\n\n<function=submit>\n</function>"}]);
        let ticks =
            serde_json::json!([{"role": "assistant", "content": [{"type": "text", "text": "a\n\n```\nls\n```"}]}]);
        assert_eq!(Split::detect(&tool), Some(Split::Tool));
        assert_eq!(Split::detect(&xml), Some(Split::Xml));
        assert_eq!(Split::detect(&ticks), Some(Split::Ticks));
        assert_eq!(Split::detect(&serde_json::json!([])), None);
        // A ticks turn whose thought mentions <function= is still ticks.
        let mention = serde_json::json!([{"role": "assistant", "content": "The <function=bash> tag.\n\n```\nls\n```"}]);
        assert_eq!(Split::detect(&mention), Some(Split::Ticks));
    }
}
