//! The seeded generator of the CPython parity tests and benches: `srl_core::rng::SplitMix64`
//! (the workspace's one RNG) with `usize` draws, so both draw their pairs the same way.
#![allow(dead_code)]
use srl_core::rng::SplitMix64;

/// A SplitMix64 state; `Rng(seed)` starts a stream.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn with<T>(&mut self, f: impl FnOnce(&mut SplitMix64) -> T) -> T {
        let mut g = SplitMix64::new(self.0);
        let out = f(&mut g);
        self.0 = g.state;
        out
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.with(|g| g.next_u64())
    }
    /// Uniform in `0..n` (unbiased).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.with(|g| g.below(n as u64) as usize)
    }
    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: usize, hi: usize) -> usize {
        self.with(|g| g.range(lo, hi))
    }
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
