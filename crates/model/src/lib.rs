//! Qwen2 in tch: HF checkpoints, tokenizer and chat template, batched KV-cache generation,
//! per-token log-probs.

#[cfg(test)]
mod tests {
    #[test]
    fn libtorch_runs_a_tensor_op() {
        let a = tch::Tensor::from_slice(&[1.0f32, 2.0, 3.0]);
        let b = (&a * 2.0).sum(tch::Kind::Float);
        assert_eq!(b.double_value(&[]), 12.0);
    }
}
