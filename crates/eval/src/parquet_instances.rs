//! Task instances from parquet (the Hugging Face form of SWE-bench and SWE-smith, docs/formats.md
//! §3.1 and §4): each row becomes a JSON object (strings, booleans, integers and lists of
//! strings; other column types are left out) and goes through the same conversion as a JSONL
//! line (`crate::instances::instance_from_value`). Reader: `parquet` crate's arrow reader.

use crate::error::{EvalError, Result};
use crate::instances::{instance_from_value, LoadedInstances};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value};
use std::fs::File;
use std::path::Path;

fn cell(col: &ArrayRef, row: usize) -> Option<Value> {
    if col.is_null(row) {
        return Some(Value::Null);
    }
    Some(match col.data_type() {
        DataType::Utf8 => Value::from(col.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Value::from(col.as_string::<i64>().value(row)),
        DataType::Utf8View => Value::from(col.as_string_view().value(row)),
        DataType::Boolean => Value::from(col.as_boolean().value(row)),
        DataType::Int64 => Value::from(col.as_primitive::<arrow_array::types::Int64Type>().value(row)),
        DataType::Int32 => Value::from(col.as_primitive::<arrow_array::types::Int32Type>().value(row)),
        DataType::List(_) => list(&col.as_list::<i32>().value(row))?,
        DataType::LargeList(_) => list(&col.as_list::<i64>().value(row))?,
        _ => return None,
    })
}

fn list(values: &ArrayRef) -> Option<Value> {
    let mut out = Vec::with_capacity(values.len());
    for i in 0..values.len() {
        out.push(cell(values, i)?);
    }
    Some(Value::Array(out))
}

/// Reads every row of a parquet instances file; malformed rows are skipped (or, with `strict`,
/// an error naming the file, the 1-based row and the field).
pub fn load_parquet(path: &Path, strict: bool, into: &mut LoadedInstances) -> Result<()> {
    let file = File::open(path).map_err(EvalError::io(path))?;
    let bad = |message: String| EvalError::Record { path: path.to_path_buf(), line: 0, field: "-".into(), message };
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| bad(e.to_string()))?
        .with_batch_size(1024)
        .build()
        .map_err(|e| bad(e.to_string()))?;
    let mut row_no = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| bad(e.to_string()))?;
        let schema = batch.schema();
        for r in 0..batch.num_rows() {
            row_no += 1;
            let mut obj = Map::new();
            for (i, field) in schema.fields().iter().enumerate() {
                if let Some(v) = cell(batch.column(i), r) {
                    obj.insert(field.name().clone(), v);
                }
            }
            match instance_from_value(Value::Object(obj)) {
                Ok(t) => into.instances.push(t),
                Err((field, message)) => {
                    if strict {
                        return Err(EvalError::Record { path: path.to_path_buf(), line: row_no, field, message });
                    }
                    tracing::warn!(file = %path.display(), row = row_no, field = %field, "skipping malformed instance: {message}");
                    into.skipped.push(format!("{}:{row_no}: field `{field}`: {message}", path.display()));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parquet file is written by pyarrow (the library the Hugging Face datasets use).
    #[test]
    fn reads_rows_written_by_pyarrow() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("swe.parquet");
        let python = std::env::var("SRL_SWE_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
t = pa.table({
    "instance_id": ["django__django-1", "o__r.1234abcd.func__x", "bad"],
    "problem_statement": ["p1", "p2", None],
    "patch": ["diff", "diff", ""],
    "image_name": ["", "swesmith.x86_64.o__r.1234abcd", ""],
    "test_patch": ["t", "", ""],
    "FAIL_TO_PASS": ['["a::b"]', '["t.py::a"]', "[]"],
    "PASS_TO_PASS": ["[]", "[]", "[]"],
    "created_at": pa.array([1, 2, 3], type=pa.int64()),
})
pq.write_table(t, sys.argv[1])
"#;
        let out = std::process::Command::new(&python).arg("-c").arg(script).arg(&path).output().unwrap_or_else(|e| {
            panic!("{python} not runnable ({e}); run `bash scripts/setup.sh` and `source scripts/env.sh` for the venv with pyarrow")
        });
        assert!(
            out.status.success(),
            "pyarrow failed (run bash scripts/setup.sh): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut got = LoadedInstances::default();
        load_parquet(&path, false, &mut got).unwrap();
        assert_eq!(got.instances.len(), 2, "{:?}", got.skipped);
        assert_eq!(got.instances[0].fail_to_pass, ["a::b"]);
        assert!(!got.instances[0].patch_is_bug);
        assert!(got.instances[1].patch_is_bug);
        assert_eq!(got.skipped.len(), 1);
        assert!(got.skipped[0].contains("swe.parquet:3: field `problem_statement`"), "{:?}", got.skipped);
        let err = load_parquet(&path, true, &mut LoadedInstances::default()).unwrap_err().to_string();
        assert!(err.contains("swe.parquet:3"), "{err}");
    }
}
