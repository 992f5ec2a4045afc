//! `srl-swe prepare --math`: s1K-1.1 (docs/formats.md §6) → step instances and RLVR items
//! (paper §4.2, docs/method.md §2.1).
//!
//! Each row's `deepseek_attempt` (a string, or a list of strings in early revisions) is cut into
//! numbered steps ([`crate::math`]); rows with fewer than 2 steps give no step instances
//! (`too_few_steps`). Every row with a reference answer (last `\boxed{}` of `solution`) gives an
//! RLVR item. Problems are identified by `s1k-<first 12 hex digits of sha256(question)>`; 60 of
//! them (seeded; at most half of the problems) are held out, with both their step instances and their RLVR item. Outputs:
//! `train.*`, `val.*`, `rlvr_train.jsonl`, `rlvr_val.jsonl`, `stats.json`, `config.json`.

use crate::driver::{drive, fields_of, Place};
use crate::error::{Issue, IssueKind, Location, Result, TrajectoryError};
use crate::holdout::Holdout;
use crate::math::{math_instances, reference_answer, split_steps, MathOptions};
use crate::progress::Reporter;
use crate::sink::{InstanceSink, OutputFormat};
use crate::sources::{discover, InputFile, RawBody};
use crate::stats::{Percentiles, PrepareStats, RlvrStats};
use crate::swe_prepare::ConfigRecord;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use srl_core::io::AtomicFile;
use srl_core::{RlvrItem, StepInstance, RECORD_VERSION};
use std::collections::HashSet;
use std::path::PathBuf;

/// Resolved options of a math prepare run (written to `config.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MathPrepareConfig {
    /// Input folder or file.
    pub input: PathBuf,
    /// Output folder.
    pub out: PathBuf,
    /// Instance construction.
    pub math: MathOptions,
    /// Problems held out for validation.
    pub val_questions: usize,
    /// Seed of the hold-out hash.
    pub seed: u64,
    /// Instance file format.
    pub format: OutputFormat,
    /// Fail on the first bad record.
    pub strict: bool,
}

/// Default validation hold-out (docs/method.md §2.1: 60 questions).
pub const DEFAULT_VAL_QUESTIONS: usize = 60;

impl MathPrepareConfig {
    /// Defaults for an input and output folder.
    pub fn new(input: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        Self {
            input: input.into(),
            out: out.into(),
            math: MathOptions::default(),
            val_questions: DEFAULT_VAL_QUESTIONS,
            seed: crate::swe_prepare::DEFAULT_SEED,
            format: OutputFormat::Jsonl,
            strict: false,
        }
    }
}

/// Columns an s1K-1.1 row is read from.
pub const MATH_COLUMNS: [&str; 3] = ["question", "solution", "deepseek_attempt"];

/// A problem's outputs.
struct Problem {
    id: String,
    instances: Vec<StepInstance>,
    rlvr: Option<RlvrItem>,
    too_few_steps: bool,
}

enum Outcome {
    Bad(Issue),
    Done(Problem),
}

fn text_field(fields: &serde_json::Map<String, serde_json::Value>, name: &str) -> std::result::Result<String, Issue> {
    match fields.get(name) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(serde_json::Value::Array(items)) => {
            let parts: Option<Vec<&str>> = items.iter().map(|v| v.as_str()).collect();
            parts
                .map(|p| p.join("\n\n"))
                .ok_or_else(|| Issue::new(IssueKind::MissingColumn, name, "list with non-string items"))
        }
        Some(other) => Err(Issue::new(IssueKind::MissingColumn, name, format!("not text: {}", kind_of(other)))),
        None => Err(Issue::new(IssueKind::MissingColumn, name, "absent")),
    }
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "list",
        serde_json::Value::Object(_) => "object",
    }
}

/// The problem id of a question.
pub fn problem_id(question: &str) -> String {
    let d = Sha256::digest(question.as_bytes());
    let hex: String = d.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("s1k-{hex}")
}

fn process(
    cfg: &MathPrepareConfig,
    file: &InputFile,
    row: Option<u64>,
    body: RawBody,
) -> std::result::Result<Problem, Issue> {
    let fields = fields_of(file, body, None)?;
    let question = text_field(&fields, "question")?;
    let solution = text_field(&fields, "solution")?;
    let attempt = text_field(&fields, "deepseek_attempt")?;
    let id = problem_id(&question);
    let answer = reference_answer(&solution);
    let steps = split_steps(&attempt);
    let too_few_steps = steps.len() < 2;
    let instances = if too_few_steps {
        Vec::new()
    } else {
        math_instances(&id, &question, &steps, answer.as_deref(), &file.display, row, cfg.math)
    };
    let rlvr = answer.map(|a| RlvrItem {
        version: RECORD_VERSION,
        id: id.clone(),
        question: question.clone(),
        answer: a,
        source: file.display.clone(),
    });
    Ok(Problem { id, instances, rlvr, too_few_steps })
}

/// Runs the math prepare pipeline and returns its statistics (also written to `stats.json`).
pub fn prepare_math(cfg: &MathPrepareConfig, reporter: &dyn Reporter) -> Result<PrepareStats> {
    let files = discover(&cfg.input, false)?;
    if files.is_empty() {
        return Err(TrajectoryError::NoInput {
            path: cfg.input.clone(),
            expected: "*.parquet or *.jsonl with s1K-1.1 columns",
        });
    }
    let mut stats = PrepareStats::new("math");
    stats.files.read = files.len() as u64;
    let mut rstats = RlvrStats::default();
    tracing::info!(files = files.len(), input = %cfg.input.display(), "prepare --math: reading s1K-1.1 rows");
    let ext = cfg.format.extension();
    let (_lock, stale) = crate::out_dir::OutDirLock::acquire(&cfg.out)?;
    if stale > 0 {
        tracing::warn!(removed = stale, out = %cfg.out.display(), "removed temporary files of an interrupted earlier run");
    }
    let mut train = InstanceSink::create(&cfg.out.join(format!("train.{ext}")), cfg.format)?;
    let mut rlvr_train = AtomicFile::create(cfg.out.join("rlvr_train.jsonl"))?;
    let mut holdout: Holdout<Problem> = Holdout::new(cfg.val_questions, cfg.seed);
    let mut seen: HashSet<String> = HashSet::new();
    let mut chars: Vec<u64> = Vec::new();
    let mut offered = 0usize;
    let strict = cfg.strict;
    drive(
        &files,
        &MATH_COLUMNS,
        reporter,
        |_, file, row, body| match process(cfg, file, row, body) {
            Ok(p) => Outcome::Done(p),
            Err(i) => Outcome::Bad(i),
        },
        |place: Place, outcome| {
            stats.records.read += 1;
            let problem = match outcome {
                Outcome::Bad(issue) => {
                    let location = Location { path: files[place.file].path.clone(), row: place.row };
                    if strict {
                        return Err(TrajectoryError::record(location, issue));
                    }
                    tracing::warn!(reason = issue.kind.label(), field = %issue.field, "skipped {location}: {}", issue.detail);
                    stats.records.skip(issue.kind.label());
                    return Ok(());
                }
                Outcome::Done(p) => p,
            };
            if !seen.insert(problem.id.clone()) {
                stats.records.skip("duplicate_question");
                return Ok(());
            }
            if problem.too_few_steps {
                tracing::debug!(id = %problem.id, "no step instances: fewer than 2 numbered steps");
                stats.records.skip(IssueKind::TooFewSteps.label());
            } else {
                stats.records.kept += 1;
            }
            if problem.rlvr.is_none() {
                rstats.no_final_answer += 1;
            }
            if problem.instances.is_empty() && problem.rlvr.is_none() {
                return Ok(());
            }
            for inst in &problem.instances {
                chars.push(inst.messages.iter().map(|m| m.content.chars().count() as u64).sum());
                *stats.instances.by_target.entry("step".into()).or_insert(0) += 1;
            }
            let id = problem.id.clone();
            offered += 1;
            if let Some(released) = holdout.offer(&id, problem) {
                for inst in &released.instances {
                    train.write(inst)?;
                }
                stats.instances.train += released.instances.len() as u64;
                if let Some(item) = &released.rlvr {
                    rlvr_train.write_json_line(item)?;
                    rstats.train += 1;
                }
            }
            Ok(())
        },
    )?;
    let (held, released) = holdout.finish(offered / 2);
    for (_, p) in released {
        for inst in &p.instances {
            train.write(inst)?;
        }
        stats.instances.train += p.instances.len() as u64;
        if let Some(item) = &p.rlvr {
            rlvr_train.write_json_line(item)?;
            rstats.train += 1;
        }
    }
    train.commit()?;
    rlvr_train.commit()?;
    let mut val = InstanceSink::create(&cfg.out.join(format!("val.{ext}")), cfg.format)?;
    let mut rlvr_val = AtomicFile::create(cfg.out.join("rlvr_val.jsonl"))?;
    for (id, p) in held {
        for inst in &p.instances {
            val.write(inst)?;
        }
        stats.instances.val += p.instances.len() as u64;
        if let Some(item) = &p.rlvr {
            rlvr_val.write_json_line(item)?;
            rstats.val += 1;
        }
        stats.val_ids.push(id);
    }
    val.commit()?;
    rlvr_val.commit()?;
    stats.context_chars = Percentiles::of(chars);
    stats.rlvr = Some(rstats);
    srl_core::io::write_json_pretty(cfg.out.join("stats.json"), &stats)?;
    srl_core::io::write_json_pretty(
        cfg.out.join("config.json"),
        &ConfigRecord { record_type: "prepare_config", kind: "math", options: cfg },
    )?;
    tracing::info!(read = stats.records.read, kept = stats.records.kept, train = stats.instances.train, val = stats.instances.val, out = %cfg.out.display(), "prepare --math: done");
    Ok(stats)
}
