//! Byte-identity guard of the prepare pipeline: the cases of
//! `fixtures/golden-prepare/cases.json` (a small synthetic `tool` split made by
//! `benches/make_synthetic.py` plus rows that exercise the dedup, and the shipped samples in all
//! three splits) are checked twice:
//!
//! - against `fixtures/golden-prepare/earlier.sha256`, the SHA-256 digests of the `train.jsonl`,
//!   `val.jsonl` and `stats.json` bytes of the implementation before the speed work (commit
//!   199495b), after removing the `target_thought` key it did not write yet: the faster pipeline
//!   writes what the old one wrote;
//! - against `fixtures/golden-prepare/expected.sha256`, the digests of every output as written now
//!   (thoughts included, and the parquet files, whose schema has the `target_thought` column). They
//!   were produced by the general path (`serde_json` decoding, no escaped fast path) and reviewed;
//!   after an intended change regenerate them with `SRL_SWE_BLESS=1 cargo test -p srl-trajectory
//!   --test golden_prepare` and read the diff.
//!
//! `config.json` holds absolute paths and is not compared.

use serde_json::Value;
use sha2::{Digest, Sha256};
use srl_trajectory::{prepare_swe, NoProgress, SwePrepareConfig};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn golden() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden-prepare")
}

/// Merges `options` into the JSON form of the default config (objects key by key).
fn merge(base: &mut Value, options: &Value) {
    match (base, options) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// The JSONL bytes without the `target_thought` keys (the earlier implementation's output).
fn without_thoughts(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let mut v: Value = serde_json::from_slice(line).unwrap();
        v.as_object_mut().unwrap().shift_remove("target_thought");
        out.extend_from_slice(&serde_json::to_vec(&v).unwrap());
        out.push(b'\n');
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn read_digests(name: &str) -> BTreeMap<String, String> {
    std::fs::read_to_string(golden().join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .lines()
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn outputs_match_the_digests_of_the_earlier_implementation() {
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(golden().join("cases.json")).unwrap()).unwrap();
    let earlier = read_digests("earlier.sha256");
    let tmp = tempfile::tempdir().unwrap();
    let (mut got, mut got_earlier) = (BTreeMap::new(), BTreeMap::new());
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let out = tmp.path().join(name);
        let mut cfg =
            serde_json::to_value(SwePrepareConfig::new(repo_root().join(case["input"].as_str().unwrap()), &out))
                .unwrap();
        merge(&mut cfg, &case["options"]);
        let cfg: SwePrepareConfig = serde_json::from_value(cfg).unwrap();
        prepare_swe(&cfg, &NoProgress).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ext = cfg.format.extension();
        for file in [format!("train.{ext}"), format!("val.{ext}"), "stats.json".into()] {
            let path = out.join(&file);
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let key = format!("{name} {file}");
            got.insert(key.clone(), hex(&bytes));
            if file.ends_with(".jsonl") {
                got_earlier.insert(key, hex(&without_thoughts(&bytes)));
            } else if file == "stats.json" {
                got_earlier.insert(key, hex(&bytes));
            }
        }
    }
    assert_eq!(got_earlier.keys().collect::<Vec<_>>(), earlier.keys().collect::<Vec<_>>(), "cases and digests");
    for (k, v) in &earlier {
        assert_eq!(&got_earlier[k], v, "{k} (without target_thought) differs from the earlier implementation's output");
    }
    let path = golden().join("expected.sha256");
    if std::env::var_os("SRL_SWE_BLESS").is_some() {
        let text: String = got.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
        std::fs::write(&path, text).unwrap();
    }
    let want = read_digests("expected.sha256");
    assert_eq!(got.len(), want.len(), "cases and digests (bless with SRL_SWE_BLESS=1 after an intended change)");
    for (k, v) in &got {
        assert_eq!(Some(v), want.get(k), "{k} differs from expected.sha256");
    }
}
