//! `srl-swe eval --mode srl`: the held-out SRL reward of a checkpoint (or of a served model)
//! on step instances (`srl_step` JSONL, e.g. the `val.jsonl` that `srl-swe prepare` writes),
//! through `srl_train::srl_eval` — the same code the trainer's SRL validation calls. Greedy by
//! default; `--samples K` scores K samples per instance (temperature `--temperature`, default
//! 1.0). Writes `<out>/results.jsonl` (per-instance outputs and rewards) and `<out>/report.json`
//! (`instances`, `mean_reward`, `format_error_rate`, …), and prints the report.
use anyhow::Context;
use srl_eval::ModelBackend;
use srl_model::{DType, Policy};
use srl_train::config::RewardKind;
use srl_train::data::{load_items_with, PromptItem, MATH_COT_SYSTEM_PROMPT};
use srl_train::srl_eval::{evaluate_srl, evaluate_srl_with, SrlEvalOptions};
use std::path::PathBuf;
use std::process::ExitCode;

/// Runs the SRL evaluation with the shared `eval` options: `--checkpoint` (local model) or
/// `--model openai` (`--base-url`, `--model-name`), `--instances` (default
/// `out/prepare/val.jsonl`), `--samples`, `--temperature`, `--max-tokens`, `--limit`,
/// `--strict`, `--out` (default `out/eval-srl`), `--response-prefix` via `SRL_SWE_RESPONSE_PREFIX`.
pub(crate) fn run(args: &crate::commands::eval::Args) -> anyhow::Result<ExitCode> {
    let input = args.instances.clone().unwrap_or_else(|| PathBuf::from("out/prepare/val.jsonl"));
    let loaded = load_items_with(&input, RewardKind::Srl, !args.strict, MATH_COT_SYSTEM_PROMPT)
        .with_context(|| format!("reading step instances {}", input.display()))?;
    let mut items: Vec<PromptItem> = loaded.items;
    if let Some(l) = args.limit {
        items.truncate(l);
    }
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("out/eval-srl"));
    let opts = SrlEvalOptions {
        samples: args.samples.max(1),
        temperature: args.temperature.unwrap_or(1.0),
        max_new_tokens: args.max_tokens as usize,
        batch_size: 16,
        seed: 0,
        response_prefix: std::env::var("SRL_SWE_RESPONSE_PREFIX").unwrap_or_else(|_| "<think>".into()),
    };
    let bar = crate::progress::bar(items.len() as u64, "eval srl");
    let progress = |n: usize| bar.set_position(n as u64);
    let (results, mut report, model) = match args.model {
        crate::commands::eval::ModelKind::Openai => {
            let backend = crate::commands::eval::openai_backend(args)?;
            let k = opts.samples;
            let temperature = if opts.greedy() { 0.0 } else { opts.temperature };
            let mut complete = |batch: &[&PromptItem], _first: usize| -> srl_train::Result<Vec<String>> {
                let mut outs = Vec::with_capacity(batch.len() * k);
                for it in batch {
                    for sample in 0..k {
                        let req = srl_eval::ChatRequest {
                            instance_id: it.id.clone(),
                            purpose: srl_eval::Purpose::Repair,
                            files: Vec::new(),
                            messages: it.messages.clone(),
                            max_tokens: opts.max_new_tokens as u32,
                            temperature,
                            sample,
                        };
                        // A failed request scores as an empty (format-error) output, counted in the report.
                        let text = match backend.complete(&req) {
                            Ok(c) => c.text,
                            Err(e) => {
                                tracing::warn!(instance = %it.id, error = %e, "request failed");
                                String::new()
                            }
                        };
                        outs.push(text);
                    }
                }
                Ok(outs)
            };
            let (r, rep) = evaluate_srl_with(&items, &mut complete, &opts, &progress)?;
            (r, rep, args.model_name.clone().unwrap_or_default())
        }
        _ => {
            let ckpt = args.checkpoint.as_ref().context(
                "--mode srl needs --checkpoint <model folder> (a run's checkpoint-N or a model init folder), or --model openai",
            )?;
            let device: srl_model::Device = args.device.parse()?;
            device.check_available()?;
            let policy = Policy::load(ckpt, device, DType::F32)
                .with_context(|| format!("loading the checkpoint {}", ckpt.display()))?;
            let (r, rep) = evaluate_srl(&policy, &items, &opts, &progress)?;
            (r, rep, ckpt.display().to_string())
        }
    };
    bar.finish_and_clear();
    report.skipped = loaded.skipped;
    let mut f = srl_core::io::AtomicFile::create(out.join("results.jsonl"))?;
    for r in &results {
        f.write_json_line(r)?;
    }
    f.commit()?;
    let mut value = serde_json::to_value(&report)?;
    value["model"] = serde_json::Value::String(model);
    value["instances_file"] = serde_json::Value::String(input.display().to_string());
    srl_core::io::write_json_pretty(out.join("report.json"), &value)?;
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(ExitCode::SUCCESS)
}
