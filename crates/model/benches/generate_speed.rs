//! Side-by-side generation speed on the same weights: srl-model (tch) vs Hugging Face
//! transformers `generate` (the reference implementation), prefill tokens/s and decode tokens/s at
//! batch 1 and 8, for the tiny preset and the Qwen2.5-0.5B shape (random weights).
//!
//! Run: `source scripts/env.sh && cargo bench -p srl-model --bench generate_speed`.
//! Knobs (env): `SRL_BENCH_PRESETS` (default `tiny,0.5b`), `SRL_BENCH_PROMPT` (prompt tokens,
//! default 64), `SRL_BENCH_NEW_TINY` / `SRL_BENCH_NEW_LARGE` (new tokens, default 32 / 8),
//! `SRL_BENCH_THREADS` (intra-op threads for both, default 2), `SRL_BENCH_REPEATS` (default 3),
//! `SRL_BENCH_ROUNDS` (alternating ours/transformers rounds, default 2; the best time counts),
//! `SRL_BENCH_DEVICE` (`cpu` | `cuda`), `SRL_BENCH_DTYPE` (`f32` | `bf16`), `SRL_BENCH_BANDWIDTH_GBS`
//! (memory bandwidth used for the decode roofline on CUDA, default 4800 = H200).
//! Decode time = `generate(N)` time − prefill time; decode tokens = B·(N − 1).

use anyhow::{bail, Context, Result};
use srl_model::{generate, DType, Device, GenerationConfig, Preset, Qwen2Model};
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use tch::{Kind, Tensor};

const HF_SCRIPT: &str = r#"
import json, sys, time, torch
from transformers import Qwen2ForCausalLM
spec = json.load(open(sys.argv[1]))
torch.set_num_threads(spec["threads"])
dev = spec["device"]
dtype = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[spec["dtype"]]
m = Qwen2ForCausalLM.from_pretrained(spec["dir"], dtype=dtype).to(dev).eval()
m.generation_config.eos_token_id = None
m.generation_config.pad_token_id = 0
def sync():
    if dev.startswith("cuda"): torch.cuda.synchronize()
out = []
with torch.no_grad():
    for case in spec["cases"]:
        ids = torch.tensor(case["ids"], dtype=torch.long, device=dev)
        mask = torch.ones_like(ids)
        n = case["new_tokens"]
        def prefill():
            m(input_ids=ids, attention_mask=mask, use_cache=True, logits_to_keep=1)
        def gen():
            m.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n, do_sample=False)
        prefill(); gen(); sync()
        pf, gn = [], []
        for _ in range(spec["repeats"]):
            t = time.perf_counter(); prefill(); sync(); pf.append(time.perf_counter() - t)
            t = time.perf_counter(); gen(); sync(); gn.append(time.perf_counter() - t)
        out.append({"prefill_s": min(pf), "generate_s": min(gn)})
print(json.dumps(out))
"#;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

struct Case {
    batch: usize,
    ids: Vec<Vec<u32>>,
    new_tokens: usize,
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// (prefill seconds, generate seconds), best of `repeats`.
fn time_ours(model: &Qwen2Model, case: &Case, repeats: usize) -> Result<(f64, f64)> {
    let device = model.device();
    let flat: Vec<i64> = case.ids.iter().flatten().map(|&t| i64::from(t)).collect();
    let t = case.ids[0].len() as i64;
    let ids = Tensor::from_slice(&flat).reshape([case.batch as i64, t]).to_device(device.to_tch());
    let mask = Tensor::ones([case.batch as i64, t], (Kind::Int64, device.to_tch()));
    let prefill = || -> Result<()> {
        let _g = tch::no_grad_guard();
        let mut cache = model.new_cache();
        let h = model.forward_hidden(&ids, &mask, Some(&mut cache))?;
        let _logits = model.logits(&h.select(1, t - 1))?;
        sync(device);
        Ok(())
    };
    let cfg = GenerationConfig::greedy(case.new_tokens);
    let gen = || -> Result<()> {
        let g = generate(model, &case.ids, &cfg)?;
        if g.iter().any(|g| g.token_ids.len() != case.new_tokens) {
            bail!("generation stopped early");
        }
        sync(device);
        Ok(())
    };
    prefill()?;
    gen()?;
    let (mut pf, mut gn) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        let s = Instant::now();
        prefill()?;
        pf.push(s.elapsed().as_secs_f64());
        let s = Instant::now();
        gen()?;
        gn.push(s.elapsed().as_secs_f64());
    }
    Ok((min(&pf), min(&gn)))
}

fn time_hf(
    dir: &Path,
    cases: &[Case],
    threads: usize,
    repeats: usize,
    device: &str,
    dtype: &str,
) -> Result<Vec<(f64, f64)>> {
    let py = std::env::var("SRL_SWE_PYTHON").unwrap_or_else(|_| "python3".into());
    let work = tempfile::tempdir()?;
    let spec = serde_json::json!({
        "dir": dir, "threads": threads, "repeats": repeats, "device": device, "dtype": dtype,
        "cases": cases.iter().map(|c| serde_json::json!({"ids": c.ids, "new_tokens": c.new_tokens})).collect::<Vec<_>>(),
    });
    let spec_path = work.path().join("spec.json");
    std::fs::write(&spec_path, spec.to_string())?;
    let script = work.path().join("bench.py");
    std::fs::write(&script, HF_SCRIPT)?;
    let out = Command::new(&py)
        .arg(&script)
        .arg(&spec_path)
        .env("TRANSFORMERS_VERBOSITY", "error")
        .output()
        .with_context(|| format!("running {py}; run `bash scripts/setup.sh` and `source scripts/env.sh`"))?;
    if !out.status.success() {
        bail!("transformers bench failed (run `bash scripts/setup.sh`):\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    Ok(v.iter()
        .map(|r| (r["prefill_s"].as_f64().unwrap_or(f64::NAN), r["generate_s"].as_f64().unwrap_or(f64::NAN)))
        .collect())
}

fn main() -> Result<()> {
    let presets: Vec<Preset> = std::env::var("SRL_BENCH_PRESETS")
        .unwrap_or_else(|_| "tiny,0.5b".into())
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    let prompt_len: usize = env_or("SRL_BENCH_PROMPT", 64);
    let threads: usize = env_or("SRL_BENCH_THREADS", 2);
    let repeats: usize = env_or("SRL_BENCH_REPEATS", 3);
    let rounds: usize = env_or("SRL_BENCH_ROUNDS", 2);
    let device: Device = std::env::var("SRL_BENCH_DEVICE").unwrap_or_else(|_| "cpu".into()).parse()?;
    let dtype: DType = std::env::var("SRL_BENCH_DTYPE").unwrap_or_else(|_| "f32".into()).parse()?;
    let bandwidth_gbs: f64 = env_or("SRL_BENCH_BANDWIDTH_GBS", 4800.0);
    let hf_device = match device {
        Device::Cpu => "cpu".to_string(),
        Device::Cuda(i) => format!("cuda:{i}"),
    };
    tch::set_num_threads(threads as i32);
    println!(
        "# generate_speed: device {device}, dtype {dtype}, {threads} threads, prompt {prompt_len} tokens, best of {rounds} alternating rounds x {repeats} repeats"
    );
    println!("| model | batch | new | prefill tok/s ours | transformers | ratio | decode tok/s ours | transformers | ratio |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for preset in presets {
        let config = preset.config(preset.tokenizer_vocab_size());
        let new_tokens: usize =
            if preset == Preset::Tiny { env_or("SRL_BENCH_NEW_TINY", 32) } else { env_or("SRL_BENCH_NEW_LARGE", 8) };
        let dir = tempfile::tempdir()?;
        {
            // Saved in bf16 to halve the file; both sides load it in the bench dtype.
            let m = Qwen2Model::new_random(&config, Device::Cpu, DType::BF16, 0)?;
            m.save(dir.path())?;
        }
        let model = Qwen2Model::load(dir.path(), device, dtype)?;
        let vocab = config.vocab_size as u64;
        let cases: Vec<Case> = [1usize, 8]
            .iter()
            .map(|&batch| Case {
                batch,
                ids: (0..batch)
                    .map(|b| {
                        (0..prompt_len)
                            .map(|i| ((b * 7919 + i * 104_729 + 13) as u64 % (vocab - 1) + 1) as u32)
                            .collect()
                    })
                    .collect(),
                new_tokens,
            })
            .collect();
        // Alternate rounds (ours, transformers, ours, …) and keep the best time of each side, so a
        // burst of load from other processes does not land on one side only.
        let mut ours = vec![(f64::INFINITY, f64::INFINITY); cases.len()];
        let mut hf = ours.clone();
        let best = |acc: &mut Vec<(f64, f64)>, new: Vec<(f64, f64)>| {
            for (a, n) in acc.iter_mut().zip(new) {
                *a = (a.0.min(n.0), a.1.min(n.1));
            }
        };
        for _ in 0..rounds {
            best(&mut ours, cases.iter().map(|c| time_ours(&model, c, repeats)).collect::<Result<_>>()?);
            best(&mut hf, time_hf(dir.path(), &cases, threads, repeats, &hf_device, &dtype.to_string())?);
        }
        drop(model);
        for ((c, o), h) in cases.iter().zip(&ours).zip(&hf) {
            let (o, h) = (*o, *h);
            let prefill_tokens = (c.batch * prompt_len) as f64;
            let decode_tokens = (c.batch * (c.new_tokens - 1)) as f64;
            let (op, od) = (prefill_tokens / o.0, decode_tokens / (o.1 - o.0));
            let (hp, hd) = (prefill_tokens / h.0, decode_tokens / (h.1 - h.0));
            println!(
                "| {} ({:.1}M) | {} | {} | {:.0} | {:.0} | {:.2} | {:.1} | {:.1} | {:.2} |",
                preset.name(),
                config.num_parameters() as f64 / 1e6,
                c.batch,
                c.new_tokens,
                op,
                hp,
                op / hp,
                od,
                hd,
                od / hd
            );
            if matches!(device, Device::Cuda(_)) && c.batch == 1 {
                let bytes = config.num_parameters() as f64 * dtype.to_kind().elt_size_in_bytes() as f64;
                let bound = bandwidth_gbs * 1e9 / bytes;
                println!(
                    "  decode roofline (weights only, {bandwidth_gbs} GB/s): {bound:.0} tok/s; ours reaches {:.0}%",
                    100.0 * od / bound
                );
            }
        }
    }
    Ok(())
}
