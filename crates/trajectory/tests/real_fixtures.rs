//! The real SWE-smith / SWE-agent files of `tests/fixtures/swe-smith-real` (see its README)
//! through every route of `prepare_swe` — the `.traj` run folders, and the `tool`, `xml` and
//! `ticks` rows that SWE-smith's `collect_trajs.py` makes of them (rebuilt by
//! `tests/support/collect_styles.py` after SWE-smith's `transform_traj_*`) — plus SWE-smith's
//! own xml example rows, and variants of a real trajectory with one unusual expert turn each
//! (exit turns, `</parameter>` in xml values, prose mentioning `<function=bash>`, ``` lines in
//! commands, a lone ``` in a thought). Every expert call must come out exactly as the history's
//! `tool_calls` (or SWE-agent's own xml regexes) say; where SWE-agent's parser itself would read
//! the wrong text, the trajectory is a counted, named skip.

use serde_json::Value;
use srl_core::StepInstance;
use srl_trajectory::{prepare_swe, NoProgress, PrepareStats, Split, SwePrepareConfig};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn real() -> PathBuf {
    fixtures().join("swe-smith-real")
}

fn python() -> String {
    std::env::var("SRL_SWE_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs `tests/support/collect_styles.py` (SWE-smith's conversions) into `out`.
fn collect_styles(out: &Path, args: &[&str]) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/collect_styles.py");
    let res = Command::new(python()).arg(script).arg(out).args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run {} ({e}): install Python 3 or run `bash scripts/setup.sh` and `source scripts/env.sh`",
            python()
        )
    });
    assert!(res.status.success(), "collect_styles.py failed:\n{}", String::from_utf8_lossy(&res.stderr));
    serde_json::from_str(&std::fs::read_to_string(out.join("expected.json")).unwrap()).unwrap()
}

fn real_trajs() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(real().join("trajs"))
        .unwrap()
        .map(|e| {
            let dir = e.unwrap().path();
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            dir.join(format!("{name}.traj")).to_string_lossy().into_owned()
        })
        .collect();
    out.sort();
    out
}

fn run(input: &Path, out: &Path, split: Split, edit: impl FnOnce(&mut SwePrepareConfig)) -> PrepareStats {
    let mut cfg = SwePrepareConfig::new(input, out);
    cfg.split = split;
    cfg.val_trajectories = 0;
    edit(&mut cfg);
    prepare_swe(&cfg, &NoProgress).unwrap_or_else(|e| panic!("prepare {}: {e}", input.display()))
}

/// Targets per trajectory id, in step order.
fn targets(out: &Path) -> BTreeMap<String, Vec<String>> {
    let mut by: BTreeMap<String, Vec<(u32, String)>> = BTreeMap::new();
    for line in std::fs::read_to_string(out.join("train.jsonl")).unwrap().lines() {
        let inst: StepInstance = serde_json::from_str(line).unwrap();
        by.entry(inst.provenance.trajectory_id.clone()).or_default().push((inst.provenance.step_index, inst.target));
    }
    by.into_iter()
        .map(|(k, mut v)| {
            v.sort();
            (k, v.into_iter().map(|(_, t)| t).collect())
        })
        .collect()
}

fn expected_map(v: &Value) -> BTreeMap<String, Vec<String>> {
    serde_json::from_value(v.clone()).unwrap()
}

/// The instance id part of a trajectory id (`<iid>.<hash>`).
fn iid(traj_id: &str) -> &str {
    traj_id.rsplit_once('.').map_or(traj_id, |(a, _)| a)
}

fn by_iid(m: BTreeMap<String, Vec<String>>) -> BTreeMap<String, Vec<String>> {
    m.into_iter().map(|(k, v)| (iid(&k).to_string(), v)).collect()
}

fn reasons(s: &PrepareStats) -> BTreeMap<String, u64> {
    s.records.skipped_by_reason.clone()
}

fn map(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn real_trajectories_exact_on_every_route() {
    let tmp = tempfile::tempdir().unwrap();
    let styles = tmp.path().join("styles");
    let mut args = vec![real().join("run_evaluation").to_string_lossy().into_owned()];
    args.extend(real_trajs());
    args.extend(["--xml-rows".into(), real().join("ft_xml_example.jsonl").to_string_lossy().into_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let expected = collect_styles(&styles, &args);
    let want = by_iid(expected_map(&expected["trajs"]));
    assert_eq!(want.values().map(Vec::len).sum::<usize>(), 76, "the README's 76 expert calls");

    // `.traj` run folders with the default --resolved-only: the reports live in the separate
    // `run_evaluation/` folder (SWE-smith's layout); pr_53856 is unresolved.
    let out = tmp.path().join("traj");
    let s = run(&real().join("trajs"), &out, Split::Tool, |_| {});
    assert_eq!((s.records.read, s.records.kept), (3, 2));
    assert_eq!(reasons(&s), map(&[("unresolved", 1)]));
    let got = by_iid(targets(&out));
    for (k, v) in &got {
        assert_eq!(Some(v), want.get(k), "{k} via .traj");
    }
    let s = run(&real().join("trajs"), &out, Split::Tool, |c| c.resolved_only = false);
    assert_eq!(s.records.kept, 3);
    assert_eq!(by_iid(targets(&out)), want, ".traj route, all three");

    // The three SWE-smith styles, under collect_trajs.py's own file names.
    for split in Split::ALL {
        let out = tmp.path().join(split.name());
        let file = styles.join(format!("run_evaluation.{split}.jsonl"));
        let s = run(&file, &out, split, |c| c.resolved_only = false);
        assert_eq!((s.records.read, s.records.kept, s.records.skipped), (3, 3, 0), "{split}");
        assert_eq!(by_iid(targets(&out)), want, "{split} route");
        // The name declares the split: another --split ignores the file.
        let other = Split::ALL.into_iter().find(|o| *o != split).unwrap();
        let mut cfg = SwePrepareConfig::new(&file, tmp.path().join("none"));
        cfg.split = other;
        assert!(prepare_swe(&cfg, &NoProgress).is_err(), "{split} file read as {other}");
    }

    // SWE-smith's own xml example rows: the name does not tell, the content does (per file).
    let out = tmp.path().join("xml-example");
    let s = run(&real().join("ft_xml_example.jsonl"), &out, Split::Xml, |c| c.resolved_only = false);
    assert_eq!((s.records.read, s.records.kept), (3, 3));
    let want_xml = expected_map(&expected["xml_example"]);
    assert_eq!(want_xml.values().map(Vec::len).sum::<usize>(), 103);
    assert_eq!(targets(&out), want_xml, "ft_xml_example.jsonl");

    // The SWE-agent demonstration uses the older tool set: a named skip, not a wrong target.
    let out = tmp.path().join("demo");
    let s = run(&real().join("swe-agent-demo"), &out, Split::Tool, |_| {});
    assert_eq!(reasons(&s), map(&[("resolution_unknown", 1)]), "no report for the demo");
    let mut cfg = SwePrepareConfig::new(real().join("swe-agent-demo"), &out);
    cfg.resolved_only = false;
    let err = prepare_swe(&cfg, &NoProgress).map(|s| reasons(&s));
    assert_eq!(err.unwrap(), map(&[("unknown_tool", 1)]));
}

#[test]
fn reports_folder_option_and_unknown_resolution() {
    let tmp = tempfile::tempdir().unwrap();
    // The run folder alone, away from its evaluation folder.
    let alone = tmp.path().join("run");
    for t in real_trajs() {
        let t = PathBuf::from(t);
        let dir = alone.join(t.parent().unwrap().file_name().unwrap());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&t, dir.join(t.file_name().unwrap())).unwrap();
    }
    let out = tmp.path().join("out");
    let s = run(&alone, &out, Split::Tool, |_| {});
    assert_eq!((s.records.kept, reasons(&s)), (0, map(&[("resolution_unknown", 3)])));
    let s = run(&alone, &out, Split::Tool, |c| c.resolved_only = false);
    assert_eq!((s.records.kept, s.records.resolution_unknown), (3, 3));
    let s = run(&alone, &out, Split::Tool, |c| c.reports = Some(real().join("run_evaluation")));
    assert_eq!((s.records.kept, reasons(&s)), (2, map(&[("unresolved", 1)])));
    // `logs/run_evaluation/<run_id>/<iid>/report.json` above the run folder also counts.
    let eval = tmp.path().join("logs/run_evaluation/my_run");
    for e in std::fs::read_dir(real().join("run_evaluation")).unwrap() {
        let e = e.unwrap();
        std::fs::create_dir_all(eval.join(e.file_name())).unwrap();
        std::fs::copy(e.path().join("report.json"), eval.join(e.file_name()).join("report.json")).unwrap();
    }
    let s = run(&alone, &out, Split::Tool, |_| {});
    assert_eq!((s.records.kept, reasons(&s)), (2, map(&[("unresolved", 1)])));
}

const VARIANTS: &str = "exit_cost,exit_context,exit_format,xml_param_close,prose_function,ticks_fence,lone_fence";

#[test]
fn unusual_expert_turns_in_every_style() {
    let tmp = tempfile::tempdir().unwrap();
    let styles = tmp.path().join("styles");
    let base = real_trajs().into_iter().find(|t| t.contains("pydantic")).unwrap();
    let eval = real().join("run_evaluation").to_string_lossy().into_owned();
    let expected = collect_styles(&styles, &[&eval, &base, "--variants", VARIANTS]);
    let want = by_iid(expected_map(&expected["trajs"]));
    assert_eq!(want.len(), 7);
    // Exit turns: the 11 calls before the exit stay; the exit is no target.
    for v in ["exit_cost", "exit_context", "exit_format"] {
        assert_eq!(want[&format!("pydantic__pydantic.acb0f10f.pr_8316__{v}")].len(), 11);
    }
    let lone = "pydantic__pydantic.acb0f10f.pr_8316__lone_fence";

    // The three exit variants hold the same 11 calls, and prose_function / lone_fence differ
    // from each other only in a thought (not part of any instance): the dedup keeps the first of
    // each group (in name order) and counts the others as duplicate_instances.
    // Later trajectories lose the instances they share with earlier ones (the same prefix of
    // the base run), so each kept target is checked at its own step index.
    let check = |out: &Path, want: &BTreeMap<String, Vec<String>>, route: &str| {
        let mut kept = std::collections::BTreeSet::new();
        for line in std::fs::read_to_string(out.join("train.jsonl")).unwrap().lines() {
            let inst: StepInstance = serde_json::from_str(line).unwrap();
            let k = iid(&inst.provenance.trajectory_id).to_string();
            let step = inst.provenance.step_index as usize;
            assert_eq!(Some(&inst.target), want.get(&k).and_then(|w| w.get(step)), "{k}#{step} via {route}");
            kept.insert(k);
        }
        assert!(kept.len() >= 3, "{route}: {kept:?}");
        // The first exit variant read is kept whole: its 11 calls, no target for the exit.
        let exits: Vec<Vec<String>> =
            by_iid(targets(out)).into_iter().filter(|(k, _)| k.contains("__exit_")).map(|(_, v)| v).collect();
        assert_eq!(exits.len(), 1, "{route}");
        assert_eq!(exits[0].len(), 11, "{route}");
    };

    // `.traj` route, reports found in `logs/run_evaluation/<iid>/` above the run folder.
    let out = tmp.path().join("traj");
    let s = run(&styles.join("variants/trajs"), &out, Split::Tool, |_| {});
    assert_eq!((s.records.read, s.records.kept, s.records.ended_by_exit_turn), (7, 4, 1), "{:?}", reasons(&s));
    assert_eq!(reasons(&s), map(&[("duplicate_instances", 3)]));
    check(&out, &want, ".traj");

    for split in Split::ALL {
        let out = tmp.path().join(split.name());
        let s = run(&styles.join(format!("run_evaluation.{split}.jsonl")), &out, split, |_| {});
        let mut want_here = want.clone();
        if split == Split::Ticks {
            // SWE-agent's ThoughtActionParser would pair the thought's lone ``` with the action's
            // opening fence: a named skip instead of a wrong target.
            want_here.remove(lone);
            assert_eq!(reasons(&s).get("unpaired_fence"), Some(&1), "ticks");
        }
        // Nothing is skipped for a reason other than duplication (and the lone fence).
        let bad: Vec<_> =
            reasons(&s).into_keys().filter(|r| r != "duplicate_instances" && r != "unpaired_fence").collect();
        assert!(bad.is_empty(), "{split}: {bad:?}");
        assert_eq!(s.records.ended_by_exit_turn, 1, "{split}");
        check(&out, &want_here, split.name());
    }

    // Rows in a file whose name does not tell: ticks rows whose thoughts mention <function=bash>
    // are still ticks, decided once for the whole file.
    let undeclared = tmp.path().join("rows");
    std::fs::create_dir_all(&undeclared).unwrap();
    std::fs::copy(styles.join("run_evaluation.ticks.jsonl"), undeclared.join("rows.jsonl")).unwrap();
    let out = tmp.path().join("undeclared");
    let s = run(&undeclared, &out, Split::Ticks, |_| {});
    assert_eq!(s.files.read, 1);
    assert_eq!(reasons(&s).get("unpaired_fence"), Some(&1), "read as ticks");
    let mut want_ticks = want.clone();
    want_ticks.remove(lone);
    check(&out, &want_ticks, "undeclared ticks file");
    let mut cfg = SwePrepareConfig::new(&undeclared, tmp.path().join("as-xml"));
    cfg.split = Split::Xml;
    assert!(prepare_swe(&cfg, &NoProgress).is_err(), "the whole file is ticks, not xml");
}

/// The expert calls of the composed SWE-agent 1.1 trajectory, from its history's tool calls.
fn v11_expected(doc: &Value) -> Vec<String> {
    doc["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m.get("tool_calls").and_then(|c| c.as_array()).and_then(|c| c.first()))
        .map(|c| {
            let args: Value = serde_json::from_str(c["function"]["arguments"].as_str().unwrap()).unwrap();
            srl_core::Action::from_json_args(c["function"]["name"].as_str().unwrap(), &args).unwrap().to_canonical()
        })
        .collect()
}

#[test]
fn swe_agent_1_1_trajectories_read_from_query() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fixtures().join("swe-agent-1.1");
    let iid = "srl-swe__textkit.ea4138a2.func_pm_op_change__1d2e3f4a";
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(src.join(iid).join(format!("{iid}.traj"))).unwrap()).unwrap();
    let want = v11_expected(&doc);
    assert_eq!(want.len(), 5);
    let write = |name: &str, doc: &Value| {
        let root = tmp.path().join(name);
        std::fs::create_dir_all(root.join("run").join(iid)).unwrap();
        std::fs::write(root.join("run").join(iid).join(format!("{iid}.traj")), doc.to_string()).unwrap();
        let rep = root.join("logs/run_evaluation").join(iid);
        std::fs::create_dir_all(&rep).unwrap();
        std::fs::copy(src.join("logs/run_evaluation").join(iid).join("report.json"), rep.join("report.json")).unwrap();
        root.join("run")
    };
    // As shipped (with `history`), and with only `trajectory[-1].query` to go by.
    let mut query_only = doc.clone();
    query_only.as_object_mut().unwrap().remove("history");
    for (name, d) in [("full", &doc), ("query", &query_only)] {
        let out = tmp.path().join(format!("out-{name}"));
        let s = run(&write(name, d), &out, Split::Tool, |_| {});
        assert_eq!(s.records.kept, 1, "{name}: {:?}", reasons(&s));
        assert_eq!(targets(&out).into_values().next().unwrap(), want, "{name}");
    }
    // A 1.1 run that ends with an exit turn: the last step's query holds everything before it.
    let mut exit = query_only.clone();
    let steps = exit["trajectory"].as_array_mut().unwrap();
    let last_query = {
        let mut q = steps[4]["query"].as_array().unwrap().clone();
        let h = doc["history"].as_array().unwrap();
        q.extend(h[h.len() - 2..].iter().cloned());
        q
    };
    steps.push(serde_json::json!({"action": "", "observation": "Exited (autosubmitted)",
        "response": "Exit due to cost limit", "thought": "Exit due to cost limit", "query": last_query}));
    let out = tmp.path().join("out-exit");
    let s = run(&write("exit", &exit), &out, Split::Tool, |_| {});
    assert_eq!(s.records.kept, 1, "{:?}", reasons(&s));
    assert_eq!(targets(&out).into_values().next().unwrap(), want, "exit turn adds no target");
}
