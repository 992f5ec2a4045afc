//! End-to-end tests of the `srl-swe` binary, one module per subcommand.

mod common;
mod durability;
mod eval;
mod grade;
mod model;
mod prepare;
mod replay;
mod reward;
mod sandbox;
mod serve;
mod train;

#[test]
fn binary_runs_without_ld_library_path() {
    let out = common::srl_swe().arg("--version").env_remove("LD_LIBRARY_PATH").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("srl-swe "));
}

/// The main binary links no libtorch (`--version`, `prepare`, `reward`, `grade` and the
/// servers must not pay for it); the tensor commands live in `srl-swe-torch`.
#[test]
fn main_binary_does_not_link_libtorch() {
    let needed = |bin: &str| {
        let out = std::process::Command::new("readelf")
            .args(["-d", bin])
            .output()
            .expect("readelf runs (Debian package binutils: apt-get install binutils)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("(NEEDED)"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let main = needed(env!("CARGO_BIN_EXE_srl-swe"));
    assert!(!main.is_empty(), "readelf found no NEEDED entries at all");
    assert!(!main.iter().any(|l| l.contains("torch") || l.contains("c10")), "srl-swe links libtorch: {main:#?}");
    let torch = needed(env!("CARGO_BIN_EXE_srl-swe-torch"));
    assert!(torch.iter().any(|l| l.contains("libtorch")), "srl-swe-torch lacks libtorch: {torch:#?}");
}

/// `srl-swe train|eval|model --help` is the real help of the command, from `srl-swe-torch`,
/// with an example.
#[test]
fn forwarded_commands_show_their_own_help_with_an_example() {
    for (cmd, flag) in [("train", "--resume"), ("eval", "--mode"), ("model", "init")] {
        let out = common::srl_swe().args([cmd, "--help"]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains(&format!("Usage: srl-swe {cmd}")) && text.contains(flag), "{cmd}: {text}");
        assert!(text.contains("Example"), "{cmd} --help shows no example: {text}");
    }
}

/// Every command's `--help` shows an example invocation.
#[test]
fn every_command_help_shows_an_example() {
    for cmd in [
        &["prepare"][..],
        &["reward"],
        &["replay"],
        &["grade"],
        &["sandbox", "build"],
        &["sandbox", "gc"],
        &["serve", "reward"],
        &["model", "init"],
        &["model", "generate"],
    ] {
        let out = common::srl_swe().args(cmd).arg("--help").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains("Example") && text.contains(&format!("srl-swe {}", cmd.join(" "))), "{cmd:?}: {text}");
    }
}

/// `eval --mode math|srl` refuse the SWE-only flags they would otherwise ignore, naming them.
#[test]
fn eval_modes_refuse_flags_that_they_would_ignore() {
    for (mode, flags, named) in [
        ("math", &["--workers", "4", "--grading", "swe-bench"][..], "--workers, --grading"),
        ("math", &["--base-url", "http://127.0.0.1:1/v1"][..], "--base-url"),
        ("srl", &["--test-timeout", "5"][..], "--test-timeout"),
    ] {
        let out = common::srl_swe().args(["eval", "--mode", mode]).args(flags).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{mode} {flags:?}: {stderr}");
        assert!(stderr.contains(named) && stderr.contains(&format!("--mode {mode}")), "{mode} {flags:?}: {stderr}");
    }
}

/// Logs written to a pipe hold no ANSI colour codes (colour is for terminals only).
#[test]
fn logs_to_a_pipe_have_no_ansi_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::srl_swe()
        .args(["prepare", "datasets/swe-smith", "--out"])
        .arg(dir.path().join("out"))
        .env("SRL_SWE_LOG", "debug")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!out.stderr.is_empty(), "prepare logged nothing at debug level");
    assert!(!out.stderr.contains(&0x1b), "ANSI escape in piped logs: {}", String::from_utf8_lossy(&out.stderr));
}
