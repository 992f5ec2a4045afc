//! Protocol tests of `srl-swe serve sandbox` (`srl_serve::sandbox`) over real HTTP on loopback
//! with real containers of the shipped `textkit` environment: a whole episode (task turn,
//! malformed and expert actions, final submit, evaluation in a fresh container, delete), the
//! bounded pool (`429` + `Retry-After`), the idle-TTL reaper, a container that cannot start (a
//! structured `503`), labels, and no container left after shutdown. Needs Docker, the base
//! image (`bash scripts/setup.sh`) and the environment images (`srl-swe sandbox build`).
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use srl_serve::sandbox::{SandboxServer, SandboxServerConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

const INSTANCE: &str = "srl-swe__textkit.ea4138a2.func_pm_op_change__699bb2e0";
const SPEC: &str = "datasets/swe-smith-src/srl-swe__textkit.ea4138a2.func_pm_op_change__699bb2e0.614b68d8.json";

struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

async fn call(addr: SocketAddr, method: &str, path: &str, body: Option<Value>) -> Answer {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(bytes)))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let retry_after = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let raw = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&raw).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {raw:?}"));
    Answer { status, retry_after, body }
}

struct Running {
    addr: SocketAddr,
    server_id: String,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<srl_serve::Result<()>>,
}

async fn start(config: SandboxServerConfig) -> Running {
    let config = SandboxServerConfig { bind: "127.0.0.1:0".parse().unwrap(), ..config };
    let server = SandboxServer::bind(config).await.expect("bind (Docker running? images built?)");
    let (addr, server_id) = (server.local_addr(), server.server_id().to_string());
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    Running { addr, server_id, stop, done }
}

impl Running {
    /// Stops the server and returns how many of its containers were still there (removed now).
    async fn stop(self) -> usize {
        let _ = self.stop.send(());
        self.done.await.unwrap().unwrap();
        labelled("srl-swe.run", &self.server_id).await
    }
}

/// Containers carrying `key=value`.
async fn labelled(key: &str, value: &str) -> usize {
    let docker = srl_sandbox::docker::connect().await.unwrap();
    let filter = format!("{key}={value}");
    let filters = std::collections::HashMap::from([("label", vec![filter.as_str()])]);
    let opts = bollard::query_parameters::ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
    docker.list_containers(Some(opts)).await.unwrap().len()
}

fn config() -> SandboxServerConfig {
    SandboxServerConfig { environments: repo().join("environments"), max_sessions: 2, ..SandboxServerConfig::default() }
}

fn expert_turns() -> Vec<String> {
    let spec: srl_sandbox::expert::ExpertSpec =
        serde_json::from_str(&std::fs::read_to_string(repo().join(SPEC)).unwrap()).unwrap();
    spec.steps.iter().map(|s| format!("<think>{}</think>\n{}", s.thought, s.action().unwrap().to_canonical())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_episode_resolves_and_leaves_no_container() {
    let srv = start(config()).await;
    let a = srv.addr;
    let h = call(a, "GET", "/health", None).await;
    assert_eq!((h.status, h.body["status"].as_str()), (200, Some("ok")));
    let bad = call(a, "POST", "/v1/sessions", Some(json!({"instance_id": "nope"}))).await;
    assert_eq!((bad.status, bad.body["code"].as_str()), (404, Some("unknown_instance")), "{}", bad.body);
    let bad = call(a, "POST", "/v1/sessions", Some(json!({"instance": INSTANCE}))).await;
    assert_eq!((bad.status, bad.body["code"].as_str()), (400, Some("bad_request")), "{}", bad.body);

    let c = call(a, "POST", "/v1/sessions", Some(json!({"instance_id": INSTANCE}))).await;
    assert_eq!(c.status, 200, "{}", c.body);
    let sid = c.body["session_id"].as_str().unwrap().to_string();
    assert!(c.body["observation"].as_str().unwrap().contains("<pr_description>"));
    assert!(c.body["system"].as_str().unwrap().contains("BEGIN FUNCTION #1: bash"));
    assert_eq!(c.body["messages"].as_array().unwrap().len(), 2);
    assert_eq!(labelled("srl-swe.session", &sid).await, 1, "the session's container carries its label");
    assert_eq!(labelled("srl-swe.server", &srv.server_id).await, 1);

    let step = |action: String| {
        let path = format!("/v1/sessions/{sid}/step");
        async move { call(a, "POST", &path, Some(json!({ "action": action }))).await }
    };
    let s = step("I think I should look around".into()).await;
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(s.body["format_error"], "no_function");
    assert!(s.body["observation"].as_str().unwrap().contains("did not use any tool calls"));
    let s = step("<function=bash>\n<parameter=command>echo hi; exit 3</parameter>\n</function>".into()).await;
    assert_eq!((s.body["exit_code"].as_i64(), s.body["observation"].as_str()), (Some(3), Some("OBSERVATION:\nhi\n")));
    let turns = expert_turns();
    let mut last = None;
    for t in &turns {
        let s = step(t.clone()).await;
        assert_eq!(s.status, 200, "{}", s.body);
        last = Some(s.body);
    }
    let last = last.unwrap();
    assert_eq!((last["done"].as_bool(), last["truncated"].as_bool()), (Some(true), Some(false)), "{last}");
    assert_eq!(last["turns"].as_u64(), Some(turns.len() as u64 + 2));
    let again = step(turns[0].clone()).await;
    assert_eq!((again.status, again.body["code"].as_str()), (409, Some("session_over")));

    let list = call(a, "GET", "/v1/sessions", None).await;
    assert_eq!(list.body["active"], 1, "{}", list.body);
    let ev = call(a, "POST", &format!("/v1/sessions/{sid}/evaluate"), None).await;
    assert_eq!(ev.status, 200, "{}", ev.body);
    assert_eq!((ev.body["resolved"].as_bool(), ev.body["reward"].as_f64()), (Some(true), Some(1.0)), "{}", ev.body);
    let f2p = &ev.body["tests"]["FAIL_TO_PASS"];
    assert!(f2p["total"].as_u64().unwrap() > 0 && f2p["passed"] == f2p["total"], "{}", ev.body);
    assert!(ev.body["patch"].as_str().unwrap().starts_with("diff --git"));

    let d = call(a, "DELETE", &format!("/v1/sessions/{sid}"), None).await;
    assert_eq!((d.status, d.body["deleted"].as_bool()), (200, Some(true)));
    assert_eq!(labelled("srl-swe.session", &sid).await, 0, "deleted session's container removed");
    let gone = call(a, "POST", &format!("/v1/sessions/{sid}/step"), Some(json!({"action": turns[0]}))).await;
    assert_eq!((gone.status, gone.body["code"].as_str()), (404, Some("unknown_session")));
    let nf = call(a, "GET", "/nope", None).await;
    assert_eq!((nf.status, nf.body["code"].as_str()), (404, Some("not_found")));
    assert_eq!(srv.stop().await, 0, "containers left after shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_answers_429_and_idle_sessions_are_reaped() {
    let cfg = SandboxServerConfig { max_sessions: 1, max_queue: 0, retry_after_s: 3, reap_every_ms: 200, ..config() };
    let srv = start(cfg).await;
    let a = srv.addr;
    let first = call(a, "POST", "/v1/sessions", Some(json!({"instance_id": INSTANCE, "timeout_s": 1.5}))).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let full = call(a, "POST", "/v1/sessions", Some(json!({"instance_id": INSTANCE}))).await;
    assert_eq!((full.status, full.body["code"].as_str()), (429, Some("pool_full")), "{}", full.body);
    assert_eq!(full.retry_after.as_deref(), Some("3"));
    // The idle session is reaped after 1.5 s, which frees its slot and removes its container.
    let sid = first.body["session_id"].as_str().unwrap().to_string();
    let mut active = 1;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        active = call(a, "GET", "/v1/sessions", None).await.body["active"].as_u64().unwrap();
        if active == 0 {
            break;
        }
    }
    assert_eq!(active, 0, "the idle session was not reaped");
    assert_eq!(labelled("srl-swe.session", &sid).await, 0);
    let second = call(a, "POST", "/v1/sessions", Some(json!({"instance_id": INSTANCE}))).await;
    assert_eq!(second.status, 200, "{}", second.body);
    // Shutdown removes the live session's container.
    assert_eq!(srv.stop().await, 0, "containers left after shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_that_cannot_start_is_a_structured_503() {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("broken");
    std::fs::create_dir_all(&env).unwrap();
    let inst = json!({"instance_id": "broken__x", "repo": "r", "problem_statement": "p", "image_name": "srl-swe/missing-image:0"});
    std::fs::write(env.join("instances.jsonl"), format!("{inst}\n")).unwrap();
    let srv = start(SandboxServerConfig { environments: dir.path().to_path_buf(), ..config() }).await;
    let r = call(srv.addr, "POST", "/v1/sessions", Some(json!({"instance_id": "broken__x"}))).await;
    assert_eq!((r.status, r.body["code"].as_str()), (503, Some("container_start_failed")), "{}", r.body);
    assert!(r.body["error"].as_str().unwrap().contains("missing-image"), "{}", r.body);
    let list = call(srv.addr, "GET", "/v1/sessions", None).await;
    assert_eq!(list.body["active"], 0);
    assert_eq!(srv.stop().await, 0);
}

/// The python of an engine venv; fails with how to create it when it is missing.
fn engine_python(name: &str) -> PathBuf {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source scripts/env.sh >/dev/null && source scripts/venvs/engines-env.sh && srl_engine_venv {name}"
        ))
        .current_dir(repo())
        .output()
        .unwrap();
    let venv = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(
        venv.join(".srl-swe-complete").exists(),
        "the {name} venv is missing ({}): run `bash scripts/venvs/engines.sh {name}` (bash scripts/setup.sh does it)",
        venv.display()
    );
    venv.join("bin/python")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openrlhf_multi_turn_executor_drives_sessions_to_rewards_and_deletes_them() {
    let srv = start(config()).await;
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("openrlhf.json");
    let python = engine_python("openrlhf");
    let url = format!("http://{}", srv.addr);
    let (f, spec) = (file.clone(), repo().join(SPEC));
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(repo().join("integrations/tests/sandbox_openrlhf_check.py"))
            .args(["--url", &url, "--instance", INSTANCE, "--spec"])
            .arg(&spec)
            .arg("--out")
            .arg(&f)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(run.status.success(), "{}\n{}", String::from_utf8_lossy(&run.stderr), String::from_utf8_lossy(&run.stdout));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(r["expert"]["reward"], 1.0, "{r}");
    assert_eq!(r["submit"]["reward"], 0.0, "{r}");
    assert!(r["expert"]["masked_tokens"].as_u64().unwrap() > 0, "observations are outside the action ranges: {r}");
    assert_eq!(r["active_after"], 0, "every session deleted: {r}");
    assert_eq!(srv.stop().await, 0);
}
