//! Parity with Hugging Face transformers' `Qwen2ForCausalLM` (the reference implementation,
//! `models/qwen2/modeling_qwen2.py`): random weights saved by srl-model are loaded by
//! transformers, which must produce the same logits (f32, within 1e-4) on left-padded batches and
//! the same 32-token greedy continuations; transformers' own sharded save is loaded back by us.

mod common;

use srl_model::{generate, DType, Device, GenerationConfig, Qwen2Config, Qwen2Model};
use std::path::Path;
use tch::{Kind, Tensor};

const NEW_TOKENS: usize = 32;

const SCRIPT: &str = r#"
import json, sys, torch
from safetensors.torch import save_file
from transformers import Qwen2ForCausalLM
spec = json.load(open(sys.argv[1]))
out_dir = sys.argv[2]
torch.manual_seed(0)
result = {}
for mi, model_dir in enumerate(spec["models"]):
    m = Qwen2ForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    m.generation_config.eos_token_id = None
    m.generation_config.bos_token_id = None
    m.generation_config.pad_token_id = 0
    tensors, greedy = {}, []
    with torch.no_grad():
        for bi, b in enumerate(spec["batches"]):
            ids = torch.tensor(b["input_ids"], dtype=torch.long)
            mask = torch.tensor(b["attention_mask"], dtype=torch.long)
            pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
            tensors[f"logits_{bi}"] = m(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float().contiguous()
            g = m.generate(input_ids=ids, attention_mask=mask, max_new_tokens=spec["new_tokens"], do_sample=False,
                           eos_token_id=None, pad_token_id=0)
            greedy.append(g[:, ids.shape[1]:].tolist())
    save_file(tensors, f"{out_dir}/logits_{mi}.safetensors")
    m.save_pretrained(f"{out_dir}/hf_saved_{mi}", max_shard_size="100KB", safe_serialization=True)
    result[str(mi)] = greedy
json.dump(result, open(f"{out_dir}/greedy.json", "w"))
"#;

fn configs() -> Vec<Qwen2Config> {
    let tied_gqa = Qwen2Config {
        vocab_size: 384,
        hidden_size: 64,
        intermediate_size: 160,
        num_hidden_layers: 3,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        head_dim: 16,
        max_position_embeddings: 512,
        rope_theta: 1_000_000.0,
        rms_norm_eps: 1e-6,
        tie_word_embeddings: true,
        torch_dtype: None,
    };
    let untied_mha = Qwen2Config {
        vocab_size: 300,
        num_key_value_heads: 4,
        rope_theta: 10_000.0,
        rms_norm_eps: 1e-5,
        tie_word_embeddings: false,
        ..tied_gqa.clone()
    };
    vec![tied_gqa, untied_mha]
}

/// Left-padded batches: prompt token lists.
fn batches() -> Vec<Vec<Vec<u32>>> {
    vec![
        vec![vec![5, 17, 250, 3, 99, 42, 7], vec![11, 12, 13], vec![200, 1, 2, 3, 4]],
        vec![(0..12).map(|i| (i * 23 % 290) as u32 + 1).collect()],
        vec![vec![77], vec![9, 8, 7, 6, 5, 4, 3, 2, 1]],
    ]
}

fn left_pad(prompts: &[Vec<u32>]) -> (Vec<Vec<i64>>, Vec<Vec<i64>>) {
    let t = prompts.iter().map(Vec::len).max().unwrap();
    let ids = prompts
        .iter()
        .map(|p| std::iter::repeat_n(0i64, t - p.len()).chain(p.iter().map(|&x| i64::from(x))).collect())
        .collect();
    let mask = prompts
        .iter()
        .map(|p| std::iter::repeat_n(0i64, t - p.len()).chain(std::iter::repeat_n(1, p.len())).collect())
        .collect();
    (ids, mask)
}

fn to_tensor(rows: &[Vec<i64>]) -> Tensor {
    let flat: Vec<i64> = rows.iter().flatten().copied().collect();
    Tensor::from_slice(&flat).reshape([rows.len() as i64, rows[0].len() as i64])
}

/// Max |a − b| over the real (mask = 1) positions of `[B, T, V]` logits.
fn masked_max_diff(a: &Tensor, b: &Tensor, mask: &Tensor) -> f64 {
    let m = mask.to_kind(Kind::Float).unsqueeze(-1);
    ((a.to_kind(Kind::Float) - b.to_kind(Kind::Float)).abs() * m).max().double_value(&[])
}

fn load_safetensors(path: &Path) -> std::collections::HashMap<String, Tensor> {
    Tensor::read_safetensors(path).unwrap().into_iter().collect()
}

#[test]
fn logits_greedy_and_checkpoint_round_trip_match_transformers() {
    let work = tempfile::tempdir().unwrap();
    let mut model_dirs = Vec::new();
    let mut models = Vec::new();
    for (i, cfg) in configs().iter().enumerate() {
        let m = Qwen2Model::new_random_with_std(cfg, Device::Cpu, DType::F32, 100 + i as u64, 0.05).unwrap();
        let dir = work.path().join(format!("ours_{i}"));
        m.save(&dir).unwrap();
        model_dirs.push(dir.display().to_string());
        models.push(m);
    }
    let spec_batches: Vec<serde_json::Value> = batches()
        .iter()
        .map(|b| {
            let (ids, mask) = left_pad(b);
            serde_json::json!({"input_ids": ids, "attention_mask": mask})
        })
        .collect();
    let spec = serde_json::json!({"models": model_dirs, "batches": spec_batches, "new_tokens": NEW_TOKENS});
    let spec_path = work.path().join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let out = work.path().join("out");
    std::fs::create_dir(&out).unwrap();
    common::run_python(SCRIPT, &[&spec_path, &out]);
    let greedy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("greedy.json")).unwrap()).unwrap();

    for (mi, model) in models.iter().enumerate() {
        let reference = load_safetensors(&out.join(format!("logits_{mi}.safetensors")));
        // transformers' save_pretrained output (sharded: index + several files), loaded by us.
        let hf_saved = out.join(format!("hf_saved_{mi}"));
        assert!(hf_saved.join("model.safetensors.index.json").is_file(), "expected a sharded transformers save");
        let reloaded = Qwen2Model::load(&hf_saved, Device::Cpu, DType::F32).unwrap();
        for (bi, prompts) in batches().iter().enumerate() {
            let (ids, mask) = left_pad(prompts);
            let (ids, mask) = (to_tensor(&ids), to_tensor(&mask));
            let ours = tch::no_grad(|| model.forward(&ids, &mask, None)).unwrap();
            let theirs = &reference[&format!("logits_{bi}")];
            assert_eq!(ours.size(), theirs.size());
            let diff = masked_max_diff(&ours, theirs, &mask);
            assert!(diff < 1e-4, "model {mi} batch {bi}: max |logit diff| {diff:e} >= 1e-4");
            let again = tch::no_grad(|| reloaded.forward(&ids, &mask, None)).unwrap();
            let diff = masked_max_diff(&again, theirs, &mask);
            assert!(diff < 1e-4, "model {mi} batch {bi} after transformers round trip: {diff:e}");

            let gens = generate(model, prompts, &GenerationConfig::greedy(NEW_TOKENS)).unwrap();
            for (row, g) in gens.iter().enumerate() {
                let want: Vec<u32> = greedy[mi.to_string()][bi][row]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap() as u32)
                    .collect();
                assert_eq!(g.token_ids, want, "model {mi} batch {bi} row {row}: greedy tokens differ");
            }
        }
    }
}
