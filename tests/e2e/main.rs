//! End-to-end tests of the `srl-swe` binary, one module per subcommand.

mod common;
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
