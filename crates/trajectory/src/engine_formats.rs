//! Exports of prepared instances for existing RL engines: `srl-swe prepare --format
//! verl|openrlhf|trl` (docs/engines.md; the engines' readers: veRL
//! `verl/utils/dataset/rl_dataset.py::RLHFDataset`, OpenRLHF
//! `openrlhf/datasets/prompts_dataset.py::preprocess_data`, TRL `GRPOTrainer` datasets).
//!
//! Prepare writes its canonical JSONL first (`train.jsonl`, `val.jsonl`, and for math
//! `rlvr_train.jsonl`, `rlvr_val.jsonl`); [`export_engine_format`] reads those records and writes
//! the engine's files into `<out>/<engine>/`, beside a ready run file with the paper's settings and
//! the reward shim it calls (copied from `integrations/`). Ids and provenance are kept in every
//! format. Rows of one file share one schema (veRL builds parquet structs, where a missing key
//! becomes a null).
//!
//! | engine | files | prompt | target |
//! |---|---|---|---|
//! | veRL | `train.parquet`, … | `prompt` = chat messages | `reward_model = {style: "rule", ground_truth}`, `data_source` = `srl_swe` / `srl_math` / `rlvr_math`, `extra_info` |
//! | OpenRLHF | `train.jsonl`, … | `input` = chat messages, `input_text` = ChatML-rendered | `label` = JSON string `{"expert","kind","answer","id"}` |
//! | TRL | `train.jsonl`, … | `prompt` = chat messages | `expert`, `kind`, `answer` columns |

use crate::error::{IssueKind, Location, Result, TrajectoryError};
use arrow_array::builder::{Int64Builder, ListBuilder, StringBuilder, StructBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Fields, Schema};
use parquet::arrow::ArrowWriter;
use serde_json::{json, Value};
use srl_core::io::{jsonl_lines, AtomicFile};
use srl_core::{Message, RlvrItem, Role, StepInstance, TaskKind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// System turn of RLVR prompts: Qwen2.5-Math's `qwen25-math-cot` prompt, the one srl-swe's own
/// trainer gives RLVR items.
pub use srl_core::prompts::MATH_COT_SYSTEM_PROMPT as RLVR_SYSTEM_PROMPT;

/// An engine's data format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineFormat {
    /// veRL parquet.
    Verl,
    /// OpenRLHF JSONL.
    Openrlhf,
    /// TRL JSONL.
    Trl,
}

impl EngineFormat {
    /// The folder (and flag value) of the format.
    pub fn name(self) -> &'static str {
        match self {
            Self::Verl => "verl",
            Self::Openrlhf => "openrlhf",
            Self::Trl => "trl",
        }
    }
}

impl std::str::FromStr for EngineFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "verl" => Ok(Self::Verl),
            "openrlhf" => Ok(Self::Openrlhf),
            "trl" => Ok(Self::Trl),
            o => Err(format!("unknown engine format {o:?} (expected verl, openrlhf or trl)")),
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineExport {
    /// `<out>/<engine>`.
    pub dir: PathBuf,
    /// Data files with their row counts.
    pub files: Vec<(PathBuf, u64)>,
    /// The run file and the shim copied beside the data.
    pub support_files: Vec<PathBuf>,
}

/// Run files and shims, shipped in `integrations/` and copied beside each export.
fn support_files(format: EngineFormat) -> &'static [(&'static str, &'static str)] {
    match format {
        EngineFormat::Verl => &[
            ("run_verl.sh", include_str!("../../../integrations/verl/run_verl.sh")),
            ("srl_swe_verl_reward.py", include_str!("../../../integrations/verl/srl_swe_verl_reward.py")),
        ],
        EngineFormat::Openrlhf => {
            &[("run_openrlhf.sh", include_str!("../../../integrations/openrlhf/run_openrlhf.sh"))]
        }
        EngineFormat::Trl => &[
            ("train_trl.py", include_str!("../../../integrations/trl/train_trl.py")),
            ("srl_swe_trl_reward.py", include_str!("../../../integrations/trl/srl_swe_trl_reward.py")),
        ],
    }
}

/// One exported row, engine-neutral.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: String,
    /// `swe`, `math` or `rlvr`: the `kind` of `srl-swe serve reward`.
    kind: &'static str,
    data_source: &'static str,
    ability: &'static str,
    messages: Vec<Message>,
    expert: Option<String>,
    answer: Option<String>,
    trajectory_id: String,
    step_index: Option<u32>,
    source: String,
    split: &'static str,
}

impl Row {
    fn from_step(s: StepInstance, split: &'static str) -> Self {
        let (kind, data_source, ability) = match s.kind {
            TaskKind::Swe => ("swe", "srl_swe", "swe"),
            TaskKind::Math => ("math", "srl_math", "math"),
        };
        Self {
            id: s.id,
            kind,
            data_source,
            ability,
            messages: s.messages,
            expert: Some(s.target),
            answer: s.reference_answer,
            trajectory_id: s.provenance.trajectory_id,
            step_index: Some(s.provenance.step_index),
            source: s.provenance.source,
            split,
        }
    }

    fn from_rlvr(r: RlvrItem, split: &'static str) -> Self {
        Self {
            trajectory_id: r.id.clone(),
            id: r.id,
            kind: "rlvr",
            data_source: "rlvr_math",
            ability: "math",
            messages: vec![Message::new(Role::System, RLVR_SYSTEM_PROMPT), Message::new(Role::User, r.question)],
            expert: None,
            answer: Some(r.answer),
            step_index: None,
            source: r.source,
            split,
        }
    }

    /// What the reward compares against: the expert action (SRL) or the final answer (RLVR).
    fn ground_truth(&self) -> &str {
        self.expert.as_deref().or(self.answer.as_deref()).unwrap_or_default()
    }

    /// The label of `/get_reward` (`srl-swe serve reward` reads it back).
    fn label(&self) -> String {
        json!({"expert": self.expert, "kind": self.kind, "answer": self.answer, "id": self.id}).to_string()
    }

    fn messages_json(&self) -> Value {
        Value::Array(self.messages.iter().map(|m| json!({"role": role_name(m.role), "content": m.content})).collect())
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

/// ChatML rendering with the generation prompt, as Qwen2/Qwen2.5's chat template renders messages
/// that start with a system turn and use no tools:
/// `<|im_start|>{role}\n{content}<|im_end|>\n` per message, then `<|im_start|>assistant\n`.
pub fn render_chatml(messages: &[Message]) -> String {
    let mut out = String::new();
    for m in messages {
        out.push_str("<|im_start|>");
        out.push_str(role_name(m.role));
        out.push('\n');
        out.push_str(&m.content);
        out.push_str("<|im_end|>\n");
    }
    out.push_str("<|im_start|>assistant\n");
    out
}

fn read_records<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for item in jsonl_lines(path)? {
        let (line, text) = item?;
        let record = serde_json::from_str(&text).map_err(|e| TrajectoryError::Record {
            location: Location { path: path.to_path_buf(), row: Some(line as u64 - 1) },
            kind: IssueKind::MalformedJson,
            field: "record".into(),
            detail: e.to_string(),
        })?;
        out.push(record);
    }
    Ok(out)
}

/// Writes the engine files for the canonical records in `prepared` (the prepare `--out` folder)
/// into `prepared/<engine>/`. Files that prepare did not write (e.g. RLVR items of an SWE run) are
/// not exported.
pub fn export_engine_format(prepared: &Path, format: EngineFormat) -> Result<EngineExport> {
    let dir = prepared.join(format.name());
    let mut files = Vec::new();
    for (stem, split, rlvr) in
        [("train", "train", false), ("val", "val", false), ("rlvr_train", "train", true), ("rlvr_val", "val", true)]
    {
        let input = prepared.join(format!("{stem}.jsonl"));
        if !input.exists() {
            continue;
        }
        let rows: Vec<Row> = if rlvr {
            read_records::<RlvrItem>(&input)?.into_iter().map(|r| Row::from_rlvr(r, split)).collect()
        } else {
            read_records::<StepInstance>(&input)?.into_iter().map(|s| Row::from_step(s, split)).collect()
        };
        let path = match format {
            EngineFormat::Verl => {
                let path = dir.join(format!("{stem}.parquet"));
                write_verl_parquet(&path, &rows)?;
                path
            }
            EngineFormat::Openrlhf => write_jsonl(&dir.join(format!("{stem}.jsonl")), rows.iter().map(openrlhf_row))?,
            EngineFormat::Trl => write_jsonl(&dir.join(format!("{stem}.jsonl")), rows.iter().map(trl_row))?,
        };
        files.push((path, rows.len() as u64));
    }
    let mut support = Vec::new();
    for (name, text) in support_files(format) {
        let path = dir.join(name);
        srl_core::io::write_atomic(&path, text.as_bytes())?;
        support.push(path);
    }
    tracing::info!(engine = format.name(), dir = %dir.display(), files = files.len(), "engine export written");
    Ok(EngineExport { dir, files, support_files: support })
}

fn write_jsonl(path: &Path, rows: impl Iterator<Item = Value>) -> Result<PathBuf> {
    let mut file = AtomicFile::create(path)?;
    for row in rows {
        file.write_json_line(&row)?;
    }
    file.commit()?;
    Ok(path.to_path_buf())
}

fn openrlhf_row(r: &Row) -> Value {
    json!({
        "input": r.messages_json(),
        "input_text": render_chatml(&r.messages),
        "label": r.label(),
        "datasource": r.data_source,
        "id": r.id,
        "trajectory_id": r.trajectory_id,
        "step_index": r.step_index,
        "source": r.source,
    })
}

fn trl_row(r: &Row) -> Value {
    json!({
        "prompt": r.messages_json(),
        "expert": r.expert,
        "kind": r.kind,
        "answer": r.answer,
        "id": r.id,
        "trajectory_id": r.trajectory_id,
        "step_index": r.step_index,
        "source": r.source,
    })
}

fn message_fields() -> Fields {
    Fields::from(vec![Field::new("role", DataType::Utf8, false), Field::new("content", DataType::Utf8, false)])
}

fn reward_model_fields() -> Fields {
    Fields::from(vec![Field::new("style", DataType::Utf8, false), Field::new("ground_truth", DataType::Utf8, false)])
}

fn extra_info_fields() -> Fields {
    Fields::from(vec![
        Field::new("index", DataType::Int64, false),
        Field::new("split", DataType::Utf8, false),
        Field::new("id", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("trajectory_id", DataType::Utf8, false),
        Field::new("step_index", DataType::Int64, true),
        Field::new("source", DataType::Utf8, false),
        Field::new("expert", DataType::Utf8, true),
        Field::new("answer", DataType::Utf8, true),
    ])
}

/// The parquet schema of veRL exports: `data_source`, `prompt`, `ability`, `reward_model`,
/// `extra_info` (one fixed struct for every row).
pub fn verl_schema() -> Schema {
    Schema::new(vec![
        Field::new("data_source", DataType::Utf8, false),
        Field::new(
            "prompt",
            DataType::List(Arc::new(Field::new("item", DataType::Struct(message_fields()), true))),
            false,
        ),
        Field::new("ability", DataType::Utf8, false),
        Field::new("reward_model", DataType::Struct(reward_model_fields()), false),
        Field::new("extra_info", DataType::Struct(extra_info_fields()), false),
    ])
}

fn perr(path: &Path, e: impl std::fmt::Display) -> TrajectoryError {
    TrajectoryError::ParquetWrite { path: path.to_path_buf(), message: e.to_string() }
}

fn write_verl_parquet(path: &Path, rows: &[Row]) -> Result<()> {
    let schema = Arc::new(verl_schema());
    let batch = verl_batch(rows, &schema).map_err(|e| perr(path, e))?;
    let file = AtomicFile::create(path)?;
    let mut writer = ArrowWriter::try_new(file, schema, None).map_err(|e| perr(path, e))?;
    writer.write(&batch).map_err(|e| perr(path, e))?;
    let file = writer.into_inner().map_err(|e| perr(path, e))?;
    Ok(file.commit()?)
}

fn verl_batch(rows: &[Row], schema: &Arc<Schema>) -> std::result::Result<RecordBatch, String> {
    let n = rows.len();
    let missing = |what: &str| format!("internal: no builder for {what}");
    let mut data_source = StringBuilder::new();
    let mut prompt = ListBuilder::new(StructBuilder::from_fields(message_fields(), n * 4))
        .with_field(Arc::new(Field::new("item", DataType::Struct(message_fields()), true)));
    let mut ability = StringBuilder::new();
    let mut reward_model = StructBuilder::from_fields(reward_model_fields(), n);
    let mut extra = StructBuilder::from_fields(extra_info_fields(), n);
    for (index, r) in rows.iter().enumerate() {
        data_source.append_value(r.data_source);
        let values = prompt.values();
        for m in &r.messages {
            values.field_builder::<StringBuilder>(0).ok_or_else(|| missing("role"))?.append_value(role_name(m.role));
            values.field_builder::<StringBuilder>(1).ok_or_else(|| missing("content"))?.append_value(&m.content);
            values.append(true);
        }
        prompt.append(true);
        ability.append_value(r.ability);
        reward_model.field_builder::<StringBuilder>(0).ok_or_else(|| missing("style"))?.append_value("rule");
        reward_model
            .field_builder::<StringBuilder>(1)
            .ok_or_else(|| missing("ground_truth"))?
            .append_value(r.ground_truth());
        reward_model.append(true);
        extra.field_builder::<Int64Builder>(0).ok_or_else(|| missing("index"))?.append_value(index as i64);
        extra.field_builder::<StringBuilder>(1).ok_or_else(|| missing("split"))?.append_value(r.split);
        extra.field_builder::<StringBuilder>(2).ok_or_else(|| missing("id"))?.append_value(&r.id);
        extra.field_builder::<StringBuilder>(3).ok_or_else(|| missing("kind"))?.append_value(r.kind);
        extra.field_builder::<StringBuilder>(4).ok_or_else(|| missing("trajectory_id"))?.append_value(&r.trajectory_id);
        extra
            .field_builder::<Int64Builder>(5)
            .ok_or_else(|| missing("step_index"))?
            .append_option(r.step_index.map(i64::from));
        extra.field_builder::<StringBuilder>(6).ok_or_else(|| missing("source"))?.append_value(&r.source);
        extra.field_builder::<StringBuilder>(7).ok_or_else(|| missing("expert"))?.append_option(r.expert.as_deref());
        extra.field_builder::<StringBuilder>(8).ok_or_else(|| missing("answer"))?.append_option(r.answer.as_deref());
        extra.append(true);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(data_source.finish()),
        Arc::new(prompt.finish()),
        Arc::new(ability.finish()),
        Arc::new(reward_model.finish()),
        Arc::new(extra.finish()),
    ];
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use srl_core::{Provenance, RECORD_VERSION};

    fn step() -> StepInstance {
        StepInstance {
            version: RECORD_VERSION,
            id: "traj-1#2".into(),
            kind: TaskKind::Swe,
            messages: vec![Message::new(Role::System, "sys"), Message::new(Role::User, "task")],
            target: "<function=submit>\n</function>".into(),
            target_tool: Some("submit".into()),
            target_thought: None,
            reference_answer: None,
            provenance: Provenance {
                source: "a.jsonl".into(),
                row: Some(0),
                trajectory_id: "traj-1".into(),
                step_index: 2,
                num_steps: 3,
            },
        }
    }

    #[test]
    fn chatml_matches_the_qwen_layout() {
        let r = render_chatml(&[Message::new(Role::System, "s"), Message::new(Role::User, "u")]);
        assert_eq!(r, "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\n");
    }

    #[test]
    fn exports_keep_ids_targets_and_one_schema() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = AtomicFile::create(dir.path().join("train.jsonl")).unwrap();
        f.write_json_line(&step()).unwrap();
        f.commit().unwrap();
        let item = RlvrItem {
            version: RECORD_VERSION,
            id: "p1".into(),
            question: "1+1?".into(),
            answer: "2".into(),
            source: "s1k".into(),
        };
        let mut f = AtomicFile::create(dir.path().join("rlvr_train.jsonl")).unwrap();
        f.write_json_line(&item).unwrap();
        f.commit().unwrap();

        let trl = export_engine_format(dir.path(), EngineFormat::Trl).unwrap();
        assert_eq!(trl.files.iter().map(|(_, n)| *n).collect::<Vec<_>>(), vec![1, 1]);
        let text = std::fs::read_to_string(&trl.files[0].0).unwrap();
        let row: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(row["expert"], "<function=submit>\n</function>");
        assert_eq!(
            (row["kind"].as_str(), row["id"].as_str(), row["step_index"].as_u64()),
            (Some("swe"), Some("traj-1#2"), Some(2))
        );
        assert!(trl.support_files.iter().any(|p| p.ends_with("srl_swe_trl_reward.py")));

        let orl = export_engine_format(dir.path(), EngineFormat::Openrlhf).unwrap();
        let text = std::fs::read_to_string(&orl.files[1].0).unwrap();
        let row: Value = serde_json::from_str(text.trim()).unwrap();
        let label: Value = serde_json::from_str(row["label"].as_str().unwrap()).unwrap();
        assert_eq!(label, json!({"expert": null, "kind": "rlvr", "answer": "2", "id": "p1"}));
        assert!(row["input_text"].as_str().unwrap().starts_with("<|im_start|>system\nPlease reason step by step"));

        let verl = export_engine_format(dir.path(), EngineFormat::Verl).unwrap();
        assert!(verl.files[0].0.ends_with("verl/train.parquet"));
        assert!(verl.dir.join("run_verl.sh").exists());
    }

    #[test]
    fn a_bad_canonical_record_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("train.jsonl"), "{\"type\":\"srl_step\"}\n").unwrap();
        let err = export_engine_format(dir.path(), EngineFormat::Trl).unwrap_err().to_string();
        assert!(err.contains("train.jsonl line 1"), "{err}");
    }
}
