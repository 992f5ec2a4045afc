#!/usr/bin/env python3
"""Calls the SWE-bench / SWE-smith harness packages themselves, for the grading parity tests
and for scripts/gen-harness-specs.py (docs/swe-bench.md). Run with the venv of
scripts/venvs/swebench.sh. Reads JSON lines on stdin, writes JSON lines on stdout.

  check LEGACY                 the three packages import
  eval-scripts LEGACY          {instance} -> {instance_id, eval_script}: swebench 5.0.2
                               make_test_spec(row).eval_script, where a row without an
                               `eval_script` column gets the one swebench 4.1.0's
                               make_test_spec builds (what the 4.x harness ran)
  grade                        {instance, log} -> {instance_id, valid, tests, resolution}:
                               swebench 5.0.2 get_logs_eval + get_eval_tests_report +
                               get_resolution_status
  swesmith-grade LEGACY        the same through swesmith 0.0.9 (read_test_output, the repo
                               profile's log_parser, its get_eval_tests_report)

LEGACY is the folder holding swebench 4.1.0 and swesmith 0.0.9 (pip --target). They are loaded
as namespace packages so their eager `__init__` imports (modal, docker clients) are skipped;
every function called is the package's own.
"""
import json
import os
import subprocess
import sys
import tempfile
import types


def use_legacy(legacy):
    """Makes `swebench` (4.1.0) and `swesmith` importable from LEGACY without their __init__."""
    sys.path.insert(0, legacy)
    for name in ("swebench", "swebench.harness", "swesmith"):
        module = types.ModuleType(name)
        module.__path__ = [os.path.join(legacy, *name.split("."))]
        sys.modules[name] = module


def skip_harness_init():
    """swebench 5.0.2: import `swebench.harness` submodules without its __init__ (modal)."""
    import swebench

    name = "swebench.harness"
    if name not in sys.modules:
        module = types.ModuleType(name)
        module.__path__ = [os.path.join(os.path.dirname(swebench.__file__), "harness")]
        sys.modules[name] = module


def lines():
    for line in sys.stdin:
        if line.strip():
            yield json.loads(line)


def emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")


def legacy_eval_scripts(legacy):
    use_legacy(legacy)
    from swebench.harness.constants import MAP_REPO_VERSION_TO_SPECS
    from swebench.harness.test_spec.test_spec import TestSpec, make_eval_script_list

    # make_test_spec's eval part: its env part downloads requirements from GitHub, so the eval
    # script list is built with the same call make_test_spec makes and put into a TestSpec.
    for inst in lines():
        specs = MAP_REPO_VERSION_TO_SPECS[inst["repo"]][inst["version"]]
        eval_list = make_eval_script_list(inst, specs, "testbed", "/testbed", inst["base_commit"], inst["test_patch"])
        spec = TestSpec.__new__(TestSpec)
        spec.eval_script_list = eval_list
        emit({"instance_id": inst["instance_id"], "eval_script": TestSpec.eval_script.fget(spec)})


def eval_scripts(legacy):
    rows = list(lines())
    need = [r for r in rows if not r.get("eval_script")]
    legacy_scripts = {}
    if need:
        out = subprocess.run(
            [sys.executable, __file__, "legacy-eval-scripts", legacy],
            input="".join(json.dumps(r) + "\n" for r in need),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for line in out.splitlines():
            rec = json.loads(line)
            legacy_scripts[rec["instance_id"]] = rec["eval_script"]
    skip_harness_init()
    from swebench.harness.utils import make_test_spec

    for row in rows:
        row = dict(row)
        row.setdefault("eval_script", legacy_scripts.get(row["instance_id"], ""))
        if not row["eval_script"]:
            row["eval_script"] = legacy_scripts[row["instance_id"]]
        row.setdefault("image", "")
        row.setdefault("log_parser", "")
        row.setdefault("eval_type", "pass_and_fail")
        row.setdefault("version", "")
        emit({"instance_id": row["instance_id"], "eval_script": make_test_spec(row).eval_script})


def parser_name(repo):
    skip_harness_init()
    from swebench.harness.log_parsers import PARSER_REGISTRY
    from swebench.harness.log_parsers.python import MAP_REPO_TO_PARSER_PY

    name = MAP_REPO_TO_PARSER_PY[repo].__name__
    assert name in PARSER_REGISTRY, name
    return name


def as_list(v):
    return json.loads(v) if isinstance(v, str) else (v or [])


def grade():
    skip_harness_init()
    from swebench.harness.grading import get_eval_tests_report, get_logs_eval, get_resolution_status
    from swebench.types import TestSpec

    for rec in lines():
        inst = rec["instance"]
        spec = TestSpec(
            instance_id=inst["instance_id"],
            image="",
            eval_script_list=[],
            repo=inst["repo"],
            version=inst.get("version", ""),
            FAIL_TO_PASS=as_list(inst.get("FAIL_TO_PASS")),
            PASS_TO_PASS=as_list(inst.get("PASS_TO_PASS")),
            log_parser=inst.get("log_parser") or parser_name(inst["repo"]),
            eval_type=inst.get("eval_type") or "pass_and_fail",
        )
        with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False, newline="") as fh:
            fh.write(rec["log"])
        try:
            status_map, valid = get_logs_eval(spec, fh.name)
        finally:
            os.unlink(fh.name)
        gold = {"FAIL_TO_PASS": spec.FAIL_TO_PASS, "PASS_TO_PASS": spec.PASS_TO_PASS}
        report = get_eval_tests_report(status_map, gold)
        emit(
            {
                "instance_id": inst["instance_id"],
                "valid": valid,
                "tests": status_map,
                "resolution": get_resolution_status(report) if valid else "RESOLVED_NO",
                "report": {k: report[k] for k in ("FAIL_TO_PASS", "PASS_TO_PASS")},
            }
        )


def swesmith_grade(legacy):
    use_legacy(legacy)
    from swebench.harness.grading import get_resolution_status
    from swesmith.harness.grading import get_eval_tests_report, read_test_output
    from swesmith.profiles import registry

    for rec in lines():
        inst = rec["instance"]
        with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False, newline="") as fh:
            fh.write(rec["log"])
        try:
            output, found = read_test_output(fh.name)
        finally:
            os.unlink(fh.name)
        status_map = registry.get(inst["repo"]).log_parser(output) if found else {}
        gold = {"FAIL_TO_PASS": as_list(inst.get("FAIL_TO_PASS")), "PASS_TO_PASS": as_list(inst.get("PASS_TO_PASS"))}
        report = get_eval_tests_report(status_map, gold)
        emit(
            {
                "instance_id": inst["instance_id"],
                "valid": found,
                "tests": status_map,
                "resolution": get_resolution_status(report) if found else "RESOLVED_NO",
                "report": {k: report[k] for k in ("FAIL_TO_PASS", "PASS_TO_PASS")},
            }
        )


def check(legacy):
    import swebench

    assert swebench.__version__ == "5.0.2", swebench.__version__
    skip_harness_init()
    from swebench.harness.grading import get_logs_eval  # noqa: F401
    from swebench.harness.utils import make_test_spec  # noqa: F401

    subprocess.run([sys.executable, __file__, "check-legacy", legacy], check=True)


def check_legacy(legacy):
    use_legacy(legacy)
    from swebench.harness.constants import MAP_REPO_VERSION_TO_SPECS
    from swebench.harness.test_spec.test_spec import make_test_spec  # noqa: F401
    from swesmith.profiles import registry

    assert MAP_REPO_VERSION_TO_SPECS and len(registry.keys()) > 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {
        "check": check,
        "check-legacy": check_legacy,
        "legacy-eval-scripts": legacy_eval_scripts,
        "eval-scripts": eval_scripts,
        "grade": grade,
        "swesmith-grade": swesmith_grade,
    }[cmd](*args)
