//! SWE-agent `.traj` files (formats.md §2, `Agent.get_trajectory_data` in SWE-agent's
//! `sweagent/agent/agents.py`) read into the same row shape as a `tool`-split row.
//!
//! - `messages`: the top-level `history` (raw `HistoryItem`s, the `tool` style of §1.4), else
//!   `trajectory[-1].messages`;
//! - `instance_id`: `environment`, else the instance folder's name;
//! - `model`: `replay_config` (a JSON string) → `agent.model.name`;
//! - `patch`: `info.submission`;
//! - `resolved`: from a SWE-smith eval `report.json` beside the `.traj`
//!   (`{"resolved": …}` or `{"<iid>": {"resolved": …}}`, formats.md §3.3), absent otherwise;
//! - `traj_id`: `<instance_id>.<first 8 hex digits of sha256(run folder name)>`, the shape of
//!   SWE-smith's ids (SWE-smith's own hash input is not documented).

use crate::error::{Issue, IssueKind};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Decodes a `.traj` file at `path` into row fields.
pub(crate) fn traj_fields(path: &Path, bytes: Vec<u8>) -> Result<Map<String, Value>, Issue> {
    let text = String::from_utf8(bytes).map_err(|e| {
        Issue::new(IssueKind::InvalidUtf8, "file", format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()))
    })?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| Issue::new(IssueKind::MalformedJson, "file", e.to_string()))?;
    let obj = doc.as_object().ok_or_else(|| Issue::new(IssueKind::MalformedJson, "file", "not a JSON object"))?;
    let messages = match obj.get("history") {
        Some(h @ Value::Array(_)) => h.clone(),
        _ => obj
            .get("trajectory")
            .and_then(|t| t.as_array())
            .and_then(|t| t.last())
            .and_then(|s| s.get("messages"))
            .cloned()
            .ok_or_else(|| {
                Issue::new(IssueKind::MissingColumn, "history", "neither history nor trajectory[-1].messages")
            })?,
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
    if let Some(resolved) = folder.and_then(|f| report_resolved(&f.join("report.json"), &instance_id)) {
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

fn report_resolved(path: &Path, instance_id: &str) -> Option<bool> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v.get("resolved").and_then(|r| r.as_bool()).or_else(|| v.get(instance_id)?.get("resolved")?.as_bool())
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
        let f = traj_fields(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
        assert_eq!(f["model"], "m");
        assert_eq!(f["patch"], "diff");
        assert_eq!(f["resolved"], true);
        assert_eq!(f["instance_id"], "iid");
        assert!(f["traj_id"].as_str().unwrap().starts_with("iid."));
        assert_eq!(f["traj_id"].as_str().unwrap().len(), "iid.".len() + 8);
        assert_eq!(traj_fields(&path, b"{".to_vec()).unwrap_err().kind, IssueKind::MalformedJson);
    }
}
