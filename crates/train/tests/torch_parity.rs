//! Parity of the GRPO math with the same formulas in PyTorch (veRL's `core_algos.py` written
//! out in torch, `torch.optim.AdamW`, `torch.nn.utils.clip_grad_norm_`,
//! `transformers.get_cosine_schedule_with_warmup`), run in the project venv on fixed float64
//! tensors. Needs `$SRL_SWE_PYTHON` (set by `scripts/env.sh`) with torch and transformers:
//! run `bash scripts/setup.sh` once.

use srl_train::grpo::{
    agg_loss, group_advantages, kl_penalty, policy_loss, AdvantageNorm, KlEstimator, LossAgg, LossNorm,
    PolicyLossConfig,
};
use srl_train::optimizer::{AdamW, AdamWConfig};
use srl_train::schedule::{Schedule, ScheduleKind};
use tch::{Kind, Tensor};

const SCRIPT: &str = r#"
import json, math, torch
torch.set_default_dtype(torch.float64)
out = {}
r = torch.tensor([1.0, 0.0, 0.5, -1.0, 0.2, 0.2, 0.9, 0.1, 0.3])
g = r.view(3, 3)
out["adv_std"] = ((g - g.mean(-1, keepdim=True)) / (g.std(-1, keepdim=True) + 1e-6)).flatten().tolist()
out["adv_mean"] = (g - g.mean(-1, keepdim=True)).flatten().tolist()
logp0 = torch.tensor([[-1.0, -0.5, -2.0, -0.1], [-0.3, -1.2, -0.8, -3.0], [-2.5, -0.05, -0.7, -1.1]])
old = torch.tensor([[-1.2, -0.2, -2.0, -0.9], [-0.3, -0.6, -1.5, -0.2], [-1.0, -0.5, -0.7, -0.4]])
adv = torch.tensor([1.5, -0.7, -2.0])
mask = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]])
def agg(loss, mask, mode):
    if mode == "token-mean":
        return (loss * mask).sum() / mask.sum()
    seq = (loss * mask).sum(-1)
    if mode == "seq-mean-token-sum":
        return seq.mean()
    if mode == "seq-mean-token-mean":
        return (seq / mask.sum(-1)).mean()
    if mode == "seq-mean-token-sum-norm":
        return seq.sum() / loss.shape[-1] / loss.shape[0]
def pg(logp, clip_low, clip_high, c, mode):
    a = adv.unsqueeze(-1)
    nkl = torch.clamp(logp - old, -20.0, 20.0)
    ratio = torch.exp(nkl)
    l1 = -a * ratio
    l2 = -a * torch.clamp(ratio, 1 - clip_low, 1 + clip_high)
    cl1 = torch.maximum(l1, l2)
    clipfrac = ((torch.gt(l2, l1).double() * mask).sum() / mask.sum()).item()
    if c is None:
        losses = cl1
    else:
        l3 = -a * c
        cl2 = torch.min(l3, cl1)
        losses = torch.where(a < 0, cl2, cl1)
    return agg(losses, mask, mode), clipfrac, ((-nkl) * mask).sum().item() / mask.sum().item()
for mode in ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"]:
    for name, c in [("plain", None), ("dual", 3.0)]:
        logp = logp0.clone().requires_grad_(True)
        loss, cf, kl = pg(logp, 0.2, 0.28, c, mode)
        loss.backward()
        out[f"pg/{mode}/{name}"] = {"loss": loss.item(), "grad": logp.grad.flatten().tolist(), "clipfrac": cf, "kl": kl}
ref = old
d = logp0 - ref
k3 = torch.clamp(torch.clamp(ref - logp0, -20, 20).exp() - torch.clamp(ref - logp0, -20, 20) - 1, -10, 10)
out["kl"] = {"k1": d.flatten().tolist(), "abs": d.abs().flatten().tolist(), "k2": (0.5 * d * d).flatten().tolist(), "k3": k3.flatten().tolist()}
p1 = torch.tensor([[0.5, -1.0], [2.0, 0.1]], requires_grad=True)
p2 = torch.tensor([0.3, -0.2, 0.9], requires_grad=True)
opt = torch.optim.AdamW([p1, p2], lr=0.01, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
norms = []
for step in range(3):
    opt.zero_grad()
    loss = (p1 ** 2 * torch.tensor([[1.0, 2.0], [3.0, 4.0]])).sum() + (p2.sin() * 5).sum() + step * p2[0] ** 3
    loss.backward()
    norms.append(torch.nn.utils.clip_grad_norm_([p1, p2], 1.0).item())
    opt.step()
out["adamw"] = {"p1": p1.detach().flatten().tolist(), "p2": p2.detach().tolist(), "norms": norms}
from transformers import get_cosine_schedule_with_warmup
o2 = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=2.0)
s = get_cosine_schedule_with_warmup(o2, num_warmup_steps=3, num_training_steps=11)
lrs = []
for i in range(12):
    lrs.append(o2.param_groups[0]["lr"])
    o2.step(); s.step()
out["cosine"] = lrs
print(json.dumps(out))
"#;

fn python() -> serde_json::Value {
    let py = std::env::var("SRL_SWE_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(&py).arg("-c").arg(SCRIPT).output().unwrap_or_else(|e| {
        panic!("cannot run {py}: {e}; run `bash scripts/setup.sh` and `source scripts/env.sh` (needs torch and transformers)")
    });
    assert!(
        out.status.success(),
        "{py} failed (needs torch and transformers: run `bash scripts/setup.sh`, then `source scripts/env.sh`):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn vals(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.flatten(0, -1).to_kind(Kind::Double)).unwrap()
}

fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: {a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{what}: {a:?} vs torch {b:?}");
    }
}

fn t2(v: &[f64], rows: i64) -> Tensor {
    Tensor::from_slice(v).view([rows, v.len() as i64 / rows])
}

#[test]
fn grpo_losses_optimizer_and_schedule_match_pytorch() {
    let py = python();
    let r = Tensor::from_slice(&[1.0, 0.0, 0.5, -1.0, 0.2, 0.2, 0.9, 0.1, 0.3]);
    close(
        &vals(&group_advantages(&r, 3, AdvantageNorm::GroupStd, 1e-6, true).unwrap()),
        &f64s(&py["adv_std"]),
        1e-12,
        "adv",
    );
    close(
        &vals(&group_advantages(&r, 3, AdvantageNorm::MeanOnly, 1e-6, true).unwrap()),
        &f64s(&py["adv_mean"]),
        1e-12,
        "adv mean",
    );

    let logp0 = [-1.0, -0.5, -2.0, -0.1, -0.3, -1.2, -0.8, -3.0, -2.5, -0.05, -0.7, -1.1];
    let old = t2(&[-1.2, -0.2, -2.0, -0.9, -0.3, -0.6, -1.5, -0.2, -1.0, -0.5, -0.7, -0.4], 3);
    let adv = Tensor::from_slice(&[1.5, -0.7, -2.0]);
    let mask = t2(&[1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0], 3);
    for (mode, agg) in [
        ("token-mean", LossAgg::TokenMean),
        ("seq-mean-token-sum", LossAgg::SeqMeanTokenSum),
        ("seq-mean-token-mean", LossAgg::SeqMeanTokenMean),
        ("seq-mean-token-sum-norm", LossAgg::SeqMeanTokenSumNorm),
    ] {
        for (name, dual) in [("plain", None), ("dual", Some(3.0))] {
            let logp = t2(&logp0, 3).set_requires_grad(true);
            let cfg = PolicyLossConfig { clip_low: 0.2, clip_high: 0.28, dual_clip: dual, agg };
            let out = policy_loss(&logp, &old, &adv, &mask, &cfg, LossNorm::Local).unwrap();
            out.loss.backward();
            let want = &py[format!("pg/{mode}/{name}")];
            let what = format!("{mode}/{name}");
            close(&[out.loss.double_value(&[])], &[want["loss"].as_f64().unwrap()], 1e-12, &what);
            close(&vals(&logp.grad()), &f64s(&want["grad"]), 1e-12, &what);
            close(
                &[out.clip_frac, out.approx_kl],
                &[want["clipfrac"].as_f64().unwrap(), want["kl"].as_f64().unwrap()],
                1e-12,
                &what,
            );
        }
    }
    // Micro-batching with a global normalizer reproduces the full-batch token-mean gradient.
    let logp = t2(&logp0, 3).set_requires_grad(true);
    let cfg = PolicyLossConfig { clip_low: 0.2, clip_high: 0.28, dual_clip: None, agg: LossAgg::TokenMean };
    let norm = LossNorm::Global { tokens: 9.0, seqs: 3.0, max_len: 4.0 };
    for (lo, n) in [(0i64, 2i64), (2, 1)] {
        let l = logp.narrow(0, lo, n);
        let out =
            policy_loss(&l, &old.narrow(0, lo, n), &adv.narrow(0, lo, n), &mask.narrow(0, lo, n), &cfg, norm).unwrap();
        out.loss.backward();
    }
    close(&vals(&logp.grad()), &f64s(&py["pg/token-mean/plain"]["grad"]), 1e-12, "micro-batched");
    let _ = agg_loss;

    let lp = t2(&logp0, 3);
    for (k, e) in
        [("k1", KlEstimator::K1), ("abs", KlEstimator::Abs), ("k2", KlEstimator::K2), ("k3", KlEstimator::LowVarKl)]
    {
        close(&vals(&kl_penalty(&lp, &old, e).unwrap()), &f64s(&py["kl"][k]), 1e-12, k);
    }

    let p1 = t2(&[0.5, -1.0, 2.0, 0.1], 2).set_requires_grad(true);
    let p2 = Tensor::from_slice(&[0.3, -0.2, 0.9]).set_requires_grad(true);
    let cfg = AdamWConfig { beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1 };
    let mut opt = AdamW::new(vec![("p1".into(), p1.shallow_clone()), ("p2".into(), p2.shallow_clone())], cfg).unwrap();
    let mut norms = Vec::new();
    for step in 0..3 {
        opt.zero_grad().unwrap();
        let loss = (p1.square() * t2(&[1.0, 2.0, 3.0, 4.0], 2)).sum(Kind::Double)
            + (p2.sin() * 5.0).sum(Kind::Double)
            + p2.get(0).pow_tensor_scalar(3) * step as f64;
        loss.backward();
        norms.push(opt.clip_grad_norm(1.0).unwrap());
        opt.step(0.01).unwrap();
    }
    close(&vals(&p1), &f64s(&py["adamw"]["p1"]), 1e-12, "adamw p1");
    close(&vals(&p2), &f64s(&py["adamw"]["p2"]), 1e-12, "adamw p2");
    close(&norms, &f64s(&py["adamw"]["norms"]), 1e-12, "grad norms");

    let s = Schedule { lr: 2.0, warmup_steps: 3, total_steps: 11, kind: ScheduleKind::Cosine, min_lr_ratio: 0.0 };
    let ours: Vec<f64> = (0..12).map(|i| s.lr_at(i)).collect();
    close(&ours, &f64s(&py["cosine"]), 1e-12, "cosine schedule");
}
