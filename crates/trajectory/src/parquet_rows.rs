//! Streaming rows out of a parquet file: only the wanted top-level columns are decoded
//! (projection), a bounded number of rows at a time (`parquet` crate's arrow reader), so memory
//! stays bounded whatever the file size. Values become JSON values so the row handling is the
//! same as for JSONL: strings (`Utf8`, `LargeUtf8`, `Utf8View`), booleans, and lists of strings
//! (s1K-1.1's early `deepseek_*` columns).

use crate::error::{Issue, IssueKind};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use std::fs::File;
use std::path::Path;

/// A parquet file opened for streaming.
pub(crate) struct ParquetRows {
    reader: ParquetRecordBatchReader,
    total_rows: u64,
    present: Vec<String>,
}

fn bad(detail: impl Into<String>) -> Issue {
    Issue::new(IssueKind::BadParquet, "file", detail)
}

impl ParquetRows {
    /// Opens `path`, decoding only the `wanted` columns that exist, `batch_rows` rows at a time.
    pub(crate) fn open(path: &Path, wanted: &[&str], batch_rows: usize) -> Result<Self, Issue> {
        let file = File::open(path).map_err(|e| Issue::new(IssueKind::Unreadable, "file", e.to_string()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| bad(e.to_string()))?;
        let total_rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let schema = builder.parquet_schema();
        let roots: Vec<(usize, String)> = schema
            .root_schema()
            .get_fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| wanted.contains(&f.name()))
            .map(|(i, f)| (i, f.name().to_string()))
            .collect();
        let mask = ProjectionMask::roots(schema, roots.iter().map(|(i, _)| *i));
        let present = roots.into_iter().map(|(_, n)| n).collect();
        let reader =
            builder.with_projection(mask).with_batch_size(batch_rows.max(1)).build().map_err(|e| bad(e.to_string()))?;
        Ok(Self { reader, total_rows, present })
    }

    /// Rows in the file, from its footer.
    pub(crate) fn total_rows(&self) -> u64 {
        self.total_rows
    }

    /// The next batch of rows as JSON objects holding the wanted columns that exist (null values
    /// are left out), or the decoding error.
    pub(crate) fn next_rows(&mut self) -> Option<Result<Vec<serde_json::Map<String, serde_json::Value>>, Issue>> {
        let rows = self.next_rows_keeping(None)?;
        Some(rows.map(|list| {
            list.into_iter()
                .map(|(mut map, kept)| {
                    if let Some(k) = kept {
                        k.put_back(&mut map);
                    }
                    map
                })
                .collect()
        }))
    }

    /// [`Self::next_rows`], with the string column `keep` (when it is one) left in its arrow
    /// array instead of copied into the object: the `messages` text, most of a row's bytes.
    pub(crate) fn next_rows_keeping(&mut self, keep: Option<&str>) -> Option<Result<Vec<Row>, Issue>> {
        let batch = match self.reader.next()? {
            Ok(b) => b,
            Err(e) => return Some(Err(bad(e.to_string()))),
        };
        Some(batch_rows(&batch, &self.present, keep))
    }
}

/// One row: the object and the kept string column.
pub(crate) type Row = (serde_json::Map<String, serde_json::Value>, Option<KeptText>);

/// A string cell left in its arrow array (the array is shared, not copied).
#[derive(Debug, Clone)]
pub(crate) struct KeptText {
    name: String,
    /// Where the column goes among the row's keys.
    position: usize,
    array: ArrayRef,
    row: usize,
}

impl KeptText {
    /// The column name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        match self.array.data_type() {
            DataType::Utf8 => self.array.as_string::<i32>().value(self.row),
            DataType::LargeUtf8 => self.array.as_string::<i64>().value(self.row),
            DataType::Utf8View => self.array.as_string_view().value(self.row),
            _ => "",
        }
    }

    /// Puts the value into `map` where [`batch_rows`] would have.
    pub(crate) fn put_back(self, map: &mut serde_json::Map<String, serde_json::Value>) {
        let value = serde_json::Value::String(self.as_str().to_string());
        map.shift_insert(self.position.min(map.len()), self.name, value);
    }
}

fn batch_rows(batch: &RecordBatch, names: &[String], keep: Option<&str>) -> Result<Vec<Row>, Issue> {
    let mut rows: Vec<Row> = (0..batch.num_rows()).map(|_| (serde_json::Map::new(), None)).collect();
    for name in names {
        let Some(col) = batch.column_by_name(name) else { continue };
        let kept = keep == Some(name.as_str())
            && matches!(col.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
        for (r, (row, text)) in rows.iter_mut().enumerate() {
            if kept {
                if !col.is_null(r) {
                    *text = Some(KeptText { name: name.clone(), position: row.len(), array: col.clone(), row: r });
                }
                continue;
            }
            if let Some(v) = cell(col, r).map_err(|t| {
                Issue::new(IssueKind::MissingColumn, name.clone(), format!("unsupported column type {t}"))
            })? {
                row.insert(name.clone(), v);
            }
        }
    }
    Ok(rows)
}

/// One value; `Err(type)` when the column type is not supported.
fn cell(col: &ArrayRef, r: usize) -> Result<Option<serde_json::Value>, String> {
    if col.is_null(r) {
        return Ok(None);
    }
    let v = match col.data_type() {
        DataType::Utf8 => serde_json::Value::String(col.as_string::<i32>().value(r).to_string()),
        DataType::LargeUtf8 => serde_json::Value::String(col.as_string::<i64>().value(r).to_string()),
        DataType::Utf8View => serde_json::Value::String(col.as_string_view().value(r).to_string()),
        DataType::Boolean => serde_json::Value::Bool(col.as_boolean().value(r)),
        DataType::List(_) => list_value(&col.as_list::<i32>().value(r))?,
        DataType::LargeList(_) => list_value(&col.as_list::<i64>().value(r))?,
        other => return Err(other.to_string()),
    };
    Ok(Some(v))
}

fn list_value(items: &ArrayRef) -> Result<serde_json::Value, String> {
    let mut out = Vec::with_capacity(items.len());
    for i in 0..items.len() {
        out.push(cell(items, i)?.unwrap_or(serde_json::Value::Null));
    }
    Ok(serde_json::Value::Array(out))
}

/// Rows of a parquet file from its footer, if it can be read.
pub(crate) fn num_rows(path: &Path) -> Option<u64> {
    let file = File::open(path).ok()?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).ok()?;
    u64::try_from(builder.metadata().file_metadata().num_rows()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{BooleanArray, LargeStringArray, StringArray};
    use std::sync::Arc;

    #[test]
    fn reads_string_bool_and_list_columns_with_projection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        let mut list = ListBuilder::new(StringBuilder::new());
        list.values().append_value("a");
        list.values().append_value("b");
        list.append(true);
        list.append(false);
        let batch = RecordBatch::try_from_iter(vec![
            ("question", Arc::new(StringArray::from(vec![Some("q1"), None])) as ArrayRef),
            ("big", Arc::new(LargeStringArray::from(vec!["x", "y"])) as ArrayRef),
            ("resolved", Arc::new(BooleanArray::from(vec![true, false])) as ArrayRef),
            ("deepseek_attempt", Arc::new(list.finish()) as ArrayRef),
            ("unused", Arc::new(StringArray::from(vec!["u", "v"])) as ArrayRef),
        ])
        .unwrap();
        let file = File::create(&path).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let mut rows =
            ParquetRows::open(&path, &["question", "big", "resolved", "deepseek_attempt", "missing"], 1).unwrap();
        assert_eq!(rows.total_rows(), 2);
        assert_eq!(num_rows(&path), Some(2));
        let first = rows.next_rows().unwrap().unwrap();
        assert_eq!(
            serde_json::Value::Object(first[0].clone()),
            serde_json::json!({"question": "q1", "big": "x", "resolved": true, "deepseek_attempt": ["a", "b"]})
        );
        let second = rows.next_rows().unwrap().unwrap();
        assert_eq!(serde_json::Value::Object(second[0].clone()), serde_json::json!({"big": "y", "resolved": false}));
        assert!(rows.next_rows().is_none());
    }

    #[test]
    fn truncated_file_is_bad_parquet() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        std::fs::write(&path, b"PAR1 not really").unwrap();
        assert_eq!(ParquetRows::open(&path, &["messages"], 8).err().unwrap().kind, IssueKind::BadParquet);
    }
}
