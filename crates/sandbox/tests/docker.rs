//! Real-container tests of `DockerSandbox`: limits, isolation and cleanup. They need a Docker
//! Engine and the base image (`bash scripts/setup.sh`) and fail, not skip, without them.
//! Every test uses its own run id and checks at its end that no container of that run is left.
use srl_sandbox::docker::{connect, gc, live_containers, GcScope};
use srl_sandbox::{DockerSandbox, ExecRequest, Sandbox, SandboxConfig};
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn base_image() -> String {
    std::env::var("SRL_SWE_BASE_IMAGE").unwrap_or_else(|_| "srl-swe/base:1".into())
}

fn config(run: &str) -> SandboxConfig {
    SandboxConfig { run_id: Some(format!("docker-tests-{run}-{}", std::process::id())), ..SandboxConfig::default() }
}

async fn start(cfg: &SandboxConfig) -> DockerSandbox {
    match DockerSandbox::start(&base_image(), cfg).await {
        Ok(sb) => sb,
        Err(e) => panic!("{e}\n(Docker tests need a Docker Engine and the base image: run bash scripts/setup.sh)"),
    }
}

/// Containers still carrying the run's label.
async fn left_over(cfg: &SandboxConfig) -> Vec<String> {
    let docker = connect().await.expect("docker");
    let mut filters = HashMap::new();
    let label = format!("srl-swe.run={}", cfg.run_id.clone().unwrap_or_default());
    filters.insert("label", vec![label.as_str()]);
    let opts = bollard::query_parameters::ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
    docker.list_containers(Some(opts)).await.expect("list").into_iter().filter_map(|c| c.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_is_unreachable() {
    let cfg = config("net");
    let sb = start(&cfg).await;
    let out = sb
        .exec(&ExecRequest::new("python3 -c \"import socket; socket.create_connection(('1.1.1.1', 53), timeout=3)\"; echo rc=$?; ls /sys/class/net"))
        .await
        .unwrap();
    assert!(out.output.contains("Network is unreachable") || out.output.contains("OSError"), "{}", out.output);
    assert!(out.stdout.contains("rc=1"), "{}", out.stdout);
    assert_eq!(out.stdout.lines().last(), Some("lo"), "only the loopback interface: {}", out.stdout);
    sb.remove().await.unwrap();
    assert!(left_over(&cfg).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_bomb_is_contained_by_the_pids_limit() {
    let cfg = SandboxConfig { pids_limit: 64, ..config("forkbomb") };
    let sb = start(&cfg).await;
    let t0 = Instant::now();
    let out = sb
        .exec(&ExecRequest::new("bomb() { bomb | bomb & }; bomb; sleep 3").timeout(Duration::from_secs(4)))
        .await
        .unwrap();
    // 4 s timeout + 1 s stream guard + the stop-then-kill of every process of the command user
    // (measured 6 s on an idle 2-core machine, more while it compiles).
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    assert!(out.output.contains("Resource temporarily unavailable") || out.timed_out, "{out:?}");
    // The container recovers once the bomb is killed, and the limit held throughout.
    let mut alive = None;
    let mut last = String::new();
    for _ in 0..20 {
        match sb
            .exec(
                &ExecRequest::new("cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max")
                    .timeout(Duration::from_secs(5)),
            )
            .await
        {
            Ok(o) if o.success() => {
                alive = Some(o);
                break;
            }
            other => last = format!("{other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let alive = alive.unwrap_or_else(|| {
        panic!("the container must accept commands again after the fork bomb; bomb: {out:?}; last: {last}")
    });
    assert_eq!(alive.stdout.trim(), "64");
    // The host can still start processes.
    assert!(std::process::Command::new("true").status().unwrap().success());
    sb.remove().await.unwrap();
    assert!(left_over(&cfg).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_hog_is_killed_without_harming_the_host() {
    let cfg = SandboxConfig { memory_bytes: 128 << 20, ..config("memhog") };
    let sb = start(&cfg).await;
    let out = sb
        .exec(
            &ExecRequest::new("python3 -c \"b = []\nwhile True: b.append(bytearray(16 << 20))\"")
                .timeout(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    assert_eq!(out.exit_code, 137, "killed by the OOM killer: {out:?}");
    assert!(!out.timed_out, "{out:?}");
    let after = sb.exec(&ExecRequest::new("echo still here")).await.unwrap();
    assert_eq!(after.stdout, "still here\n");
    sb.remove().await.unwrap();
    assert!(left_over(&cfg).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_containers_run_in_parallel() {
    let cfg = config("parallel");
    let t0 = Instant::now();
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let cfg = cfg.clone();
            tokio::spawn(async move {
                let sb = start(&cfg).await;
                let out = sb.exec(&ExecRequest::new(format!("sleep 1; echo {i}"))).await.unwrap();
                let id = sb.id().to_string();
                sb.remove().await.unwrap();
                (id, out.stdout)
            })
        })
        .collect();
    let mut ids = Vec::new();
    for (i, h) in handles.into_iter().enumerate() {
        let (id, stdout) = h.await.unwrap();
        assert_eq!(stdout, format!("{i}\n"));
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 16);
    eprintln!("16 containers: {:?}", t0.elapsed());
    assert!(left_over(&cfg).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containers_are_removed_on_drop_and_on_panic() {
    let cfg = config("drop");
    let sb = start(&cfg).await;
    let id = sb.id().to_string();
    assert!(live_containers().contains(&id));
    drop(sb);
    assert!(!live_containers().contains(&id));
    let cfg2 = cfg.clone();
    let task = tokio::spawn(async move {
        let sb = start(&cfg2).await;
        let out = sb.exec(&ExecRequest::new("true")).await.unwrap();
        if out.success() {
            panic!("a test failing while it holds a sandbox");
        }
    });
    assert!(task.await.unwrap_err().is_panic());
    assert!(left_over(&cfg).await.is_empty(), "drop and unwinding remove the container");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_removes_leaked_containers_by_label() {
    let cfg = config("gc");
    let sb = start(&cfg).await;
    std::mem::forget(sb); // a crashed run: no Drop
    assert_eq!(left_over(&cfg).await.len(), 1);
    let docker = connect().await.unwrap();
    let removed = gc(&docker, GcScope::Run(cfg.run_id.as_deref().unwrap())).await.unwrap().removed;
    assert_eq!(removed.len(), 1);
    assert!(left_over(&cfg).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_image_is_a_clear_error() {
    let err = DockerSandbox::start("srl-swe/does-not-exist:0", &config("missing")).await.unwrap_err();
    assert_eq!(err.kind(), "image_missing");
    assert!(err.to_string().contains("srl-swe/does-not-exist:0"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_session_is_a_fast_path_with_the_same_limits() {
    let cfg = SandboxConfig { output_limit_bytes: 4096, ..config("session") };
    let sb = start(&cfg).await;
    let out = sb
        .exec_session(
            &ExecRequest::new("echo out; echo err >&2; pwd; echo \"$V\"; exit 3").workdir("/tmp").env("V", "it's"),
        )
        .await
        .unwrap();
    assert_eq!(out.exit_code, 3);
    assert_eq!(out.output, "out\nerr\n/tmp\nit's\n");
    let out = sb.exec_session(&ExecRequest::new("printf 'no newline'")).await.unwrap();
    assert_eq!(out.output, "no newline");
    let out = sb.exec_session(&ExecRequest::new("echo 'héllo ✓'; printf '%s' \"$LANG\"")).await.unwrap();
    assert_eq!(out.output, "héllo ✓\nC.UTF-8", "multi-byte scripts and the container's locale");
    let out = sb.exec_session(&ExecRequest::new("yes | head -c 100000")).await.unwrap();
    assert_eq!(out.truncated_bytes, 100_000 - 4096);
    let t0 = Instant::now();
    let out =
        sb.exec_session(&ExecRequest::new("sleep 1000 & sleep 1000").timeout(Duration::from_secs(2))).await.unwrap();
    assert!(out.timed_out && t0.elapsed() < Duration::from_secs(3), "{out:?} {:?}", t0.elapsed());
    let ps = sb.exec_session(&ExecRequest::new("ps -eo args | grep -c '^sleep 1000' || true")).await.unwrap();
    assert_eq!(ps.output.trim(), "0", "the tree is gone and the session recovers: {ps:?}");
    let t0 = Instant::now();
    for _ in 0..20 {
        assert!(sb.exec_session(&ExecRequest::new("true")).await.unwrap().success());
    }
    eprintln!("20 session round trips: {:?}", t0.elapsed());
    sb.remove().await.unwrap();
    assert!(left_over(&cfg).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_instance_without_its_image_names_the_image() {
    let inst: srl_core::TaskInstance = serde_json::from_value(serde_json::json!({
        "instance_id": "luozhouyang__python-string-similarity.115acaac.func_pm_remove_cond__gch4emzr",
        "repo": "swesmith/luozhouyang__python-string-similarity.115acaac",
        "base_commit": "luozhouyang__python-string-similarity.115acaac.func_pm_remove_cond__gch4emzr",
        "image_name": "swesmith.x86_64.luozhouyang__python-string-similarity.115acaac",
        "problem_statement": "p", "patch": "", "patch_is_bug": true,
        "FAIL_TO_PASS": ["tests/test_a.py::t"], "PASS_TO_PASS": []
    }))
    .unwrap();
    let err = srl_sandbox::start_task(&inst, &config("upstream")).await.unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), "image_missing");
    assert!(text.contains("swesmith.x86_64.luozhouyang__python-string-similarity.115acaac"), "{text}");
    assert!(
        text.contains("needed by luozhouyang__python-string-similarity.115acaac.func_pm_remove_cond__gch4emzr"),
        "{text}"
    );
}
