//! Progress reporting from the library: a small trait the binary implements with a progress bar
//! (only `crates/cli` draws to the terminal), and a no-op for tests and library users.

/// Receives progress of a prepare run.
pub trait Reporter: Sync {
    /// The number of records to read, when known (sum of parquet row counts; JSONL lines are not
    /// counted ahead).
    fn start(&self, total: Option<u64>);
    /// `n` more records were processed.
    fn advance(&self, n: u64);
    /// The run is over.
    fn finish(&self);
}

/// Reports nothing.
pub struct NoProgress;

impl Reporter for NoProgress {
    fn start(&self, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}
