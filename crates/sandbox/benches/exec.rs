//! Sandbox speed: container create→ready time, and the exec round trip of `true` in a running
//! container through `DockerSandbox::exec` (bollard; the full path: `timeout -s KILL` +
//! `bash -c`, output capture, `inspect_exec`), side by side with `docker exec <id> true` from
//! the CLI in the same run, and the persistent-session fast path (`exec_session`). Prints p50 / p99. Run: `cargo bench -p srl-sandbox --bench exec`
//! (needs Docker and the base image). Set `SRL_SWE_BENCH_N` to change the sample count.
use srl_sandbox::{DockerSandbox, ExecRequest, Sandbox, SandboxConfig};
use std::time::{Duration, Instant};

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx.min(samples.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(name: &str, samples: &mut [Duration]) -> (f64, f64) {
    let (p50, p99) = (ms(percentile(samples, 0.5)), ms(percentile(samples, 0.99)));
    println!("{name:<44} n={:<4} p50 {p50:>8.2} ms   p99 {p99:>8.2} ms", samples.len());
    (p50, p99)
}

fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let n: usize = std::env::var("SRL_SWE_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let image = std::env::var("SRL_SWE_BASE_IMAGE").unwrap_or_else(|_| "srl-swe/base:1".into());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async {
        let cfg = SandboxConfig { run_id: Some("bench".into()), ..SandboxConfig::default() };
        let docker = srl_sandbox::docker::connect().await?;
        // create -> ready (exec of `true` succeeded)
        let mut starts = Vec::new();
        for _ in 0..10 {
            let t0 = Instant::now();
            let sb = DockerSandbox::start_with(&docker, &image, &cfg).await?;
            starts.push(t0.elapsed());
            sb.remove().await?;
        }
        report("container create -> ready (bollard)", &mut starts);

        let sb = DockerSandbox::start_with(&docker, &image, &cfg).await?;
        for _ in 0..10 {
            sb.exec(&ExecRequest::new("true")).await?;
        }
        let mut ours = Vec::with_capacity(n);
        for _ in 0..n {
            let t0 = Instant::now();
            let out = sb.exec(&ExecRequest::new("true")).await?;
            ours.push(t0.elapsed());
            anyhow::ensure!(out.exit_code == 0, "exec failed: {out:?}");
        }
        let mut fast = Vec::with_capacity(n);
        for _ in 0..n {
            let t0 = Instant::now();
            let out = sb.exec_session(&ExecRequest::new("true")).await?;
            fast.push(t0.elapsed());
            anyhow::ensure!(out.exit_code == 0, "session exec failed: {out:?}");
        }
        let mut cli = Vec::with_capacity(n);
        for _ in 0..n {
            let t0 = Instant::now();
            let st = tokio::process::Command::new("docker").args(["exec", sb.id(), "true"]).status().await?;
            cli.push(t0.elapsed());
            anyhow::ensure!(st.success(), "docker exec failed");
        }
        let (ours50, _) = report("exec `true`: DockerSandbox::exec (bollard)", &mut ours);
        let (fast50, _) = report("exec `true`: DockerSandbox::exec_session", &mut fast);
        let (cli50, _) = report("exec `true`: docker exec CLI", &mut cli);
        println!("p50 speed-up over the CLI: exec {:.1}x, exec_session {:.1}x", cli50 / ours50, cli50 / fast50);
        sb.remove().await?;
        Ok(())
    })
}
