//! `srl-swe prepare` for SWE trajectories: SWE-smith parquet shards / JSONL rows / SWE-agent
//! `.traj` files → step-wise SRL instances (paper §4.2 and App. A; docs/prepare.md).
//!
//! Per record: filters (`resolved`, `model`), decode `messages`, tell the split, replay into
//! steps ([`crate::replay`]), build instances ([`crate::context`]). Then, in input order:
//! trajectories already seen (same `traj_id`) and exact-duplicate instances are dropped, whole
//! trajectories are held out for validation ([`crate::holdout`]) and the rest is streamed to
//! `train.jsonl`. Outputs: `train.*`, `val.*`, `stats.json`, `config.json`, each written
//! atomically.

use crate::context::{swe_instances, BuiltInstance, ContextOptions, Origin};
use crate::driver::{drive, fields_and_text, Place};
use crate::error::{Issue, IssueKind, Location, Result, TrajectoryError};
use crate::holdout::Holdout;
use crate::instance_lines::{instance_lines, InstanceLine, SystemPiece};
use crate::out_dir::OutDirLock;
use crate::progress::Reporter;
use crate::replay::{replay_messages, replay_text};
use crate::sink::{InstanceSink, OutputFormat};
use crate::sources::{detect_file_split, discover, FileKind, InputFile, RawBody};
use crate::split::Split;
use crate::stats::{Percentiles, PrepareStats};
use crate::tokens::{HfTokenCounter, TokenCounter};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::PathBuf;

/// Resolved options of a SWE prepare run (written to `config.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SwePrepareConfig {
    /// Input folder or file.
    pub input: PathBuf,
    /// Output folder.
    pub out: PathBuf,
    /// Which split to read.
    pub split: Split,
    /// Context construction.
    pub context: ContextOptions,
    /// `tokenizer.json` for `max-context-tokens` and token statistics.
    pub tokenizer: Option<PathBuf>,
    /// Keep only resolved trajectories.
    pub resolved_only: bool,
    /// Folder of SWE-smith evaluation reports (`<iid>/report.json` or
    /// `<run_id>/<iid>/report.json`) for `.traj` input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports: Option<PathBuf>,
    /// Keep only trajectories of this model.
    pub model: Option<String>,
    /// Whole trajectories held out for validation (at most half of the kept ones).
    pub val_trajectories: usize,
    /// Seed of the hold-out hash.
    pub seed: u64,
    /// Instance file format.
    pub format: OutputFormat,
    /// Fail on the first bad record instead of skipping it.
    pub strict: bool,
}

/// Default validation hold-out (paper §5.3: 30 trajectories).
pub const DEFAULT_VAL_TRAJECTORIES: usize = 30;
/// Default seed.
pub const DEFAULT_SEED: u64 = 42;

impl SwePrepareConfig {
    /// Defaults for an input and output folder.
    pub fn new(input: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        Self {
            input: input.into(),
            out: out.into(),
            split: Split::Tool,
            context: ContextOptions::default(),
            tokenizer: None,
            resolved_only: true,
            reports: None,
            model: None,
            val_trajectories: DEFAULT_VAL_TRAJECTORIES,
            seed: DEFAULT_SEED,
            format: OutputFormat::Jsonl,
            strict: false,
        }
    }

    fn check(&self) -> Result<()> {
        if self.context.max_context_tokens.is_some() && self.tokenizer.is_none() {
            return Err(TrajectoryError::InvalidOption {
                option: "--max-context-tokens",
                message: "needs --tokenizer tokenizer.json".into(),
            });
        }
        for t in &self.context.targets {
            if srl_core::tools::tool(t).is_none() {
                return Err(TrajectoryError::InvalidOption {
                    option: "--targets",
                    message: format!("unknown tool {t:?} (expected bash, str_replace_editor, submit)"),
                });
            }
        }
        if self.context.max_observation_chars == 0 {
            return Err(TrajectoryError::InvalidOption {
                option: "--max-observation-chars",
                message: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

/// The skip reason of a `.traj` without an evaluation report under `--resolved-only`.
pub const RESOLUTION_UNKNOWN: &str = "resolution_unknown";

/// Columns a SWE-smith row is read from (`patch` is not needed for instances).
pub const SWE_COLUMNS: [&str; 5] = ["messages", "instance_id", "resolved", "model", "traj_id"];

/// An instance ready to write: its JSONL line is serialized on the worker threads.
struct Ready {
    tool: String,
    chars: usize,
    tokens: Option<usize>,
    payload: Payload,
}

enum Payload {
    /// A serialized JSONL line (with its newline).
    Line(Vec<u8>),
    /// The record, for parquet output.
    Record(Box<srl_core::StepInstance>),
}

impl Ready {
    fn new(b: BuiltInstance, format: OutputFormat) -> std::result::Result<Self, Issue> {
        let tool = b.instance.target_tool.clone().unwrap_or_default();
        let payload = match format {
            OutputFormat::Jsonl => {
                let mut line = serde_json::to_vec(&b.instance)
                    .map_err(|e| Issue::new(IssueKind::InvalidAction, "instance", e.to_string()))?;
                line.push(b'\n');
                Payload::Line(line)
            }
            OutputFormat::Parquet => Payload::Record(Box::new(b.instance)),
        };
        Ok(Self { tool, chars: b.context_chars, tokens: b.context_tokens, payload })
    }

    fn write(&self, sink: &mut InstanceSink) -> Result<()> {
        match &self.payload {
            Payload::Line(line) => sink.write_line(line),
            Payload::Record(inst) => sink.write(inst),
        }
    }
}

/// What one record became.
enum Outcome {
    /// Bad input.
    Bad(Issue),
    /// Left out by a filter (`unresolved`, `other_model`, `other_split`).
    Filtered(&'static str),
    /// Replayed.
    Kept { traj_id: String, ready: Vec<Ready>, too_long: usize, keys: Vec<[u8; 16]>, notes: KeptNotes },
}

/// What the summary says about a kept trajectory.
#[derive(Debug, Clone, Copy, Default)]
struct KeptNotes {
    /// It ended with SWE-agent's exit turn.
    exit_turn: bool,
    /// A `.traj` without an evaluation report (kept because of `--resolved-only false`).
    resolution_unknown: bool,
}

/// The first 16 bytes of the SHA-256 of a trajectory id.
fn id_key(id: &str) -> [u8; 16] {
    let mut k = [0u8; 16];
    k.copy_from_slice(&Sha256::digest(id.as_bytes())[..16]);
    k
}

fn instance_key(inst: &srl_core::StepInstance) -> [u8; 16] {
    let mut h = Sha256::new();
    for m in &inst.messages {
        h.update([m.role as u8]);
        h.update((m.content.len() as u64).to_le_bytes());
        h.update(m.content.as_bytes());
    }
    h.update([0xff]);
    h.update(inst.target.as_bytes());
    let d = h.finalize();
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

fn kept(traj_id: String, lines: Vec<InstanceLine>, too_long: usize, notes: KeptNotes) -> Outcome {
    let mut keys = Vec::with_capacity(lines.len());
    let ready = lines
        .into_iter()
        .map(|l| {
            keys.push(l.key);
            Ready { tool: l.tool, chars: l.chars, tokens: l.tokens, payload: Payload::Line(l.line) }
        })
        .collect();
    Outcome::Kept { traj_id, ready, too_long, keys, notes }
}

/// A row's `messages`: JSON text (a string column or a JSON string value) or a decoded value.
enum Messages<'a> {
    Text(&'a str),
    Value(&'a serde_json::Value),
}

struct Worker<'a> {
    cfg: &'a SwePrepareConfig,
    system_text: String,
    system: SystemPiece,
    counter: Option<&'a dyn TokenCounter>,
    /// The split of each input file, told once per file (from its name or its first rows).
    file_splits: Vec<Split>,
}

impl Worker<'_> {
    fn process(&self, fi: usize, file: &InputFile, row: Option<u64>, body: RawBody) -> Outcome {
        match self.try_process(fi, file, row, body) {
            Ok(o) => o,
            Err(issue) => Outcome::Bad(issue),
        }
    }

    fn try_process(
        &self,
        fi: usize,
        file: &InputFile,
        row: Option<u64>,
        body: RawBody,
    ) -> std::result::Result<Outcome, Issue> {
        let (fields, kept_text) = fields_and_text(file, body, self.cfg.reports.as_deref())?;
        let mut notes = KeptNotes::default();
        // A `.traj` says nothing about resolution; without a report it is unknown, not bad input.
        let unknown = file.kind == FileKind::Traj && !fields.contains_key("resolved");
        if unknown && self.cfg.resolved_only {
            return Ok(Outcome::Filtered(RESOLUTION_UNKNOWN));
        }
        notes.resolution_unknown = unknown;
        if self.cfg.resolved_only {
            match fields.get("resolved") {
                Some(serde_json::Value::Bool(true)) => {}
                Some(serde_json::Value::Bool(false)) => return Ok(Outcome::Filtered("unresolved")),
                Some(other) => {
                    return Err(Issue::new(IssueKind::MissingColumn, "resolved", format!("not a boolean: {other}")))
                }
                None => {
                    return Err(Issue::new(IssueKind::MissingColumn, "resolved", "absent (needed by --resolved-only)"))
                }
            }
        }
        if let Some(want) = &self.cfg.model {
            match fields.get("model").and_then(|m| m.as_str()) {
                Some(m) if m == want => {}
                Some(_) => return Ok(Outcome::Filtered("other_model")),
                None => return Err(Issue::new(IssueKind::MissingColumn, "model", "absent (needed by --model)")),
            }
        }
        let split = self.file_splits[fi];
        let traj_id = fields
            .get("traj_id")
            .and_then(|v| v.as_str())
            .or_else(|| fields.get("instance_id").and_then(|v| v.as_str()))
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}:{}", file.display, row.unwrap_or(0)));
        let origin = Origin { source: &file.display, row, trajectory_id: &traj_id };
        let fast = self.cfg.format == OutputFormat::Jsonl && self.counter.is_none();
        // A parquet row's `messages` stays in its arrow array (no copy).
        let kept_str = kept_text.as_ref().filter(|k| k.name() == "messages").map(|k| k.as_str());
        let messages = match kept_str {
            Some(text) => Some(Messages::Text(text)),
            None => match fields.get("messages") {
                Some(serde_json::Value::String(s)) => Some(Messages::Text(s)),
                Some(v) => Some(Messages::Value(v)),
                None => None,
            },
        };
        let replay = match messages {
            Some(Messages::Text(s)) => {
                // The fast path keeps user and tool texts escaped (docs/prepare.md, "Speed").
                if let Some(list) = fast.then(|| crate::raw_json::scan(s)).flatten() {
                    let replay = crate::fast_lines::replay_escaped(list, split)?;
                    notes.exit_turn = replay.exit.is_some();
                    let (lines, too_long) =
                        crate::fast_lines::fast_lines(&replay, origin, &self.system, &self.cfg.context)?;
                    return Ok(kept(traj_id.clone(), lines, too_long, notes));
                }
                replay_text(s, split)?
            }
            Some(Messages::Value(v @ serde_json::Value::Array(_))) => replay_messages(v, split)?,
            Some(Messages::Value(_)) => {
                return Err(Issue::new(IssueKind::MalformedJson, "messages", "neither a JSON string nor a list"))
            }
            None => return Err(Issue::new(IssueKind::MissingColumn, "messages", "absent")),
        };
        notes.exit_turn = replay.exit.is_some();
        if self.cfg.format == OutputFormat::Jsonl {
            let (lines, too_long) = instance_lines(&replay, origin, &self.system, &self.cfg.context, self.counter)?;
            return Ok(kept(traj_id.clone(), lines, too_long, notes));
        }
        let built = swe_instances(&replay, origin, &self.system_text, &self.cfg.context, self.counter);
        let keys = built.instances.iter().map(|b| instance_key(&b.instance)).collect();
        let ready = built
            .instances
            .into_iter()
            .map(|b| Ready::new(b, self.cfg.format))
            .collect::<std::result::Result<_, _>>()?;
        Ok(Outcome::Kept { traj_id, ready, too_long: built.too_long, keys, notes })
    }
}

/// Runs the SWE prepare pipeline and returns its statistics (also written to `stats.json`).
pub fn prepare_swe(cfg: &SwePrepareConfig, reporter: &dyn Reporter) -> Result<PrepareStats> {
    cfg.check()?;
    let counter = cfg.tokenizer.as_deref().map(HfTokenCounter::from_file).transpose()?;
    let all_files = discover(&cfg.input, true)?;
    let mut stats = PrepareStats::new("swe");
    let mut files = Vec::new();
    let mut file_splits = Vec::new();
    for f in all_files {
        // Told once per file: from its name, else from its first rows (docs/prepare.md).
        let split = f.split().or_else(|| detect_file_split(&f));
        match split {
            Some(s) if s != cfg.split => {
                tracing::debug!(file = %f.path.display(), split = %s, "ignored: another split");
                stats.files.other_split += 1;
            }
            _ => {
                file_splits.push(split.unwrap_or(cfg.split));
                files.push(f);
            }
        }
    }
    if files.is_empty() {
        return Err(TrajectoryError::NoInput {
            path: cfg.input.clone(),
            expected: "*.parquet, *.jsonl or *.traj of the chosen split",
        });
    }
    stats.files.read = files.len() as u64;
    let (_lock, stale) = OutDirLock::acquire(&cfg.out)?;
    if stale > 0 {
        tracing::warn!(removed = stale, out = %cfg.out.display(), "removed temporary files of an interrupted earlier run");
    }
    tracing::info!(files = files.len(), split = %cfg.split, input = %cfg.input.display(), "prepare: reading SWE trajectories");
    let ext = cfg.format.extension();
    let mut train = InstanceSink::create(&cfg.out.join(format!("train.{ext}")), cfg.format)?;
    let worker = Worker {
        cfg,
        system_text: crate::prompts::swe_system_prompt(),
        system: SystemPiece::new(crate::prompts::swe_system_prompt(), counter.as_ref().map(|c| c as &dyn TokenCounter))
            .map_err(|issue| TrajectoryError::InvalidOption { option: "system prompt", message: issue.detail })?,
        counter: counter.as_ref().map(|c| c as &dyn TokenCounter),
        file_splits,
    };
    let mut seen_instances: HashSet<[u8; 16]> = HashSet::new();
    // 16 bytes per trajectory id, not the id itself.
    let mut seen_traj: HashSet<[u8; 16]> = HashSet::new();
    let mut holdout: Holdout<Vec<Ready>> = Holdout::new(cfg.val_trajectories, cfg.seed);
    // 4 bytes per instance for the percentiles (a prompt is far below 4 G characters).
    let mut chars: Vec<u32> = Vec::new();
    let mut tokens: Vec<u32> = Vec::new();
    let strict = cfg.strict;
    drive(
        &files,
        &SWE_COLUMNS,
        reporter,
        |fi, file, row, body| worker.process(fi, file, row, body),
        |place: Place, outcome| {
            stats.records.read += 1;
            match outcome {
                Outcome::Bad(issue) => {
                    let location = Location { path: files[place.file].path.clone(), row: place.row };
                    if strict {
                        return Err(TrajectoryError::record(location, issue));
                    }
                    tracing::warn!(reason = issue.kind.label(), field = %issue.field, "skipped {location}: {}", issue.detail);
                    stats.records.skip(issue.kind.label());
                }
                Outcome::Filtered(reason) => stats.records.skip(reason),
                Outcome::Kept { traj_id, ready, too_long, keys, notes } => {
                    if !seen_traj.insert(id_key(&traj_id)) {
                        stats.records.skip("duplicate_trajectory");
                        return Ok(());
                    }
                    stats.instances.context_too_long += too_long as u64;
                    let before = ready.len();
                    let mut kept = Vec::with_capacity(before);
                    for (r, k) in ready.into_iter().zip(keys) {
                        if seen_instances.insert(k) {
                            kept.push(r);
                        } else {
                            stats.instances.duplicates_removed += 1;
                        }
                    }
                    if kept.is_empty() {
                        stats.records.skip(if before == 0 { "no_instances" } else { "duplicate_instances" });
                        return Ok(());
                    }
                    stats.records.kept += 1;
                    stats.records.ended_by_exit_turn += u64::from(notes.exit_turn);
                    stats.records.resolution_unknown += u64::from(notes.resolution_unknown);
                    for r in &kept {
                        chars.push(u32::try_from(r.chars).unwrap_or(u32::MAX));
                        if let Some(t) = r.tokens {
                            tokens.push(u32::try_from(t).unwrap_or(u32::MAX));
                        }
                        *stats.instances.by_target.entry(r.tool.clone()).or_insert(0) += 1;
                    }
                    if let Some(released) = holdout.offer(&traj_id, kept) {
                        for r in &released {
                            r.write(&mut train)?;
                        }
                        stats.instances.train += released.len() as u64;
                    }
                }
            }
            Ok(())
        },
    )?;
    let (held, released) = holdout.finish((stats.records.kept / 2) as usize);
    for (_, items) in released {
        for r in &items {
            r.write(&mut train)?;
        }
        stats.instances.train += items.len() as u64;
    }
    train.commit()?;
    let mut val = InstanceSink::create(&cfg.out.join(format!("val.{ext}")), cfg.format)?;
    for (id, items) in held {
        for r in &items {
            r.write(&mut val)?;
        }
        stats.instances.val += items.len() as u64;
        stats.val_ids.push(id);
    }
    val.commit()?;
    stats.context_chars = Percentiles::of_u32(chars);
    stats.context_tokens = Percentiles::of_u32(tokens);
    srl_core::io::write_json_pretty(cfg.out.join("stats.json"), &stats)?;
    srl_core::io::write_json_pretty(
        cfg.out.join("config.json"),
        &ConfigRecord { record_type: "prepare_config", kind: "swe", options: cfg },
    )?;
    let kinds = files.iter().filter(|f| f.kind == FileKind::Traj).count();
    tracing::info!(
        read = stats.records.read,
        kept = stats.records.kept,
        skipped = stats.records.skipped,
        train = stats.instances.train,
        val = stats.instances.val,
        traj_files = kinds,
        out = %cfg.out.display(),
        "prepare: done"
    );
    Ok(stats)
}

/// `config.json`: the resolved options with a type tag.
#[derive(Serialize)]
pub(crate) struct ConfigRecord<'a, T: Serialize> {
    #[serde(rename = "type")]
    pub(crate) record_type: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) options: &'a T,
}
