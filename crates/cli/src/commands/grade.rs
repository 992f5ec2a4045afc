//! `srl-swe grade`: re-grades saved test logs without Docker (docs/swe-bench.md). For each
//! instance whose log is at `<logs>/<instance_id>.log` (the eval script's output as the harness
//! captured it, markers included) one JSONL line `{"instance_id", "valid", "tests",
//! "resolution", "resolved"}`, the parser chosen by the instance's repo/version (SWE-bench) or
//! SWE-smith profile, or `--log-parser`. Instances without a log are counted and listed.
use anyhow::Context;
use srl_core::io::AtomicFile;
use srl_sandbox::grading::{default_rule, parse_log, GradingRule, Resolution};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Grading convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Grading {
    /// Each instance's own harness: SWE-bench rows the SWE-bench rule, SWE-smith rows and the
    /// shipped environments SWE-smith's (docs/swe-bench.md).
    Auto,
    /// SWE-bench 5.x: F2P passes iff PASSED/XFAIL, P2P also if SKIPPED; missing fails.
    SweBench,
    /// SWE-smith: PASSED/XFAIL pass, missing/FAILED/ERROR fail, SKIPPED counts for neither.
    SweSmith,
}

impl Grading {
    pub(crate) fn rule(self) -> Option<GradingRule> {
        match self {
            Grading::Auto => None,
            Grading::SweBench => Some(GradingRule::SweBench),
            Grading::SweSmith => Some(GradingRule::SweSmith),
        }
    }
}

/// Options of `srl-swe grade`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  srl-swe grade --instances verified.jsonl --logs logs/ --out graded.jsonl")]
pub(crate) struct Args {
    /// Instances (JSONL or parquet of SWE-bench / SWE-smith / srl-swe task instances).
    #[arg(long)]
    pub(crate) instances: PathBuf,
    /// Folder of `<instance_id>.log` files.
    #[arg(long)]
    pub(crate) logs: PathBuf,
    /// Output JSONL (default: stdout).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Parser for every log (e.g. `parse_log_django`, `swesmith_pytest`).
    #[arg(long)]
    pub(crate) log_parser: Option<String>,
    /// Grading rule (default: each instance's harness).
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) grading: Grading,
    /// Malformed instance records and missing logs are errors.
    #[arg(long)]
    pub(crate) strict: bool,
}

#[derive(serde::Serialize)]
struct GradeLine<'a> {
    instance_id: &'a str,
    valid: bool,
    tests: std::collections::BTreeMap<String, String>,
    resolution: Resolution,
    resolved: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(p) = &args.log_parser {
        if srl_sandbox::grading::log_parsers::parser(p).is_none() {
            anyhow::bail!(
                "--log-parser {p}: not a known parser; one of {}",
                srl_sandbox::grading::log_parsers::PARSER_NAMES.join(", ")
            );
        }
    }
    let loaded = srl_eval::instances::load(Some(args.instances.as_path()), args.instances.as_path(), args.strict)?;
    if !loaded.skipped.is_empty() {
        eprintln!("[grade] skipped {} malformed instance record(s) (use --strict to fail)", loaded.skipped.len());
    }
    let mut lines = Vec::new();
    let mut missing = Vec::new();
    let mut resolved = 0usize;
    for inst in &loaded.instances {
        let path = args.logs.join(format!("{}.log", inst.instance_id));
        if !path.is_file() {
            missing.push(inst.instance_id.clone());
            continue;
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        // The harnesses read logs with errors="replace" (SWE-smith); a non-UTF-8 byte is U+FFFD.
        let log = String::from_utf8_lossy(&bytes);
        let graded = parse_log(inst, &log, args.log_parser.as_deref())
            .map_err(|m| anyhow::anyhow!("{}: {m}", path.display()))?;
        let rule: GradingRule = args.grading.rule().unwrap_or_else(|| default_rule(inst));
        let mut report = srl_sandbox::grading::grade(inst, &graded.statuses, rule);
        if !graded.valid {
            report.resolution = Resolution::No;
            report.resolved = false;
        }
        resolved += usize::from(report.resolved);
        lines.push(serde_json::to_string(&GradeLine {
            instance_id: &inst.instance_id,
            valid: graded.valid,
            tests: graded.statuses.to_btree(),
            resolution: report.resolution,
            resolved: report.resolved,
        })?);
    }
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
        let msg = format!(
            "{} instance(s) have no log in {}: {}{}",
            missing.len(),
            args.logs.display(),
            shown.join(", "),
            if missing.len() > 10 { ", …" } else { "" }
        );
        if args.strict {
            anyhow::bail!(msg);
        }
        eprintln!("[grade] {msg}");
    }
    match &args.out {
        Some(p) => {
            let mut f = AtomicFile::create(p)?;
            for l in &lines {
                f.write_all(l.as_bytes())?;
                f.write_all(b"\n")?;
            }
            f.commit()?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            for l in &lines {
                writeln!(out, "{l}")?;
            }
        }
    }
    eprintln!("[grade] {} graded, {resolved} resolved, {} without a log", lines.len(), missing.len());
    Ok(ExitCode::SUCCESS)
}
