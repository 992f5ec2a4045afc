//! `srl-swe grade` against the harness packages themselves: a corpus of logs written
//! here, per parser family (django, sympy, pytest `-rA`, pytest v2 with ANSI colours and ids
//! with spaces, pytest-options path ids, matplotlib, seaborn, CRLF line ends, the `[100%]`
//! wrap, truncated logs, harness failure markers, two START…END blocks, a non-zero exit status
//! without failures, truncated parametrised ids), is graded by the binary and by swebench
//! 5.0.2's `get_logs_eval` + `get_eval_tests_report` + `get_resolution_status`; the three real
//! SWE-smith test logs by the binary and by swesmith 0.0.9's `read_test_output`, profile
//! `log_parser` and `get_eval_tests_report`. Status maps, validity and resolution must be equal.
//! The harness venv comes from `bash scripts/venvs/swebench.sh` (run by scripts/setup.sh).
use crate::common::{repo_root, srl_swe};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn harness_venv() -> PathBuf {
    let out = Command::new("bash").arg(repo_root().join("scripts/venvs/swebench.sh")).arg("--path").output().unwrap();
    let venv = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        venv.join(".srl-swe-complete").is_file(),
        "the swebench venv {} is missing: run `bash scripts/setup.sh` (or `bash scripts/venvs/swebench.sh`)",
        venv.display()
    );
    venv
}

fn harness(args: &[&str], input: &[Value]) -> Vec<Value> {
    let mut child = Command::new(harness_venv().join("bin/python"))
        .arg(repo_root().join("scripts/swebench_harness.py"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let text: String = input.iter().map(|v| format!("{v}\n")).collect();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "swebench_harness.py {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Grades `cases` (instance, log) with the binary; returns its lines by instance id.
fn grade_with_binary(dir: &Path, cases: &[(Value, String)], extra: &[&str]) -> BTreeMap<String, Value> {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut inst = String::new();
    for (i, log) in cases {
        inst.push_str(&format!("{i}\n"));
        std::fs::write(logs.join(format!("{}.log", i["instance_id"].as_str().unwrap())), log).unwrap();
    }
    std::fs::write(dir.join("instances.jsonl"), inst).unwrap();
    let out_file = dir.join("graded.jsonl");
    let out = srl_swe()
        .args(["grade", "--instances"])
        .arg(dir.join("instances.jsonl"))
        .arg("--logs")
        .arg(&logs)
        .arg("--out")
        .arg(&out_file)
        .args(extra)
        .env("SRL_SWE_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "srl-swe grade: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(&out_file)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["instance_id"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

fn compare(ours: &BTreeMap<String, Value>, theirs: &[Value]) {
    assert_eq!(ours.len(), theirs.len());
    for t in theirs {
        let id = t["instance_id"].as_str().unwrap();
        let o = &ours[id];
        assert_eq!(o["valid"], t["valid"], "{id}: validity\nours {o:#}\ntheirs {t:#}");
        assert_eq!(o["tests"], t["tests"], "{id}: status map");
        let resolution = format!("RESOLVED_{}", o["resolution"].as_str().unwrap());
        assert_eq!(resolution, t["resolution"].as_str().unwrap(), "{id}: resolution\nours {o:#}\ntheirs {t:#}");
        assert_eq!(o["resolved"], Value::from(resolution == "RESOLVED_FULL"), "{id}");
    }
}

fn block(body: &str) -> String {
    format!("+ git apply -v -\nChecking patch tests/x.py...\n+ : '>>>>> Start Test Output'\n{body}+ : '>>>>> End Test Output'\n+ git checkout abc tests/x.py\n")
}

fn inst(id: &str, repo: &str, f2p: &[&str], p2p: &[&str]) -> Value {
    json!({"instance_id": id, "repo": repo, "version": "1.0", "base_commit": "abc", "problem_statement": "p",
           "patch": "", "test_patch": "diff --git a/tests/x.py b/tests/x.py\n",
           "FAIL_TO_PASS": serde_json::to_string(f2p).unwrap(), "PASS_TO_PASS": p2p})
}

fn swebench_corpus() -> Vec<(Value, String)> {
    let mut c = Vec::new();
    // django: ok / FAIL / ERROR / skipped, FAIL: headers, output between "..." and "ok", the
    // "System check identified" interruption.
    c.push((
        inst("django__django-1", "django/django", &["test_a (forms.tests.T)", "test_f (forms.tests.T)"], &["test_b (forms.tests.T)", "test_s (forms.tests.T)", "test_m (forms.tests.T)"]),
        block("test_a (forms.tests.T) ... ok\ntest_b (forms.tests.T) ... ok\ntest_c (forms.tests.T) ... FAIL\ntest_d (forms.tests.T) ... ERROR\ntest_s (forms.tests.T) ... skipped 'no db'\ntest_m (forms.tests.T) ... Testing against Django installed in '/testbed/django' with up to 4 processes\nSystem check identified no issues (0 silenced).\nok\ntest_f (forms.tests.T)\nDocstring line ... \nok\n======\nFAIL: test_c (forms.tests.T)\nERROR: test_d (forms.tests.T)\n----\nRan 6 tests\n"),
    ));
    c.push((
        inst("django__django-2", "django/django", &["test_x (a.T)"], &[]),
        block("test_x (a.T) ... FAIL\n\nFAIL: test_x (a.T)\nTraceback\n").replace('\n', "\r\n"),
    ));
    // sympy: ok / F / E lines and failure headers.
    c.push((
        inst("sympy__sympy-1", "sympy/sympy", &["test_foo", "test_bar"], &["test_baz", "test_ok"]),
        block("sympy/core/tests/test_basic.py[4] \ntest_foo ok\ntest_bar F\ntest_baz E\ntest_ok ok\n________________ sympy/core/tests/test_basic.py:test_bar ________________\nAssertionError\n"),
    ));
    // pytest -rA: FAILED with " - ", SKIPPED [N] summary, XFAIL, ERROR, the [100%] wrap.
    c.push((
        inst("pytest-dev__pytest-1", "pytest-dev/pytest", &["testing/test_a.py::test_x", "testing/test_a.py::test_z"], &["testing/test_a.py::test_y", "[100%]"]),
        block("testing/test_a.py::test_very_long_name_that_wraps_the_terminal \nPASSED [100%]\n=== short test summary info ===\nPASSED testing/test_a.py::test_x\nFAILED testing/test_a.py::test_y - AssertionError: a - b\nSKIPPED [1] testing/test_a.py:10: no numpy\nXFAIL testing/test_a.py::test_z - reason\nERROR testing/test_b.py::test_e\n"),
    ));
    // pytest v2 (astropy): ANSI colours, ids with spaces, old-style `id STATUS` lines,
    // truncated parametrised ids in FAIL_TO_PASS.
    c.push((
        inst(
            "astropy__astropy-1",
            "astropy/astropy",
            &["astropy/units/tests/test_format.py::test_ogip_grammar_fail[log(photon", "astropy/io/tests/test_a.py::test_b[x]"],
            &["astropy/io/tests/test_a.py::test_space[a b]", "astropy/io/tests/test_a.py::test_old"],
        ),
        block("\x1b[32mPASSED\x1b[0m astropy/units/tests/test_format.py::test_ogip_grammar_fail[log(photon /cm**2]\n\x1b[32mPASSED\x1b[0m astropy/units/tests/test_format.py::test_ogip_grammar_fail[log(photon /s]\nPASSED astropy/io/tests/test_a.py::test_space[a b]\n\x1b[31mFAILED\x1b[0m astropy/io/tests/test_a.py::test_b[x] - ValueError: no - way\nastropy/io/tests/test_a.py::test_old PASSED\n"),
    ));
    // Truncated id whose candidates disagree: not resolved by prefix.
    c.push((
        inst("sphinx-doc__sphinx-1", "sphinx-doc/sphinx", &["tests/test_build.py::test_html[with"], &[]),
        block("PASSED tests/test_build.py::test_html[with space]\nFAILED tests/test_build.py::test_html[with tab]\n"),
    ));
    // pytest-options (requests): path options shortened.
    c.push((
        inst("psf__requests-1", "psf/requests", &["test_requests.py::test_path[/file.txt]"], &["test_requests.py::test_url[//host/a]", "test_requests.py::test_p[x]"]),
        block("PASSED test_requests.py::test_path[/home/user/file.txt]\nPASSED test_requests.py::test_url[//host/a]\nFAILED test_requests.py::test_p[x] - boom\nPASSED test_requests.py::test_glob[/a/*.py]\n"),
    ));
    // matplotlib: MouseButton names.
    c.push((
        inst("matplotlib__matplotlib-1", "matplotlib/matplotlib", &["lib/matplotlib/tests/test_widgets.py::test_span[1]"], &["lib/matplotlib/tests/test_widgets.py::test_span[3]"]),
        block("PASSED lib/matplotlib/tests/test_widgets.py::test_span[MouseButton.LEFT]\nPASSED lib/matplotlib/tests/test_widgets.py::test_span[MouseButton.RIGHT]\n"),
    ));
    // seaborn: verbose lines, summary lines.
    c.push((
        inst("mwaskom__seaborn-1", "mwaskom/seaborn", &["tests/test_core.py::test_a"], &["tests/test_core.py::test_b", "tests/test_core.py::test_c"]),
        block("tests/test_core.py::test_a PASSED [ 33%]\ntests/test_core.py::test_b PASSED [ 66%]\nFAILED tests/test_core.py::test_c - x\n"),
    ));
    // xarray (pytest parser) with CRLF line ends.
    c.push((
        inst(
            "pydata__xarray-1",
            "pydata/xarray",
            &["xarray/tests/test_a.py::test_x"],
            &["xarray/tests/test_a.py::test_y"],
        ),
        block("PASSED xarray/tests/test_a.py::test_x\nPASSED xarray/tests/test_a.py::test_y\n").replace('\n', "\r\n"),
    ));
    // Truncated log: no end marker.
    c.push((
        inst("pydata__xarray-2", "pydata/xarray", &["xarray/tests/test_a.py::test_x"], &[]),
        "+ : '>>>>> Start Test Output'\nPASSED xarray/tests/test_a.py::test_x\n".to_string(),
    ));
    // Harness failure markers.
    c.push((
        inst("pydata__xarray-3", "pydata/xarray", &["xarray/tests/test_a.py::test_x"], &[]),
        format!("{}>>>>> Tests Timed Out\n", block("PASSED xarray/tests/test_a.py::test_x\n")),
    ));
    c.push((
        inst("pydata__xarray-4", "pydata/xarray", &["xarray/tests/test_a.py::test_x"], &[]),
        format!(">>>>> Patch Apply Failed\n{}", block("PASSED xarray/tests/test_a.py::test_x\n")),
    ));
    // Two blocks: only the first counts.
    c.push((
        inst("pydata__xarray-5", "pydata/xarray", &["xarray/tests/test_a.py::test_x"], &[]),
        format!(
            "{}{}",
            block("FAILED xarray/tests/test_a.py::test_x\n"),
            block("PASSED xarray/tests/test_a.py::test_x\n")
        ),
    ));
    // A non-zero test exit status with only PASSED lines (printed by a conftest hook): invalid.
    c.push((
        inst("pydata__xarray-6", "pydata/xarray", &["xarray/tests/test_a.py::test_x"], &[]),
        "+ : '>>>>> Start Test Output'\nPASSED xarray/tests/test_a.py::test_x\n+ SWEBENCH_TEST_EXIT_CODE=4\n+ : '>>>>> End Test Output'\n>>>>> Test Exit Code: 4\n".to_string(),
    ));
    // Empty block, nothing in the log: invalid; results only outside the markers: read.
    c.push((
        inst("pydata__xarray-7", "pydata/xarray", &["xarray/tests/test_a.py::test_x"], &[]),
        block("collected 0 items\n"),
    ));
    c.push((
        inst("pydata__xarray-8", "pydata/xarray", &["xarray/tests/test_a.py::test_x"], &[]),
        format!("PASSED xarray/tests/test_a.py::test_x\n{}", block("\n")),
    ));
    // A 5.x row naming its parser; F2P only skipped: not resolved.
    let mut v5 = inst("django__django-3", "django/django", &["test_s (a.T)"], &["test_t (a.T)"]);
    v5["log_parser"] = Value::from("parse_log_django");
    v5["eval_type"] = Value::from("pass_and_fail");
    c.push((v5, block("test_s (a.T) ... skipped 'x'\ntest_t (a.T) ... skipped 'y'\n")));
    c
}

#[test]
fn grade_equals_swebench_on_the_log_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let cases = swebench_corpus();
    let ours = grade_with_binary(dir.path(), &cases, &[]);
    let input: Vec<Value> = cases.iter().map(|(i, l)| json!({"instance": i, "log": l})).collect();
    let theirs = harness(&["grade"], &input);
    compare(&ours, &theirs);
    // The corpus really exercises both outcomes and invalid logs (numbers from the reference).
    let resolved = theirs.iter().filter(|t| t["resolution"] == "RESOLVED_FULL").count();
    let invalid = theirs.iter().filter(|t| t["valid"] == false).count();
    assert!(resolved >= 3 && invalid >= 5, "resolved {resolved}, invalid {invalid}");
}

/// Real upstream SWE-smith files kept in the repository (see their README).
const REAL_FIXTURES: &str = "crates/trajectory/tests/fixtures/swe-smith-real";

fn real_log(name: &str) -> String {
    let p = repo_root().join(REAL_FIXTURES).join("test_logs").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// F2P / P2P of a real SWE-smith run, from its upstream report.json.
fn report_lists(id: &str) -> (Vec<String>, Vec<String>) {
    let p = repo_root().join(REAL_FIXTURES).join("run_evaluation").join(id).join("report.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    let list = |k: &str| -> Vec<String> {
        ["success", "failure"]
            .iter()
            .flat_map(|s| v["tests_status"][k][s].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()))
            .collect()
    };
    (list("FAIL_TO_PASS"), list("PASS_TO_PASS"))
}

#[test]
fn grade_equals_swesmith_on_the_real_test_logs() {
    let mut cases = Vec::new();
    for (id, log) in [
        ("pandas-dev__pandas.95280573.pr_53652", "swesmith_real_pandas-dev.log"),
        ("pydantic__pydantic.acb0f10f.pr_8316", "swesmith_real_pydantic.log"),
    ] {
        let (f2p, p2p) = report_lists(id);
        let repo = id.rsplit_once('.').unwrap().0;
        cases.push((json!({"instance_id": id, "repo": format!("swesmith/{repo}"), "problem_statement": "p", "patch": "diff", "patch_is_bug": true,
            "image_name": format!("swesmith.x86_64.{repo}"), "FAIL_TO_PASS": f2p, "PASS_TO_PASS": p2p}), real_log(log)));
    }
    // getmoto: no report in the fixtures; lists picked from the log's PASSED lines by grep,
    // plus a test that is not in the log (it must fail).
    let moto = real_log("swesmith_real_getmoto.log");
    let passed: Vec<String> = moto
        .lines()
        .filter(|l| l.contains(" PASSED"))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_string)
        .collect();
    assert!(passed.len() > 10);
    let id = "getmoto__moto.694ce1f4.pr_7331";
    cases.push((json!({"instance_id": id, "repo": "swesmith/getmoto__moto.694ce1f4", "problem_statement": "p", "patch": "d", "patch_is_bug": true,
        "image_name": "swesmith.x86_64.getmoto__moto.694ce1f4", "FAIL_TO_PASS": passed[..3], "PASS_TO_PASS": [passed[3].clone(), passed[4].clone()]}), moto.clone()));
    cases.push((json!({"instance_id": format!("{id}b"), "repo": "swesmith/getmoto__moto.694ce1f4", "problem_statement": "p", "patch": "d", "patch_is_bug": true,
        "image_name": "swesmith.x86_64.getmoto__moto.694ce1f4", "FAIL_TO_PASS": [passed[0].clone(), "tests/test_core/test_gone.py::test_not_run".to_string()], "PASS_TO_PASS": []}), moto));
    let dir = tempfile::tempdir().unwrap();
    let ours = grade_with_binary(dir.path(), &cases, &[]);
    let input: Vec<Value> = cases.iter().map(|(i, l)| json!({"instance": i, "log": l})).collect();
    let venv = harness_venv();
    let theirs = harness(&["swesmith-grade", &venv.join("legacy").to_string_lossy()], &input);
    compare(&ours, &theirs);
    // The upstream reports say both real runs resolved.
    assert_eq!(ours["pandas-dev__pandas.95280573.pr_53652"]["resolved"], true);
    assert_eq!(ours["pydantic__pydantic.acb0f10f.pr_8316"]["resolved"], true);
    assert_eq!(ours["getmoto__moto.694ce1f4.pr_7331b"]["resolution"], "PARTIAL");
}

#[test]
fn grade_names_missing_logs_and_unknown_parsers() {
    let dir = tempfile::tempdir().unwrap();
    let cases = vec![(inst("pydata__xarray-9", "pydata/xarray", &["a"], &[]), block("PASSED a\n"))];
    grade_with_binary(dir.path(), &cases, &[]);
    std::fs::remove_file(dir.path().join("logs/pydata__xarray-9.log")).unwrap();
    let out = srl_swe()
        .args(["grade", "--strict", "--instances"])
        .arg(dir.path().join("instances.jsonl"))
        .arg("--logs")
        .arg(dir.path().join("logs"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pydata__xarray-9"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = srl_swe()
        .args(["grade", "--log-parser", "parse_log_nonsense", "--instances"])
        .arg(dir.path().join("instances.jsonl"))
        .arg("--logs")
        .arg(dir.path().join("logs"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("parse_log_django"), "lists the known parsers");
}
