//! Start-up cost of the binaries (`cargo bench -p srl-swe --bench startup`): `srl-swe`, which
//! does not link libtorch, against `srl-swe-torch`, which does — what every command cost when
//! there was one binary. Each command runs 30 times after 3 warm-ups; medians and p90 in ms.
//! Goal (docs/design.md, "Two binaries"): `--version`, `prepare`, `reward`, `grade` and the
//! servers start in ≤ 30 ms.
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const RUNS: usize = 30;

fn time_ms(bin: &str, args: &[&str], cwd: &Path) -> (f64, f64) {
    let run = || {
        let t = Instant::now();
        let status = Command::new(bin)
            .args(args)
            .current_dir(cwd)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("running {bin}: {e}"));
        assert!(status.success(), "{bin} {args:?} failed: {status}");
        t.elapsed().as_secs_f64() * 1e3
    };
    for _ in 0..3 {
        run();
    }
    let mut ms: Vec<f64> = (0..RUNS).map(|_| run()).collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    (ms[RUNS / 2], ms[RUNS * 9 / 10])
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let main_bin = env!("CARGO_BIN_EXE_srl-swe");
    let torch_bin = env!("CARGO_BIN_EXE_srl-swe-torch");
    println!("start-up, {RUNS} runs each (median / p90 ms)");
    let (m, m90) = time_ms(main_bin, &["--version"], &root);
    let (t, t90) = time_ms(torch_bin, &["--version"], &root);
    println!("  srl-swe --version        {m:7.1} / {m90:7.1}");
    println!("  srl-swe-torch --version  {t:7.1} / {t90:7.1}   (one binary with libtorch, as before)");
    println!("  ratio                    {:7.1}x", t / m);
    let (r, r90) = time_ms(main_bin, &["reward", "--input", "datasets/reward/pairs.jsonl"], &root);
    println!("  srl-swe reward (sample)  {r:7.1} / {r90:7.1}");
    let (h, h90) = time_ms(main_bin, &["grade", "--help"], &root);
    println!("  srl-swe grade --help     {h:7.1} / {h90:7.1}");
    let (f, f90) = time_ms(main_bin, &["train", "--help"], &root);
    println!("  srl-swe train --help     {f:7.1} / {f90:7.1}   (forwarded to srl-swe-torch)");
}
