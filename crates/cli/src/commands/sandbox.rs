//! `srl-swe sandbox`: build the task-environment images (`build`) and remove containers left
//! by crashed runs (`gc`: only those whose owner process is gone, judged from their owner
//! labels; `--run ID` one run's, `--all` every srl-swe container). Both talk to Docker through
//! `srl-sandbox` (bollard), never the CLI.
use std::path::PathBuf;
use std::process::ExitCode;

/// Subcommands of `srl-swe sandbox`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Build the images of environments/ that are missing or out of date (idempotent).
    Build(BuildArgs),
    /// Remove srl-swe containers whose owner process is gone (or one run's, or all).
    Gc(GcArgs),
}

/// Options of `srl-swe sandbox build`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  srl-swe sandbox build")]
pub(crate) struct BuildArgs {
    /// Folder holding the environments (`<name>/repo`, `<name>/instances.jsonl`).
    #[arg(long, env = "SRL_SWE_ENVIRONMENTS", default_value = "environments")]
    environments: PathBuf,
    /// Base image the environment images build on.
    #[arg(long, env = "SRL_SWE_BASE_IMAGE", default_value = srl_sandbox::environments::DEFAULT_BASE_IMAGE)]
    base_image: String,
    /// Rebuild even when an up-to-date image exists.
    #[arg(long)]
    force: bool,
    /// Only these environments (repeatable).
    #[arg(long)]
    only: Vec<String>,
}

/// Options of `srl-swe sandbox gc`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  srl-swe sandbox gc\n  srl-swe sandbox gc --all")]
pub(crate) struct GcArgs {
    /// Every container of this run id (label `srl-swe.run`), live or not.
    #[arg(long, conflicts_with = "all")]
    run: Option<String>,
    /// Every srl-swe container on the engine, including those of running jobs.
    #[arg(long)]
    all: bool,
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

pub(crate) fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async move {
        let docker = srl_sandbox::docker::connect().await?;
        match cmd {
            Command::Build(args) => {
                let options = srl_sandbox::environments::BuildOptions {
                    base_image: args.base_image,
                    force: args.force,
                    only: args.only,
                };
                let progress = crate::progress::Bar::new("");
                let outcomes = srl_sandbox::environments::ensure_environment_images(
                    &docker,
                    &args.environments,
                    &options,
                    &progress,
                )
                .await?;
                for o in &outcomes {
                    let what = if o.built { "built" } else { "up to date" };
                    eprintln!("[sandbox] {} {} ({what})", o.environment, o.image);
                }
                println!("{}", serde_json::to_string(&outcomes)?);
                Ok(ExitCode::SUCCESS)
            }
            Command::Gc(args) => {
                use srl_sandbox::docker::GcScope;
                let scope = match (&args.run, args.all) {
                    (Some(run), _) => GcScope::Run(run),
                    (None, true) => GcScope::All,
                    (None, false) => GcScope::Orphaned,
                };
                let outcome = srl_sandbox::docker::gc(&docker, scope).await?;
                for (id, why) in &outcome.kept {
                    eprintln!("[sandbox] kept {}: {why}", &id[..12.min(id.len())]);
                }
                eprintln!(
                    "[sandbox] removed {} container(s) and {} dangling volume(s), kept {}",
                    outcome.removed.len(),
                    outcome.removed_volumes.len(),
                    outcome.kept.len()
                );
                for id in outcome.removed {
                    println!("{id}");
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
