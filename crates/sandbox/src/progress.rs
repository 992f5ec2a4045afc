//! The small progress trait libraries report through; only the binary draws bars.

/// Receives progress of a batch job (image builds, replays).
pub trait Progress: Send + Sync {
    /// The job starts with `total` items.
    fn start(&self, total: u64, what: &str);
    /// One item is done.
    fn advance(&self, item: &str);
    /// The job is over.
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _total: u64, _what: &str) {}
    fn advance(&self, _item: &str) {}
    fn finish(&self) {}
}
