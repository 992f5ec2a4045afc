//! `srl-swe model`: create checkpoints (`init`: the toy and tiny demo models or random-weight Qwen2.5
//! shapes, Qwen2 Technical Report arXiv 2407.10671) and sample from one (`generate`), using
//! `srl-model` (Qwen2 in tch).
use anyhow::Context;
use srl_model::init::{init_checkpoint, InitOptions, DEFAULT_CORPUS};
use srl_model::{DType, Device, GenerationConfig, GenerationProgress, Policy, Preset};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Subcommands of `srl-swe model`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Write a random-weight Qwen2 checkpoint (HF layout) with a BPE tokenizer trained on local text.
    Init(InitArgs),
    /// Generate completions of chat prompts with a local checkpoint; JSON lines on stdout.
    Generate(GenerateArgs),
}

/// Options of `srl-swe model init`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  srl-swe model init --preset tiny --out models/tiny\n  srl-swe model init --preset 0.5b --out models/qwen2-0.5b-random"
)]
pub(crate) struct InitArgs {
    /// Model shape: toy (character tokenizer, for datasets/toy-srl), tiny, 0.5b, 1.5b, 7b (the
    /// last three are Qwen2.5 shapes with random weights).
    #[arg(long, default_value = "tiny")]
    preset: String,
    /// Output folder.
    #[arg(long, default_value = "models/tiny")]
    out: PathBuf,
    /// Seed of the random weights.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stored dtype: f32, bf16, f16.
    #[arg(long, default_value = "f32")]
    dtype: String,
    /// Files or folders with tokenizer training text (default: datasets/, environments/,
    /// README.md, docs/, crates/ — whichever exist).
    #[arg(long)]
    corpus: Vec<PathBuf>,
}

/// Options of `srl-swe model generate`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  srl-swe model generate --model models/tiny --prompt 'def add(a, b):'")]
pub(crate) struct GenerateArgs {
    /// Checkpoint folder.
    #[arg(long, default_value = "models/tiny")]
    model: PathBuf,
    /// User message(s); each becomes one chat prompt (batched together).
    #[arg(long, required = true)]
    prompt: Vec<String>,
    /// Optional system message.
    #[arg(long)]
    system: Option<String>,
    /// Most new tokens per prompt.
    #[arg(long, default_value_t = 64)]
    max_new_tokens: usize,
    /// Temperature (0 = greedy).
    #[arg(long, default_value_t = 0.0)]
    temperature: f64,
    /// Nucleus mass.
    #[arg(long, default_value_t = 1.0)]
    top_p: f64,
    /// Top-k (0 = off).
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// Sampling seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// cpu, cuda, cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// f32, bf16, f16.
    #[arg(long, default_value = "f32")]
    dtype: String,
}

pub(crate) fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Init(args) => init(args),
        Command::Generate(args) => generate(args),
    }
}

fn init(args: InitArgs) -> anyhow::Result<ExitCode> {
    let preset: Preset = args.preset.parse()?;
    let dtype: DType = args.dtype.parse()?;
    let corpus = if args.corpus.is_empty() {
        DEFAULT_CORPUS.iter().map(PathBuf::from).filter(|p| p.exists()).collect()
    } else {
        args.corpus.clone()
    };
    let spinner = crate::progress::bar(1, &format!("model init --preset {}", preset.name()));
    let report = init_checkpoint(&InitOptions { preset, out: args.out.clone(), seed: args.seed, dtype, corpus })
        .with_context(|| format!("writing {}", args.out.display()))?;
    spinner.finish_and_clear();
    tracing::info!(
        out = %report.out.display(),
        params = report.num_parameters,
        tokenizer_vocab = report.tokenizer_vocab,
        corpus_files = report.corpus_files,
        corpus_bytes = report.corpus_bytes,
        "wrote checkpoint"
    );
    Ok(ExitCode::SUCCESS)
}

struct Bar(indicatif::ProgressBar);

impl GenerationProgress for Bar {
    fn step(&self, _step: usize, _running: usize) {
        self.0.inc(1);
    }
}

fn generate(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let device: Device = args.device.parse()?;
    let dtype: DType = args.dtype.parse()?;
    let policy =
        Policy::load(&args.model, device, dtype).with_context(|| format!("loading {}", args.model.display()))?;
    let prompts = args
        .prompt
        .iter()
        .map(|p| {
            let mut msgs = Vec::new();
            if let Some(s) = &args.system {
                msgs.push(srl_core::Message::new(srl_core::Role::System, s.clone()));
            }
            msgs.push(srl_core::Message::new(srl_core::Role::User, p.clone()));
            policy.prompt_ids(&msgs)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config = GenerationConfig {
        max_new_tokens: args.max_new_tokens,
        temperature: args.temperature,
        top_p: args.top_p,
        top_k: args.top_k,
        seed: args.seed,
        ..GenerationConfig::default()
    };
    let bar = Bar(crate::progress::bar(args.max_new_tokens as u64, "generate"));
    let gens = policy.generate_with_progress(&prompts, &config, &bar)?;
    bar.0.finish_and_clear();
    let mut out = std::io::stdout().lock();
    for (prompt, g) in args.prompt.iter().zip(&gens) {
        let line = serde_json::json!({
            "prompt": prompt,
            "text": g.text,
            "token_ids": g.token_ids,
            "logprobs": g.logprobs,
            "finish_reason": g.finish_reason,
        });
        writeln!(out, "{line}")?;
    }
    Ok(ExitCode::SUCCESS)
}
