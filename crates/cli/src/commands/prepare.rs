//! `srl-swe prepare`: SWE-smith trajectories (or, with `--math`, s1K-1.1 solutions) into
//! step-wise SRL instances. The work is `srl_trajectory::prepare_swe` / `prepare_math`; this file
//! maps flags to their resolved configs and draws the progress bar.
use crate::progress;
use srl_trajectory::engine_formats::{export_engine_format, EngineFormat};
use srl_trajectory::{
    ContextOptions, History, MathOptions, MathPrepareConfig, OutputFormat, Reporter, Split, SwePrepareConfig,
};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `srl-swe prepare`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  srl-swe prepare datasets/swe-smith --out out/prepare\n  srl-swe prepare trajectories/ --reports logs/run_evaluation --format verl\n  srl-swe prepare --math datasets/s1k --out out/math"
)]
pub(crate) struct Args {
    /// Input folder or file: SWE-smith parquet shards / JSONL / SWE-agent `.traj` run folders, or
    /// with --math s1K-1.1 parquet/JSONL. Default: the shipped sample (`datasets/swe-smith`, or
    /// `datasets/s1k` with --math).
    path: Option<PathBuf>,
    /// Read s1K-1.1 math solutions instead of SWE trajectories.
    #[arg(long)]
    math: bool,
    /// Output folder. Default: `out/prepare` (`out/prepare-math` with --math).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Instance file format; `verl`, `openrlhf`, `trl` also write that engine's files and run file
    /// into `<out>/<engine>/` (docs/engines.md).
    #[arg(long, default_value = "jsonl", value_parser = ["jsonl", "parquet", "verl", "openrlhf", "trl"])]
    format: String,
    /// Fail on the first bad record (with its file, row and field) instead of skipping it.
    #[arg(long)]
    strict: bool,
    /// Seed of the validation hold-out hash.
    #[arg(long, default_value_t = srl_trajectory::DEFAULT_SEED)]
    seed: u64,
    /// SWE: which split to read (a file whose name does not tell is detected from its content).
    #[arg(long, default_value = "tool", value_parser = ["tool", "xml", "ticks"])]
    split: String,
    /// SWE: tools whose calls become targets (comma list); earlier steps of other tools stay in the context.
    #[arg(long, value_delimiter = ',')]
    targets: Vec<String>,
    /// SWE: earlier (action, observation) pairs in the context: a number, or `all`.
    #[arg(long, default_value = "2")]
    history: String,
    /// SWE: observations longer than this many characters keep head and tail around a marker.
    #[arg(long, default_value_t = 8000)]
    max_observation_chars: usize,
    /// SWE: bound on the characters of the whole prompt (oldest steps are dropped first).
    #[arg(long)]
    max_context_chars: Option<usize>,
    /// SWE: bound on prompt tokens, counted with --tokenizer (oldest steps are dropped first).
    #[arg(long, requires = "tokenizer")]
    max_context_tokens: Option<usize>,
    /// SWE: Hugging Face `tokenizer.json` for --max-context-tokens and token statistics.
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// SWE: keep only resolved trajectories (`--resolved-only false` keeps all).
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    resolved_only: bool,
    /// SWE: folder of SWE-smith evaluation reports for `.traj` input (`<instance_id>/report.json`
    /// or `<run_id>/<instance_id>/report.json`); without it they are looked for beside the
    /// `.traj` and in `logs/run_evaluation/` above it.
    #[arg(long)]
    reports: Option<PathBuf>,
    /// SWE: keep only trajectories of this model (e.g. claude-3-7-sonnet-20250219).
    #[arg(long)]
    model: Option<String>,
    /// SWE: whole trajectories held out for validation (at most half of the kept ones).
    #[arg(long, default_value_t = srl_trajectory::DEFAULT_VAL_TRAJECTORIES)]
    val_trajectories: usize,
    /// Math: questions held out for validation (at most half of them).
    #[arg(long, default_value_t = srl_trajectory::DEFAULT_VAL_QUESTIONS)]
    val_questions: usize,
    /// Math: also make step 1 a target (from the problem alone).
    #[arg(long)]
    first_step: bool,
    /// Math: show the next step's title in the prompt; the target is the rest of the step (`--title-hint false` to turn off).
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    title_hint: bool,
}

struct Bar(indicatif::ProgressBar);

impl Reporter for Bar {
    fn start(&self, total: Option<u64>) {
        match total {
            Some(t) => self.0.set_length(t),
            None => self.0.unset_length(),
        }
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let engine: Option<EngineFormat> = args.format.parse().ok();
    let format: OutputFormat =
        if engine.is_some() { OutputFormat::Jsonl } else { args.format.parse().map_err(anyhow::Error::msg)? };
    let out_dir =
        args.out.clone().unwrap_or_else(|| PathBuf::from(if args.math { "out/prepare-math" } else { "out/prepare" }));
    let bar = Bar(progress::bar(0, if args.math { "prepare --math" } else { "prepare" }));
    let stats = if args.math {
        let cfg = MathPrepareConfig {
            input: args.path.unwrap_or_else(|| PathBuf::from("datasets/s1k")),
            out: args.out.unwrap_or_else(|| PathBuf::from("out/prepare-math")),
            math: MathOptions { first_step: args.first_step, title_hint: args.title_hint },
            val_questions: args.val_questions,
            seed: args.seed,
            format,
            strict: args.strict,
        };
        srl_trajectory::prepare_math(&cfg, &bar)?
    } else {
        let split: Split = args.split.parse().map_err(anyhow::Error::msg)?;
        let history: History = args.history.parse().map_err(|e: String| anyhow::anyhow!("--history: {e}"))?;
        let cfg = SwePrepareConfig {
            input: args.path.unwrap_or_else(|| PathBuf::from("datasets/swe-smith")),
            out: args.out.unwrap_or_else(|| PathBuf::from("out/prepare")),
            split,
            context: ContextOptions {
                history,
                max_observation_chars: args.max_observation_chars,
                max_context_chars: args.max_context_chars,
                max_context_tokens: args.max_context_tokens,
                targets: args.targets,
            },
            tokenizer: args.tokenizer,
            resolved_only: args.resolved_only,
            reports: args.reports,
            model: args.model,
            val_trajectories: args.val_trajectories,
            seed: args.seed,
            format,
            strict: args.strict,
        };
        srl_trajectory::prepare_swe(&cfg, &bar)?
    };
    if let Some(engine) = engine {
        let export = export_engine_format(&out_dir, engine)?;
        eprintln!("prepare: {} files in {}", export.files.len() + export.support_files.len(), export.dir.display());
    }
    eprintln!("{}", stats.summary_line());
    let unknown_skipped = stats.records.skipped_by_reason.get(srl_trajectory::RESOLUTION_UNKNOWN).copied().unwrap_or(0);
    if unknown_skipped > 0 {
        eprintln!(
            "prepare: resolution unknown for {unknown_skipped} .traj trajectories (no SWE-smith report.json beside \
             them, in logs/run_evaluation/<instance_id>/ above them or in --reports DIR): skipped by --resolved-only; \
             pass --reports DIR, or --resolved-only false to keep them"
        );
    }
    if stats.records.resolution_unknown > 0 {
        eprintln!(
            "prepare: resolution unknown for {} kept .traj trajectories (no evaluation report found)",
            stats.records.resolution_unknown
        );
    }
    if stats.records.ended_by_exit_turn > 0 {
        eprintln!(
            "prepare: {} kept trajectories end with SWE-agent's exit turn (autosubmission after a limit; not a target)",
            stats.records.ended_by_exit_turn
        );
    }
    Ok(ExitCode::SUCCESS)
}
