#!/usr/bin/env python3
"""Writes crates/sandbox/src/grading/harness_specs.json, the per-repo / per-version table the
Rust eval-script builder and log-parser choice read (docs/swe-bench.md), from the installed
harness packages, so no Python is needed at run time:

  - swebench 4.1.0 `MAP_REPO_VERSION_TO_SPECS` (Python repos): the fields the eval script uses
    (`test_cmd`, `eval_commands`, `install`), and its `MAP_REPO_TO_PARSER`;
  - swebench 5.0.2 `MAP_REPO_TO_PARSER_PY` / `PARSER_REGISTRY`: the parser name per repo
    (5.x rows name it in their own `log_parser` column);
  - swesmith 0.0.9 Python profiles: test command, timeout, and whether the profile keeps the
    default pytest parser;
  - scripts/harness-specs-local.json: the entries of the shipped SWE-bench-shape environments.

Usage: bash scripts/venvs/swebench.sh && "$(bash scripts/venvs/swebench.sh --path)/bin/python" scripts/gen-harness-specs.py
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "crates", "sandbox", "src", "grading", "harness_specs.json")
LOCAL = os.path.join(HERE, "harness-specs-local.json")
sys.path.insert(0, HERE)
import swebench_harness  # noqa: E402


def legacy_dump(legacy):
    swebench_harness.use_legacy(legacy)
    import importlib.metadata as md

    from swebench.harness.constants import MAP_REPO_TO_EXT, MAP_REPO_VERSION_TO_SPECS
    from swebench.harness.log_parsers import MAP_REPO_TO_PARSER
    from swesmith.profiles import registry
    from swesmith.profiles.python import PythonProfile

    repos = {}
    for repo, versions in sorted(MAP_REPO_VERSION_TO_SPECS.items()):
        if MAP_REPO_TO_EXT.get(repo) != "py":
            continue
        out = {}
        for version, spec in versions.items():
            if "test_cmd" not in spec:
                continue  # make_test_spec fails on these too (no test command)
            entry = {"test_cmd": spec["test_cmd"]}
            for key in ("eval_commands", "install"):
                if key in spec:
                    entry[key] = spec[key]
            out[version] = entry
        if repo not in MAP_REPO_TO_PARSER:
            continue  # no parser in swebench 4.1.0 either: not gradable
        repos[repo] = {"legacy_parser": MAP_REPO_TO_PARSER[repo].__name__, "versions": out}
    profiles = {}
    seen = set()
    for key in sorted(registry.keys()):
        cls = registry.data[key]
        if cls in seen or not issubclass(cls, PythonProfile):
            continue
        seen.add(cls)
        p = cls()
        default_parser = type(p).log_parser is PythonProfile.log_parser
        default_files = type(p).get_test_files is PythonProfile.get_test_files
        default_cmd = type(p).get_test_cmd is PythonProfile.get_test_cmd
        profiles[p.repo_name] = {
            "class": cls.__name__,
            "test_cmd": p.test_cmd,
            "timeout": p.timeout,
            "parser": "swesmith_pytest" if default_parser else None,
            "min_testing": bool(getattr(p, "min_testing", False)),
            "default_test_files": default_files,
            "default_test_cmd": default_cmd,
        }
    json.dump(
        {
            "swebench_legacy_version": md.version("swebench"),
            "swesmith_version": md.version("swesmith"),
            "repos": repos,
            "profiles": profiles,
        },
        sys.stdout,
    )


def main():
    legacy = os.path.join(sys.prefix, "legacy")  # the venv of scripts/venvs/swebench.sh
    dump = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--legacy-dump", legacy], capture_output=True, text=True, check=True
        ).stdout
    )
    import swebench

    swebench_harness.skip_harness_init()
    from swebench.harness.log_parsers import PARSER_REGISTRY
    from swebench.harness.log_parsers.python import MAP_REPO_TO_PARSER_PY

    swebench_repos = {}
    for repo, entry in dump["repos"].items():
        # the function's own name: aliases (parse_log_flask = parse_log_pytest) share it
        parser = MAP_REPO_TO_PARSER_PY[repo].__name__ if repo in MAP_REPO_TO_PARSER_PY else entry["legacy_parser"]
        assert parser in PARSER_REGISTRY, parser
        swebench_repos[repo] = {"parser": parser, "conda": True, "versions": entry["versions"]}
    with open(LOCAL) as fh:
        local = json.load(fh)
    for repo, entry in local["swebench"].items():
        swebench_repos[repo] = entry
    table = {
        "generated_by": "scripts/gen-harness-specs.py",
        "sources": {
            "swebench": swebench.__version__,
            "swebench_specs": dump["swebench_legacy_version"],
            "swesmith": dump["swesmith_version"],
            "local": "scripts/harness-specs-local.json",
        },
        "swebench": swebench_repos,
        "swesmith": dump["profiles"],
    }
    text = json.dumps(table, indent=1, sort_keys=True) + "\n"
    with open(OUT + ".tmp", "w") as fh:
        fh.write(text)
    os.replace(OUT + ".tmp", OUT)
    print(f"wrote {OUT}: {len(swebench_repos)} SWE-bench repos, {len(dump['profiles'])} SWE-smith profiles", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--legacy-dump":
        legacy_dump(sys.argv[2])
    else:
        main()
