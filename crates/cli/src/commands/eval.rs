//! `srl-swe eval`: Agentless-mini evaluation on SWE tasks (`--mode oracle` / `--mode e2e`,
//! `srl-eval`) or math accuracy (`--mode math`, `eval_math.rs`).
//!
//! `srl-swe eval --model gold` validates environments (every shipped task must resolve) and
//! `--model empty` must resolve none. Outputs go to `--out` (`predictions.jsonl`,
//! `results.jsonl`, `report.json`); a re-run with the same `--out` skips finished instances.
use anyhow::Context;
use srl_eval::instances::InstanceFilter;
use srl_eval::outputs::{InstanceResult, OutputDir};
use srl_eval::pipeline::{evaluate, run_info, DockerEnvs, EvalConfig, Mode, Reporter};
use srl_eval::{EmptyBackend, GoldBackend, ModelBackend, OpenAiBackend, OpenAiConfig, ReplayBackend};
use srl_sandbox::SandboxConfig;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// What to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum EvalMode {
    /// Repair with the files the gold fix touches (SWE tasks).
    Oracle,
    /// Localize files, then repair (SWE tasks).
    E2e,
    /// Math accuracy (greedy and Avg@k).
    Math,
    /// Held-out SRL reward on step instances (`eval_srl.rs`).
    Srl,
}

/// Which model answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ModelKind {
    /// The gold fix (validates environments: 100% must resolve).
    Gold,
    /// No answer at all (0% must resolve).
    Empty,
    /// Grade a predictions JSONL made elsewhere (`--predictions`).
    Replay,
    /// An OpenAI-compatible chat-completions server (vLLM, SGLang): `--base-url`, `--model-name`.
    Openai,
    /// The local tch model (`--checkpoint`).
    Local,
}

/// Options of `srl-swe eval`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  srl-swe eval --mode oracle --model gold --out out/eval-gold\n  srl-swe eval --mode e2e --model openai --base-url http://127.0.0.1:8000/v1 --model-name qwen\n  srl-swe eval --mode srl --checkpoint out/runs/demo-swe/checkpoint-60 --instances out/prepare/val.jsonl\n  srl-swe eval --mode math --checkpoint models/tiny"
)]
pub(crate) struct Args {
    /// Oracle files, end-to-end, or math.
    #[arg(long, value_enum, default_value = "oracle")]
    pub(crate) mode: EvalMode,
    /// Model backend.
    #[arg(long, value_enum, default_value = "gold")]
    pub(crate) model: ModelKind,
    /// Output folder (default `out/eval-<mode>-<model>`).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Instances file (JSONL or parquet of SWE-smith / SWE-bench / srl-swe task instances) or a folder of
    /// environments; default: the shipped environments.
    #[arg(long)]
    pub(crate) instances: Option<PathBuf>,
    /// The shipped environments folder.
    #[arg(long, env = "SRL_SWE_ENVIRONMENTS", default_value = "environments")]
    pub(crate) environments: PathBuf,
    /// Only these instance ids (comma-separated or repeated).
    #[arg(long = "instance-id", value_delimiter = ',')]
    pub(crate) instance_ids: Vec<String>,
    /// Only instance ids matching this regex.
    #[arg(long)]
    pub(crate) filter: Option<String>,
    /// At most this many instances.
    #[arg(long)]
    pub(crate) limit: Option<usize>,
    /// Malformed instance records are errors instead of skipped.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Containers (instances) in parallel.
    #[arg(long, default_value_t = 1)]
    pub(crate) workers: usize,
    /// Repair samples per instance; more than one draws with temperature and votes.
    #[arg(long, default_value_t = 1)]
    pub(crate) samples: usize,
    /// Sampling temperature (default 0 for one sample, 1.0 for several).
    #[arg(long)]
    pub(crate) temperature: Option<f64>,
    /// Maximum new tokens per model call.
    #[arg(long, default_value_t = 4096)]
    pub(crate) max_tokens: u32,
    /// Context cap of the repair prompt, tokens (estimated).
    #[arg(long, default_value_t = srl_eval::prompts::DEFAULT_MAX_INPUT_TOKENS)]
    pub(crate) max_input_tokens: usize,
    /// Parse only the `<solution>…</solution>` part of answers (thinking models).
    #[arg(long)]
    pub(crate) thinking: bool,
    /// Timeout of one instance's test run, seconds (SWE-bench's harness: 1,800).
    #[arg(long, default_value_t = srl_sandbox::grading::DEFAULT_TEST_TIMEOUT_SECS)]
    pub(crate) test_timeout: u64,
    /// Grading convention.
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) grading: crate::commands::grade::Grading,
    /// Evaluate again the instances that an earlier run in `--out` recorded as errors
    /// (backend outages are always evaluated again).
    #[arg(long)]
    pub(crate) retry_errors: bool,
    /// Docker Hub namespace of the published SWE-bench / SWE-smith images (`swebench`); `none`
    /// for the local names the harnesses build (`sweb.eval.x86_64.<id>:latest`).
    #[arg(long, default_value = "swebench")]
    pub(crate) image_namespace: String,
    /// Registry (mirror) put in front of derived image names, e.g. `registry.local:5000`.
    #[arg(long)]
    pub(crate) image_prefix: Option<String>,
    /// Pull a task image that is missing locally (where a registry is reachable).
    #[arg(long)]
    pub(crate) pull: bool,
    /// Do not build missing environment images before a run on the shipped environments.
    #[arg(long)]
    pub(crate) no_build: bool,
    /// Predictions JSONL for `--model replay`.
    #[arg(long)]
    pub(crate) predictions: Option<PathBuf>,
    /// Base URL of the OpenAI-compatible server, e.g. `http://127.0.0.1:8000/v1`.
    #[arg(long, env = "SRL_SWE_BASE_URL")]
    pub(crate) base_url: Option<String>,
    /// Model name sent to the server (and written to predictions).
    #[arg(long)]
    pub(crate) model_name: Option<String>,
    /// Environment variable holding the API key.
    #[arg(long, default_value = "OPENAI_API_KEY")]
    pub(crate) api_key_env: String,
    /// Concurrent requests to the server.
    #[arg(long, default_value_t = 8)]
    pub(crate) concurrency: usize,
    /// Retries per request (exponential backoff).
    #[arg(long, default_value_t = 3)]
    pub(crate) retries: u32,
    /// Per-request timeout, seconds.
    #[arg(long, default_value_t = 600)]
    pub(crate) request_timeout: u64,
    /// Checkpoint folder for `--model local` (HF layout: config, safetensors, tokenizer).
    #[arg(long)]
    pub(crate) checkpoint: Option<PathBuf>,
    /// Device of `--model local`: cpu, cuda, cuda:N.
    #[arg(long, default_value = "cpu")]
    pub(crate) device: String,
}

/// The local tch policy (`srl-model`) behind the eval backend trait: one request at a time
/// (tch tensors are not `Sync`), chat template of the checkpoint, greedy at temperature 0.
struct LocalBackend {
    name: String,
    policy: std::sync::Mutex<srl_model::Policy>,
}

impl ModelBackend for LocalBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn count_tokens(&self, text: &str) -> Option<usize> {
        self.policy.lock().ok()?.encode_text(text).ok().map(|ids| ids.len())
    }

    fn complete(&self, request: &srl_eval::ChatRequest) -> srl_eval::Result<srl_eval::Completion> {
        let err =
            |e: srl_model::ModelError| srl_eval::EvalError::Backend { backend: "local".into(), message: e.to_string() };
        let policy = self.policy.lock().map_err(|_| srl_eval::EvalError::Backend {
            backend: "local".into(),
            message: "the model lock is poisoned by an earlier panic".into(),
        })?;
        let prompt = policy.prompt_ids(&request.messages).map_err(err)?;
        let config = srl_model::GenerationConfig {
            max_new_tokens: request.max_tokens as usize,
            temperature: request.temperature,
            seed: request.sample as u64,
            ..srl_model::GenerationConfig::default()
        };
        let prompt_len = prompt.len() as u64;
        let generation = policy.generate(&[prompt], &config).map_err(err)?.into_iter().next().ok_or_else(|| {
            srl_eval::EvalError::Backend { backend: "local".into(), message: "no generation returned".into() }
        })?;
        Ok(srl_eval::Completion {
            text: generation.text.clone().unwrap_or_default(),
            prompt_tokens: Some(prompt_len),
            completion_tokens: Some(generation.token_ids.len() as u64),
            finish_reason: Some(format!("{:?}", generation.finish_reason).to_lowercase()),
            token_ids: Some(generation.token_ids),
            logprobs: Some(generation.logprobs),
        })
    }
}

struct BarReporter(indicatif::ProgressBar);

impl Reporter for BarReporter {
    fn started(&self, total: usize) {
        self.0.set_length(total as u64);
    }
    fn instance_done(&self, result: &InstanceResult) {
        self.0.inc(1);
        self.0.set_message(format!("eval {}", result.instance_id));
    }
}

/// The `openai` backend from `--base-url`, `--model-name` and the request flags.
pub(crate) fn openai_backend(args: &Args) -> anyhow::Result<OpenAiBackend> {
    let base_url = args.base_url.clone().context("--model openai needs --base-url (e.g. http://127.0.0.1:8000/v1)")?;
    let model = args.model_name.clone().context("--model openai needs --model-name")?;
    Ok(OpenAiBackend::new(OpenAiConfig {
        base_url,
        model,
        api_key_env: args.api_key_env.clone(),
        concurrency: args.concurrency,
        retries: args.retries,
        backoff_ms: 1000,
        timeout_s: args.request_timeout,
    })?)
}

fn backend(args: &Args, instances: &[srl_core::TaskInstance]) -> anyhow::Result<Arc<dyn ModelBackend>> {
    Ok(match args.model {
        ModelKind::Gold => Arc::new(GoldBackend::new(instances)?),
        ModelKind::Empty => Arc::new(EmptyBackend),
        ModelKind::Replay => {
            let p = args.predictions.as_ref().context("--model replay needs --predictions <file.jsonl>")?;
            Arc::new(ReplayBackend::from_jsonl(p)?)
        }
        ModelKind::Openai => Arc::new(openai_backend(args)?),
        ModelKind::Local => {
            let dir = args.checkpoint.as_ref().context("--model local needs --checkpoint <folder>")?;
            let device: srl_model::Device = args.device.parse()?;
            device.check_available()?;
            let policy = srl_model::Policy::load(dir, device, srl_model::DType::F32)
                .with_context(|| format!("loading the checkpoint {}", dir.display()))?;
            let name = dir.file_name().map_or_else(|| "local".to_string(), |n| n.to_string_lossy().into_owned());
            Arc::new(LocalBackend { name, policy: std::sync::Mutex::new(policy) })
        }
    })
}

/// Flags that only SWE evaluation (`--mode oracle|e2e`) reads, by clap id.
const SWE_ONLY: &[&str] = &[
    "environments",
    "instance_ids",
    "filter",
    "workers",
    "max_input_tokens",
    "thinking",
    "test_timeout",
    "grading",
    "retry_errors",
    "image_namespace",
    "image_prefix",
    "pull",
    "no_build",
    "predictions",
];
/// Flags of the `openai` backend, which `--mode math` does not have.
const OPENAI_ONLY: &[&str] = &["base_url", "model_name", "api_key_env", "concurrency", "retries", "request_timeout"];

/// `--mode math` and `--mode srl` share `eval`'s flags with SWE evaluation; a flag given on the
/// command line that the chosen mode would ignore is an error naming it, not silently dropped.
pub(crate) fn refuse_flags_of_other_modes(args: &Args, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    let ignored: &[&[&str]] = match args.mode {
        EvalMode::Oracle | EvalMode::E2e => return Ok(()),
        EvalMode::Srl => &[SWE_ONLY],
        EvalMode::Math => &[SWE_ONLY, OPENAI_ONLY, &["model"]],
    };
    let given: Vec<String> = ignored
        .iter()
        .flat_map(|ids| ids.iter())
        .filter(|id| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
        .map(|id| format!("--{}", id.replace('_', "-")))
        .collect();
    if !given.is_empty() {
        let mode = if args.mode == EvalMode::Math { "math" } else { "srl" };
        anyhow::bail!(
            "{} only appl{} to SWE evaluation (--mode oracle|e2e), not to --mode {mode}",
            given.join(", "),
            if given.len() == 1 { "ies" } else { "y" }
        );
    }
    Ok(())
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mode = match args.mode {
        EvalMode::Math => return crate::commands::eval_math::run(&args),
        EvalMode::Srl => return crate::commands::eval_srl::run(&args),
        EvalMode::Oracle => Mode::Oracle,
        EvalMode::E2e => Mode::E2e,
    };
    if args.samples == 0 {
        anyhow::bail!("--samples must be at least 1");
    }
    let loaded = srl_eval::instances::load(args.instances.as_deref(), &args.environments, args.strict)?;
    let skipped = loaded.skipped.len();
    if skipped > 0 {
        eprintln!("[eval] skipped {skipped} malformed instance record(s) (use --strict to fail)");
    }
    let filter = InstanceFilter::new(args.instance_ids.clone(), args.filter.as_deref(), args.limit)?;
    let mut instances = filter.apply(loaded.instances);
    let naming = srl_eval::instances::ImageNaming {
        namespace: Some(args.image_namespace.clone()).filter(|n| n != "none" && !n.is_empty()),
        prefix: args.image_prefix.clone(),
        ..srl_eval::instances::ImageNaming::default()
    };
    srl_eval::instances::resolve_images(&mut instances, &naming);
    if instances.is_empty() {
        anyhow::bail!("no instances left after the filters");
    }
    let backend = backend(&args, &instances)?;
    let model_label = match args.model {
        ModelKind::Openai | ModelKind::Replay => "model".to_string(),
        other => format!("{other:?}").to_lowercase(),
    };
    let out_dir =
        args.out.clone().unwrap_or_else(|| PathBuf::from(format!("out/eval-{}-{model_label}", mode.as_str())));
    let config = EvalConfig {
        mode,
        samples: args.samples,
        temperature: args.temperature.unwrap_or(if args.samples > 1 { 1.0 } else { 0.0 }),
        max_tokens: args.max_tokens,
        max_input_tokens: args.max_input_tokens,
        thinking: args.thinking,
        test_timeout_s: args.test_timeout,
        workers: args.workers.max(1),
        grading: args.grading.rule(),
        retry_errors: args.retry_errors,
    };
    let mut out = OutputDir::open(&out_dir)?;
    let rt = crate::commands::sandbox::runtime()?;
    let report = rt.block_on(async {
        srl_sandbox::docker::install_ctrl_c_cleanup();
        if args.instances.is_none() && !args.no_build {
            let docker = srl_sandbox::docker::connect().await?;
            let progress = crate::progress::Bar::new("environment images");
            let options = srl_sandbox::environments::BuildOptions::default();
            srl_sandbox::environments::ensure_environment_images(&docker, &args.environments, &options, &progress)
                .await
                .context("building the environment images (bash scripts/setup.sh builds the base image)")?;
        }
        let bar = crate::progress::bar(0, "eval");
        let reporter = BarReporter(bar.clone());
        let envs =
            Arc::new(DockerEnvs { config: SandboxConfig { pull_missing: args.pull, ..SandboxConfig::default() } });
        let summary = evaluate(instances, backend.clone(), envs, &config, &mut out, &reporter).await?;
        bar.finish_and_clear();
        if summary.interrupted {
            anyhow::Ok(None)
        } else {
            anyhow::Ok(Some(out.write_report(run_info(&config, backend.name(), &summary, skipped))?))
        }
    })?;
    let Some(report) = report else {
        eprintln!("[eval] interrupted: instances in flight were not recorded; re-run with the same --out to finish");
        return Ok(ExitCode::from(130));
    };
    eprintln!("[eval] wrote {}/predictions.jsonl, results.jsonl, report.json", out_dir.display());
    print!("{}", report.summary_table());
    Ok(ExitCode::SUCCESS)
}
