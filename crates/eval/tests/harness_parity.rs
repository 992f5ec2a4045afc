//! Parity of the eval scripts with the `swebench` package itself: for SWE-bench
//! instance records written here (django, sympy, sphinx, astropy, pytest, matplotlib, requests,
//! xarray, scikit-learn, seaborn, pylint, and a 5.x row carrying its own `eval_script`), the
//! script `srl_sandbox::grading::eval_script` builds equals swebench 5.0.2's
//! `make_test_spec(row).eval_script`, where a row without `eval_script` gets the one swebench
//! 4.1.0's `make_test_spec` builds (scripts/swebench_harness.py). The venv comes from
//! `bash scripts/venvs/swebench.sh` (run by scripts/setup.sh).
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The harness venv's python, or a failure saying how to create it.
pub fn harness_python() -> PathBuf {
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/venvs/swebench.sh"))
        .arg("--path")
        .output()
        .expect("bash runs scripts/venvs/swebench.sh");
    let venv = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        venv.join(".srl-swe-complete").is_file(),
        "the swebench venv {} is missing: run `bash scripts/setup.sh` (or `bash scripts/venvs/swebench.sh`)",
        venv.display()
    );
    venv.join("bin/python")
}

/// Runs scripts/swebench_harness.py `cmd` on JSON lines.
pub fn harness(cmd: &[&str], input: &[Value]) -> Vec<Value> {
    let mut child = Command::new(harness_python())
        .arg(repo_root().join("scripts/swebench_harness.py"))
        .args(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("harness python starts");
    let text: String = input.iter().map(|v| format!("{v}\n")).collect();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "swebench_harness.py {cmd:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

const TEST_PATCH_PY: &str = "diff --git a/tests/test_core.py b/tests/test_core.py\nindex 1111111..2222222 100644\n--- a/tests/test_core.py\n+++ b/tests/test_core.py\n@@ -1,3 +1,6 @@\n import pytest\n+\n+def test_new():\n+    assert True\n \n def test_old():\n     pass\ndiff --git a/tests/data/fixture.json b/tests/data/fixture.json\nnew file mode 100644\nindex 0000000..3333333\n--- /dev/null\n+++ b/tests/data/fixture.json\n@@ -0,0 +1 @@\n+{}\ndiff --git a/tests/test_added.py b/tests/test_added.py\nnew file mode 100644\nindex 0000000..4444444\n--- /dev/null\n+++ b/tests/test_added.py\n@@ -0,0 +1,2 @@\n+def test_added():\n+    pass\n";

fn row(repo: &str, version: &str, id: &str, test_patch: &str) -> Value {
    json!({
        "instance_id": id, "repo": repo, "version": version, "base_commit": "0123456789abcdef0123456789abcdef01234567",
        "environment_setup_commit": "fedcba9876543210fedcba9876543210fedcba98", "problem_statement": "p",
        "patch": "diff --git a/x.py b/x.py\n", "test_patch": test_patch, "hints_text": "", "created_at": "2020-01-01T00:00:00Z",
        "FAIL_TO_PASS": "[\"tests/test_core.py::test_new\"]", "PASS_TO_PASS": "[\"tests/test_core.py::test_old\"]",
    })
}

fn records() -> Vec<Value> {
    let django_patch = "diff --git a/tests/forms_tests/tests/test_forms.py b/tests/forms_tests/tests/test_forms.py\n--- a/tests/forms_tests/tests/test_forms.py\n+++ b/tests/forms_tests/tests/test_forms.py\n@@ -1 +1,2 @@\n x = 1\n+y = 2\ndiff --git a/tests/model_fields/models.py b/tests/model_fields/models.py\n--- a/tests/model_fields/models.py\n+++ b/tests/model_fields/models.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n";
    let sympy_patch = "diff --git a/sympy/core/tests/test_basic.py b/sympy/core/tests/test_basic.py\n--- a/sympy/core/tests/test_basic.py\n+++ b/sympy/core/tests/test_basic.py\n@@ -1 +1,2 @@\n x\n+y\n";
    let mut rows = vec![
        row("django/django", "3.0", "django__django-11099", django_patch),
        row("django/django", "4.0", "django__django-15000", django_patch),
        row("sympy/sympy", "1.1", "sympy__sympy-13031", sympy_patch),
        row("sympy/sympy", "1.12", "sympy__sympy-24661", sympy_patch),
        row("sphinx-doc/sphinx", "3.5", "sphinx-doc__sphinx-8721", TEST_PATCH_PY),
        row("sphinx-doc/sphinx", "7.2", "sphinx-doc__sphinx-11510", TEST_PATCH_PY),
        row("astropy/astropy", "4.3", "astropy__astropy-12907", TEST_PATCH_PY),
        row("astropy/astropy", "5.0", "astropy__astropy-13033", TEST_PATCH_PY),
        row("pytest-dev/pytest", "5.4", "pytest-dev__pytest-7432", TEST_PATCH_PY),
        row("matplotlib/matplotlib", "3.5", "matplotlib__matplotlib-23299", TEST_PATCH_PY),
        row("psf/requests", "2.0", "psf__requests-1963", TEST_PATCH_PY),
        row("pydata/xarray", "0.12", "pydata__xarray-3364", TEST_PATCH_PY),
        row("scikit-learn/scikit-learn", "0.22", "scikit-learn__scikit-learn-14894", TEST_PATCH_PY),
        row("mwaskom/seaborn", "0.12", "mwaskom__seaborn-3190", TEST_PATCH_PY),
        row("pylint-dev/pylint", "2.15", "pylint-dev__pylint-7080", TEST_PATCH_PY),
    ];
    // A swebench 5.x row: its own eval_script (shebang, set line, heredoc, end marker).
    let mut v5 = row("django/django", "3.0", "django__django-12345", django_patch);
    v5["eval_script"] = Value::from(
        "#!/bin/bash\nset -uxo pipefail\nsource /opt/miniconda3/bin/activate\nconda activate testbed\ncd /testbed\ngit checkout abc tests/x.py\ngit apply -v - <<'EOF_1'\ndiff --git a/tests/x.py b/tests/x.py\nEOF_1\n: '>>>>> Start Test Output'\n./tests/runtests.py --verbosity 2 x\n: '>>>>> End Test Output'\ngit checkout abc tests/x.py\n\n",
    );
    v5["image"] = Value::from("swebench/sweb.eval.x86_64.django_1776_django-12345:latest");
    v5["log_parser"] = Value::from("parse_log_django");
    v5["eval_type"] = Value::from("pass_and_fail");
    rows.push(v5);
    rows
}

#[test]
fn eval_scripts_equal_swebench_make_test_spec() {
    let rows = records();
    let expected = harness(
        &["eval-scripts", &format!("{}/legacy", harness_python().parent().unwrap().parent().unwrap().display())],
        &rows,
    );
    assert_eq!(expected.len(), rows.len());
    for (row, exp) in rows.iter().zip(&expected) {
        let inst = srl_eval::instances::instance_from_value(row.clone()).expect("record converts");
        let ours = srl_sandbox::grading::eval_script(&inst).unwrap_or_else(|e| panic!("{}: {e}", inst.instance_id));
        let theirs = exp["eval_script"].as_str().unwrap();
        assert_eq!(ours, theirs, "eval script of {} differs", inst.instance_id);
    }
    // The directives really come from the test patch (django: dotted modules).
    let django = srl_eval::instances::instance_from_value(rows[0].clone()).unwrap();
    let script = srl_sandbox::grading::eval_script(&django).unwrap();
    assert!(script.contains("--parallel 1 forms_tests.tests.test_forms model_fields.models\n"), "{script}");
    assert!(script.contains("SWEBENCH_TEST_EXIT_CODE=$?"), "{script}");
}

#[test]
fn harness_fields_survive_loading() {
    let inst = srl_eval::instances::instance_from_value(records().pop().unwrap()).unwrap();
    assert_eq!(inst.version, "3.0");
    assert_eq!(inst.environment_setup_commit, "fedcba9876543210fedcba9876543210fedcba98");
    assert!(inst.test_patch.starts_with("diff --git a/tests/forms_tests"));
    assert!(inst.eval_script.starts_with("#!/bin/bash"));
    assert_eq!(inst.image_name, "swebench/sweb.eval.x86_64.django_1776_django-12345:latest");
    assert_eq!(inst.log_parser.as_deref(), Some("parse_log_django"));
    assert_eq!(inst.eval_type.as_deref(), Some("pass_and_fail"));
    assert_eq!(inst.fail_to_pass, ["tests/test_core.py::test_new"]);
}
