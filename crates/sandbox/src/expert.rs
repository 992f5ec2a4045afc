//! Expert trajectory specs (`datasets/swe-smith-src/<traj_id>.json`) for the shipped
//! environments, and their recording: every step of a hand-written draft is executed in the
//! task's real container with [`crate::SweTools`], and the observations the tools return are
//! stored, so the samples rendered from the specs (by `datasets/make_samples.py`) carry the
//! observations an expert really saw. The spec format: `{instance_id, traj_id, model, resolved,
//! problem_statement, steps: [{thought, tool, args, observation}], patch}`; observations are
//! raw tool output (`""` for no output), `submit` steps have none (the renderer writes the
//! review message, then the diff, as SWE-agent's `review_on_submit_m` does).
use crate::grading::{grade, run_tests, GradingRule};
use crate::tools::{SweTools, EMPTY_OUTPUT};
use crate::{start_task, Result, Sandbox, SandboxConfig, SandboxError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use srl_core::{Action, TaskInstance};
use std::time::Duration;

/// Model name of the SWE-smith experts.
pub const EXPERT_MODEL: &str = "claude-3-7-sonnet-20250219";

/// One expert step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpertStep {
    /// The reasoning before the call.
    pub thought: String,
    /// `bash`, `str_replace_editor` or `submit`.
    pub tool: String,
    /// JSON arguments as the `tool` split carries them.
    pub args: serde_json::Value,
    /// Raw tool output (absent for `submit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<String>,
}

impl ExpertStep {
    /// The structured action.
    pub fn action(&self) -> Result<Action> {
        Ok(Action::from_json_args(&self.tool, &self.args)?)
    }
}

/// A recorded expert trajectory spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpertSpec {
    /// Task id.
    pub instance_id: String,
    /// `<instance_id>.<8 hex>`.
    pub traj_id: String,
    /// Model name.
    pub model: String,
    /// Whether the submitted patch resolves the task.
    pub resolved: bool,
    /// The issue text.
    pub problem_statement: String,
    /// The steps.
    pub steps: Vec<ExpertStep>,
    /// The submitted diff.
    pub patch: String,
}

/// A hand-written draft: the steps without observations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpertDraft {
    /// Task id.
    pub instance_id: String,
    /// The steps.
    pub steps: Vec<ExpertStep>,
}

/// Executes a draft in the task's container and returns the spec with observations, patch and
/// verdict (SWE-bench grading on the final state).
pub async fn record_expert(instance: &TaskInstance, draft: &ExpertDraft, config: &SandboxConfig) -> Result<ExpertSpec> {
    let env = start_task(instance, config).await?;
    let result = record_in(&env.sandbox, &env.base_sha, instance, draft).await;
    env.sandbox.remove().await?;
    result
}

async fn record_in<S: Sandbox>(
    sandbox: &S,
    base_sha: &str,
    instance: &TaskInstance,
    draft: &ExpertDraft,
) -> Result<ExpertSpec> {
    let mut tools = SweTools::new(sandbox, base_sha);
    let mut steps = Vec::new();
    let mut patch = None;
    for step in &draft.steps {
        let action = step.action()?;
        let out = tools.execute(&action).await?;
        if out.submission.is_some() {
            patch = out.submission.clone();
        }
        let observation = if step.tool == "submit" {
            None
        } else if out.observation == EMPTY_OUTPUT {
            Some(String::new())
        } else {
            Some(out.observation)
        };
        steps.push(ExpertStep { observation, ..step.clone() });
    }
    let patch = match patch {
        Some(p) => p,
        None => tools.submission().await?,
    };
    let run = run_tests(sandbox, instance, Duration::from_secs(120)).await?;
    let report = grade(instance, &run.statuses, GradingRule::SweBench);
    let draft_json = serde_json::to_string(draft).map_err(|e| SandboxError::Record {
        path: "draft".into(),
        line: 0,
        field: "-".into(),
        message: e.to_string(),
    })?;
    let hash = format!("{:x}", Sha256::digest(draft_json.as_bytes()));
    Ok(ExpertSpec {
        instance_id: instance.instance_id.clone(),
        traj_id: format!("{}.{}", instance.instance_id, &hash[..8]),
        model: EXPERT_MODEL.to_string(),
        resolved: report.resolved,
        problem_statement: instance.problem_statement.clone(),
        steps,
        patch,
    })
}
