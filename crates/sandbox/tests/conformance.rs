//! One conformance suite for every `Sandbox` implementation, expanded by a macro
//! (as burn's `testgen_all!` does). Docker tests need a running engine and the base image
//! (`bash scripts/setup.sh`); they fail, not skip, without them.
use srl_sandbox::{Capture, DockerSandbox, ExecRequest, FakeSandbox, Sandbox, SandboxConfig, SandboxError};
use std::time::{Duration, Instant};

fn config() -> SandboxConfig {
    SandboxConfig { output_limit_bytes: 4096, run_id: Some("conformance".into()), ..SandboxConfig::default() }
}

async fn docker() -> DockerSandbox {
    let image = std::env::var("SRL_SWE_BASE_IMAGE").unwrap_or_else(|_| "srl-swe/base:1".into());
    match DockerSandbox::start(&image, &config()).await {
        Ok(sb) => sb,
        Err(e) => panic!("{e}\n(Docker tests need a Docker Engine and the base image: run bash scripts/setup.sh)"),
    }
}

async fn fake() -> FakeSandbox {
    FakeSandbox::new(&config()).expect("fake sandbox")
}

macro_rules! conformance {
    ($module:ident, $make:ident) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn exec_reports_output_and_exit_code() {
                let sb = $make().await;
                let out = sb.exec(&ExecRequest::new("echo out; echo err >&2; exit 3")).await.unwrap();
                assert_eq!(out.exit_code, 3);
                assert_eq!(out.stdout, "out\n");
                assert_eq!(out.stderr, "err\n");
                assert!(out.output.contains("out\n") && out.output.contains("err\n"), "{:?}", out.output);
                assert!(!out.timed_out);
                sb.remove().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn exec_merged_keeps_arrival_order() {
                let sb = $make().await;
                let out = sb
                    .exec_merged(&ExecRequest::new("echo a; sleep 0.1; echo b >&2; sleep 0.1; echo c; exit 4"))
                    .await
                    .unwrap();
                assert_eq!(out.output, "a\nb\nc\n");
                assert_eq!(out.exit_code, 4);
                sb.remove().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn workdir_and_env_apply() {
                let sb = $make().await;
                sb.write_file("/testbed/sub/f.txt", b"x").await.unwrap();
                let out = sb
                    .exec(
                        &ExecRequest::new("ls; echo \"$GREETING\"").workdir("/testbed/sub").env("GREETING", "hi there"),
                    )
                    .await
                    .unwrap();
                assert_eq!(out.stdout, "f.txt\nhi there\n");
                sb.remove().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sleep_forever_is_killed_within_timeout_plus_one_second() {
                let sb = $make().await;
                let t0 = Instant::now();
                let out = sb
                    .exec(&ExecRequest::new("sleep 1000 & sleep 1000; echo never").timeout(Duration::from_secs(2)))
                    .await
                    .unwrap();
                let took = t0.elapsed();
                assert!(out.timed_out, "{out:?}");
                assert_eq!(out.exit_code, 137);
                assert!(took < Duration::from_secs(3), "took {took:?}");
                let ps = sb.exec(&ExecRequest::new("ps -eo args | grep -c '^sleep 1000' || true")).await.unwrap();
                assert_eq!(ps.stdout.trim(), "0", "the process tree must be gone: {ps:?}");
                sb.remove().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn flooding_output_is_capped_with_a_marker() {
                let sb = $make().await;
                let out = sb.exec(&ExecRequest::new("yes | head -c 5000000")).await.unwrap();
                assert_eq!(out.exit_code, 0);
                assert_eq!(out.truncated_bytes, 5_000_000 - 4096);
                assert!(out.output.ends_with("\n<output truncated: 4995904 bytes cut>\n"), "{}", &out.output[4000..]);
                sb.remove().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn head_and_tail_capture_keeps_the_end_of_a_flooded_log() {
                let sb = $make().await;
                let req = ExecRequest::new("seq 1 200000; echo '>>>>> End Test Output'").capture(Capture::HeadAndTail);
                for out in [sb.exec(&req).await.unwrap(), sb.exec_merged(&req).await.unwrap()] {
                    assert!(out.output.starts_with("1\n2\n3\n"), "{}", &out.output[..20]);
                    assert!(
                        out.output.ends_with("199999\n200000\n>>>>> End Test Output\n"),
                        "{}",
                        &out.output[out.output.len() - 60..]
                    );
                    let total = (1..=200000).map(|n: u32| n.to_string().len() + 1).sum::<usize>() + 22;
                    assert_eq!(out.truncated_bytes as usize, total - 4096);
                    assert!(out.output.contains(&format!("\n<output truncated: {} bytes cut>\n", total - 4096)));
                }
                sb.remove().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn files_round_trip() {
                let sb = $make().await;
                sb.write_file("/testbed/a/b.py", b"print('hi')\n").await.unwrap();
                assert_eq!(sb.read_file("/testbed/a/b.py").await.unwrap(), b"print('hi')\n");
                let out = sb.exec(&ExecRequest::new("cat a/b.py")).await.unwrap();
                assert_eq!(out.stdout, "print('hi')\n");
                assert!(matches!(sb.read_file("/testbed/missing.txt").await, Err(SandboxError::NotFound { .. })));
                assert!(matches!(sb.read_file("/testbed/a").await, Err(SandboxError::IsDirectory { .. })));
                assert!(matches!(sb.read_file("testbed/a").await, Err(SandboxError::RelativePath { .. })));
                let tar = srl_sandbox::pack_tar([("x/y.txt", &b"yy"[..], 0o644)]).unwrap();
                sb.upload(tar, "/testbed/up").await.unwrap();
                assert_eq!(sb.exec(&ExecRequest::new("cat up/x/y.txt")).await.unwrap().stdout, "yy");
                let back = sb.download("/testbed/up").await.unwrap();
                let mut names: Vec<String> = tar::Archive::new(back.as_slice())
                    .entries()
                    .unwrap()
                    .map(|e| e.unwrap().path().unwrap().to_string_lossy().trim_end_matches('/').to_string())
                    .collect();
                names.sort();
                assert_eq!(names, vec!["up", "up/x", "up/x/y.txt"]);
                sb.remove().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn removed_sandbox_refuses_work() {
                let sb = $make().await;
                sb.remove().await.unwrap();
                sb.remove().await.unwrap();
                assert!(matches!(sb.exec(&ExecRequest::new("true")).await, Err(SandboxError::Removed { .. })));
            }
        }
    };
}

conformance!(docker_sandbox, docker);
conformance!(fake_sandbox, fake);
