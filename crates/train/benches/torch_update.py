"""Side-by-side reference for the `tiny_qwen2_update_128x(24+8)` criterion bench: the same update
step (forward, per-token log-probs of the 8 response tokens, clipped GRPO loss with token-mean,
backward, clip_grad_norm_(1.0), torch.optim.AdamW) of a transformers Qwen2ForCausalLM with the
tiny toy shape, in the project venv. This is what TRL's GRPOTrainer runs per micro-batch (TRL
itself is not installed in the venv). Usage:
    source scripts/env.sh && python crates/train/benches/torch_update.py [threads]
"""
import sys
import time

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

threads = int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads()
torch.set_num_threads(threads)
torch.manual_seed(0)
cfg = Qwen2Config(vocab_size=51, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                  rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=True)
cfg._attn_implementation = "sdpa"
model = Qwen2ForCausalLM(cfg)
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
B, P, T = 128, 24, 8
ids = torch.tensor([[5 + (i + j) % 40 for j in range(P)] + [5 + (i * 3 + j) % 40 for j in range(T)] for i in range(B)])
adv = torch.randn(B)
with torch.no_grad():
    logits = model(ids).logits[:, P - 1:-1].float()
    old = torch.log_softmax(logits, -1).gather(-1, ids[:, P:].unsqueeze(-1)).squeeze(-1)


def step():
    opt.zero_grad()
    logits = model(ids).logits[:, P - 1:-1].float()
    logp = torch.log_softmax(logits, -1).gather(-1, ids[:, P:].unsqueeze(-1)).squeeze(-1)
    ratio = torch.exp(torch.clamp(logp - old, -20, 20))
    a = adv.unsqueeze(-1)
    loss = torch.maximum(-a * ratio, -a * torch.clamp(ratio, 0.8, 1.28)).mean()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


for _ in range(3):
    step()
n = 20
t = time.perf_counter()
for _ in range(n):
    step()
dt = (time.perf_counter() - t) / n
print(f"torch {torch.__version__} threads {threads}: update step {dt * 1e3:.2f} ms, {B * (P + T) / dt:.0f} tokens/s")
