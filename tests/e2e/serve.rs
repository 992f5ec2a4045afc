//! `srl-swe serve reward` end to end: the binary on a free loopback port, scored through by the
//! engines' own code (veRL 0.9.1, OpenRLHF 0.11.2, TRL 1.16.0, each in its venv from
//! `scripts/venvs/engines.sh`) on `srl-swe prepare --format verl|openrlhf|trl` exports, every
//! score compared with `srl-swe reward` on the same pair; and SIGTERM in the middle of load.
//! The engine scripts are `integrations/tests/*_check.py` (docs/engines.md).

use crate::common::{repo_root, srl_swe};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A running `srl-swe serve reward`, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(extra: &[&str]) -> Self {
        let mut child = srl_swe()
            .args(["serve", "reward", "--bind", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start srl-swe serve reward");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("first line: {line:?}"));
        Self { addr: addr.to_string(), child }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The python of an engine venv; fails with how to create it when it is missing.
fn engine_python(name: &str) -> PathBuf {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source scripts/env.sh >/dev/null && source scripts/venvs/engines-env.sh && srl_engine_venv {name}"
        ))
        .current_dir(repo_root())
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

/// Exports and the tiny model, made once for all tests of this file.
struct Fixtures {
    swe: PathBuf,
    math: PathBuf,
    model: PathBuf,
    root: PathBuf,
}

fn run_ok(cmd: &mut Command, what: &str) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e-serve");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let (swe, math, model) = (root.join("swe"), root.join("math"), root.join("model"));
        for format in ["verl", "openrlhf", "trl"] {
            run_ok(srl_swe().args(["prepare", "--format", format, "--out"]).arg(&swe), "prepare");
        }
        for format in ["verl", "openrlhf"] {
            run_ok(srl_swe().args(["prepare", "--math", "--format", format, "--out"]).arg(&math), "prepare --math");
        }
        run_ok(srl_swe().args(["model", "init", "--preset", "tiny", "--seed", "5", "--out"]).arg(&model), "model init");
        Fixtures { swe, math, model, root }
    })
}

/// `srl-swe reward` on JSONL lines: the reference every engine's score is checked against.
fn srl_swe_reward(lines: &[Value]) -> Vec<f64> {
    let mut child = srl_swe()
        .args(["reward", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["reward"].as_f64().expect("reward")).collect()
}

/// The `srl-swe reward` request line of one pair.
fn reward_line(output: &str, kind: &str, expert: Option<&str>, answer: Option<&str>) -> Value {
    match kind {
        "rlvr" => json!({"output": output, "answer": answer.expect("rlvr answer")}),
        _ => json!({"output": output, "expert": expert.expect("expert"), "kind": kind}),
    }
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn run_check(engine: &str, script: &str, args: &[&Path], server: &Server, out: &Path) {
    let fx = fixtures();
    let mut cmd = Command::new(engine_python(engine));
    cmd.arg(repo_root().join("integrations/tests").join(script));
    for export in args {
        cmd.arg("--export").arg(export);
    }
    cmd.arg("--model").arg(&fx.model).arg("--url").arg(server.url()).arg("--out").arg(out);
    cmd.env("HF_HUB_OFFLINE", "1").env("TRANSFORMERS_OFFLINE", "1").env("TOKENIZERS_PARALLELISM", "false");
    if script == "trl_check.py" {
        cmd.arg("--workdir").arg(&fx.root);
    }
    let o = run_ok(&mut cmd, script);
    eprintln!("{}", String::from_utf8_lossy(&o.stdout).trim());
}

fn assert_spread(scores: &[f64]) {
    assert!(scores.iter().all(|s| s.is_finite() && (-1.0..=1.0).contains(s)), "{scores:?}");
    assert!(scores.contains(&1.0) && scores.contains(&-1.0), "expected exact and failed outputs: {scores:?}");
}

#[test]
fn verl_reward_loop_worker_scores_through_the_server_like_srl_swe_reward() {
    let fx = fixtures();
    let server = Server::start(&[]);
    let out = fx.root.join("verl-scores.jsonl");
    run_check("verl", "verl_check.py", &[&fx.swe.join("verl"), &fx.math.join("verl")], &server, &out);
    let records = read_jsonl(&out);
    let lines: Vec<Value> = records
        .iter()
        .map(|r| {
            reward_line(
                r["output"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
                r["expert"].as_str(),
                r["answer"].as_str(),
            )
        })
        .collect();
    let expected = srl_swe_reward(&lines);
    let got: Vec<f64> = records.iter().map(|r| r["reward_score"].as_f64().unwrap()).collect();
    assert_eq!(got, expected);
    for r in &records {
        let info = r["reward_extra_info"].as_object().unwrap();
        assert_eq!(info.keys().collect::<Vec<_>>(), ["score", "format_ok", "srl_ratio", "error"], "{r}");
        assert_eq!(info["score"], r["reward_score"]);
        assert_eq!(info["error"], 0.0);
    }
    assert!(
        records.iter().any(|r| r["data_source"] == "rlvr_math")
            && records.iter().any(|r| r["data_source"] == "srl_swe")
    );
    assert_spread(&got);
}

#[test]
fn openrlhf_executor_scores_through_get_reward_like_srl_swe_reward() {
    let fx = fixtures();
    let server = Server::start(&["--scores", "unit"]);
    let out = fx.root.join("openrlhf-scores.jsonl");
    run_check("openrlhf", "openrlhf_check.py", &[&fx.swe.join("openrlhf"), &fx.math.join("openrlhf")], &server, &out);
    let records = read_jsonl(&out);
    let lines: Vec<Value> = records
        .iter()
        .map(|r| {
            let l = &r["label"];
            reward_line(
                r["output"].as_str().unwrap(),
                l["kind"].as_str().unwrap(),
                l["expert"].as_str(),
                l["answer"].as_str(),
            )
        })
        .collect();
    let expected = srl_swe_reward(&lines);
    let got: Vec<f64> = records.iter().map(|r| r["reward"][0].as_f64().unwrap()).collect();
    assert_eq!(got, expected);
    for (r, reward) in records.iter().zip(&got) {
        // --scores unit: OpenRLHF's filter reads scores in [0, 1].
        assert_eq!(r["scores"][0].as_f64().unwrap(), (reward + 1.0) / 2.0, "{r}");
        let logs = r["extra_logs"].as_object().unwrap();
        assert_eq!(logs.keys().collect::<Vec<_>>(), ["format_ok", "srl_ratio", "error"], "{r}");
    }
    assert!(records.iter().any(|r| r["label"]["kind"] == "rlvr"));
    assert_spread(&got);
}

#[test]
fn trl_grpo_step_scores_through_the_server_like_srl_swe_reward() {
    let fx = fixtures();
    let server = Server::start(&[]);
    let out = fx.root.join("trl-scores.jsonl");
    run_check("trl", "trl_check.py", &[&fx.swe.join("trl")], &server, &out);
    let records = read_jsonl(&out);
    assert!(records.len() >= 2, "one prompt x 2 rollouts at least: {records:?}");
    let lines: Vec<Value> = records
        .iter()
        .map(|r| {
            reward_line(
                r["output"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
                r["expert"].as_str(),
                r["answer"].as_str(),
            )
        })
        .collect();
    let expected = srl_swe_reward(&lines);
    let got: Vec<f64> = records.iter().map(|r| r["score"].as_f64().unwrap()).collect();
    assert_eq!(got, expected);
}

/// One request on a fresh connection (`Connection: close`), as OpenRLHF sends them.
enum Outcome {
    /// A complete answer: status and body.
    Answered(u16, String),
    /// The connection was refused or reset before any byte came back (after shutdown began, a
    /// connection still in the kernel's accept queue is reset: the server never saw it).
    NotAccepted,
}

fn one_request(addr: &str, body: &str) -> Outcome {
    let Ok(mut stream) = TcpStream::connect(addr) else { return Outcome::NotAccepted };
    let request = format!(
        "POST /get_reward HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return Outcome::NotAccepted;
    }
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Err(_) | Ok(0) if raw.is_empty() => return Outcome::NotAccepted,
        _ => {}
    }
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Outcome::Answered(status, body)
}

#[test]
fn sigterm_mid_load_answers_every_accepted_request_and_exits_cleanly() {
    let server = Server::start(&["--workers", "2"]);
    let addr = server.addr.clone();
    // Mid-sized SWE pairs (a few ms each) so requests are in flight when the signal comes.
    let expert = format!(
        "<function=bash>\n<parameter=command>{}</parameter>\n</function>",
        "cd /testbed && ls -la; ".repeat(60)
    );
    let output = format!(
        "<think>go</think>\n<function=bash>\n<parameter=command>{}</parameter>\n</function>",
        "cd /testbed && ls; ".repeat(60)
    );
    let prompt = "<|im_start|>user\nfix<|im_end|>\n<|im_start|>assistant\n";
    let body =
        json!({"query": [format!("{prompt}{output}<|im_end|>")], "prompts": [prompt], "labels": [expert]}).to_string();
    let expected = srl_swe_reward(&[json!({"output": output, "expert": expert, "kind": "swe"})])[0];
    let signalled = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..24)
        .map(|_| {
            let (addr, body, signalled) = (addr.clone(), body.clone(), Arc::clone(&signalled));
            std::thread::spawn(move || {
                let (mut before, mut after, mut not_accepted, mut bad) = (0u32, 0u32, 0u32, Vec::new());
                let deadline = Instant::now() + Duration::from_secs(20);
                while Instant::now() < deadline {
                    let was_signalled = signalled.load(Ordering::SeqCst);
                    match one_request(&addr, &body) {
                        Outcome::Answered(200, text) => match serde_json::from_str::<Value>(&text) {
                            Ok(v) if v["rewards"][0].as_f64().is_some() => {
                                if v["rewards"][0].as_f64() != Some(expected) {
                                    bad.push(format!("wrong reward {v}"));
                                }
                                if was_signalled {
                                    after += 1
                                } else {
                                    before += 1
                                }
                            }
                            _ => bad.push(format!("malformed 200 body: {text:?}")),
                        },
                        Outcome::Answered(status, text) => bad.push(format!("status {status}: {text:?}")),
                        Outcome::NotAccepted if signalled.load(Ordering::SeqCst) => {
                            not_accepted += 1;
                            break;
                        }
                        Outcome::NotAccepted => bad.push("connection refused before the signal".into()),
                    }
                }
                (before, after, not_accepted, bad)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let pid = server.child.id().to_string();
    signalled.store(true, Ordering::SeqCst);
    let sent = Instant::now();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let mut server = server;
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(sent.elapsed() < Duration::from_secs(15), "server did not stop within 15 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    let (mut before, mut after, mut stopped) = (0, 0, 0);
    for c in clients {
        let (b, a, n, bad) = c.join().unwrap();
        assert!(bad.is_empty(), "{bad:?}");
        before += b;
        after += a;
        stopped += n;
    }
    assert!(before > 50, "too little load before the signal: {before}");
    assert_eq!(stopped, 24, "every client ends on a closed listener");
    eprintln!("sigterm: {before} answered before the signal, {after} in flight answered after it");
}
