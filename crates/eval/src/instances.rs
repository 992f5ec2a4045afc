//! Task instances to evaluate: the shipped `environments/<name>/instances.jsonl` files
//! (`srl_core::TaskInstance` lines) or a SWE-smith / SWE-bench instances file (docs/formats.md §3.1,
//! §4). SWE-bench stores FAIL_TO_PASS / PASS_TO_PASS as JSON strings and its `patch` is the gold
//! fix; SWE-smith stores real lists and its `patch` is the bug (`image_name` starting with
//! `swesmith.`). Malformed records are skipped and counted, or fail the load with `strict`.

use crate::error::{EvalError, Result};
use regex::Regex;
use serde_json::Value;
use srl_core::TaskInstance;
use std::path::{Path, PathBuf};

/// Instances plus what was skipped.
#[derive(Debug, Default)]
pub struct LoadedInstances {
    /// Valid instances, in file order.
    pub instances: Vec<TaskInstance>,
    /// Skipped records: `file:line: field: message`.
    pub skipped: Vec<String>,
}

/// Which instances to keep.
#[derive(Debug, Clone, Default)]
pub struct InstanceFilter {
    /// Exact ids (empty = all).
    pub ids: Vec<String>,
    /// Regex on the id.
    pub regex: Option<Regex>,
    /// Keep at most this many (after the other filters).
    pub limit: Option<usize>,
}

impl InstanceFilter {
    /// Builds a filter; `pattern` is a regex on the id (an invalid one is a config error).
    pub fn new(ids: Vec<String>, pattern: Option<&str>, limit: Option<usize>) -> Result<Self> {
        let regex = pattern
            .map(Regex::new)
            .transpose()
            .map_err(|e| EvalError::Config { field: "filter", message: e.to_string() })?;
        Ok(InstanceFilter { ids, regex, limit })
    }

    /// Applies the filter in order.
    pub fn apply(&self, instances: Vec<TaskInstance>) -> Vec<TaskInstance> {
        let kept = instances
            .into_iter()
            .filter(|t| self.ids.is_empty() || self.ids.contains(&t.instance_id))
            .filter(|t| self.regex.as_ref().is_none_or(|r| r.is_match(&t.instance_id)));
        match self.limit {
            Some(n) => kept.take(n).collect(),
            None => kept.collect(),
        }
    }
}

/// The `instances.jsonl` files of an environments folder, sorted by environment name.
pub fn environment_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(EvalError::io(dir))?;
    for e in entries {
        let e = e.map_err(EvalError::io(dir))?;
        let f = e.path().join("instances.jsonl");
        if f.is_file() {
            out.push(f);
        }
    }
    out.sort();
    Ok(out)
}

fn string_list(v: Option<&Value>, field: &str) -> std::result::Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => serde_json::from_str::<Vec<String>>(s)
            .map_err(|e| format!("`{field}` is a string but not a JSON list: {e}")),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string).ok_or_else(|| format!("`{field}` has a non-string item")))
            .collect(),
        Some(_) => Err(format!("`{field}` must be a list of strings")),
    }
}

/// Converts one JSON record (srl-swe, SWE-smith or SWE-bench shape) into a task instance.
/// Errors are `(field, message)`.
pub fn instance_from_value(mut v: Value) -> std::result::Result<TaskInstance, (String, String)> {
    let Some(obj) = v.as_object_mut() else { return Err(("-".into(), "record is not a JSON object".into())) };
    for key in ["instance_id", "problem_statement"] {
        if !obj.get(key).is_some_and(Value::is_string) {
            return Err((key.into(), "missing or not a string".into()));
        }
    }
    for key in ["FAIL_TO_PASS", "PASS_TO_PASS"] {
        let list = string_list(obj.get(key), key).map_err(|m| (key.to_string(), m))?;
        obj.insert(key.into(), Value::from(list));
    }
    let id = obj.get("instance_id").and_then(Value::as_str).unwrap_or_default().to_string();
    // swebench 5.x rows name their image in `image`.
    if obj.get("image_name").is_none_or(|v| v.as_str().is_none_or(str::is_empty)) {
        if let Some(img) = obj.get("image").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string) {
            obj.insert("image_name".into(), Value::from(img));
        }
    }
    // `version` is a string in SWE-bench, sometimes a number in hand-made files.
    if let Some(v) = obj.get("version").filter(|v| v.is_number()).map(|v| v.to_string()) {
        obj.insert("version".into(), Value::from(v));
    }
    let image = obj.get("image_name").and_then(Value::as_str).unwrap_or_default().to_string();
    if !obj.contains_key("patch_is_bug") {
        // SWE-smith rows carry the bug diff; SWE-bench rows the fix.
        obj.insert("patch_is_bug".into(), Value::Bool(image.starts_with("swesmith.") || image.contains("/swesmith.")));
    }
    if image.is_empty() && obj.contains_key("test_patch") {
        obj.insert("image_name".into(), Value::from(swebench_image(&id, &ImageNaming::default())));
    }
    if !obj.contains_key("repo") {
        obj.insert("repo".into(), Value::from(id.rsplit_once('.').map_or(id.as_str(), |(r, _)| r).to_string()));
    }
    let known = [
        "instance_id",
        "repo",
        "base_commit",
        "image_name",
        "problem_statement",
        "patch",
        "patch_is_bug",
        "FAIL_TO_PASS",
        "PASS_TO_PASS",
        "test_cmd",
        "log_parser",
        "test_patch",
        "version",
        "environment_setup_commit",
        "eval_script",
        "eval_type",
    ];
    for key in ["log_parser", "test_cmd", "eval_type"] {
        // empty strings in HF columns mean "not given"
        if obj.get(key).is_some_and(|v| v.as_str() == Some("")) {
            obj.insert(key.into(), Value::Null);
        }
    }
    obj.retain(|k, _| known.contains(&k.as_str()));
    serde_json::from_value(v).map_err(|e| (crate::backend::json_error_field(&e), e.to_string()))
}

/// How image names are formed (docs/swe-bench.md): SWE-bench's published images are
/// `swebench/sweb.eval.x86_64.<id with __ as _1776_>:latest`, SWE-smith's
/// `swebench/swesmith.x86_64.<owner>_1776_<repo>.<commit8>`; with no namespace the local names
/// the harnesses build (`sweb.eval.x86_64.<id>:latest`) are used. `prefix` (a registry mirror,
/// `host:5000`) goes in front of every derived name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageNaming {
    /// Docker Hub namespace of the published images (`None`: local names).
    pub namespace: Option<String>,
    /// Registry prefix.
    pub prefix: Option<String>,
    /// Tag of SWE-bench images.
    pub tag: String,
}

impl Default for ImageNaming {
    fn default() -> Self {
        ImageNaming { namespace: Some("swebench".into()), prefix: None, tag: "latest".into() }
    }
}

impl ImageNaming {
    fn with_prefix(&self, name: String) -> String {
        match self.prefix.as_deref().map(|p| p.trim_end_matches('/')).filter(|p| !p.is_empty()) {
            Some(p) => format!("{p}/{name}"),
            None => name,
        }
    }
}

/// The SWE-bench image of an instance id (swebench `ImageSpec.name`).
pub fn swebench_image(instance_id: &str, naming: &ImageNaming) -> String {
    let key = format!("sweb.eval.x86_64.{instance_id}:{}", naming.tag);
    let name = match &naming.namespace {
        Some(ns) => format!("{ns}/{key}").replace("__", "_1776_"),
        None => key,
    };
    naming.with_prefix(name.to_lowercase())
}

/// Re-derives the image names of loaded instances under `naming`: SWE-bench rows whose image
/// was derived from the id, and SWE-smith `swesmith.*` names without a namespace; names given
/// with a namespace or registry are kept (only `prefix` is added to derived ones).
pub fn resolve_images(instances: &mut [TaskInstance], naming: &ImageNaming) {
    let default_swebench = |id: &str| swebench_image(id, &ImageNaming::default());
    for t in instances {
        if !t.patch_is_bug && (t.image_name.is_empty() || t.image_name == default_swebench(&t.instance_id)) {
            if !t.test_patch.is_empty() || !t.eval_script.is_empty() {
                t.image_name = swebench_image(&t.instance_id, naming);
            }
        } else if t.image_name.starts_with("swesmith.") {
            let name = match &naming.namespace {
                Some(ns) => format!("{ns}/{}", t.image_name.replace("__", "_1776_")).to_lowercase(),
                None => t.image_name.clone(),
            };
            t.image_name = naming.with_prefix(name);
        }
    }
}

/// Reads one JSONL instances file.
pub fn load_jsonl(path: &Path, strict: bool, into: &mut LoadedInstances) -> Result<()> {
    for item in srl_core::io::jsonl_lines(path)? {
        let (line, parsed) = match item {
            Ok((line, text)) => (
                line,
                serde_json::from_str::<Value>(&text)
                    .map_err(|e| ("-".to_string(), e.to_string()))
                    .and_then(instance_from_value),
            ),
            // A line that is not UTF-8 is a bad record like any other.
            Err(srl_core::CoreError::Record { line, message, .. }) => (line, Err(("-".to_string(), message))),
            Err(e) => return Err(e.into()),
        };
        match parsed {
            Ok(t) => into.instances.push(t),
            Err((field, message)) => {
                if strict {
                    return Err(EvalError::Record { path: path.to_path_buf(), line, field, message });
                }
                tracing::warn!(file = %path.display(), line, field = %field, "skipping malformed instance: {message}");
                into.skipped.push(format!("{}:{line}: field `{field}`: {message}", path.display()));
            }
        }
    }
    Ok(())
}

/// Loads `--instances` (a JSONL file or a folder of environments) or, when `None`, every
/// environment under `environments_dir`.
pub fn load(instances: Option<&Path>, environments_dir: &Path, strict: bool) -> Result<LoadedInstances> {
    let mut out = LoadedInstances::default();
    let files = match instances {
        Some(p) if p.is_dir() => environment_files(p)?,
        Some(p) => {
            if p.extension().is_some_and(|e| e == "parquet") {
                crate::parquet_instances::load_parquet(p, strict, &mut out)?;
                return Ok(out);
            }
            vec![p.to_path_buf()]
        }
        None => environment_files(environments_dir)?,
    };
    if files.is_empty() {
        return Err(EvalError::Config {
            field: "instances",
            message: format!("no instances.jsonl under {}", instances.unwrap_or(environments_dir).display()),
        });
    }
    for f in files {
        load_jsonl(&f, strict, &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_swe_bench_and_swe_smith_shapes_and_skips_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("i.jsonl");
        let rows = [
            serde_json::json!({"instance_id": "django__django-1", "repo": "django/django", "base_commit": "abc", "problem_statement": "p",
                "patch": "diff", "test_patch": "t", "FAIL_TO_PASS": "[\"a::b\"]", "PASS_TO_PASS": "[]", "hints_text": ""}),
            serde_json::json!({"instance_id": "o__r.1234abcd.func__x", "image_name": "swesmith.x86_64.o__r.1234abcd",
                "problem_statement": "p", "patch": "diff", "FAIL_TO_PASS": ["t.py::a"], "PASS_TO_PASS": ["t.py::b"]}),
            serde_json::json!({"instance_id": "bad", "problem_statement": "p", "FAIL_TO_PASS": 3}),
        ];
        let text: String = rows.iter().map(|r| format!("{r}\n")).collect::<String>() + "not json\n";
        std::fs::write(&p, text).unwrap();
        let mut got = LoadedInstances::default();
        load_jsonl(&p, false, &mut got).unwrap();
        assert_eq!(got.instances.len(), 2);
        let sb = &got.instances[0];
        assert!(!sb.patch_is_bug);
        assert_eq!(sb.fail_to_pass, ["a::b"]);
        assert_eq!(sb.image_name, "swebench/sweb.eval.x86_64.django_1776_django-1:latest");
        let ss = &got.instances[1];
        assert!(ss.patch_is_bug);
        assert_eq!(ss.repo, "o__r.1234abcd");
        assert_eq!(got.skipped.len(), 2);
        assert!(got.skipped[0].contains("i.jsonl:3: field `FAIL_TO_PASS`"), "{:?}", got.skipped);
        let err = load_jsonl(&p, true, &mut LoadedInstances::default()).unwrap_err().to_string();
        assert!(err.contains("i.jsonl:3") && err.contains("FAIL_TO_PASS"), "{err}");
    }

    #[test]
    fn invalid_utf8_lines_are_counted_skips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("i.jsonl");
        let good = serde_json::json!({"instance_id": "a", "repo": "r", "problem_statement": "p"}).to_string();
        let mut bytes = b"{\"instance_id\": \"\xff\xfe\"}\n".to_vec();
        bytes.extend_from_slice(good.as_bytes());
        bytes.push(b'\n');
        std::fs::write(&p, bytes).unwrap();
        let mut got = LoadedInstances::default();
        load_jsonl(&p, false, &mut got).unwrap();
        assert_eq!(got.instances.len(), 1);
        assert_eq!(got.skipped.len(), 1);
        assert!(got.skipped[0].contains("i.jsonl:1") && got.skipped[0].contains("UTF-8"), "{:?}", got.skipped);
        let err = load_jsonl(&p, true, &mut LoadedInstances::default()).unwrap_err().to_string();
        assert!(err.contains("i.jsonl:1"), "{err}");
    }

    #[test]
    fn image_names_follow_the_published_scheme() {
        let mut t =
            instance_from_value(serde_json::json!({"instance_id": "django__django-11099", "repo": "django/django",
            "problem_statement": "p", "test_patch": "t", "version": 3.0}))
            .unwrap();
        assert_eq!(t.image_name, "swebench/sweb.eval.x86_64.django_1776_django-11099:latest");
        assert_eq!(t.version, "3.0");
        let mut ss = instance_from_value(
            serde_json::json!({"instance_id": "o__r.1234abcd.x", "image_name": "swesmith.x86_64.Owner__repo.1234abcd",
            "problem_statement": "p"}),
        )
        .unwrap();
        let local = ImageNaming { namespace: None, prefix: None, tag: "latest".into() };
        resolve_images(std::slice::from_mut(&mut t), &local);
        assert_eq!(t.image_name, "sweb.eval.x86_64.django__django-11099:latest");
        let mirror = ImageNaming { prefix: Some("reg:5000/".into()), ..ImageNaming::default() };
        resolve_images(std::slice::from_mut(&mut ss), &mirror);
        assert_eq!(ss.image_name, "reg:5000/swebench/swesmith.x86_64.owner_1776_repo.1234abcd");
    }

    #[test]
    fn filters_by_id_regex_and_limit() {
        let mk = |id: &str| {
            instance_from_value(serde_json::json!({"instance_id": id, "repo": "r", "problem_statement": "p"})).unwrap()
        };
        let all = vec![mk("a-1"), mk("a-2"), mk("b-1")];
        let f = InstanceFilter { ids: vec![], regex: Some(Regex::new("^a-").unwrap()), limit: Some(1) };
        assert_eq!(f.apply(all.clone()).iter().map(|t| t.instance_id.as_str()).collect::<Vec<_>>(), ["a-1"]);
        let f = InstanceFilter { ids: vec!["b-1".into()], ..InstanceFilter::default() };
        assert_eq!(f.apply(all).len(), 1);
    }
}
