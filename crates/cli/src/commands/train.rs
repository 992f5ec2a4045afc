//! `srl-swe train`: SFT and GRPO stages with SRL and RLVR rewards (`srl-train`,
//! `docs/training.md`). With no arguments it runs the demo config `configs/demo.toml` (the `toy`
//! preset Qwen2 on `datasets/toy-srl`).
use crate::progress;
use anyhow::Context;
use srl_train::config::RunConfig;
use srl_train::{Reporter, StepMetrics, TrainOptions};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `srl-swe train`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  srl-swe train\n  srl-swe train --config configs/demo-swe.toml --set optimizer.lr=1e-5\n  srl-swe train --config run.toml --resume"
)]
pub(crate) struct Args {
    /// Run configuration (TOML; see configs/demo.toml).
    #[arg(long, default_value = "configs/demo.toml")]
    config: PathBuf,
    /// Override a config key, e.g. `--set optimizer.lr=1e-6 --set stages.0.steps=10` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Run folder (shortcut for `--set output-dir=…`).
    #[arg(long)]
    output_dir: Option<PathBuf>,
    /// Continue from the newest checkpoint in the run folder.
    #[arg(long)]
    resume: bool,
    /// Continue from this checkpoint folder.
    #[arg(long)]
    resume_from: Option<PathBuf>,
    /// Stop (with a checkpoint) after this many global steps.
    #[arg(long)]
    stop_after: Option<u64>,
    /// Bad data records are errors instead of being skipped.
    #[arg(long)]
    strict: bool,
}

struct BarReporter(indicatif::ProgressBar);

impl Reporter for BarReporter {
    fn start(&self, done: u64, total: u64) {
        self.0.set_length(total);
        self.0.set_position(done);
    }
    fn step(&self, m: &StepMetrics) {
        self.0.set_position(m.step);
        if m.kind == "sft" {
            self.0.set_message(format!("train {} loss {:.4}", m.stage, m.loss));
            tracing::info!(step = m.step, stage = %m.stage, loss = format!("{:.4}", m.loss), grad_norm = format!("{:.3}", m.grad_norm), update_s = format!("{:.3}", m.update_s), "sft step");
            return;
        }
        self.0.set_message(format!("train {} reward {:.3} filter {:.2}", m.stage, m.reward_mean, m.filter_rate));
        tracing::info!(
            step = m.step,
            stage = %m.stage,
            reward = format!("{:.4}", m.reward_mean),
            format_errors = format!("{:.3}", m.format_error_rate),
            filter_rate = format!("{:.3}", m.filter_rate),
            grad_norm = format!("{:.3}", m.grad_norm),
            rollout_s = format!("{:.3}", m.rollout_s),
            scoring_s = format!("{:.3}", m.scoring_s),
            update_s = format!("{:.3}", m.update_s),
            "step"
        );
    }
    fn validation(&self, step: u64, score: f64) {
        tracing::info!(step, score = format!("{score:.4}"), "validation");
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut overrides = args.set.clone();
    if let Some(o) = &args.output_dir {
        overrides.push(format!("output-dir={}", toml_string(&o.display().to_string())));
    }
    if args.strict {
        overrides.push("skip-bad-records=false".into());
    }
    let cfg = RunConfig::load(&args.config, &overrides)
        .with_context(|| format!("reading run config {}", args.config.display()))?
        .resolve()?;
    let opts = TrainOptions { resume: args.resume, resume_from: args.resume_from.clone(), stop_after: args.stop_after };
    let reporter = BarReporter(progress::bar(0, "train"));
    // `rollout = { type = "swe-episode" }` stages take their rollouts from srl-agent (docs/agent.md).
    let sources = srl_agent::source_factory(&cfg.run);
    let summary = srl_train::train_with_sources(&cfg, &opts, &reporter, &sources)?;
    let out = serde_json::json!({
        "run_dir": summary.run_dir,
        "steps": summary.steps,
        "last_checkpoint": summary.last_checkpoint,
        "best": summary.best.as_ref().map(|b| serde_json::json!({"step": b.step, "score": b.score})),
        "validations": summary.validations,
        "skipped_records": summary.skipped_records,
        "metrics": summary.run_dir.join("metrics.jsonl"),
        "curves": summary.run_dir.join("curves.png"),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}
