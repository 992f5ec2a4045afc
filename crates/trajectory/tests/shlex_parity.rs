//! Parity with CPython: editor calls rendered the way SWE-agent renders them for the `ticks`
//! split (`shlex.quote` of each string argument, `--key value`, lists by their Python repr) must
//! read back into exactly the original arguments.

use srl_trajectory::shell::parse_command_line;
use std::process::Command;

const VALUES: &[&str] = &[
    "",
    "plain",
    "it's",
    "'''",
    "say \"hi\"",
    "line1\nline2\n",
    "  leading and trailing  ",
    "back\\slash \\n not a newline",
    "$HOME `cmd` $(x) !bang",
    "--old_str",
    "tab\there",
    "unicode: é ü 漢字 🙂",
    "\n\n",
    "'\"'\"'",
];

fn python() -> String {
    std::env::var("SRL_SWE_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[test]
fn editor_command_lines_round_trip_through_cpython_shlex() {
    let script = r#"
import json, shlex, sys
vals = json.load(sys.stdin)
out = []
for v in vals:
    out.append("str_replace_editor str_replace /testbed/a.py   --old_str %s --new_str %s" % (shlex.quote(v), shlex.quote(v + "!")))
    out.append("str_replace_editor create %s --file_text %s" % (shlex.quote("/testbed/" + "x y.py"), shlex.quote(v)))
out.append("str_replace_editor view /testbed/a.py      --view_range %s" % str([3, 9]))
out.append("str_replace_editor insert /testbed/a.py    --new_str %s --insert_line %s" % (shlex.quote("x = 'y'"), 7))
print(json.dumps(out))
"#;
    let mut child = Command::new(python())
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {} ({e}); run `bash scripts/setup.sh` and `source scripts/env.sh`", python())
        });
    {
        use std::io::Write;
        let stdin = child.stdin.as_mut().unwrap();
        stdin.write_all(serde_json::to_string(VALUES).unwrap().as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    for (i, v) in VALUES.iter().enumerate() {
        let a = parse_command_line(&lines[2 * i]).unwrap_or_else(|e| panic!("{:?}: {e}", lines[2 * i]));
        assert_eq!(a.get("old_str"), Some(*v), "{:?}", lines[2 * i]);
        assert_eq!(a.get("new_str"), Some(format!("{v}!").as_str()));
        let c = parse_command_line(&lines[2 * i + 1]).unwrap();
        assert_eq!(c.get("path"), Some("/testbed/x y.py"));
        assert_eq!(c.get("file_text"), Some(*v));
    }
    let n = lines.len();
    assert_eq!(parse_command_line(&lines[n - 2]).unwrap().get("view_range"), Some("[3, 9]"));
    let ins = parse_command_line(&lines[n - 1]).unwrap();
    assert_eq!((ins.get("new_str"), ins.get("insert_line")), (Some("x = 'y'"), Some("7")));
}
