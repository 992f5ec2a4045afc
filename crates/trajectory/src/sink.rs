//! Writers of step instances: JSONL (one versioned [`StepInstance`] record per line) or parquet
//! for Hugging Face `datasets` users (same fields; `messages` a list of `{role, content}`
//! structs, `provenance` a struct). Both go through [`srl_core::io::AtomicFile`]: the file appears
//! complete on commit or not at all.

use crate::error::{Result, TrajectoryError};
use arrow_array::builder::{ListBuilder, StringBuilder, StructBuilder, UInt32Builder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Fields, Schema};
use parquet::arrow::ArrowWriter;
use serde::{Deserialize, Serialize};
use srl_core::io::AtomicFile;
use srl_core::StepInstance;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Output format of instance files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// `train.jsonl`, `val.jsonl`.
    #[default]
    Jsonl,
    /// `train.parquet`, `val.parquet`.
    Parquet,
}

impl OutputFormat {
    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jsonl => "jsonl",
            Self::Parquet => "parquet",
        }
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "jsonl" => Ok(Self::Jsonl),
            "parquet" => Ok(Self::Parquet),
            o => Err(format!("unknown format {o:?} (expected jsonl or parquet)")),
        }
    }
}

/// An instance file being written.
pub enum InstanceSink {
    /// JSONL, and its final path.
    Jsonl(AtomicFile, PathBuf),
    /// Parquet, buffered into row groups.
    Parquet(Box<ParquetSink>),
}

impl InstanceSink {
    /// Starts writing `path` in `format`.
    pub fn create(path: &Path, format: OutputFormat) -> Result<Self> {
        Ok(match format {
            OutputFormat::Jsonl => Self::Jsonl(AtomicFile::create(path)?, path.to_path_buf()),
            OutputFormat::Parquet => Self::Parquet(Box::new(ParquetSink::create(path)?)),
        })
    }

    /// Appends one instance.
    pub fn write(&mut self, inst: &StepInstance) -> Result<()> {
        match self {
            Self::Jsonl(f, _) => Ok(f.write_json_line(inst)?),
            Self::Parquet(p) => p.write(inst.clone()),
        }
    }

    /// Appends one instance already serialized as a JSONL line (with its newline); parquet
    /// sinks decode it back.
    pub fn write_line(&mut self, line: &[u8]) -> Result<()> {
        match self {
            Self::Jsonl(f, path) => {
                f.write_all(line).map_err(|source| TrajectoryError::Io { path: path.clone(), source })
            }
            Self::Parquet(p) => p.write(serde_json::from_slice(line)?),
        }
    }

    /// Finishes the file and moves it into place.
    pub fn commit(self) -> Result<()> {
        match self {
            Self::Jsonl(f, _) => Ok(f.commit()?),
            Self::Parquet(p) => p.commit(),
        }
    }
}

const ROW_GROUP: usize = 2048;

/// Parquet writer of instances.
pub struct ParquetSink {
    path: PathBuf,
    writer: ArrowWriter<AtomicFile>,
    schema: Arc<Schema>,
    pending: Vec<StepInstance>,
}

fn message_fields() -> Fields {
    Fields::from(vec![Field::new("role", DataType::Utf8, false), Field::new("content", DataType::Utf8, false)])
}

fn provenance_fields() -> Fields {
    Fields::from(vec![
        Field::new("source", DataType::Utf8, false),
        Field::new("row", DataType::UInt64, true),
        Field::new("trajectory_id", DataType::Utf8, false),
        Field::new("step_index", DataType::UInt32, false),
        Field::new("num_steps", DataType::UInt32, false),
    ])
}

/// The parquet schema of instance files.
pub fn instance_schema() -> Schema {
    Schema::new(vec![
        Field::new("type", DataType::Utf8, false),
        Field::new("version", DataType::UInt32, false),
        Field::new("id", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new(
            "messages",
            DataType::List(Arc::new(Field::new("item", DataType::Struct(message_fields()), true))),
            false,
        ),
        Field::new("target", DataType::Utf8, false),
        Field::new("target_tool", DataType::Utf8, true),
        Field::new("target_thought", DataType::Utf8, true),
        Field::new("reference_answer", DataType::Utf8, true),
        Field::new("provenance", DataType::Struct(provenance_fields()), false),
    ])
}

impl ParquetSink {
    fn create(path: &Path) -> Result<Self> {
        let file = AtomicFile::create(path)?;
        let schema = Arc::new(instance_schema());
        let writer = ArrowWriter::try_new(file, schema.clone(), None).map_err(|e| perr(path, e))?;
        Ok(Self { path: path.to_path_buf(), writer, schema, pending: Vec::with_capacity(ROW_GROUP) })
    }

    fn write(&mut self, inst: StepInstance) -> Result<()> {
        self.pending.push(inst);
        if self.pending.len() >= ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = to_batch(&self.pending, &self.schema).map_err(|e| perr(&self.path, e))?;
        self.writer.write(&batch).map_err(|e| perr(&self.path, e))?;
        self.writer.flush().map_err(|e| perr(&self.path, e))?;
        self.pending.clear();
        Ok(())
    }

    fn commit(mut self) -> Result<()> {
        self.flush()?;
        let file = self.writer.into_inner().map_err(|e| perr(&self.path, e))?;
        Ok(file.commit()?)
    }
}

fn perr(path: &Path, e: impl std::fmt::Display) -> TrajectoryError {
    TrajectoryError::ParquetWrite { path: path.to_path_buf(), message: e.to_string() }
}

fn to_batch(items: &[StepInstance], schema: &Arc<Schema>) -> std::result::Result<RecordBatch, String> {
    let n = items.len();
    let mut ty = StringBuilder::new();
    let mut version = UInt32Builder::with_capacity(n);
    let mut id = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut messages = ListBuilder::new(StructBuilder::from_fields(message_fields(), n * 4))
        .with_field(Arc::new(Field::new("item", DataType::Struct(message_fields()), true)));
    let mut target = StringBuilder::new();
    let mut target_tool = StringBuilder::new();
    let mut target_thought = StringBuilder::new();
    let mut answer = StringBuilder::new();
    let mut prov = StructBuilder::from_fields(provenance_fields(), n);
    let missing = |what: &str| format!("internal: no builder for {what}");
    for it in items {
        ty.append_value("srl_step");
        version.append_value(it.version);
        id.append_value(&it.id);
        kind.append_value(match it.kind {
            srl_core::TaskKind::Swe => "swe",
            srl_core::TaskKind::Math => "math",
        });
        let values = messages.values();
        for m in &it.messages {
            let role = match m.role {
                srl_core::Role::System => "system",
                srl_core::Role::User => "user",
                srl_core::Role::Assistant => "assistant",
            };
            values.field_builder::<StringBuilder>(0).ok_or_else(|| missing("role"))?.append_value(role);
            values.field_builder::<StringBuilder>(1).ok_or_else(|| missing("content"))?.append_value(&m.content);
            values.append(true);
        }
        messages.append(true);
        target.append_value(&it.target);
        target_tool.append_option(it.target_tool.as_deref());
        target_thought.append_option(it.target_thought.as_deref());
        answer.append_option(it.reference_answer.as_deref());
        let p = &it.provenance;
        prov.field_builder::<StringBuilder>(0).ok_or_else(|| missing("source"))?.append_value(&p.source);
        prov.field_builder::<UInt64Builder>(1).ok_or_else(|| missing("row"))?.append_option(p.row);
        prov.field_builder::<StringBuilder>(2).ok_or_else(|| missing("trajectory_id"))?.append_value(&p.trajectory_id);
        prov.field_builder::<UInt32Builder>(3).ok_or_else(|| missing("step_index"))?.append_value(p.step_index);
        prov.field_builder::<UInt32Builder>(4).ok_or_else(|| missing("num_steps"))?.append_value(p.num_steps);
        prov.append(true);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(ty.finish()),
        Arc::new(version.finish()),
        Arc::new(id.finish()),
        Arc::new(kind.finish()),
        Arc::new(messages.finish()),
        Arc::new(target.finish()),
        Arc::new(target_tool.finish()),
        Arc::new(target_thought.finish()),
        Arc::new(answer.finish()),
        Arc::new(prov.finish()),
    ];
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())
}
