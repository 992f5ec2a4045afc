//! `srl-swe eval --mode math`: greedy accuracy and Avg@k on AIME/AMC/Minerva-style JSONL with the
//! Qwen2.5-Math grading rules (`docs/training.md`), through `srl_train::math_eval` (the same code the
//! trainer's RLVR validation calls). Per-problem results go to `<out>/<dataset>/results.jsonl`,
//! scores to `<out>/summary.json` (and stdout).
use anyhow::Context;
use srl_model::{DType, Policy};
use srl_train::math_eval::{evaluate_math, load_math_problems, MathEvalOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn datasets(input: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    if input.is_file() {
        let name =
            input.parent().and_then(|p| p.file_name()).map_or("data".into(), |n| n.to_string_lossy().to_string());
        return Ok(vec![(name, input.to_path_buf())]);
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(input).with_context(|| format!("reading {}", input.display()))? {
        let p = e?.path().join("test.jsonl");
        if p.is_file() {
            let name =
                p.parent().and_then(|d| d.file_name()).map_or("data".into(), |n| n.to_string_lossy().to_string());
            out.push((name, p));
        }
    }
    out.sort();
    anyhow::ensure!(!out.is_empty(), "{}: no <name>/test.jsonl files", input.display());
    Ok(out)
}

/// Runs the math evaluation with the shared `eval` options: `--checkpoint` (model),
/// `--instances` (a JSONL file or a folder of `<name>/test.jsonl`, default `datasets/math-eval`),
/// `--samples k` (Avg@k when k > 1), `--temperature` (default 1.0 for samples), `--max-tokens`,
/// `--limit`, `--strict`, `--out`.
pub(crate) fn run(args: &crate::commands::eval::Args) -> anyhow::Result<ExitCode> {
    let ckpt = args.checkpoint.as_ref().context(
        "--mode math needs --checkpoint <model folder> (e.g. a run's checkpoint-N, or a Hugging Face Qwen2 folder)",
    )?;
    let device: srl_model::Device = args.device.parse()?;
    device.check_available()?;
    let policy =
        Policy::load(ckpt, device, DType::F32).with_context(|| format!("loading the checkpoint {}", ckpt.display()))?;
    let input = args.instances.clone().unwrap_or_else(|| PathBuf::from("datasets/math-eval"));
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("out/eval-math"));
    let k = if args.samples > 1 { args.samples } else { 0 };
    let opts = MathEvalOptions {
        k,
        temperature: args.temperature.unwrap_or(1.0),
        max_new_tokens: args.max_tokens as usize,
        batch_size: 16,
        seed: 0,
        response_prefix: String::new(),
        system_prompt: None,
    };
    let mut summaries = serde_json::Map::new();
    for (name, path) in datasets(&input)? {
        let (mut problems, skipped) = load_math_problems(&path, !args.strict)?;
        if let Some(l) = args.limit {
            problems.truncate(l);
        }
        let bar = crate::progress::bar(problems.len() as u64, &format!("math {name}"));
        let (results, mut summary) = evaluate_math(&policy, &problems, &opts, &|n| bar.set_position(n as u64))?;
        bar.finish_and_clear();
        summary.skipped = skipped;
        let mut f = srl_core::io::AtomicFile::create(out.join(&name).join("results.jsonl"))?;
        for r in &results {
            f.write_json_line(r)?;
        }
        f.commit()?;
        tracing::info!(dataset = %name, greedy = summary.greedy_accuracy, avg_at_k = ?summary.avg_at_k, "math eval");
        summaries.insert(name, serde_json::to_value(&summary)?);
    }
    let summary = serde_json::json!({ "checkpoint": ckpt, "k": k, "datasets": summaries });
    srl_core::io::write_json_pretty(out.join("summary.json"), &summary)?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(ExitCode::SUCCESS)
}
