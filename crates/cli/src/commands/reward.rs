//! `srl-swe reward`: scores JSONL lines with the SRL reward (paper §4.2), the math answer reward
//! (Qwen2.5-Math grading) or, with `--raw`, plain CPython `difflib.SequenceMatcher` ratios. The
//! record formats are documented in `srl_reward::protocol`; scoring uses all cores.
use anyhow::Context;
use srl_core::io::AtomicFile;
use srl_reward::protocol::{parse_request, score_lines, Mode, Response, ScoreOptions};
use srl_reward::{Comparison, GraderOptions, MathAnswerReward, RewardError, SrlConfig};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `srl-swe reward`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  srl-swe reward --input datasets/reward/pairs.jsonl --output scores.jsonl\n  srl-swe reward --raw --input ratios.jsonl"
)]
pub(crate) struct Args {
    /// JSONL input (`-` for stdin). Lines: {"output", "expert", "kind": "swe"|"math"} (SRL),
    /// {"output", "answer"} (math answer), or with --raw {"a", "b"}. Defaults to the shipped
    /// sample `datasets/reward/pairs.jsonl`.
    #[arg(long, short, default_value = "datasets/reward/pairs.jsonl")]
    input: PathBuf,
    /// Where to write the JSONL results (atomically); stdout if absent.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Plain SequenceMatcher ratios of {"a", "b"} lines: {"ratio": r}.
    #[arg(long)]
    raw: bool,
    /// Stop at the first bad line instead of writing an error record for it.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    scoring: ScoringFlags,
}

/// How pairs are scored: the flags `srl-swe reward` and `srl-swe serve reward` share.
#[derive(Debug, clap::Args)]
pub(crate) struct ScoringFlags {
    /// Turn CPython's autojunk heuristic off (SRL and raw ratios).
    #[arg(long)]
    no_autojunk: bool,
    /// Compare SWE actions as written instead of re-rendered canonically.
    #[arg(long)]
    as_written: bool,
    /// Math answer reward of a correct answer.
    #[arg(long, default_value_t = 1.0)]
    correct_reward: f64,
    /// Math answer reward of a wrong or missing answer.
    #[arg(long, default_value_t = 0.0)]
    wrong_reward: f64,
}

impl ScoringFlags {
    /// The SRL reward settings.
    pub(crate) fn srl(&self) -> SrlConfig {
        SrlConfig {
            comparison: if self.as_written { Comparison::AsWritten } else { Comparison::Canonical },
            autojunk: !self.no_autojunk,
        }
    }

    /// The math answer reward settings.
    pub(crate) fn answer(&self) -> MathAnswerReward {
        MathAnswerReward { correct: self.correct_reward, wrong: self.wrong_reward, grader: GraderOptions::default() }
    }
}

/// One input line: its 1-based number and its text, or why it cannot be read as text.
type Line = (usize, Result<String, String>);

/// Splits raw bytes into non-blank lines; a line that is not UTF-8 is kept as an error, so it
/// becomes a counted bad line (an error record) like any other, not the end of the run.
fn split_lines(bytes: &[u8]) -> Vec<Line> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter_map(|(i, raw)| match std::str::from_utf8(raw) {
            Ok(s) if s.trim().is_empty() => None,
            Ok(s) => Some((i + 1, Ok(s.strip_suffix('\r').unwrap_or(s).to_string()))),
            Err(e) => Some((i + 1, Err(format!("invalid UTF-8 at byte {} of the line", e.valid_up_to())))),
        })
        .collect()
}

/// Non-blank input lines of a file or stdin (`-`).
fn read_lines(input: &Path) -> anyhow::Result<Vec<Line>> {
    let mut bytes = Vec::new();
    if input.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).context("reading stdin")?;
    } else {
        bytes = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    }
    Ok(split_lines(&bytes))
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let source = args.input.display().to_string();
    let lines = read_lines(&args.input)?;
    let mode = if args.raw { Mode::Raw } else { Mode::Reward };
    let mut requests = Vec::with_capacity(lines.len());
    for (line, text) in &lines {
        let parsed = match text {
            Ok(text) => parse_request(*line, text, mode),
            Err(message) => Err(RewardError::BadRequest { line: *line, field: None, message: message.clone() }),
        };
        if args.strict {
            match &parsed {
                Err(RewardError::BadRequest { line, message, .. }) => anyhow::bail!("{source}:{line}: {message}"),
                Err(e) => anyhow::bail!("{source}: {e}"),
                Ok(_) => {}
            }
        }
        requests.push(parsed);
    }
    let bad = requests.iter().filter(|r| r.is_err()).count();
    let options = ScoreOptions { srl: args.scoring.srl(), answer: args.scoring.answer() };
    let bar = crate::progress::Bar(crate::progress::bar(requests.len() as u64, "scoring"));
    let responses = score_lines(&requests, &options, &bar);
    bar.0.finish_and_clear();

    let format_errors = responses.iter().filter(|r| matches!(r, Response::Srl { format_ok: false, .. })).count();
    match &args.output {
        Some(path) => {
            let mut file = AtomicFile::create(path)?;
            for r in &responses {
                file.write_json_line(r)?;
            }
            file.commit()?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            for r in &responses {
                serde_json::to_writer(&mut out, r)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
        }
    }
    tracing::info!(lines = responses.len(), bad_lines = bad, format_errors, "scored {source}");
    if bad > 0 {
        tracing::warn!("{bad} bad line(s) in {source} written as error records (use --strict to stop instead)");
    }
    Ok(ExitCode::SUCCESS)
}
