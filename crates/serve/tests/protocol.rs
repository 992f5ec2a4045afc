//! Protocol tests of the reward server over real HTTP on loopback: the answers OpenRLHF, veRL
//! and TRL depend on (docs/engines.md), malformed input, limits, 2,000 concurrent connections and
//! graceful shutdown. Scores are checked against `srl_reward` called directly (itself checked
//! against CPython difflib in crates/reward/tests/parity.rs).
mod support;

use serde_json::{json, Value};
use srl_core::TaskKind;
use srl_reward::srl_reward;
use srl_serve::{RewardServer, RewardServerConfig, ScoreScale};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::{get, post, Conn};
use tokio::sync::oneshot;

const EXPERT: &str = "<function=bash>\n<parameter=command>cd /testbed && python -m pytest tests/test_wrap.py -q</parameter>\n</function>";
const CLOSE: &str = "<think>Run one test.</think>\n<function=bash>\n<parameter=command>cd /testbed && pytest tests/test_wrap.py::test_zero</parameter>\n</function>";
const PROMPT: &str =
    "<|im_start|>system\nYou fix bugs.<|im_end|>\n<|im_start|>user\nFix it.<|im_end|>\n<|im_start|>assistant\n";

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<srl_serve::Result<()>>,
}

impl Running {
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.done.await.expect("server task").expect("server run");
    }
}

fn start(config: RewardServerConfig) -> Running {
    let config = RewardServerConfig { bind: "127.0.0.1:0".parse().unwrap(), ..config };
    let server = RewardServer::bind(config).expect("bind");
    let addr = server.local_addr();
    let (tx, rx) = oneshot::channel::<()>();
    let done = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    Running { addr, stop: Some(tx), done }
}

/// `expected` as it reads back from the wire: serde_json's default float parser can be one ulp
/// off, so expected numbers go through the same text round trip as the server's answer (equal
/// text then means equal bits).
fn wire(expected: Value) -> Value {
    serde_json::from_str(&expected.to_string()).unwrap()
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().expect("object").keys().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_reward_strips_prompt_and_special_tokens_and_scores_like_the_trainer() {
    let server = start(RewardServerConfig { scores: ScoreScale::Unit, ..Default::default() });
    let queries = [
        format!("{PROMPT}{CLOSE}<|im_end|>\n<|endoftext|>"),
        format!("{PROMPT}no think block<|im_end|>"),
        format!("{PROMPT}<think>t</think>\\boxed{{4}}<|im_end|>"),
    ];
    let labels = [
        json!(EXPERT),
        json!(json!({"expert": EXPERT, "kind": "swe", "answer": null, "id": "t#1"}).to_string()),
        json!({"expert": null, "kind": "rlvr", "answer": "4", "id": "p1"}),
    ];
    let body = json!({"query": queries, "prompts": [PROMPT, PROMPT, PROMPT], "labels": labels});
    let (status, v) = post(server.addr, "/get_reward", body.to_string()).await.unwrap();
    assert_eq!(status, 200, "{v}");
    let close = srl_reward(CLOSE, EXPERT, TaskKind::Swe);
    assert!(close > 0.5 && close < 1.0, "{close}");
    assert_eq!(v["rewards"], wire(json!([close, -1.0, 1.0])));
    assert_eq!(v["scores"], wire(json!([(close + 1.0) / 2.0, 0.0, 1.0])));
    assert_eq!(v["extra_logs"]["format_ok"], json!([1.0, 0.0, 1.0]));
    assert_eq!(v["extra_logs"]["srl_ratio"], wire(json!([close, 0.0, 0.0])));
    assert_eq!(v["extra_logs"]["error"], json!([0.0, 0.0, 0.0]));
    assert_eq!(keys(&v), ["rewards", "scores", "extra_logs"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn score_keeps_order_and_the_same_keys_on_every_path() {
    let server = start(RewardServerConfig { max_item_chars: 1000, ..Default::default() });
    let items = json!({"items": [
        {"response": CLOSE, "kind": "swe", "expert": EXPERT, "id": 1},
        {"response": "<think>t</think>abcd", "kind": "math", "expert": "bcde"},
        {"response": "<think>x</think>the answer is \\boxed{\\frac{1}{2}}", "kind": "rlvr", "answer": "0.5"},
        {"response": CLOSE, "kind": "swe"},
        {"response": "x".repeat(1001), "kind": "swe", "expert": EXPERT},
        {"response": CLOSE, "kind": "swe", "expert": EXPERT, "answer": null, "id": {"any": "json"}},
    ]});
    let (status, v) = post(server.addr, "/score", items.to_string()).await.unwrap();
    assert_eq!(status, 200, "{v}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    for r in results {
        assert_eq!(keys(r), ["score", "format_ok", "srl_ratio", "error"], "{r}");
        assert!(r.as_object().unwrap().values().all(|x| x.as_f64().is_some_and(f64::is_finite)), "{r}");
    }
    let close = srl_reward(CLOSE, EXPERT, TaskKind::Swe);
    assert_eq!(results[0], wire(json!({"score": close, "format_ok": 1.0, "srl_ratio": close, "error": 0.0})));
    // CPython: difflib.SequenceMatcher(None, "abcd", "bcde").ratio() == 0.75
    assert_eq!(results[1], json!({"score": 0.75, "format_ok": 1.0, "srl_ratio": 0.75, "error": 0.0}));
    assert_eq!(results[2], json!({"score": 1.0, "format_ok": 1.0, "srl_ratio": 0.0, "error": 0.0}));
    let failed = json!({"score": -1.0, "format_ok": 0.0, "srl_ratio": 0.0, "error": 1.0});
    assert_eq!(results[3], failed, "no expert to compare with");
    assert_eq!(results[4], failed, "over --max-item-chars");
    assert_eq!(results[5], results[0]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_400_naming_the_field() {
    let server = start(RewardServerConfig::default());
    let cases: [(&str, String, Option<&str>); 7] = [
        ("/get_reward", "{\"query\": [".into(), None),
        ("/get_reward", json!({"query": ["a"], "prompts": ["b"]}).to_string(), Some("labels")),
        (
            "/get_reward",
            json!({"query": ["a", "b"], "prompts": ["b"], "labels": ["c", "d"]}).to_string(),
            Some("prompts"),
        ),
        ("/get_reward", json!({"query": ["a"], "prompts": ["b"], "labels": []}).to_string(), Some("labels")),
        ("/get_reward", json!({"query": "a", "prompts": ["b"], "labels": ["c"]}).to_string(), Some("query")),
        (
            "/score",
            json!({"items": [{"response": "r", "kind": "swe"}, {"kind": "swe"}]}).to_string(),
            Some("items[1].response"),
        ),
        ("/score", json!({"items": [{"response": "r", "kind": "chess"}]}).to_string(), Some("items[0].kind")),
    ];
    for (path, body, field) in cases {
        let (status, v) = post(server.addr, path, body.clone()).await.unwrap();
        assert_eq!(status, 400, "{path} {body}: {v}");
        assert_eq!(v["field"].as_str(), field, "{path} {body}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    }
    // A well-formed request with an unusable label is scored, not refused.
    let body = json!({"query": ["q"], "prompts": [""], "labels": [null]});
    let (status, v) = post(server.addr, "/get_reward", body.to_string()).await.unwrap();
    assert_eq!((status, &v["rewards"], &v["extra_logs"]["error"]), (200, &json!([-1.0]), &json!([1.0])), "{v}");
    let (status, v) = post(server.addr, "/nope", "{}").await.unwrap();
    assert_eq!(status, 404, "{v}");
    let (status, v) = post(server.addr, "/health", "{}").await.unwrap();
    assert_eq!(status, 405, "{v}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_is_refused_with_json() {
    let server = start(RewardServerConfig { max_body_bytes: 4096, ..Default::default() });
    let body = json!({"items": [{"response": "x".repeat(8000), "kind": "swe", "expert": "y"}]});
    let (status, v) = post(server.addr, "/score", body.to_string()).await.unwrap();
    assert_eq!(status, 413, "{v}");
    assert!(v["error"].is_string(), "{v}");
    server.stop().await;
}

/// A pair whose SequenceMatcher runs long: 60,000 characters over ~150 distinct code points,
/// each under autojunk's 1% popularity cut, so no element is junked and every matching
/// position is probed.
fn slow_pair() -> (String, String) {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut text = |n: usize| -> String {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from_u32(0x4e00 + (state % 150) as u32).unwrap_or('x')
            })
            .collect()
    };
    (format!("<think>t</think>{}", text(60_000)), text(60_000))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pathological_pair_hits_the_time_budget_and_its_neighbours_still_score() {
    let (response, expert) = slow_pair();
    let budget_ms = 100;
    let start_direct = Instant::now();
    let _ = srl_reward(&response, &expert, TaskKind::Math);
    let direct = start_direct.elapsed();
    assert!(direct > Duration::from_millis(4 * budget_ms), "the pair must be slow to test the budget: {direct:?}");

    let server = start(RewardServerConfig { item_budget_ms: budget_ms, workers: 2, ..Default::default() });
    let body = json!({"items": [
        {"response": response, "kind": "math", "expert": expert},
        {"response": "<think>t</think>abcd", "kind": "math", "expert": "bcde"},
    ]});
    let t = Instant::now();
    let (status, v) = post(server.addr, "/score", body.to_string()).await.unwrap();
    let answered = t.elapsed();
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["results"][0], json!({"score": -1.0, "format_ok": 0.0, "srl_ratio": 0.0, "error": 1.0}));
    assert_eq!(v["results"][1]["score"], 0.75);
    assert!(answered < direct, "answered after {answered:?}, scoring alone takes {direct:?}");
    let (_, metrics) = get(server.addr, "/metrics").await.unwrap();
    assert!(metrics.contains("srl_serve_item_errors_total{reason=\"budget\"} 1\n"), "{metrics}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_concurrent_connections_all_get_their_score() {
    const N: usize = 2000;
    let server = start(RewardServerConfig::default());
    let addr = server.addr;
    let expected = srl_reward(CLOSE, EXPERT, TaskKind::Swe);
    // Open every connection first, then send on all of them at once.
    let mut conns = Vec::with_capacity(N);
    for _ in 0..N {
        conns.push(Conn::open(addr).await.expect("connect"));
    }
    let (go_tx, go_rx) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::with_capacity(N);
    for (i, mut conn) in conns.into_iter().enumerate() {
        let mut go = go_rx.clone();
        tasks.push(tokio::spawn(async move {
            let _ = go.wait_for(|g| *g).await;
            let body = json!({"query": [format!("{PROMPT}{CLOSE}<|im_end|>")], "prompts": [PROMPT], "labels": [EXPERT], "i": i});
            conn.send("POST", "/get_reward", body.to_string().into_bytes()).await
        }));
    }
    let (_, health) = get(addr, "/health").await.unwrap();
    let _ = go_tx.send(true);
    let mut ok = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap().expect("request");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["rewards"], wire(json!([expected])));
        ok += 1;
    }
    assert_eq!(ok, N);
    assert!(health.contains("\"status\":\"ok\""), "{health}");
    let (_, metrics) = get(addr, "/metrics").await.unwrap();
    assert!(
        metrics.contains(&format!("srl_serve_requests_total{{route=\"/get_reward\",status=\"200\"}} {N}\n")),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_version_and_metrics_describe_the_server() {
    let server = start(RewardServerConfig { workers: 3, ..Default::default() });
    let (status, health) = get(server.addr, "/health").await.unwrap();
    let health: Value = serde_json::from_str(&health).unwrap();
    assert_eq!((status, &health["status"], &health["workers"]), (200, &json!("ok"), &json!(3)));
    let (status, version) = get(server.addr, "/version").await.unwrap();
    let version: Value = serde_json::from_str(&version).unwrap();
    assert_eq!(status, 200);
    assert_eq!(version["sequence_matcher"]["a"], "model action");
    assert_eq!(version["sequence_matcher"]["b"], "expert action");
    assert_eq!(version["sequence_matcher"]["autojunk"], true);
    assert!(version["reward_code_version"].is_string() && version["action_parser_version"].is_string());
    let (status, metrics) = get(server.addr, "/metrics").await.unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("# TYPE srl_serve_request_duration_seconds histogram\n"), "{metrics}");
    assert!(metrics.contains("srl_serve_requests_total{route=\"/version\",status=\"200\"} 1\n"), "{metrics}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_requests_in_flight_first() {
    let (response, expert) = slow_pair();
    let server = start(RewardServerConfig { item_budget_ms: 60_000, ..Default::default() });
    let addr = server.addr;
    let body = json!({"items": [{"response": response, "kind": "math", "expert": expert}]}).to_string();
    let in_flight = tokio::spawn(async move { post(addr, "/score", body).await });
    // Wait until the server has the request, then ask it to stop.
    for _ in 0..200 {
        let (_, m) = get(addr, "/metrics").await.unwrap();
        if m.contains("srl_serve_in_flight_requests 2\n") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.stop().await;
    let (status, v) = in_flight.await.unwrap().unwrap();
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["results"][0]["error"], 0.0, "{v}");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "the listener is closed after shutdown");
}
