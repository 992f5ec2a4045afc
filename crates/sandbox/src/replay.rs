//! Trajectory replay: re-executes an expert trajectory's actions in its task's environment,
//! compares each new observation with the recorded one (a SequenceMatcher ratio supplied by the
//! caller, normally `srl_reward::ratio`, i.e. CPython's `difflib.SequenceMatcher(None, a,
//! b).ratio()`), then grades the final diff (SWE-bench rule, [`crate::grading`]) in a **fresh**
//! container of the task: processes the trajectory left running, and files outside the diff,
//! cannot touch the grading run.
//!
//! Every executed step is kept: when a step fails (the container died, a tool error) the
//! result holds the steps run so far and the error. Trajectories are read by the caller
//! (`srl-swe replay` uses `srl-trajectory`'s readers, as `srl-swe prepare` does) or from
//! expert spec files ([`from_spec`]).
use crate::grading::{apply_patch, run_tests, GradingRule, TestReport};
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

/// What re-executing a trajectory's steps gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Executed {
    /// The steps run, in order (all of them unless `error` is set).
    pub steps: Vec<ReplayStep>,
    /// The submitted diff, else the diff of the final state (empty when the run broke before).
    pub patch: String,
    /// Why the run stopped early.
    pub error: Option<String>,
}

/// Re-executes the steps of `traj` in an already prepared task sandbox (`bash` calls with
/// `bash_timeout` each), keeping every step run before a failure.
pub async fn execute_steps<S: Sandbox>(
    sandbox: &S,
    base_sha: &str,
    traj: &ReplayTrajectory,
    scorer: &Scorer,
    bash_timeout: Duration,
) -> Executed {
    let mut tools = SweTools::new(sandbox, base_sha).with_bash_timeout(bash_timeout);
    let mut steps = Vec::new();
    let mut patch = None;
    for (index, (action, recorded)) in traj.steps.iter().enumerate() {
        let out = match tools.execute(action).await {
            Ok(out) => out,
            Err(e) => {
                let error = format!("step {index} ({}): {e}", action.tool);
                return Executed { steps, patch: String::new(), error: Some(error) };
            }
        };
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
    match patch {
        Some(p) => Executed { steps, patch: p, error: None },
        None => match tools.submission().await {
            Ok(p) => Executed { steps, patch: p, error: None },
            Err(e) => Executed { steps, patch: String::new(), error: Some(format!("final diff: {e}")) },
        },
    }
}

/// Applies `patch` in a fresh container of the task and grades it (SWE-bench rule).
pub async fn grade_in_fresh_container(
    instance: &TaskInstance,
    patch: &str,
    config: &SandboxConfig,
) -> Result<TestReport> {
    let env = start_task(instance, config).await?;
    let graded = async {
        if !patch.trim().is_empty() {
            let applied = apply_patch(&env.sandbox, patch, false).await?;
            if !applied.applied {
                return Err(SandboxError::CommandFailed {
                    sandbox: env.sandbox.name().to_string(),
                    cmd: "apply the final diff".into(),
                    exit_code: 1,
                    output: applied.log,
                });
            }
        }
        let run = run_tests(&env.sandbox, instance, Duration::from_secs(300)).await?;
        // A log the harness rejects (no end marker, ...) resolves nothing.
        Ok(run.report(instance, GradingRule::SweBench))
    }
    .await;
    env.sandbox.remove().await?;
    graded
}

/// The result of executed steps, before grading.
fn summarize(traj: &ReplayTrajectory, executed: Executed) -> ReplayResult {
    let Executed { steps, patch, error } = executed;
    let sims: Vec<f64> = steps.iter().map(|s| s.similarity).collect();
    ReplayResult {
        kind: "replay_result",
        traj_id: traj.traj_id.clone(),
        instance_id: traj.instance_id.clone(),
        source: traj.source.clone(),
        num_steps: steps.len(),
        mean_similarity: if sims.is_empty() { 1.0 } else { sims.iter().sum::<f64>() / sims.len() as f64 },
        min_similarity: sims.iter().copied().fold(1.0, f64::min),
        exact_steps: steps.iter().filter(|s| s.observed == s.recorded).count(),
        patch_matches: if error.is_some() {
            None
        } else {
            traj.patch.as_ref().map(|p| p.trim_end() == patch.trim_end())
        },
        patch,
        resolved: false,
        tests: None,
        error,
        steps,
    }
}

/// Starts the task's container, replays (bash calls with the config's timeout), removes the
/// container, then grades the final diff in a fresh one. Failures become a result with
/// `error` set (not resolved) that keeps the steps run, so a batch goes on.
pub async fn replay_trajectory(
    instance: &TaskInstance,
    traj: &ReplayTrajectory,
    config: &SandboxConfig,
    scorer: &Scorer,
) -> ReplayResult {
    let env = match start_task(instance, config).await {
        Ok(env) => env,
        Err(e) => return failed(traj, e.to_string()),
    };
    let executed = execute_steps(&env.sandbox, &env.base_sha, traj, scorer, config.exec_timeout()).await;
    let removed = env.sandbox.remove().await;
    let mut result = summarize(traj, executed);
    if result.error.is_some() {
        return result;
    }
    if let Err(e) = removed {
        result.error = Some(e.to_string());
        return result;
    }
    match grade_in_fresh_container(instance, &result.patch, config).await {
        Ok(tests) => {
            result.resolved = tests.resolved;
            result.tests = Some(tests);
        }
        Err(e) => result.error = Some(format!("grading the final diff: {e}")),
    }
    result
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
    progress.start(Some(items.len() as u64), "replay");
    let results: Vec<ReplayResult> = futures_util::stream::iter(items.iter().map(|(inst, traj)| async move {
        let r = replay_trajectory(inst, traj, config, scorer).await;
        progress.item_done(&traj.traj_id);
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
