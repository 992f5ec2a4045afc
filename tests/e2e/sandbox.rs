//! `srl-swe sandbox build` and `srl-swe sandbox gc` against the local Docker Engine (needs the
//! base image: `bash scripts/setup.sh`).
use crate::common::srl_swe;
use std::process::Command;
use std::time::{Duration, Instant};

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("the docker CLI (tests only) must be installed");
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn build_is_idempotent_and_quick_when_images_exist() {
    let first = srl_swe().args(["sandbox", "build"]).output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let t0 = Instant::now();
    let second = srl_swe().args(["sandbox", "build"]).output().unwrap();
    let took = t0.elapsed();
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    let outcomes: Vec<serde_json::Value> = serde_json::from_slice(&second.stdout).unwrap();
    let names: Vec<&str> = outcomes.iter().map(|o| o["environment"].as_str().unwrap()).collect();
    assert_eq!(names, ["intervals", "ledger", "minicalc", "textkit"]);
    assert!(outcomes.iter().all(|o| o["built"] == false), "{outcomes:?}");
    assert!(took < Duration::from_secs(10), "a no-op build took {took:?}");
    for o in &outcomes {
        let image = o["image"].as_str().unwrap();
        let label = docker(&["image", "inspect", image, "--format", "{{index .Config.Labels \"srl-swe.env-hash\"}}"]);
        assert_eq!(label, o["hash"].as_str().unwrap());
        // The SWE-smith layout: main plus one branch per task; the SWE-bench-shape `ledger`
        // environment has its tasks on `main` itself (the fix is the patch, tests in test_patch).
        let expected_branches = if o["environment"] == "ledger" { 1 } else { 4 };
        let branches = docker(&[
            "run",
            "--rm",
            "--network",
            "none",
            image,
            "git",
            "-C",
            "/testbed",
            "branch",
            "--format=%(refname:short)",
        ]);
        assert_eq!(branches.lines().count(), expected_branches, "{branches}");
        assert!(branches.lines().any(|b| b == "main"));
    }
}

#[test]
fn gc_removes_containers_left_by_a_crashed_run() {
    let run = format!("e2e-gc-{}", std::process::id());
    let base = std::env::var("SRL_SWE_BASE_IMAGE").unwrap_or_else(|_| "srl-swe/base:1".into());
    let label = format!("srl-swe.run={run}");
    let id = docker(&[
        "run",
        "-d",
        "--network",
        "none",
        "--label",
        "srl-swe=1",
        "--label",
        &label,
        &base,
        "sleep",
        "infinity",
    ]);
    let out = srl_swe().args(["sandbox", "gc", "--run", &run]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), id);
    assert_eq!(docker(&["ps", "-aq", "--filter", &format!("label={label}")]), "");
}

/// Owner labels naming process `pid` of this machine (`crates/sandbox/src/owner.rs`).
fn owner_labels(pid: u32) -> Vec<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let start = stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().nth(19)).unwrap_or("0").to_string();
    let read = |p: &str| std::fs::read_to_string(p).unwrap().trim().to_string();
    vec![
        format!("srl-swe.owner-pid={pid}"),
        format!("srl-swe.owner-start={start}"),
        format!("srl-swe.owner-boot={}", read("/proc/sys/kernel/random/boot_id")),
        format!("srl-swe.owner-host={}", read("/proc/sys/kernel/hostname")),
    ]
}

#[test]
fn gc_without_run_keeps_the_containers_of_a_live_job() {
    let run = format!("e2e-gc-live-{}", std::process::id());
    let base = std::env::var("SRL_SWE_BASE_IMAGE").unwrap_or_else(|_| "srl-swe/base:1".into());
    let mut job = Command::new("sleep").arg("120").spawn().unwrap();
    let mut dead = Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let start = |pid: u32| {
        let mut args = vec!["run", "-d", "--network", "none", "--label", "srl-swe=1"];
        let run_label = format!("srl-swe.run={run}");
        let labels = owner_labels(pid);
        args.extend(["--label", run_label.as_str()]);
        for l in &labels {
            args.extend(["--label", l.as_str()]);
        }
        args.extend([base.as_str(), "sleep", "infinity"]);
        docker(&args)
    };
    let live_id = start(job.id());
    let dead_id = start(dead_pid);
    let out = srl_swe().args(["sandbox", "gc"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let removed = String::from_utf8_lossy(&out.stdout);
    assert!(removed.lines().any(|l| l == dead_id), "{removed}");
    assert!(!removed.lines().any(|l| l == live_id), "{removed}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("its owner process is running"));
    let left = docker(&["ps", "-aq", "--no-trunc", "--filter", &format!("label=srl-swe.run={run}")]);
    assert_eq!(left, live_id, "the live job's container is kept, the orphan removed");
    job.kill().unwrap();
    job.wait().unwrap();
    let out = srl_swe().args(["sandbox", "gc"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).lines().any(|l| l == live_id), "its owner is gone now");
    assert_eq!(docker(&["ps", "-aq", "--filter", &format!("label=srl-swe.run={run}")]), "");
}
