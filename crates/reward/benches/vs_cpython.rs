//! Benchmark: SequenceMatcher ratio of this crate vs CPython's `difflib` on the same pairs in one
//! run, for SWE-sized actions (50–3,000 chars) and math steps (200–2,000 chars), then batch SRL
//! scoring (format parsing + ratio, groups of 8 rollouts sharing one expert index) on 1 vs 2
//! threads. Run: `source scripts/env.sh && cargo bench -p srl-reward --bench vs_cpython`.
//!
//! Single-thread times are thread CPU time (CPython `time.thread_time()`, Rust
//! `/proc/thread-self/schedstat`), best of several runs, so other load on a shared machine
//! skews them little; batch scaling is wall time. CPython runs the same loop
//! (`SequenceMatcher(None, a, b).ratio()` per pair); both sides sum the ratios so the work is
//! checked to be identical.

use rayon::prelude::*;
use srl_core::{Action, TaskKind};
use srl_reward::{score_batch, Group, NoProgress, RewardTarget, SequenceMatcher, SrlReward};
use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "../tests/support/rng.rs"]
mod rng;
use rng::Rng;

const CODE: &[&str] = &[
    "def ",
    "return ",
    "self.",
    "(",
    ")",
    ":\n",
    "        ",
    "value",
    " = ",
    " + ",
    "1",
    "if ",
    "else:\n",
    "import os\n",
    "for item in items:\n",
    "    ",
    "raise ValueError(\"bad\")\n",
    "# fix the parser\n",
    "x",
    "y",
    "[0]",
    ", ",
    "None",
];
const PROSE: &[&str] = &[
    "We ",
    "have ",
    "the ",
    "sum ",
    "of ",
    "$\\frac{",
    "}{",
    "}$ ",
    "so ",
    "that ",
    "x^2 + ",
    "2x ",
    "= ",
    "0",
    "1",
    "7",
    ". ",
    "Therefore ",
    "\\sqrt{",
    "} ",
    "each ",
    "term ",
    "is ",
    "positive",
    ", ",
    "and ",
    "$n$ ",
    "\n\n",
];

fn text(rng: &mut Rng, tokens: &[&str], len: usize) -> String {
    let mut s = String::new();
    while s.len() < len {
        s.push_str(tokens[rng.below(tokens.len())]);
    }
    s.chars().take(len).collect()
}

fn mutate(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..rng.range(1, 8) {
        let n = chars.len();
        if n < 4 {
            break;
        }
        let at = rng.below(n - 1);
        match rng.below(3) {
            0 => {
                let len = rng.range(1, 30).min(n - at);
                chars.drain(at..at + len);
            }
            1 => {
                let ins: Vec<char> = "value = None\n".chars().take(rng.range(1, 12)).collect();
                chars.splice(at..at, ins);
            }
            _ => chars[at] = 'z',
        }
    }
    chars.into_iter().collect()
}

/// (model action, expert action) pairs of canonical SWE calls.
fn swe_pairs(rng: &mut Rng, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|_| {
            let body = rng.range(30, 2900);
            let expert = if rng.below(3) == 0 {
                Action::new("bash", [("command", text(rng, CODE, body.min(400)).as_str())]).to_canonical()
            } else {
                let old = text(rng, CODE, body / 2);
                let new = mutate(rng, &old);
                Action::new(
                    "str_replace_editor",
                    [
                        ("command", "str_replace"),
                        ("path", "/testbed/pkg/core.py"),
                        ("old_str", &old),
                        ("new_str", &new),
                    ],
                )
                .to_canonical()
            };
            (mutate(rng, &expert), expert)
        })
        .collect()
}

fn math_pairs(rng: &mut Rng, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|_| {
            let len = rng.range(200, 2000);
            let expert = text(rng, PROSE, len);
            let len = rng.range(200, 2000);
            let model = if rng.below(2) == 0 { mutate(rng, &expert) } else { text(rng, PROSE, len) };
            (model, expert)
        })
        .collect()
}

const PY: &str = r#"
import difflib, json, sys, time
pairs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
best = None
for _ in range(int(sys.argv[2])):
    t = time.thread_time()
    total = 0.0
    for a, b in pairs:
        total += difflib.SequenceMatcher(None, a, b).ratio()
    dt = time.thread_time() - t
    best = dt if best is None else min(best, dt)
print(json.dumps({"seconds": best, "sum": total}))
"#;

fn cpython(pairs: &[(String, String)], reps: usize) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pairs.jsonl");
    let mut f = std::fs::File::create(&path).expect("create pairs file");
    for p in pairs {
        serde_json::to_writer(&mut f, p).expect("write pair");
        f.write_all(b"\n").expect("write pair");
    }
    drop(f);
    let python = std::env::var("SRL_SWE_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .arg("-c")
        .arg(PY)
        .arg(&path)
        .arg(reps.to_string())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}; `source scripts/env.sh` or install python3"));
    assert!(out.status.success(), "CPython failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("CPython output");
    (v["seconds"].as_f64().unwrap_or(f64::NAN), v["sum"].as_f64().unwrap_or(f64::NAN))
}

fn best_of(reps: usize, mut f: impl FnMut() -> f64) -> (Duration, f64) {
    let mut best = Duration::MAX;
    let mut sum = 0.0;
    for _ in 0..reps {
        let t = Instant::now();
        sum = f();
        best = best.min(t.elapsed());
    }
    (best, sum)
}

/// CPU time of the calling thread (`/proc/thread-self/schedstat`, ns), so single-thread
/// comparisons are not skewed by other processes on a shared machine.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}

/// Best thread-CPU time per call of `f`, over `reps` runs of `iters` calls each (wall time
/// where schedstat is missing). schedstat advances in scheduler ticks, so each run must last
/// well over a tick: `iters` calls of `f` take ~100 ms or more.
fn best_cpu_of(reps: usize, iters: u32, mut f: impl FnMut() -> f64) -> (Duration, f64) {
    let mut best = Duration::MAX;
    let mut sum = 0.0;
    for _ in 0..reps {
        let (c0, t0) = (thread_cpu(), Instant::now());
        for _ in 0..iters {
            sum = std::hint::black_box(f());
        }
        let spent = match (c0, thread_cpu()) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => t0.elapsed(),
        };
        best = best.min(spent / iters);
    }
    (best, sum)
}

fn rust_single(pairs: &[(String, String)]) -> f64 {
    pairs.iter().map(|(a, b)| SequenceMatcher::new(b).ratio(a)).sum()
}

fn compare(name: &str, pairs: &[(String, String)]) {
    let chars: usize = pairs.iter().map(|(a, b)| a.chars().count() + b.chars().count()).sum();
    let (py_s, py_sum) = cpython(pairs, 5);
    let iters = if pairs.len() >= 100 { 40 } else { 1 };
    let (rs, rs_sum) = best_cpu_of(5, iters, || rust_single(pairs));
    assert!((py_sum - rs_sum).abs() < 1e-9, "{name}: sums differ: CPython {py_sum} vs Rust {rs_sum}");
    let rs_s = rs.as_secs_f64();
    let (build, _) =
        best_cpu_of(5, iters * 4, || pairs.iter().map(|(_, b)| SequenceMatcher::new(b).b().len() as f64).sum());
    let matchers: Vec<SequenceMatcher> = pairs.iter().map(|(_, b)| SequenceMatcher::new(b)).collect();
    let (prebuilt, _) = best_cpu_of(5, iters, || pairs.iter().zip(&matchers).map(|((a, _), m)| m.ratio(a)).sum());
    println!(
        "{name:<28} {:>5} pairs, {:>5} chars/pair avg | CPython {:>8.2} ms | Rust 1 thread {:>7.2} ms | speed-up {:>6.1}x",
        pairs.len(),
        chars / pairs.len().max(1) / 2,
        py_s * 1e3,
        rs_s * 1e3,
        py_s / rs_s
    );
    println!(
        "{:<28} index build only {:>7.2} ms | ratio with a prebuilt index {:>7.2} ms",
        "",
        build.as_secs_f64() * 1e3,
        prebuilt.as_secs_f64() * 1e3
    );
}

fn batch_scaling(pairs: &[(String, String)], kind: TaskKind) {
    // Groups of G = 8 rollouts per expert: the model actions are mutations of the expert.
    let mut rng = Rng(7);
    let targets: Vec<RewardTarget> = pairs.iter().map(|(_, e)| RewardTarget::expert(kind, e.clone())).collect();
    let outputs: Vec<Vec<String>> = pairs
        .iter()
        .map(|(_, e)| (0..8).map(|_| format!("<think>step</think>\n{}", mutate(&mut rng, e))).collect())
        .collect();
    let groups: Vec<Group<'_>> = outputs.iter().zip(&targets).map(|(o, t)| Group { outputs: o, target: t }).collect();
    let reward = SrlReward::default();
    let n = groups.len() * 8;
    let run = || -> f64 {
        score_batch(&reward, &groups, &NoProgress)
            .into_par_iter()
            .map(|r| r.map(|v| v.iter().map(|o| o.reward).sum::<f64>()).unwrap_or(0.0))
            .sum()
    };
    let mut times = Vec::new();
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
        let (t, _) = pool.install(|| best_of(5, run));
        // Process CPU time over a longer run: with free cores, equal CPU per output means the
        // wall time divides by the thread count (no locks or shared writes in the hot path).
        let reps = 10;
        let (cpu0, wall0) = (process_cpu(), Instant::now());
        pool.install(|| (0..reps).map(|_| std::hint::black_box(run())).sum::<f64>());
        let cpu_per_output = process_cpu().zip(cpu0).map(|(b, a)| (b - a) / f64::from(reps) / n as f64 * 1e6);
        let wall = wall0.elapsed().as_secs_f64() / f64::from(reps);
        times.push(t.as_secs_f64());
        println!(
            "  batch SRL {kind:?}, {threads} thread(s): {n} outputs in {:.2} ms (best) = {:.0} outputs/s; mean {:.2} ms, CPU {} us/output",
            t.as_secs_f64() * 1e3,
            n as f64 / t.as_secs_f64(),
            wall * 1e3,
            cpu_per_output.map_or("?".to_string(), |c| format!("{c:.1}"))
        );
    }
    println!("  scaling 1 -> 2 threads (best wall time): {:.2}x", times[0] / times[1]);
}

/// CPU seconds of the whole process (user + system, `/proc/self/stat`, 100 Hz ticks).
fn process_cpu() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs a quick smoke pass.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n = if quick { 20 } else { 300 };
    let mut rng = Rng(2510_25992);
    let swe = swe_pairs(&mut rng, n);
    let math = math_pairs(&mut rng, n);
    println!("SequenceMatcher(None, a, b).ratio(), same pairs, one thread each, best thread-CPU time of 5 runs:");
    compare("SWE actions (50-3000 chars)", &swe);
    compare("math steps (200-2000 chars)", &math);
    println!("Batch SRL reward (parse + ratio, expert indexed once per group of 8):");
    batch_scaling(&swe, TaskKind::Swe);
    batch_scaling(&math, TaskKind::Math);
}
