//! Byte-identity guard of the prepare pipeline (issue 13): the cases of
//! `fixtures/golden-prepare/cases.json` (a small synthetic `tool` split made by
//! `benches/make_synthetic.py` plus rows that exercise the dedup, and the shipped samples in all
//! three splits) must give exactly the `train.*`, `val.*` and `stats.json` bytes whose SHA-256
//! digests are in `fixtures/golden-prepare/expected.sha256`. Those digests were produced by the
//! implementation before the speed work of issue 13 (commit 199495b), so the faster pipeline
//! writes what the old one wrote. `config.json` holds absolute paths and is not compared.

use serde_json::Value;
use sha2::{Digest, Sha256};
use srl_trajectory::{prepare_swe, NoProgress, SwePrepareConfig};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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

fn digest(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn outputs_match_the_digests_of_the_earlier_implementation() {
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(golden().join("cases.json")).unwrap()).unwrap();
    let want: BTreeMap<String, String> = std::fs::read_to_string(golden().join("expected.sha256"))
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut got = BTreeMap::new();
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
            got.insert(format!("{name} {file}"), digest(&out.join(&file)));
        }
    }
    assert_eq!(got.len(), want.len(), "cases and digests");
    for (k, v) in &got {
        assert_eq!(Some(v), want.get(k), "{k} differs from the earlier implementation's output");
    }
}
