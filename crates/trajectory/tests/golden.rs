//! Golden (snapshot) test: one fixed `tool`-split trajectory (`golden/trajectory.tool.json`, the
//! demo textkit trajectory of `datasets/swe-smith`) replayed into step instances with the default
//! options must give exactly `golden/instances.jsonl`.
//!
//! The snapshot was reviewed by eye (system prompt, task, last-2-pairs windows, canonical
//! targets, provenance). After an intended change, regenerate it with
//! `SRL_SWE_BLESS=1 cargo test -p srl-trajectory --test golden`, then read the diff before
//! committing it.

use srl_trajectory::context::{swe_instances, ContextOptions, Origin};
use srl_trajectory::{replay_messages, Split};
use std::path::PathBuf;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn render() -> String {
    let text = std::fs::read_to_string(golden_dir().join("trajectory.tool.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let traj_id = doc["traj_id"].as_str().unwrap();
    let replay = replay_messages(&doc["messages"], Split::Tool).unwrap();
    let origin = Origin { source: "trajectory.tool.json", row: None, trajectory_id: traj_id };
    let built =
        swe_instances(&replay, origin, &srl_trajectory::prompts::swe_system_prompt(), &ContextOptions::default(), None);
    let mut out = String::new();
    for b in built.instances {
        out.push_str(&serde_json::to_string(&b.instance).unwrap());
        out.push('\n');
    }
    out
}

#[test]
fn golden_instances() {
    let got = render();
    let path = golden_dir().join("instances.jsonl");
    if std::env::var_os("SRL_SWE_BLESS").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{}: {e}; create it with SRL_SWE_BLESS=1 cargo test -p srl-trajectory --test golden", path.display())
    });
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    assert_eq!(g.len(), w.len(), "number of instances");
    for (i, (g, w)) in g.iter().zip(&w).enumerate() {
        assert_eq!(g, w, "instance {i} differs from the golden file");
    }
}
