//! Versioned on-disk records that cross crate boundaries. Every record is one JSON object per
//! line carrying `"type"` and `"version"`. Deserializing one rejects a `version` newer than
//! [`RECORD_VERSION`] (`known_version`), so every reader checks it without code of its own.
//! The `type` tag names the record for people and other tools; serde does not check it on a
//! struct, and each input file holds one record type, so readers do not either.

use serde::{Deserialize, Serialize};

/// Version of every record type in this module.
pub const RECORD_VERSION: u32 = 1;

fn version() -> u32 {
    RECORD_VERSION
}

/// Accepts versions 1..=[`RECORD_VERSION`]: a record written by a newer srl-swe may mean
/// something this one would misread.
fn known_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if v == 0 || v > RECORD_VERSION {
        return Err(serde::de::Error::custom(format!(
            "record version {v} is not one this srl-swe reads (1..={RECORD_VERSION}); a newer srl-swe wrote it"
        )));
    }
    Ok(v)
}

/// Chat role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// System prompt.
    System,
    /// User turn (task text, observations).
    User,
    /// Model turn.
    Assistant,
}

/// One chat message with plain-text content.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// Text.
    pub content: String,
}

impl Message {
    /// Builds a message.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self { role, content: content.into() }
    }
}

/// What a step instance trains: an SWE action or a math step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskKind {
    /// Target is a canonical tool call ([`crate::Action`] text).
    Swe,
    /// Target is the text of the next solution step.
    Math,
}

/// Where an instance came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Provenance {
    /// Source file (relative to the prepare input when possible).
    pub source: String,
    /// Row (parquet/JSONL, 0-based) in the source file, when the source has rows.
    pub row: Option<u64>,
    /// Trajectory id (`traj_id`) or problem id.
    pub trajectory_id: String,
    /// 0-based index of the target step in its trajectory/solution.
    pub step_index: u32,
    /// Total number of steps in the trajectory/solution.
    pub num_steps: u32,
}

/// One SRL training instance: the chat the policy sees and the expert's next action.
///
/// The trainer renders `messages` with the model's own chat template and asks for the next
/// assistant turn; the reward compares the action in that turn with `target`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename = "srl_step")]
pub struct StepInstance {
    /// Record version ([`RECORD_VERSION`]).
    #[serde(default = "version", deserialize_with = "known_version")]
    pub version: u32,
    /// Stable id: `<trajectory_id>#<step_index>`.
    pub id: String,
    /// SWE or math.
    pub kind: TaskKind,
    /// System prompt, task and earlier steps.
    pub messages: Vec<Message>,
    /// The expert's next action: canonical tool-call text (SWE) or step text (math).
    pub target: String,
    /// Tool of the target action (SWE only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_tool: Option<String>,
    /// The expert's own thought for the target step (its prose before the call; SWE only,
    /// absent when empty). Not a training target of SRL; the SFT stage renders it inside
    /// `<think>…</think>` (docs/prepare.md, docs/training.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_thought: Option<String>,
    /// Reference final answer of the problem (math only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_answer: Option<String>,
    /// Where it came from.
    pub provenance: Provenance,
}

/// One RLVR item: a question with a verifiable final answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename = "rlvr_item")]
pub struct RlvrItem {
    /// Record version.
    #[serde(default = "version", deserialize_with = "known_version")]
    pub version: u32,
    /// Stable id.
    pub id: String,
    /// The problem text.
    pub question: String,
    /// Reference final answer (e.g. the content of the last `\boxed{}` of the solution).
    pub answer: String,
    /// Where it came from.
    pub source: String,
}

/// A SWE task: SWE-smith's instance fields plus how to run and parse its tests.
///
/// `patch` follows SWE-smith: it is the **bug** diff (applying it breaks the code) when
/// `patch_is_bug` is true; for SWE-bench rows it is the gold fix (`patch_is_bug` false).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaskInstance {
    /// `<owner>__<repo>.<commit8>.<bugtype>__<hash>` for SWE-smith.
    pub instance_id: String,
    /// Repository name (mirror name for SWE-smith).
    pub repo: String,
    /// Commit or branch of the task state (SWE-smith: the branch named after the instance).
    #[serde(default)]
    pub base_commit: String,
    /// Docker image with the repository at `/testbed`.
    #[serde(default)]
    pub image_name: String,
    /// The issue text.
    pub problem_statement: String,
    /// The bug diff (SWE-smith) or the gold fix (SWE-bench), see `patch_is_bug`.
    #[serde(default)]
    pub patch: String,
    /// Whether `patch` is the bug (SWE-smith) rather than the fix (SWE-bench).
    #[serde(default)]
    pub patch_is_bug: bool,
    /// Tests that must go from failing to passing.
    #[serde(rename = "FAIL_TO_PASS", default)]
    pub fail_to_pass: Vec<String>,
    /// Tests that must keep passing.
    #[serde(rename = "PASS_TO_PASS", default)]
    pub pass_to_pass: Vec<String>,
    /// Test command run in `/testbed`; test files are appended.
    #[serde(default)]
    pub test_cmd: Option<String>,
    /// Name of the log parser (`pytest`).
    #[serde(default)]
    pub log_parser: Option<String>,
    /// SWE-bench: the diff adding the tests that grade the task (applied before the tests run).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub test_patch: String,
    /// SWE-bench: the repo version keying its test command (`MAP_REPO_VERSION_TO_SPECS`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// SWE-bench: the commit the environment image was built from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub environment_setup_commit: String,
    /// SWE-bench 5.x: the row's own eval script.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub eval_script: String,
    /// SWE-bench 5.x: `pass_and_fail` or `fail_only`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_type: Option<String>,
}

/// One SWE-bench prediction line (`predictions.jsonl`), as the official harness reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prediction {
    /// Task id.
    pub instance_id: String,
    /// Model name.
    pub model_name_or_path: String,
    /// Unified diff (may be empty).
    pub model_patch: String,
}

#[cfg(test)]
mod version_tests {
    use super::*;

    #[test]
    fn records_of_a_newer_version_are_rejected() {
        let item = r#"{"type":"rlvr_item","version":1,"id":"a","question":"q","answer":"1","source":"s"}"#;
        assert_eq!(serde_json::from_str::<RlvrItem>(item).unwrap().version, 1);
        let unversioned = r#"{"type":"rlvr_item","id":"a","question":"q","answer":"1","source":"s"}"#;
        assert_eq!(serde_json::from_str::<RlvrItem>(unversioned).unwrap().version, RECORD_VERSION);
        let newer = item.replace(r#""version":1"#, r#""version":2"#);
        let e = serde_json::from_str::<RlvrItem>(&newer).unwrap_err().to_string();
        assert!(e.contains("record version 2"), "{e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_instance_round_trips_with_tag() {
        let s = StepInstance {
            version: RECORD_VERSION,
            id: "t#1".into(),
            kind: TaskKind::Swe,
            messages: vec![Message::new(Role::System, "s"), Message::new(Role::User, "u")],
            target: "<function=submit>\n</function>".into(),
            target_tool: Some("submit".into()),
            target_thought: Some("Done.".into()),
            reference_answer: None,
            provenance: Provenance {
                source: "a.jsonl".into(),
                row: Some(3),
                trajectory_id: "t".into(),
                step_index: 1,
                num_steps: 2,
            },
        };
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.starts_with("{\"type\":\"srl_step\""), "{text}");
        assert_eq!(serde_json::from_str::<StepInstance>(&text).unwrap(), s);
    }
}
