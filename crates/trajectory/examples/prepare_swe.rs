//! The library call behind `srl-swe prepare` with its default options, for benchmarking without
//! building the whole binary: `prepare_swe INPUT OUT [--format parquet]`.
use srl_trajectory::{prepare_swe, NoProgress, OutputFormat, SwePrepareConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(input), Some(out)) = (args.first(), args.get(1)) else {
        return Err("usage: prepare_swe INPUT OUT [--format parquet]".into());
    };
    let mut cfg = SwePrepareConfig::new(input, out);
    if args.get(2).map(String::as_str) == Some("--format") && args.get(3).map(String::as_str) == Some("parquet") {
        cfg.format = OutputFormat::Parquet;
    }
    let stats = prepare_swe(&cfg, &NoProgress)?;
    eprintln!("{}", stats.summary_line());
    Ok(())
}
