//! Harness overhead and worker scaling of the Agentless-mini pipeline: the
//! gold backend on the shipped environments in Docker, `--workers` 1 and 2 (the core count of
//! the reference machine). Reports per-instance harness overhead (everything except model and
//! test time: container start/removal, file reads, syntax check, patch build and apply), its
//! phases, and the wall-clock speed-up. Also times the pure-Rust part (SEARCH/REPLACE parsing +
//! git2 patch building) per instance.
//!
//! Run: `cargo bench -p srl-eval --bench harness` (needs Docker and the environment images:
//! `srl-swe sandbox build`). Optional: `SRL_EVAL_BENCH_WORKERS=1,2,4`.

use srl_eval::outputs::{InstanceResult, OutputDir};
use srl_eval::pipeline::{evaluate, DockerEnvs, EvalConfig, Mode, NoReporter};
use srl_eval::prompts::SourceFile;
use srl_eval::{ChatRequest, GoldBackend, ModelBackend, Purpose};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

fn summarize(label: &str, results: &[InstanceResult], wall: f64) {
    let harness: Vec<f64> = results.iter().map(|r| r.timings.harness_s).collect();
    let mut sorted = harness.clone();
    sorted.sort_by(f64::total_cmp);
    let mut phases: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in results {
        for (k, v) in &r.timings.phases {
            phases.entry(k.clone()).or_default().push(*v);
        }
    }
    let resolved = results.iter().filter(|r| r.resolved).count();
    println!(
        "{label}: {} instances, {resolved} resolved, wall {wall:.2} s, harness mean {:.3} s p50 {:.3} s max {:.3} s, tests mean {:.3} s",
        results.len(),
        mean(&harness),
        sorted.get(sorted.len() / 2).copied().unwrap_or(0.0),
        sorted.last().copied().unwrap_or(0.0),
        mean(&results.iter().map(|r| r.timings.test_s).collect::<Vec<_>>()),
    );
    let phase_line: Vec<String> = phases.iter().map(|(k, v)| format!("{k} {:.3}", mean(v))).collect();
    println!("  phases (mean s): {}", phase_line.join(", "));
}

fn pure_rust_cost(instances: &[srl_core::TaskInstance], gold: &GoldBackend, root: &std::path::Path) -> f64 {
    let mut total = 0.0;
    let mut n = 0;
    for t in instances {
        let env = t.image_name.trim_start_matches("srl-swe/env-").split(':').next().unwrap_or("");
        // The repos hold the clean code; the task state is the clean code with the bug applied.
        let Ok(bug) = srl_eval::unidiff::parse(&t.patch) else { continue };
        let files: Vec<SourceFile> = bug
            .iter()
            .filter_map(|fp| {
                let clean = std::fs::read_to_string(root.join(env).join("repo").join(fp.path())).ok()?;
                let content = srl_eval::unidiff::apply_to_text(&clean, fp).ok()?;
                Some(SourceFile { path: fp.path().to_string(), content })
            })
            .collect();
        let req = ChatRequest {
            instance_id: t.instance_id.clone(),
            purpose: Purpose::Repair,
            sample: 0,
            messages: vec![],
            temperature: 0.0,
            max_tokens: 0,
            files: files.clone(),
        };
        let Ok(answer) = gold.complete(&req) else { continue };
        let iters = 50;
        let start = Instant::now();
        for _ in 0..iters {
            let edits = srl_eval::search_replace::apply_answer(&answer.text, &files);
            let _ = srl_eval::patch::build_patch(&edits.files);
        }
        total += start.elapsed().as_secs_f64() / f64::from(iters);
        n += 1;
    }
    if n == 0 {
        0.0
    } else {
        total / n as f64
    }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../environments");
    let loaded = srl_eval::instances::load(None, &root, true).expect("environments/ must exist");
    let instances = loaded.instances;
    let gold = GoldBackend::new(&instances).expect("gold patches parse");
    let pure = pure_rust_cost(&instances, &gold, &root);
    assert!(pure > 0.0, "no instance could be prepared for the pure-Rust timing");
    println!("pure Rust (parse SEARCH/REPLACE + git2 patch) per instance: {:.3} ms", 1000.0 * pure);
    let backend: Arc<dyn ModelBackend> = Arc::new(gold);
    let workers: Vec<usize> = std::env::var("SRL_EVAL_BENCH_WORKERS")
        .unwrap_or_else(|_| "1,2".into())
        .split(',')
        .filter_map(|w| w.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    let mut walls = Vec::new();
    for &w in &workers {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut out = OutputDir::open(dir.path()).expect("output dir");
        let config = EvalConfig { mode: Mode::Oracle, workers: w, ..EvalConfig::default() };
        let start = Instant::now();
        let summary = rt
            .block_on(evaluate(
                instances.clone(),
                backend.clone(),
                Arc::new(DockerEnvs::default()),
                &config,
                &mut out,
                &NoReporter,
            ))
            .expect("evaluation runs (needs Docker and `srl-swe sandbox build`)");
        let wall = start.elapsed().as_secs_f64();
        assert_eq!(summary.evaluated, instances.len());
        summarize(&format!("workers {w}"), out.results(), wall);
        walls.push((w, wall));
    }
    if let Some(&(w0, base)) = walls.first() {
        for &(w, wall) in &walls[1..] {
            println!("speed-up workers {w} vs {w0}: {:.2}x", base / wall);
        }
    }
}
