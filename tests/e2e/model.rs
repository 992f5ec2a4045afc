//! `srl-swe model init` / `model generate` end to end: the tiny checkpoint is written in HF
//! layout, loads back, and generates deterministic greedy text.
use crate::common::srl_swe;

#[test]
fn model_init_writes_tiny_checkpoint_and_generate_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tiny");
    let corpus = crate::common::repo_root().join("crates/model/src");
    let status = srl_swe()
        .args(["model", "init", "--preset", "tiny", "--seed", "7", "--out"])
        .arg(&out)
        .arg("--corpus")
        .arg(&corpus)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    for f in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["model_type"], "qwen2");
    assert_eq!(config["hidden_size"], 256);

    let run = || {
        let o = srl_swe()
            .args([
                "model",
                "generate",
                "--max-new-tokens",
                "8",
                "--prompt",
                "hello",
                "--prompt",
                "fix the bug",
                "--model",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let first = run();
    let lines: Vec<serde_json::Value> = first.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    for l in &lines {
        let n = l["token_ids"].as_array().unwrap().len();
        assert!((1..=8).contains(&n));
        assert_eq!(l["logprobs"].as_array().unwrap().len(), n);
        assert!(l["text"].is_string());
    }
    assert_eq!(first, run(), "greedy generation must be deterministic");
}

#[test]
fn model_init_toy_preset_is_a_character_tokenizer_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("toy");
    let o = srl_swe().args(["model", "init", "--preset", "toy", "--out"]).arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!((config["hidden_size"].as_u64(), config["num_hidden_layers"].as_u64()), (Some(64), Some(2)));
    let tok: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("tokenizer.json")).unwrap()).unwrap();
    assert_eq!(tok["model"]["merges"].as_array().map(Vec::len), Some(0), "one token per character");
    let g = srl_swe()
        .args(["model", "generate", "--max-new-tokens", "4", "--prompt", "1 2", "--model"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    let line: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&g.stdout).lines().next().unwrap()).unwrap();
    assert!(!line["token_ids"].as_array().unwrap().is_empty());
}

#[test]
fn model_init_rejects_unknown_presets() {
    let dir = tempfile::tempdir().unwrap();
    let o = srl_swe().args(["model", "init", "--preset", "3b", "--out"]).arg(dir.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown preset `3b`"));
}
