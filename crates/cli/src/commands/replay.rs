//! `srl-swe replay`: re-executes expert trajectories in their task environment (a Docker
//! container per trajectory, from `environments/`), reports per step how close each new
//! observation is to the recorded one (SequenceMatcher ratio, `srl_reward::ratio`), runs the
//! task's tests on the final state and says whether it resolves the task.
//!
//! Inputs: SWE-smith parquet shards and JSONL rows of any split and SWE-agent `.traj` files
//! (read and replayed into steps by `srl-trajectory`, as `srl-swe prepare` reads them), expert
//! spec files (`*.json`, the format of `datasets/swe-smith-src/`), or folders holding them.
//! Each trajectory runs in a fresh task container and its final diff is graded in another
//! fresh one (`srl_sandbox::replay`). Output: `<out>/<traj_id>.jsonl` (one `replay_step`
//! line per executed step, then the `replay_result` line, also when the run broke off) and
//! `<out>/summary.json`; the summary also goes to stdout. Exit code 1 when some trajectory does
//! not resolve.
use anyhow::Context;
use srl_sandbox::replay::{self, ReplayResult, ReplayTrajectory};
use srl_sandbox::{clip_for_message, SandboxConfig};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `srl-swe replay`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  srl-swe replay\n  srl-swe replay datasets/swe-smith/jsonl/tool.jsonl --timeout 300"
)]
pub(crate) struct Args {
    /// Trajectory files (SWE-smith parquet shards, `.traj`, `tool`-split JSONL, expert spec JSON) or folders [default: datasets/swe-smith/jsonl/tool.jsonl].
    inputs: Vec<PathBuf>,
    /// Folder holding the task environments.
    #[arg(long, env = "SRL_SWE_ENVIRONMENTS", default_value = "environments")]
    environments: PathBuf,
    /// Output folder.
    #[arg(long, default_value = "runs/replay")]
    out: PathBuf,
    /// Trajectories replayed at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Fail (exit 2) on trajectories whose task is not in the environments instead of skipping them.
    #[arg(long)]
    strict: bool,
    /// Only these trajectory ids (repeatable).
    #[arg(long = "traj")]
    only: Vec<String>,
    /// Per-command timeout inside the sandbox (every `bash` step too), seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

#[derive(Debug, serde::Serialize)]
struct Summary {
    #[serde(rename = "type")]
    kind: &'static str,
    trajectories: usize,
    resolved: usize,
    unresolved: usize,
    errors: usize,
    skipped: usize,
    skipped_ids: Vec<String>,
    mean_similarity: f64,
    results: Vec<SummaryRow>,
}

#[derive(Debug, serde::Serialize)]
struct SummaryRow {
    traj_id: String,
    instance_id: String,
    resolved: bool,
    num_steps: usize,
    exact_steps: usize,
    mean_similarity: f64,
    min_similarity: f64,
    patch_matches: Option<bool>,
    error: Option<String>,
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading folder {}", path.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            // SWE-agent run folders hold `preds.json` and SWE-smith `report.json` beside the
            // `.traj` files: they are not trajectories.
            let name = e.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name == "preds.json" || name == "report.json" {
                continue;
            }
            if e.is_dir()
                || e.extension()
                    .is_some_and(|x| ["jsonl", "json", "parquet", "traj"].contains(&x.to_str().unwrap_or_default()))
            {
                collect_files(&e, out)?;
            }
        }
    } else if path.exists() {
        out.push(path.to_path_buf());
    } else {
        anyhow::bail!("{}: no such file or folder", path.display());
    }
    Ok(())
}

fn read_trajectories(file: &Path) -> anyhow::Result<Vec<ReplayTrajectory>> {
    let name = file.display().to_string();
    if file.extension().is_some_and(|x| x == "json") {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {name}"))?;
        let spec: srl_sandbox::expert::ExpertSpec = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{name}: not an expert spec: {}", clip_for_message(&e.to_string(), 500)))?;
        Ok(vec![replay::from_spec(&spec, &name)?])
    } else if file.extension().is_some_and(|x| x == "parquet" || x == "traj" || x == "jsonl") {
        read_with_srl_trajectory(file)
    } else {
        anyhow::bail!(
            "{name}: unsupported input (expected SWE-smith parquet shards or JSONL rows, .traj files or .json expert specs)"
        )
    }
}

/// SWE-smith parquet shards and JSONL rows of any split (`tool`, `xml`, `ticks`, told from the
/// file name or the content) and SWE-agent `.traj` files, read and replayed into steps by
/// `srl-trajectory`, the same code `srl-swe prepare` uses. Places are `file:line` (1-based)
/// for JSONL, `file row N` for parquet; quoted values are clipped.
fn read_with_srl_trajectory(file: &Path) -> anyhow::Result<Vec<ReplayTrajectory>> {
    use srl_trajectory::sources::{discover, read_rows};
    let files = discover(file, true)?;
    let mut out = Vec::new();
    for row in read_rows(&files, &srl_trajectory::SWE_COLUMNS) {
        let input = &files[row.file];
        let place = match (row.row, input.kind) {
            (Some(r), srl_trajectory::sources::FileKind::Jsonl) => format!("{}:{}", input.path.display(), r + 1),
            (Some(r), _) => format!("{} row {r}", input.path.display()),
            (None, _) => input.path.display().to_string(),
        };
        let issue_err = |issue: srl_trajectory::Issue| {
            anyhow::anyhow!(
                "{place}: field {}: {} ({:?})",
                clip_for_message(&issue.field, 200),
                clip_for_message(&issue.detail, 500),
                issue.kind
            )
        };
        let fields = row.fields.map_err(issue_err)?;
        let text = |key: &str| fields.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let instance_id =
            text("instance_id").with_context(|| format!("{place}: field instance_id: missing or not a string"))?;
        let messages = match fields.get("messages") {
            Some(serde_json::Value::String(s)) => serde_json::from_str(s).map_err(|e| {
                anyhow::anyhow!("{place}: field messages: not JSON: {}", clip_for_message(&e.to_string(), 500))
            })?,
            Some(v) => v.clone(),
            None => anyhow::bail!("{place}: field messages: missing"),
        };
        let split = input
            .split()
            .or_else(|| srl_trajectory::Split::detect(&messages))
            .with_context(|| format!("{place}: field messages: cannot tell the split (tool, xml, ticks)"))?;
        let replayed = srl_trajectory::replay_messages(&messages, split).map_err(issue_err)?;
        out.push(ReplayTrajectory {
            traj_id: text("traj_id").unwrap_or_else(|| instance_id.clone()),
            instance_id,
            steps: replayed.steps.into_iter().map(|s| (s.action, s.observation)).collect(),
            patch: text("patch"),
            source: place,
        });
    }
    Ok(out)
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let inputs = if args.inputs.is_empty() {
        vec![PathBuf::from("datasets/swe-smith/jsonl/tool.jsonl")]
    } else {
        args.inputs.clone()
    };
    let mut files = Vec::new();
    for input in &inputs {
        collect_files(input, &mut files)?;
    }
    let mut trajs = Vec::new();
    for f in &files {
        trajs.extend(read_trajectories(f)?);
    }
    if !args.only.is_empty() {
        trajs.retain(|t| args.only.contains(&t.traj_id));
    }
    // The same trajectory may come both as a rendered sample and as its spec: keep the first.
    let mut seen = std::collections::HashSet::new();
    trajs.retain(|t| seen.insert(t.traj_id.clone()));
    let instances = srl_sandbox::environments::load_all_instances(&args.environments)
        .with_context(|| format!("loading task instances from {}", args.environments.display()))?;
    let (items, missing) = replay::match_instances(trajs, &instances);
    for t in &missing {
        tracing::warn!(traj_id = %t.traj_id, instance_id = %t.instance_id, source = %t.source, "skipped: task not in the environments");
    }
    if args.strict && !missing.is_empty() {
        anyhow::bail!(
            "{} trajectory(ies) name tasks missing from {} (first: {} at {})",
            missing.len(),
            args.environments.display(),
            missing[0].instance_id,
            missing[0].source
        );
    }
    let config = SandboxConfig { exec_timeout_secs: args.timeout, ..SandboxConfig::default() };
    let rt = super::sandbox::runtime()?;
    let progress = crate::progress::Bar::new("replay");
    let scorer = |observed: &str, recorded: &str| srl_reward::ratio(observed, recorded);
    let results: Vec<ReplayResult> = rt.block_on(async {
        srl_sandbox::docker::install_ctrl_c_cleanup();
        replay::replay_many(&items, &config, args.jobs, &scorer, &progress).await
    });
    if srl_sandbox::docker::shutting_down() {
        // Ctrl-C: the handler removes the containers and exits with 130; finish its work here
        // too in case the batch ended first, and write nothing.
        rt.block_on(srl_sandbox::docker::shutdown_cleanup());
        eprintln!("[replay] interrupted");
        return Ok(ExitCode::from(130));
    }
    let mut rows = Vec::new();
    for r in &results {
        let path = args.out.join(format!("{}.jsonl", r.traj_id));
        let mut file = srl_core::io::AtomicFile::create(&path)?;
        for s in &r.steps {
            file.write_json_line(s)?;
        }
        file.write_json_line(r)?;
        file.commit()?;
        let verdict = if r.resolved { "resolved" } else { "NOT resolved" };
        eprintln!(
            "[replay] {} {verdict}: {} steps, {} identical, mean similarity {:.3}{}",
            r.traj_id,
            r.num_steps,
            r.exact_steps,
            r.mean_similarity,
            r.error.as_deref().map(|e| format!(" (error: {e})")).unwrap_or_default()
        );
        rows.push(SummaryRow {
            traj_id: r.traj_id.clone(),
            instance_id: r.instance_id.clone(),
            resolved: r.resolved,
            num_steps: r.num_steps,
            exact_steps: r.exact_steps,
            mean_similarity: r.mean_similarity,
            min_similarity: r.min_similarity,
            patch_matches: r.patch_matches,
            error: r.error.clone(),
        });
    }
    let resolved = results.iter().filter(|r| r.resolved).count();
    let summary = Summary {
        kind: "replay_summary",
        trajectories: results.len(),
        resolved,
        unresolved: results.len() - resolved,
        errors: results.iter().filter(|r| r.error.is_some()).count(),
        skipped: missing.len(),
        skipped_ids: missing.iter().map(|t| t.traj_id.clone()).collect(),
        mean_similarity: if results.is_empty() {
            0.0
        } else {
            results.iter().map(|r| r.mean_similarity).sum::<f64>() / results.len() as f64
        },
        results: rows,
    };
    srl_core::io::write_json_pretty(args.out.join("summary.json"), &summary)?;
    println!("{}", serde_json::to_string(&summary)?);
    eprintln!(
        "[replay] {resolved}/{} resolved, {} skipped (task not in {}), output in {}",
        results.len(),
        missing.len(),
        args.environments.display(),
        args.out.display()
    );
    if results.is_empty() {
        anyhow::bail!(
            "no trajectory to replay (inputs: {})",
            inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(if resolved == results.len() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
