//! Records the expert trajectory specs of the shipped environments: runs every draft
//! `environments/<env>/experts/*.json` in its task container and writes
//! `datasets/swe-smith-src/<traj_id>.json` (then `python datasets/make_samples.py` renders the
//! SWE-smith samples). Run from the repository root:
//! `cargo run -p srl-sandbox --example record_experts [environments] [datasets/swe-smith-src]`.
use srl_sandbox::environments::load_environments;
use srl_sandbox::expert::{record_expert, ExpertDraft};
use srl_sandbox::SandboxConfig;
use std::path::PathBuf;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let envs_dir = PathBuf::from(args.next().unwrap_or_else(|| "environments".into()));
    let out_dir = PathBuf::from(args.next().unwrap_or_else(|| "datasets/swe-smith-src".into()));
    let config = SandboxConfig { run_id: Some("record-experts".into()), ..SandboxConfig::default() };
    let mut failures = 0;
    for env in load_environments(&envs_dir)? {
        let mut drafts: Vec<PathBuf> =
            std::fs::read_dir(env.dir.join("experts"))?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        drafts.sort();
        for path in drafts {
            let draft: ExpertDraft = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
            let Some(instance) = env.instances.iter().find(|i| i.instance_id == draft.instance_id) else {
                anyhow::bail!("{}: unknown instance {}", path.display(), draft.instance_id);
            };
            let spec = record_expert(instance, &draft, &config).await?;
            let out = out_dir.join(format!("{}.json", spec.traj_id));
            srl_core::io::write_json_pretty(&out, &spec)?;
            eprintln!("{} resolved={} -> {}", spec.traj_id, spec.resolved, out.display());
            if !spec.resolved {
                failures += 1;
            }
        }
    }
    anyhow::ensure!(failures == 0, "{failures} expert draft(s) do not resolve their task");
    Ok(())
}
