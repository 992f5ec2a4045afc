//! Trajectory replay: re-executes an expert trajectory's actions in its task's environment,
//! compares each new observation with the recorded one (a SequenceMatcher ratio supplied by the
//! caller, normally `srl_reward::ratio`, i.e. CPython's `difflib.SequenceMatcher(None, a,
//! b).ratio()`), then runs the task's FAIL_TO_PASS and PASS_TO_PASS tests on the final state
//! and grades it (SWE-bench rule, [`crate::grading`]).
//!
//! Inputs: rows of SWE-smith's `tool` split (formats.md §1.4: `messages` as a JSON string or
//! list; assistant `tool_calls[0].function.arguments` a JSON string; `tool` observations as
//! `OBSERVATION:\n…` text blocks) and expert spec files ([`crate::expert::ExpertSpec`]).
use crate::grading::{grade, run_tests, GradingRule, TestReport};
use crate::tools::{SweTools, EMPTY_OUTPUT, REVIEW_TEMPLATE};
use crate::{start_task, Progress, Result, Sandbox, SandboxConfig, SandboxError};
use futures_util::StreamExt;
use serde::Serialize;
use srl_core::{Action, TaskInstance};
use std::collections::HashMap;
use std::time::Duration;

/// A trajectory to replay: actions with the observations recorded after them.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayTrajectory {
    /// Trajectory id.
    pub traj_id: String,
    /// Task id.
    pub instance_id: String,
    /// (action, recorded observation) per step.
    pub steps: Vec<(Action, String)>,
    /// The recorded submitted patch, when known.
    pub patch: Option<String>,
    /// Where it was read from (`file:line`).
    pub source: String,
}

/// One replayed step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayStep {
    /// Record tag.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// 0-based index.
    pub index: usize,
    /// Tool name.
    pub tool: String,
    /// Canonical action text.
    pub action: String,
    /// Observation in the trajectory.
    pub recorded: String,
    /// Observation now.
    pub observed: String,
    /// Similarity ratio of the two.
    pub similarity: f64,
    /// `bash` exit code.
    pub exit_code: Option<i64>,
    /// Whether the call timed out.
    pub timed_out: bool,
}

/// The outcome of one trajectory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayResult {
    /// Record tag.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Trajectory id.
    pub traj_id: String,
    /// Task id.
    pub instance_id: String,
    /// Where it came from.
    pub source: String,
    /// Number of steps replayed.
    pub num_steps: usize,
    /// Mean step similarity (1 when there are no steps).
    pub mean_similarity: f64,
    /// Lowest step similarity.
    pub min_similarity: f64,
    /// Steps whose observation is identical.
    pub exact_steps: usize,
    /// The diff submitted now (the state's diff when the trajectory never submits).
    pub patch: String,
    /// Whether it equals the recorded patch (`None` when none was recorded).
    pub patch_matches: Option<bool>,
    /// Test outcome on the final state.
    pub tests: Option<TestReport>,
    /// Whether the task is resolved.
    pub resolved: bool,
    /// Why it could not be replayed.
    pub error: Option<String>,
    /// The per-step records.
    #[serde(skip)]
    pub steps: Vec<ReplayStep>,
}

/// Scores (observed, recorded) pairs in [0, 1].
pub type Scorer = dyn Fn(&str, &str) -> f64 + Send + Sync;

/// Drops SWE-agent's `OBSERVATION:\n` prefix.
pub fn normalize_observation(text: &str) -> &str {
    text.strip_prefix("OBSERVATION:\n").unwrap_or(text)
}

/// Replays in an already prepared task sandbox.
pub async fn replay_in<S: Sandbox>(
    sandbox: &S,
    base_sha: &str,
    instance: &TaskInstance,
    traj: &ReplayTrajectory,
    scorer: &Scorer,
) -> Result<ReplayResult> {
    let mut tools = SweTools::new(sandbox, base_sha);
    let mut steps = Vec::new();
    let mut patch = None;
    for (index, (action, recorded)) in traj.steps.iter().enumerate() {
        let out = tools.execute(action).await?;
        if out.submission.is_some() {
            patch = out.submission.clone();
        }
        let recorded = normalize_observation(recorded).to_string();
        let similarity = scorer(&out.observation, &recorded);
        steps.push(ReplayStep {
            kind: "replay_step",
            index,
            tool: action.tool.clone(),
            action: action.to_canonical(),
            recorded,
            observed: out.observation,
            similarity,
            exit_code: out.exit_code,
            timed_out: out.timed_out,
        });
    }
    let patch = match patch {
        Some(p) => p,
        None => tools.submission().await?,
    };
    let run = run_tests(sandbox, instance, Duration::from_secs(300)).await?;
    let tests = grade(instance, &run.statuses, GradingRule::SweBench);
    let sims: Vec<f64> = steps.iter().map(|s| s.similarity).collect();
    Ok(ReplayResult {
        kind: "replay_result",
        traj_id: traj.traj_id.clone(),
        instance_id: traj.instance_id.clone(),
        source: traj.source.clone(),
        num_steps: steps.len(),
        mean_similarity: if sims.is_empty() { 1.0 } else { sims.iter().sum::<f64>() / sims.len() as f64 },
        min_similarity: sims.iter().copied().fold(1.0, f64::min),
        exact_steps: steps.iter().filter(|s| s.observed == s.recorded).count(),
        patch_matches: traj.patch.as_ref().map(|p| p.trim_end() == patch.trim_end()),
        patch,
        resolved: tests.resolved,
        tests: Some(tests),
        error: None,
        steps,
    })
}

/// Starts the task's container, replays, removes the container. Failures become a result
/// with `error` set (not resolved), so a batch goes on.
pub async fn replay_trajectory(
    instance: &TaskInstance,
    traj: &ReplayTrajectory,
    config: &SandboxConfig,
    scorer: &Scorer,
) -> ReplayResult {
    let attempt = async {
        let env = start_task(instance, config).await?;
        let res = replay_in(&env.sandbox, &env.base_sha, instance, traj, scorer).await;
        env.sandbox.remove().await?;
        res
    };
    match attempt.await {
        Ok(r) => r,
        Err(e) => failed(traj, e.to_string()),
    }
}

fn failed(traj: &ReplayTrajectory, error: String) -> ReplayResult {
    ReplayResult {
        kind: "replay_result",
        traj_id: traj.traj_id.clone(),
        instance_id: traj.instance_id.clone(),
        source: traj.source.clone(),
        num_steps: 0,
        mean_similarity: 0.0,
        min_similarity: 0.0,
        exact_steps: 0,
        patch: String::new(),
        patch_matches: None,
        tests: None,
        resolved: false,
        error: Some(error),
        steps: Vec::new(),
    }
}

/// Replays many trajectories, at most `jobs` at a time, in input order.
pub async fn replay_many(
    items: &[(TaskInstance, ReplayTrajectory)],
    config: &SandboxConfig,
    jobs: usize,
    scorer: &Scorer,
    progress: &dyn Progress,
) -> Vec<ReplayResult> {
    progress.start(items.len() as u64, "replay");
    let results: Vec<ReplayResult> = futures_util::stream::iter(items.iter().map(|(inst, traj)| async move {
        let r = replay_trajectory(inst, traj, config, scorer).await;
        progress.advance(&traj.traj_id);
        r
    }))
    .buffered(jobs.max(1))
    .collect()
    .await;
    progress.finish();
    results
}

fn record_err(source: &str, field: &str, message: impl Into<String>) -> SandboxError {
    let (path, line) = match source.rsplit_once(':') {
        Some((p, l)) => (p.to_string(), l.parse().unwrap_or(0)),
        None => (source.to_string(), 0),
    };
    SandboxError::Record { path: path.into(), line, field: field.into(), message: message.into() }
}

fn block_text(content: &serde_json::Value) -> String {
    match content {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(blocks) => {
            blocks.iter().filter_map(|b| b.get("text").and_then(|t| t.as_str())).collect::<Vec<_>>().join("")
        }
        _ => String::new(),
    }
}

/// Reads one row of the `tool` split (`source` is `file:line`, used in errors).
pub fn from_tool_row(row: &serde_json::Value, source: &str) -> Result<ReplayTrajectory> {
    let field = |name: &str| {
        row.get(name)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| record_err(source, name, "missing or not a string"))
    };
    let instance_id = field("instance_id")?;
    let traj_id =
        row.get("traj_id").and_then(|v| v.as_str()).map(str::to_string).unwrap_or_else(|| instance_id.clone());
    let messages: Vec<serde_json::Value> = match row.get("messages") {
        Some(serde_json::Value::String(s)) => {
            serde_json::from_str(s).map_err(|e| record_err(source, "messages", e.to_string()))?
        }
        Some(serde_json::Value::Array(a)) => a.clone(),
        _ => return Err(record_err(source, "messages", "missing")),
    };
    let mut steps: Vec<(Action, String)> = Vec::new();
    let mut pending: Option<Action> = None;
    for (i, msg) in messages.iter().enumerate() {
        let role = msg.get("role").and_then(|r| r.as_str()).unwrap_or_default();
        match role {
            "assistant" => {
                let Some(call) = msg.get("tool_calls").and_then(|c| c.get(0)).and_then(|c| c.get("function")) else {
                    continue;
                };
                let name = call.get("name").and_then(|n| n.as_str()).unwrap_or_default();
                let args: serde_json::Value = match call.get("arguments") {
                    Some(serde_json::Value::String(s)) => serde_json::from_str(s).map_err(|e| {
                        record_err(source, &format!("messages[{i}].tool_calls[0].function.arguments"), e.to_string())
                    })?,
                    Some(v) => v.clone(),
                    None => serde_json::Value::Null,
                };
                let action = Action::from_json_args(name, &args)
                    .map_err(|e| record_err(source, &format!("messages[{i}].tool_calls[0]"), e.to_string()))?;
                if let Some(prev) = pending.replace(action) {
                    steps.push((prev, String::new()));
                }
            }
            "tool" => {
                if let Some(action) = pending.take() {
                    steps.push((action, block_text(msg.get("content").unwrap_or(&serde_json::Value::Null))));
                }
            }
            _ => {}
        }
    }
    if let Some(action) = pending {
        steps.push((action, String::new()));
    }
    let patch = row.get("patch").and_then(|p| p.as_str()).map(str::to_string);
    Ok(ReplayTrajectory { traj_id, instance_id, steps, patch, source: source.to_string() })
}

/// Reads an expert spec ([`crate::expert::ExpertSpec`]); observations are rendered as the
/// sample generator renders them (empty → the fixed message; `submit` → review, then diff).
pub fn from_spec(spec: &crate::expert::ExpertSpec, source: &str) -> Result<ReplayTrajectory> {
    let mut steps = Vec::new();
    let mut submits = 0;
    for (i, step) in spec.steps.iter().enumerate() {
        let action = step.action().map_err(|e| record_err(source, &format!("steps[{i}]"), e.to_string()))?;
        let obs = match (&step.observation, step.tool.as_str()) {
            (Some(o), _) if o.is_empty() => EMPTY_OUTPUT.to_string(),
            (Some(o), _) => o.clone(),
            (None, "submit") => {
                submits += 1;
                if submits == 1 {
                    REVIEW_TEMPLATE.replace("{patch}", &spec.patch)
                } else {
                    spec.patch.clone()
                }
            }
            (None, _) => EMPTY_OUTPUT.to_string(),
        };
        if step.tool == "submit" && step.observation.is_some() {
            submits += 1;
        }
        steps.push((action, obs));
    }
    Ok(ReplayTrajectory {
        traj_id: spec.traj_id.clone(),
        instance_id: spec.instance_id.clone(),
        steps,
        patch: Some(spec.patch.clone()),
        source: source.to_string(),
    })
}

/// Pairs trajectories with their instances; those without one are returned apart.
pub fn match_instances(
    trajs: Vec<ReplayTrajectory>,
    instances: &[TaskInstance],
) -> (Vec<(TaskInstance, ReplayTrajectory)>, Vec<ReplayTrajectory>) {
    let by_id: HashMap<&str, &TaskInstance> = instances.iter().map(|i| (i.instance_id.as_str(), i)).collect();
    let mut matched = Vec::new();
    let mut missing = Vec::new();
    for t in trajs {
        match by_id.get(t.instance_id.as_str()) {
            Some(inst) => matched.push(((*inst).clone(), t)),
            None => missing.push(t),
        }
    }
    (matched, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_rows_pair_calls_with_observations() {
        let messages = serde_json::json!([
            {"role": "system", "content": "s"},
            {"role": "user", "content": [{"type": "text", "text": "task"}]},
            {"role": "assistant", "content": "look", "tool_calls": [{"function": {"name": "bash", "arguments": "{\"command\": \"ls\"}"}}]},
            {"role": "tool", "content": [{"type": "text", "text": "OBSERVATION:\na.py\n"}], "tool_call_ids": ["x"]},
            {"role": "assistant", "content": "done", "tool_calls": [{"function": {"name": "submit", "arguments": "{}"}}]},
            {"role": "tool", "content": [{"type": "text", "text": "diff"}]}
        ]);
        let row = serde_json::json!({"instance_id": "i", "traj_id": "i.t", "messages": messages.to_string(), "patch": "diff"});
        let t = from_tool_row(&row, "f.jsonl:3").unwrap();
        assert_eq!(t.steps.len(), 2);
        assert_eq!(t.steps[0].0, Action::new("bash", [("command", "ls")]));
        assert_eq!(normalize_observation(&t.steps[0].1), "a.py\n");
        assert_eq!(t.steps[1].0.tool, "submit");
        let bad = serde_json::json!({"instance_id": "i", "messages": "[{\"role\": \"assistant\", \"tool_calls\": [{\"function\": {\"name\": \"bash\", \"arguments\": \"{}\"}}]}]"});
        let err = from_tool_row(&bad, "f.jsonl:7").unwrap_err().to_string();
        assert!(err.contains("f.jsonl:7: field messages[0].tool_calls[0]"), "{err}");
    }
}
