//! `srl-swe reward`: SRL, math-answer and raw lines; error records; `--strict`; `--output`.
//! Expected ratios are CPython's (`difflib.SequenceMatcher(None, a, b).ratio()` values noted
//! beside each case).

use crate::common::srl_swe;
use std::io::Write;
use std::process::Stdio;

fn run_with_stdin(args: &[&str], input: &str) -> std::process::Output {
    let mut child = srl_swe()
        .args(["reward", "--input", "-"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn reward_scores_srl_math_and_bad_lines() {
    let expert = "<function=bash>\n<parameter=command>ls -la</parameter>\n</function>";
    let lines = [
        // Exact action with different layout: canonical comparison gives 1.0.
        serde_json::json!({"output": "<think>look</think>\n<function=bash> <parameter=command>ls -la</parameter></function>", "expert": expert, "kind": "swe"}),
        // CPython: SequenceMatcher(None, "<function=bash>\n<parameter=command>ls</parameter>\n</function>", expert).ratio() == 0.9682539682539683
        serde_json::json!({"output": "<think>t</think><function=bash><parameter=command>ls</parameter></function>", "expert": expert, "kind": "swe"}),
        serde_json::json!({"output": "<function=bash><parameter=command>ls</parameter></function>", "expert": expert, "kind": "swe"}),
        // CPython: SequenceMatcher(None, "1. **Sum**: 2+2=4", "1. **Sum**: 2+2 = 4").ratio() == 0.9444444444444444
        serde_json::json!({"output": "<think>add</think> 1. **Sum**: 2+2=4 ", "expert": "1. **Sum**: 2+2 = 4", "kind": "math"}),
        serde_json::json!({"output": "so the answer is \\boxed{\\frac{1}{2}}", "answer": "0.5", "id": "q1"}),
        serde_json::json!({"output": "\\boxed{3}", "answer": "4"}),
    ];
    let mut input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    input.push_str("\n{\"output\": \"x\", \"kind\": \"swe\"}\nnot json\n");
    let out = run_with_stdin(&[], &input);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let raw: Vec<&str> = text.lines().collect();
    let got = json_lines(&out.stdout);
    assert_eq!(got.len(), 8);
    assert_eq!(got[0], serde_json::json!({"reward": 1.0, "format_ok": true, "reason": null}));
    // Compared as text: serde_json's default float parser may be off by one ulp, Rust's is exact.
    assert_eq!(raw[1], r#"{"reward":0.9682539682539683,"format_ok":true,"reason":null}"#);
    assert_eq!("0.9682539682539683".parse::<f64>().unwrap(), 0.9682539682539683);
    assert_eq!(got[2], serde_json::json!({"reward": -1.0, "format_ok": false, "reason": "missing_think"}));
    assert_eq!(raw[3], r#"{"reward":0.9444444444444444,"format_ok":true,"reason":null}"#);
    assert_eq!(got[4], serde_json::json!({"id": "q1", "reward": 1.0, "extracted": "\\frac{1}{2}"}));
    assert_eq!(got[5], serde_json::json!({"reward": 0.0, "extracted": "3"}));
    // Line 7 is blank; 8 lacks "expert"; 9 is not JSON.
    assert_eq!(got[6]["line"], 8);
    assert!(got[6]["error"].as_str().unwrap().contains("expert"), "{}", got[6]);
    assert_eq!(got[7]["line"], 9);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 bad line(s)"), "{stderr}");
}

#[test]
fn raw_ratios_round_trip_and_autojunk_can_be_turned_off() {
    let a = format!("x{}", "ab".repeat(10));
    let b = "ab".repeat(150);
    let input = format!(
        "{}\n{}\n",
        serde_json::json!({"a": a, "b": b}),
        serde_json::json!({"a": "private Thread currentThread;", "b": "private volatile Thread currentThread;"})
    );
    let on = run_with_stdin(&["--raw"], &input);
    assert!(on.status.success(), "{}", String::from_utf8_lossy(&on.stderr));
    let text = String::from_utf8(on.stdout).unwrap();
    // CPython: 0.0 with autojunk (b's 'a' and 'b' are popular), 0.8656716417910447 for the second pair;
    // the printed text is the shortest form that parses back to the same f64.
    assert_eq!(text, "{\"ratio\":0.0}\n{\"ratio\":0.8656716417910447}\n");
    let off = run_with_stdin(&["--raw", "--no-autojunk"], &input);
    let text = String::from_utf8(off.stdout).unwrap();
    // CPython: SequenceMatcher(None, a, b, autojunk=False).ratio() == 0.12461059190031153
    assert_eq!(text.lines().next(), Some(r#"{"ratio":0.12461059190031153}"#));
}

#[test]
fn strict_stops_at_the_bad_line_and_output_is_written_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pairs.jsonl");
    std::fs::write(&input, "{\"a\": \"abcd\", \"b\": \"bcde\"}\n{\"a\": 1}\n").unwrap();
    let out = srl_swe().args(["reward", "--raw", "--strict", "--input"]).arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pairs.jsonl:2: "), "{stderr}");

    std::fs::write(&input, "{\"a\": \"abcd\", \"b\": \"bcde\"}\n").unwrap();
    let output = dir.path().join("out/ratios.jsonl");
    let out = srl_swe().args(["reward", "--raw", "--input"]).arg(&input).arg("--output").arg(&output).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // CPython: SequenceMatcher(None, "abcd", "bcde").ratio() == 0.75
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "{\"ratio\":0.75}\n");
    assert!(out.stdout.is_empty());
}

#[test]
fn invalid_utf8_line_is_a_counted_bad_line_not_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pairs.jsonl");
    let mut bytes = b"{\"a\": \"abcd\", \"b\": \"bcde\"}\n{\"a\": \"\xff\xfe\", \"b\": \"x\"}\n".to_vec();
    bytes.extend_from_slice(b"{\"a\": \"abc\", \"b\": \"abc\"}\n");
    std::fs::write(&input, &bytes).unwrap();
    let out = srl_swe().args(["reward", "--raw", "--input"]).arg(&input).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = json_lines(&out.stdout);
    assert_eq!(got.len(), 3);
    // CPython: SequenceMatcher(None, "abcd", "bcde").ratio() == 0.75; "abc" vs "abc" == 1.0
    assert_eq!(got[0], serde_json::json!({"ratio": 0.75}));
    assert_eq!(got[1]["line"], 2);
    assert!(got[1]["error"].as_str().unwrap().contains("invalid UTF-8"), "{}", got[1]);
    assert_eq!(got[2], serde_json::json!({"ratio": 1.0}));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 bad line(s)"));

    // The same through stdin, and --strict stops at it naming the line.
    let mut child = srl_swe()
        .args(["reward", "--raw", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json_lines(&out.stdout).len(), 3);
    let strict = srl_swe().args(["reward", "--raw", "--strict", "--input"]).arg(&input).output().unwrap();
    assert_eq!(strict.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&strict.stderr);
    assert!(stderr.contains("pairs.jsonl:2: invalid UTF-8"), "{stderr}");
}
