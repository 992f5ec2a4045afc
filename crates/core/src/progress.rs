//! The one progress seam of the libraries: they count their work through [`Progress`], and only
//! the binary draws it (one indicatif implementation in `crates/cli/src/progress.rs`). Every
//! method has a no-op default, so an implementation overrides only what it shows. Reporters that
//! carry domain data (training steps, eval instances) are their crates' own traits.

/// Receives progress of a batch job (image builds, replays, scoring).
pub trait Progress: Send + Sync {
    /// The job starts: `total` items when known; `what` names the job.
    fn start(&self, _total: Option<u64>, _what: &str) {}
    /// `n` more items are done.
    fn advance(&self, _n: u64) {}
    /// One named item is done; counts as one.
    fn item_done(&self, _item: &str) {
        self.advance(1);
    }
    /// The job is over.
    fn finish(&self) {}
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn item_done_counts_as_one_advance() {
        struct Count(AtomicU64);
        impl Progress for Count {
            fn advance(&self, n: u64) {
                self.0.fetch_add(n, Ordering::Relaxed);
            }
        }
        let c = Count(AtomicU64::new(0));
        c.start(Some(3), "job");
        c.item_done("a");
        c.advance(2);
        c.finish();
        assert_eq!(c.0.load(Ordering::Relaxed), 3);
    }
}
