//! Training a Hugging Face-layout Qwen2 checkpoint (tokenizer + chat template, `srl-model`'s
//! tiny preset) end to end: rollouts, SRL reward, update, checkpoint with the tokenizer files
//! copied beside the weights so the result loads again (and in transformers).

use srl_train::config::RunConfig;
use srl_train::{train, NoReporter, Policy, TrainOptions};
use std::path::Path;

#[test]
fn tiny_hf_checkpoint_trains_and_reloads() {
    let r = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny");
    srl_model::init_checkpoint(&srl_model::InitOptions {
        preset: srl_model::Preset::Tiny,
        out: model.clone(),
        seed: 0,
        dtype: srl_model::DType::F32,
        corpus: vec![r.join("datasets/toy-srl/train.jsonl")],
    })
    .unwrap();
    let text = format!(
        r#"
seed = 2
output-dir = "{out}/run"
threads = 1
[model]
path = "{model}"
[rollout]
group-size = 4
max-new-tokens = 6
response-prefix = "<think>"
[dynamic-sampling]
enabled = false
[optimizer]
lr = 1e-4
[batch]
prompts-per-step = 2
micro-batch-size = 4
[validation]
max-items = 2
[[stages]]
name = "srl"
data = "{r}/datasets/toy-srl/train.jsonl"
val-data = "{r}/datasets/toy-srl/val.jsonl"
reward = "srl"
steps = 2
"#,
        out = dir.path().display(),
        model = model.display(),
        r = r.display()
    );
    let cfg = RunConfig::from_toml_str(&text, Path::new("hf.toml"), &[]).unwrap().resolve().unwrap();
    let s = train(&cfg, &TrainOptions::default(), &NoReporter).unwrap();
    assert_eq!(s.steps, 2);
    let ck = s.last_checkpoint.unwrap();
    for f in ["config.json", "model.safetensors", "tokenizer.json", "optimizer.safetensors"] {
        assert!(ck.join(f).exists(), "{} lacks {f}", ck.display());
    }
    let before = std::fs::read(model.join("model.safetensors")).unwrap();
    assert!(before != std::fs::read(ck.join("model.safetensors")).unwrap(), "weights did not change");
    let p = Policy::load(&ck, srl_model::Device::Cpu, srl_model::DType::F32).unwrap();
    assert_eq!(p.tokenizer.vocab_size(), srl_model::Tokenizer::load(&model).unwrap().vocab_size());
}
