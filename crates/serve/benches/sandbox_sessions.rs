//! Speed of `srl-swe serve sandbox` sessions on this machine (docs/agent.md): time to first
//! observation (`POST /v1/sessions`, container start included), the round trip of a `bash` step
//! over HTTP against the same command through a plain `docker exec` (bollard's exec API) and
//! through the sandbox's persistent exec session, and episodes per minute (create, the expert
//! trajectory's turns, evaluate in a fresh container, delete) with 1, 2 and 4 concurrent
//! sessions. Needs Docker and the `textkit` image. Run:
//! `cargo bench -p srl-serve --bench sandbox_sessions` (`SESSIONS_N` sets the sample sizes).
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use srl_sandbox::{ExecRequest, Sandbox};
use srl_serve::sandbox::{SandboxServer, SandboxServerConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

const INSTANCE: &str = "srl-swe__textkit.ea4138a2.func_pm_op_change__699bb2e0";
const SPEC: &str = "datasets/swe-smith-src/srl-swe__textkit.ea4138a2.func_pm_op_change__699bb2e0.614b68d8.json";
const BASH: &str = "<function=bash>\n<parameter=command>true</parameter>\n</function>";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

struct Conn(http1::SendRequest<Full<Bytes>>);

impl Conn {
    async fn open(addr: SocketAddr) -> Self {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.unwrap();
        tokio::spawn(conn);
        Self(sender)
    }

    async fn call(&mut self, method: &str, path: &str, body: Value) -> Value {
        self.0.ready().await.unwrap();
        let req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        let resp = self.0.send_request(req).await.unwrap();
        let status = resp.status();
        let raw = resp.into_body().collect().await.unwrap().to_bytes();
        assert!(status.is_success(), "{method} {path}: {status} {raw:?}");
        serde_json::from_slice(&raw).unwrap()
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn report(name: &str, v: &mut [f64]) {
    println!("{name:<44} p50 {:>8.2} ms   p99 {:>8.2} ms   (n = {})", pct(v, 0.5), pct(v, 0.99), v.len());
}

async fn episode(addr: SocketAddr, turns: &[String]) {
    let mut c = Conn::open(addr).await;
    let s = c.call("POST", "/v1/sessions", json!({"instance_id": INSTANCE})).await;
    let id = s["session_id"].as_str().unwrap().to_string();
    for t in turns {
        c.call("POST", &format!("/v1/sessions/{id}/step"), json!({"action": t})).await;
    }
    let ev = c.call("POST", &format!("/v1/sessions/{id}/evaluate"), json!({})).await;
    assert_eq!(ev["resolved"], true, "{ev}");
    c.call("DELETE", &format!("/v1/sessions/{id}"), json!({})).await;
}

fn main() {
    let n: usize = std::env::var("SESSIONS_N").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let config = SandboxServerConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            environments: repo().join("environments"),
            max_sessions: 4,
            ..SandboxServerConfig::default()
        };
        let server = SandboxServer::bind(config).await.expect("Docker running and images built?");
        let addr = server.local_addr();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));

        let mut first = Vec::new();
        let mut steps = Vec::new();
        for _ in 0..n {
            let mut c = Conn::open(addr).await;
            let t = Instant::now();
            let s = c.call("POST", "/v1/sessions", json!({"instance_id": INSTANCE})).await;
            first.push(t.elapsed().as_secs_f64() * 1e3);
            let id = s["session_id"].as_str().unwrap().to_string();
            for _ in 0..5 {
                let t = Instant::now();
                c.call("POST", &format!("/v1/sessions/{id}/step"), json!({"action": BASH})).await;
                steps.push(t.elapsed().as_secs_f64() * 1e3);
            }
            c.call("DELETE", &format!("/v1/sessions/{id}"), json!({})).await;
        }
        report("time to first observation (create)", &mut first);
        report("bash step round trip (HTTP session)", &mut steps);

        let inst = srl_sandbox::environments::find_instance(&repo().join("environments"), INSTANCE).unwrap();
        let env = srl_sandbox::start_task(&inst, &srl_sandbox::SandboxConfig::default()).await.unwrap();
        let (mut exec, mut session) = (Vec::new(), Vec::new());
        for _ in 0..(5 * n) {
            let t = Instant::now();
            env.sandbox.exec(&ExecRequest::new("true").workdir("/testbed")).await.unwrap();
            exec.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            env.sandbox.exec_merged(&ExecRequest::new("true").workdir("/testbed")).await.unwrap();
            session.push(t.elapsed().as_secs_f64() * 1e3);
        }
        env.sandbox.remove().await.unwrap();
        report("same command, docker exec (bollard)", &mut exec);
        report("same command, sandbox exec session", &mut session);

        let spec: srl_sandbox::expert::ExpertSpec =
            serde_json::from_str(&std::fs::read_to_string(repo().join(SPEC)).unwrap()).unwrap();
        let turns: Vec<String> = spec.steps.iter().map(|s| s.action().unwrap().to_canonical()).collect();
        for k in [1usize, 2, 4] {
            let episodes = k * 2;
            let t = Instant::now();
            let mut tasks = Vec::new();
            for w in 0..k {
                let turns = turns.clone();
                tasks.push(tokio::spawn(async move {
                    for _ in 0..episodes / k {
                        episode(addr, &turns).await;
                    }
                    w
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
            let min = t.elapsed().as_secs_f64() / 60.0;
            println!(
                "episodes/min with {k} concurrent session(s): {:>6.2}  ({episodes} expert episodes of {} turns, graded)",
                episodes as f64 / min,
                turns.len()
            );
        }
        let _ = stop.send(());
        done.await.unwrap().unwrap();
    });
}
