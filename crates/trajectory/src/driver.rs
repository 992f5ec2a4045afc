//! The streaming driver shared by both prepare pipelines: one thread reads raw records in file
//! order ([`crate::sources`]), the rayon pool decodes and builds each batch in parallel (both
//! cores), and the caller consumes the results sequentially in input order, so output is
//! deterministic while memory holds only a few batches.

use crate::error::{Issue, Result};
use crate::progress::Reporter;
use crate::sources::{self, InputFile, RawBody, RawRecord};
use rayon::prelude::*;

/// Records per batch sent from the reader to the workers.
pub(crate) const BATCH_RECORDS: usize = 64;

/// Where a processed record came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    pub(crate) file: usize,
    pub(crate) row: Option<u64>,
}

/// Reads `files`, maps each record with `work` in parallel and hands the results in order to
/// `accept`. Stops at the first error of `accept`.
pub(crate) fn drive<O, W, A>(
    files: &[InputFile],
    wanted: &[&str],
    reporter: &dyn Reporter,
    work: W,
    mut accept: A,
) -> Result<()>
where
    O: Send,
    W: Fn(&InputFile, Option<u64>, RawBody) -> O + Sync,
    A: FnMut(Place, O) -> Result<()>,
{
    let total: Option<u64> = if files.iter().all(|f| f.kind == sources::FileKind::Parquet) {
        Some(files.iter().filter_map(|f| crate::parquet_rows::num_rows(&f.path)).sum())
    } else {
        None
    };
    reporter.start(total);
    let result = std::thread::scope(|scope| {
        let (tx, rx) = crossbeam_channel::bounded::<Vec<RawRecord>>(4);
        scope.spawn(move || sources::read_records(files, wanted, BATCH_RECORDS, &tx));
        for batch in rx {
            let n = batch.len() as u64;
            let outs: Vec<(Place, O)> = batch
                .into_par_iter()
                .map(|rec| {
                    let place = Place { file: rec.file, row: rec.row };
                    (place, work(&files[rec.file], rec.row, rec.body))
                })
                .collect();
            for (place, out) in outs {
                accept(place, out)?;
            }
            reporter.advance(n);
        }
        Ok(())
    });
    reporter.finish();
    result
}

/// Decodes a raw body into row fields (JSONL lines and `.traj` files are parsed here, on the
/// worker threads).
pub(crate) fn fields_of(
    file: &InputFile,
    body: RawBody,
) -> std::result::Result<serde_json::Map<String, serde_json::Value>, Issue> {
    match body {
        RawBody::Fields(f) => Ok(f),
        RawBody::Line(bytes) => sources::line_fields(bytes),
        RawBody::Traj(bytes) => crate::traj_file::traj_fields(&file.path, bytes),
        RawBody::Bad(issue) => Err(issue),
    }
}
