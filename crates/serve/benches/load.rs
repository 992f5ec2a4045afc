//! Load bench of `srl-swe serve reward` against what a user would write instead: a FastAPI app on
//! uvicorn (uvloop + httptools, as many worker processes as our server has scoring threads)
//! calling CPython's `difflib.SequenceMatcher`, both started in the same run on loopback and
//! driven by the same client with the same SWE-sized pairs through OpenRLHF's single-item
//! `POST /get_reward`.
//!
//! ```text
//! bash scripts/venvs/engines.sh pyserver
//! cargo bench -p srl-serve --bench load                 # SRL_SERVE_BENCH_SECS=5 by default
//! ```
//!
//! The Python app does *less* work than ours (its format check is a substring test, no
//! canonical re-rendering of the action), so the ratio is conservative. Reported per server and
//! concurrency: items/s, p50 and p99 latency.
#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::json;
use srl_serve::{RewardServer, RewardServerConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::Conn;

const PROMPT: &str = "<|im_start|>system\nYou are an expert software engineer.<|im_end|>\n<|im_start|>user\nFix the issue.<|im_end|>\n<|im_start|>assistant\n";

const PY_APP: &str = r#"
from difflib import SequenceMatcher
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()
STRIP = ("<|im_end|>", "<|endoftext|>")


class Request(BaseModel):
    query: list[str]
    prompts: list[str]
    labels: list[str]


def reward(query, prompt, expert):
    text = query[len(prompt):] if query.startswith(prompt) else query
    text = text.rstrip()
    while text.endswith(STRIP):
        for token in STRIP:
            if text.endswith(token):
                text = text[: -len(token)].rstrip()
    if not text.lstrip().startswith("<think>") or "</think>" not in text:
        return -1.0
    action = text.split("</think>", 1)[1].strip()
    return SequenceMatcher(None, action, expert).ratio()


@app.post("/get_reward")
def get_reward(request: Request):
    rewards = [reward(q, p, l) for q, p, l in zip(request.query, request.prompts, request.labels)]
    return {"rewards": rewards, "scores": rewards, "extra_logs": {}}
"#;

/// SplitMix64, so every run sends the same pairs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const WORDS: [&str; 24] = [
    "def",
    "return",
    "self",
    "value",
    "import",
    "os",
    "path",
    "test_",
    "assert",
    "None",
    "for",
    "in",
    "range",
    "len(",
    ")",
    "print",
    "if",
    "else:",
    "raise",
    "ValueError",
    "wrap",
    "width",
    "text",
    "lines",
];

fn code(rng: &mut Rng, chars: usize) -> String {
    let mut s = String::new();
    while s.len() < chars {
        s.push_str(WORDS[rng.below(WORDS.len())]);
        s.push(if rng.below(6) == 0 { '\n' } else { ' ' });
    }
    s
}

/// SWE-sized pairs: expert `str_replace_editor` / `bash` calls of 50-3,000 characters and model
/// outputs that edit a few spans of them.
fn pairs(n: usize) -> Vec<(String, String)> {
    let mut rng = Rng(7);
    (0..n)
        .map(|_| {
            let size = 50 + rng.below(2950);
            let body = code(&mut rng, size);
            let expert = if rng.below(3) == 0 {
                format!("<function=bash>\n<parameter=command>{body}</parameter>\n</function>")
            } else {
                format!(
                    "<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n<parameter=path>/testbed/src/wrap.py</parameter>\n<parameter=old_str>{body}</parameter>\n<parameter=new_str>{}</parameter>\n</function>",
                    body.replace("value", "width")
                )
            };
            let mut action = expert.clone();
            for _ in 0..3 {
                let at = rng.below(action.len().saturating_sub(20).max(1));
                if action.is_char_boundary(at) && !action[at..].starts_with('<') {
                    action.insert_str(at, WORDS[rng.below(WORDS.len())]);
                }
            }
            let query = format!("{PROMPT}<think>I will make the edit.</think>\n{action}<|im_end|>");
            let body = json!({"query": [query], "prompts": [PROMPT], "labels": [expert]}).to_string();
            (body, expert)
        })
        .collect()
}

struct Result {
    items_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: usize,
}

async fn drive(addr: SocketAddr, bodies: &[(String, String)], concurrency: usize, secs: f64) -> Result {
    let bodies: std::sync::Arc<Vec<Vec<u8>>> =
        std::sync::Arc::new(bodies.iter().map(|(b, _)| b.clone().into_bytes()).collect());
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for c in 0..concurrency {
        let bodies = std::sync::Arc::clone(&bodies);
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await.expect("connect");
            let mut latencies = Vec::new();
            let mut i = c * 7919;
            while Instant::now() < deadline {
                let body = bodies[i % bodies.len()].clone();
                i += 1;
                let t = Instant::now();
                let (status, answer) = conn.send("POST", "/get_reward", body).await.expect("request");
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client"));
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1e3;
    Result { items_per_s: all.len() as f64 / elapsed, p50_ms: pct(0.50), p99_ms: pct(0.99), requests: all.len() }
}

struct PyServer(Child);

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn pyserver_python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("bash")
        .arg("-c")
        .arg("source scripts/env.sh >/dev/null && source scripts/venvs/engines-env.sh && srl_engine_venv pyserver")
        .current_dir(&root)
        .output()
        .expect("bash");
    let venv = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        venv.join(".srl-swe-complete").exists(),
        "no FastAPI venv at {}: run `bash scripts/venvs/engines.sh pyserver`",
        venv.display()
    );
    venv.join("bin/python")
}

async fn wait_ready(addr: SocketAddr, body: &[u8]) {
    for _ in 0..300 {
        if let Ok(mut c) = Conn::open(addr).await {
            if let Ok((200, _)) = c.send("POST", "/get_reward", body.to_vec()).await {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server at {addr} did not come up");
}

fn main() {
    let secs: f64 = std::env::var("SRL_SERVE_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let bodies = pairs(400);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio");

    // srl-swe's server, in its own runtime (as the binary runs it).
    let server_rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio");
    let config = RewardServerConfig { bind: "127.0.0.1:0".parse().unwrap(), workers, ..Default::default() };
    let server = server_rt.block_on(async { RewardServer::bind(config) }).expect("bind");
    let ours = server.local_addr();
    server_rt.spawn(server.run(std::future::pending()));

    // The FastAPI server, same number of processes as our scoring threads.
    let dir = tempfile_dir();
    std::fs::write(dir.join("app.py"), PY_APP).expect("write app.py");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(pyserver_python())
        .args([
            "-m",
            "uvicorn",
            "app:app",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--log-level",
            "warning",
        ])
        .args(["--workers", &workers.to_string(), "--loop", "uvloop", "--http", "httptools"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("start uvicorn");
    let _py = PyServer(child);
    let python: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();

    runtime.block_on(async {
        wait_ready(ours, bodies[0].0.as_bytes()).await;
        wait_ready(python, bodies[0].0.as_bytes()).await;
        println!("load bench: {} SWE-sized pairs (50-3,000 chars), single-item POST /get_reward, {secs} s per run, {workers} workers each", bodies.len());
        println!("{:<28} {:>6} {:>12} {:>9} {:>9} {:>9}", "server", "conns", "items/s", "p50 ms", "p99 ms", "requests");
        let mut rows = Vec::new();
        for concurrency in [1usize, 8, 64] {
            let _ = drive(ours, &bodies, concurrency, 0.5).await; // warm-up
            let r = drive(ours, &bodies, concurrency, secs).await;
            let _ = drive(python, &bodies, concurrency, 0.5).await;
            let p = drive(python, &bodies, concurrency, secs).await;
            for (name, x) in [("srl-swe serve reward", &r), ("FastAPI + CPython difflib", &p)] {
                println!("{name:<28} {concurrency:>6} {:>12.0} {:>9.2} {:>9.2} {:>9}", x.items_per_s, x.p50_ms, x.p99_ms, x.requests);
            }
            rows.push((concurrency, r.items_per_s / p.items_per_s, r.p99_ms));
        }
        for (c, ratio, p99) in rows {
            println!("ratio at {c:>2} connections: {ratio:.1}x the Python server's items/s (srl-swe p99 {p99:.2} ms)");
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("srl-serve-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
