//! The streaming driver shared by both prepare pipelines: one thread reads raw records in file
//! order ([`crate::sources`]), a second hands each batch to the rayon pool, which decodes and
//! builds its records in parallel (every core), and the caller consumes the results sequentially
//! in input order on its own thread — so writing batch n overlaps building batch n + 1, output is
//! deterministic, and the bounded channels keep only a few batches in memory whatever the input
//! size.

use crate::error::{Issue, Result};
use crate::parquet_rows::KeptText;
use crate::progress::Reporter;
use crate::sources::{self, InputFile, RawBody, RawRecord};
use rayon::prelude::*;

/// Records per batch sent from the reader to the workers.
pub(crate) const BATCH_RECORDS: usize = 64;
/// Read batches waiting for the workers.
const RAW_BATCHES_IN_FLIGHT: usize = 4;
/// Built batches waiting for the consumer.
const BUILT_BATCHES_IN_FLIGHT: usize = 2;

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
    W: Fn(usize, &InputFile, Option<u64>, RawBody) -> O + Sync,
    A: FnMut(Place, O) -> Result<()>,
{
    let total: Option<u64> = if files.iter().all(|f| f.kind == sources::FileKind::Parquet) {
        Some(files.iter().filter_map(|f| crate::parquet_rows::num_rows(&f.path)).sum())
    } else {
        None
    };
    reporter.start(total);
    let result = std::thread::scope(|scope| {
        let (tx, rx) = crossbeam_channel::bounded::<Vec<RawRecord>>(RAW_BATCHES_IN_FLIGHT);
        scope.spawn(move || sources::read_records(files, wanted, BATCH_RECORDS, &tx));
        let (done_tx, done_rx) = crossbeam_channel::bounded::<(u64, Vec<(Place, O)>)>(BUILT_BATCHES_IN_FLIGHT);
        let work = &work;
        scope.spawn(move || {
            for batch in rx {
                let n = batch.len() as u64;
                let outs: Vec<(Place, O)> = batch
                    .into_par_iter()
                    .map(|rec| {
                        let place = Place { file: rec.file, row: rec.row };
                        (place, work(rec.file, &files[rec.file], rec.row, rec.body))
                    })
                    .collect();
                // The consumer is gone after an error: stop reading.
                if done_tx.send((n, outs)).is_err() {
                    break;
                }
            }
        });
        for (n, outs) in done_rx {
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
    reports: Option<&std::path::Path>,
) -> std::result::Result<serde_json::Map<String, serde_json::Value>, Issue> {
    let (mut fields, kept) = fields_and_text(file, body, reports)?;
    if let Some(k) = kept {
        k.put_back(&mut fields);
    }
    Ok(fields)
}

/// [`fields_of`], leaving a parquet row's `messages` text in its arrow array (not in the object).
pub(crate) fn fields_and_text(
    file: &InputFile,
    body: RawBody,
    reports: Option<&std::path::Path>,
) -> std::result::Result<(serde_json::Map<String, serde_json::Value>, Option<KeptText>), Issue> {
    let fields = match body {
        RawBody::Fields(f, kept) => return Ok((f, kept)),
        RawBody::Line(bytes) => sources::line_fields(bytes),
        RawBody::Traj(bytes) => crate::traj_file::traj_fields(&file.path, bytes, reports),
        RawBody::Bad(issue) => Err(issue),
    }?;
    Ok((fields, None))
}
