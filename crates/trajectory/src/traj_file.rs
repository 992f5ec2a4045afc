//! SWE-agent `.traj` files (docs/prepare.md, `Agent.get_trajectory_data` in SWE-agent's
//! `sweagent/agent/agents.py`) read into the same row shape as a `tool`-split row.
//!
//! - `messages`: the top-level `history` (raw `HistoryItem`s, the `tool` style), else
//!   `trajectory[-1].messages` (SWE-agent < 1.1), else `trajectory[-1].query` (SWE-agent ≥ 1.1:
//!   the model input of the last step) followed by that last step's own turn (`thought`, and its
//!   `action` command line read back with [`crate::shell::parse_command_line`]) and observation,
//!   unless the last step is an exit turn;
//! - `instance_id`: `environment`, else the instance folder's name;
//! - `model`: `replay_config` (a JSON string) → `agent.model.name`;
//! - `patch`: `info.submission`;
//! - `resolved`: from the SWE-smith evaluation `report.json` of the instance (`{"resolved": …}`
//!   or `{"<iid>": {"resolved": …}}`; a report without the key counts as unresolved, as in
//!   SWE-smith's `collect_trajs.py`), looked for in `--reports DIR` (`DIR/<iid>/report.json` or
//!   `DIR/<run_id>/<iid>/report.json`), beside the `.traj`, then in every folder above it as
//!   `logs/run_evaluation/[<run_id>/]<iid>/report.json` or `run_evaluation/[<run_id>/]<iid>/
//!   report.json` (SWE-smith's evaluation layout); absent when none is found (resolution unknown);
//! - `traj_id`: `<instance_id>.<first 8 hex digits of sha256(run folder name)>`, the shape of
//!   SWE-smith's ids (SWE-smith's own hash input is not documented).

use crate::error::{Issue, IssueKind};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Decodes a `.traj` file at `path` into row fields; `reports` is `--reports DIR`.
pub(crate) fn traj_fields(path: &Path, bytes: Vec<u8>, reports: Option<&Path>) -> Result<Map<String, Value>, Issue> {
    let text = String::from_utf8(bytes).map_err(|e| {
        Issue::new(IssueKind::InvalidUtf8, "file", format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()))
    })?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| Issue::new(IssueKind::MalformedJson, "file", e.to_string()))?;
    let obj = doc.as_object().ok_or_else(|| Issue::new(IssueKind::MalformedJson, "file", "not a JSON object"))?;
    let last_step = obj.get("trajectory").and_then(|t| t.as_array()).and_then(|t| t.last());
    let messages = match (obj.get("history"), last_step) {
        (Some(h @ Value::Array(_)), _) => h.clone(),
        (_, Some(step)) if step.get("messages").is_some_and(Value::is_array) => step["messages"].clone(),
        (_, Some(step)) if step.get("query").is_some_and(Value::is_array) => query_messages(step)?,
        _ => {
            return Err(Issue::new(
                IssueKind::MissingColumn,
                "history",
                "neither history nor trajectory[-1].messages nor trajectory[-1].query",
            ))
        }
    };
    let folder = path.parent();
    let instance_id = obj
        .get("environment")
        .and_then(|e| e.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| folder.and_then(|f| f.file_name()).map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut out = Map::new();
    out.insert("messages".into(), messages);
    if let Some(model) = model_name(obj.get("replay_config")) {
        out.insert("model".into(), Value::String(model));
    }
    if let Some(patch) = obj.get("info").and_then(|i| i.get("submission")).and_then(|s| s.as_str()) {
        out.insert("patch".into(), Value::String(patch.to_string()));
    }
    if let Some(resolved) = find_report(path, &instance_id, reports).and_then(|r| report_resolved(&r, &instance_id)) {
        out.insert("resolved".into(), Value::Bool(resolved));
    }
    let run = folder
        .and_then(|f| f.parent())
        .and_then(|r| r.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let digest = Sha256::digest(run.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    out.insert("traj_id".into(), Value::String(format!("{instance_id}.{hash}")));
    out.insert("instance_id".into(), Value::String(instance_id));
    Ok(out)
}

fn model_name(replay_config: Option<&Value>) -> Option<String> {
    let cfg: Value = match replay_config? {
        Value::String(s) => serde_json::from_str(s).ok()?,
        other => other.clone(),
    };
    cfg.get("agent")?.get("model")?.get("name")?.as_str().map(str::to_string)
}

/// SWE-agent ≥ 1.1: the last step's `query` (everything the model saw before its last turn),
/// then that turn, rebuilt as a `tool`-style message from the step's `thought` and `action`
/// command line, and its observation. An exit turn as the last step adds nothing.
fn query_messages(step: &Value) -> Result<Value, Issue> {
    let mut list = step["query"].as_array().cloned().unwrap_or_default();
    let text = |k: &str| step.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    let is_exit = [text("response"), text("thought")]
        .iter()
        .any(|t| t.trim_start().starts_with(crate::renderings::EXIT_PREFIX) && text("action").trim().is_empty());
    if is_exit {
        return Ok(Value::Array(list));
    }
    let action = crate::shell::parse_command_line(text("action"))
        .map_err(|e| crate::renderings::action_issue("trajectory[-1].action".into(), &e))?;
    let args: Map<String, Value> = action.params.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    let arguments = Value::String(Value::Object(args).to_string());
    list.push(serde_json::json!({
        "role": "assistant", "content": text("thought"), "thought": text("thought"), "action": text("action"),
        "tool_calls": [{"type": "function", "function": {"name": action.tool, "arguments": arguments}}],
    }));
    list.push(serde_json::json!({"role": "tool", "content": text("observation")}));
    Ok(Value::Array(list))
}

/// Where the evaluation report of `instance_id` is (see the module docs for the order).
fn find_report(traj: &Path, instance_id: &str, reports: Option<&Path>) -> Option<PathBuf> {
    let in_eval_dir = |dir: &Path| -> Option<PathBuf> {
        let direct = dir.join(instance_id).join(REPORT);
        if direct.is_file() {
            return Some(direct);
        }
        // `logs/run_evaluation/<run_id>/<iid>/report.json`: the first run id in name order.
        let mut runs: Vec<PathBuf> = std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        runs.sort();
        runs.into_iter().map(|r| r.join(instance_id).join(REPORT)).find(|p| p.is_file())
    };
    if let Some(found) = reports.and_then(in_eval_dir) {
        return Some(found);
    }
    let folder = std::path::absolute(traj.parent()?).ok()?;
    let beside = folder.join(REPORT);
    if beside.is_file() {
        return Some(beside);
    }
    folder.ancestors().find_map(|a| {
        [a.join("logs").join("run_evaluation"), a.join("run_evaluation")]
            .iter()
            .filter(|d| d.is_dir())
            .find_map(|d| in_eval_dir(d))
    })
}

const REPORT: &str = "report.json";

/// `resolved` of a report, as SWE-smith's `collect_trajs.py` reads it (absent key: false).
fn report_resolved(path: &Path, instance_id: &str) -> Option<bool> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let report = v.get(instance_id).unwrap_or(&v);
    Some(report.get("resolved").and_then(|r| r.as_bool()).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traj_file_fields() {
        let dir = tempfile::tempdir().unwrap();
        let inst = dir.path().join("run1/iid");
        std::fs::create_dir_all(&inst).unwrap();
        std::fs::write(inst.join("report.json"), r#"{"iid": {"resolved": true}}"#).unwrap();
        let doc = serde_json::json!({
            "environment": "iid",
            "history": [{"role": "user", "content": "t"}],
            "info": {"submission": "diff"},
            "replay_config": "{\"agent\": {\"model\": {\"name\": \"m\"}}}",
            "trajectory": []
        });
        let path = inst.join("iid.traj");
        let f = traj_fields(&path, serde_json::to_vec(&doc).unwrap(), None).unwrap();
        assert_eq!(f["model"], "m");
        assert_eq!(f["patch"], "diff");
        assert_eq!(f["resolved"], true);
        assert_eq!(f["instance_id"], "iid");
        assert!(f["traj_id"].as_str().unwrap().starts_with("iid."));
        assert_eq!(f["traj_id"].as_str().unwrap().len(), "iid.".len() + 8);
        assert_eq!(traj_fields(&path, b"{".to_vec(), None).unwrap_err().kind, IssueKind::MalformedJson);
    }
}
