//! Hugging Face checkpoint files: `model.safetensors` or shards listed in
//! `model.safetensors.index.json` (`weight_map`: tensor name → shard file).
//!
//! Loading reads one shard at a time, checks every tensor the architecture needs against its
//! expected shape and converts it to the requested dtype and device. Saving writes a single
//! `model.safetensors` with `{"format": "pt"}` metadata (what transformers and vLLM expect)
//! through a temporary file renamed into place.

use crate::error::{ModelError, Result};
use safetensors::tensor::{Dtype, SafeTensors, View};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

/// Single-file weights.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Sharded-weights index.
pub const INDEX_FILE: &str = "model.safetensors.index.json";

/// The safetensors files of a checkpoint folder, with the tensor names each one holds when an
/// index says so (`None`: read every tensor of the file).
pub fn shard_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let index = dir.join(INDEX_FILE);
    if index.is_file() {
        let text = std::fs::read_to_string(&index).map_err(ModelError::io(&index))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| ModelError::Json { path: index.clone(), source })?;
        let map = value.get("weight_map").and_then(|m| m.as_object()).ok_or_else(|| ModelError::Config {
            path: index.clone(),
            field: "weight_map".into(),
            reason: "missing or not an object".into(),
        })?;
        let mut files: Vec<String> = Vec::new();
        for (name, file) in map {
            let file = file.as_str().ok_or_else(|| ModelError::Config {
                path: index.clone(),
                field: format!("weight_map.{name}"),
                reason: "not a string".into(),
            })?;
            if !files.iter().any(|f| f == file) {
                files.push(file.to_string());
            }
        }
        files.sort();
        return Ok(files.into_iter().map(|f| dir.join(f)).collect());
    }
    let single = dir.join(WEIGHTS_FILE);
    if single.is_file() {
        return Ok(vec![single]);
    }
    Err(ModelError::Io {
        path: single,
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("neither {WEIGHTS_FILE} nor {INDEX_FILE} found"),
        ),
    })
}

fn dtype_to_kind(dtype: Dtype, path: &Path, name: &str) -> Result<Kind> {
    Ok(match dtype {
        Dtype::F32 => Kind::Float,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::F16 => Kind::Half,
        Dtype::F64 => Kind::Double,
        Dtype::I64 => Kind::Int64,
        Dtype::I32 => Kind::Int,
        Dtype::U8 => Kind::Uint8,
        Dtype::BOOL => Kind::Bool,
        other => {
            return Err(ModelError::Safetensors {
                path: path.into(),
                reason: format!("tensor `{name}`: dtype {other:?} not supported"),
            })
        }
    })
}

fn kind_to_dtype(kind: Kind) -> Option<Dtype> {
    Some(match kind {
        Kind::Float => Dtype::F32,
        Kind::BFloat16 => Dtype::BF16,
        Kind::Half => Dtype::F16,
        Kind::Double => Dtype::F64,
        Kind::Int64 => Dtype::I64,
        Kind::Int => Dtype::I32,
        Kind::Uint8 => Dtype::U8,
        Kind::Bool => Dtype::BOOL,
        _ => return None,
    })
}

/// Loads the tensors named in `expected` (name → shape) from the checkpoint in `dir`, converted to
/// `kind` on `device`. Tensors not in `expected` are ignored (e.g. `lm_head.weight` of a tied
/// model is checked by the caller); a missing one is an error naming it.
pub fn load_tensors(
    dir: &Path,
    expected: &BTreeMap<String, Vec<i64>>,
    kind: Kind,
    device: tch::Device,
) -> Result<HashMap<String, Tensor>> {
    let mut out = HashMap::with_capacity(expected.len());
    for file in shard_files(dir)? {
        let bytes = std::fs::read(&file).map_err(ModelError::io(&file))?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| ModelError::Safetensors { path: file.clone(), reason: e.to_string() })?;
        for (name, view) in st.tensors() {
            let Some(shape) = expected.get(&name) else { continue };
            let got: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
            if &got != shape {
                return Err(ModelError::TensorShape { file: file.clone(), name, expected: shape.clone(), got });
            }
            let file_kind = dtype_to_kind(view.dtype(), &file, &name)?;
            let t = Tensor::f_from_data_size(view.data(), &got, file_kind)?;
            let t = t.f_to_kind(kind)?.f_to_device(device)?;
            out.insert(name, t);
        }
    }
    if let Some(name) = expected.keys().find(|n| !out.contains_key(*n)) {
        return Err(ModelError::MissingTensor { dir: dir.into(), name: name.clone() });
    }
    Ok(out)
}

/// Names of every tensor stored in the checkpoint (all shards).
pub fn tensor_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for file in shard_files(dir)? {
        let bytes = std::fs::read(&file).map_err(ModelError::io(&file))?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| ModelError::Safetensors { path: file.clone(), reason: e.to_string() })?;
        names.extend(st.names().into_iter().map(String::from));
    }
    names.sort();
    Ok(names)
}

struct HostView {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &HostView {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn to_host(name: &str, t: &Tensor, path: &Path) -> Result<HostView> {
    let t = t.f_detach()?.f_to_device(tch::Device::Cpu)?.f_contiguous()?;
    let dtype = kind_to_dtype(t.kind()).ok_or_else(|| ModelError::Safetensors {
        path: path.into(),
        reason: format!("tensor `{name}`: kind {:?} cannot be saved", t.kind()),
    })?;
    let numel = t.numel();
    let mut data = vec![0u8; numel * t.kind().elt_size_in_bytes()];
    t.f_copy_data_u8(&mut data, numel)?;
    Ok(HostView { dtype, shape: t.size().iter().map(|&d| d as usize).collect(), data })
}

/// Writes `tensors` to `dir/model.safetensors` atomically (temporary file + rename) with
/// `{"format": "pt"}` metadata, and removes a stale sharded index from `dir`.
pub fn save_tensors(dir: &Path, tensors: &[(String, Tensor)]) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(ModelError::io(dir))?;
    let path = dir.join(WEIGHTS_FILE);
    let tmp = dir.join(format!(".{WEIGHTS_FILE}.tmp-{}", std::process::id()));
    let views: Vec<(String, HostView)> =
        tensors.iter().map(|(n, t)| Ok((n.clone(), to_host(n, t, &path)?))).collect::<Result<_>>()?;
    let metadata: HashMap<String, String> = [("format".to_string(), "pt".to_string())].into_iter().collect();
    safetensors::tensor::serialize_to_file(views.iter().map(|(n, v)| (n.as_str(), v)), Some(metadata), &tmp)
        .map_err(|e| ModelError::Safetensors { path: tmp.clone(), reason: e.to_string() })?;
    std::fs::rename(&tmp, &path).map_err(ModelError::io(&path))?;
    let index = dir.join(INDEX_FILE);
    if index.exists() {
        std::fs::remove_file(&index).map_err(ModelError::io(&index))?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_single_and_sharded_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let a = Tensor::arange(6, (Kind::Float, tch::Device::Cpu)).reshape([2, 3]);
        let b = Tensor::from_slice(&[1.5f32, -2.0]).to_kind(Kind::BFloat16);
        save_tensors(dir.path(), &[("a".into(), a.shallow_clone()), ("b".into(), b.shallow_clone())]).unwrap();
        let expected: BTreeMap<String, Vec<i64>> = [("a".to_string(), vec![2, 3]), ("b".to_string(), vec![2])].into();
        let got = load_tensors(dir.path(), &expected, Kind::Float, tch::Device::Cpu).unwrap();
        assert_eq!(Vec::<f32>::try_from(got["a"].flatten(0, -1)).unwrap(), vec![0., 1., 2., 3., 4., 5.]);
        assert_eq!(Vec::<f32>::try_from(&got["b"]).unwrap(), vec![1.5, -2.0]);

        // Split into two shards with an index, as transformers does for large models.
        let sharded = tempfile::tempdir().unwrap();
        let s1 = sharded.path().join("model-00001-of-00002.safetensors");
        let s2 = sharded.path().join("model-00002-of-00002.safetensors");
        Tensor::write_safetensors(&[("a", &a)], &s1).unwrap();
        Tensor::write_safetensors(&[("b", &b)], &s2).unwrap();
        let index = serde_json::json!({"metadata": {}, "weight_map": {
            "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}});
        std::fs::write(sharded.path().join(INDEX_FILE), index.to_string()).unwrap();
        let got = load_tensors(sharded.path(), &expected, Kind::Float, tch::Device::Cpu).unwrap();
        assert_eq!(Vec::<f32>::try_from(&got["b"]).unwrap(), vec![1.5, -2.0]);
        assert_eq!(tensor_names(sharded.path()).unwrap(), vec!["a", "b"]);
    }

    #[test]
    fn names_missing_tensors_and_wrong_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let a = Tensor::zeros([2, 3], (Kind::Float, tch::Device::Cpu));
        save_tensors(dir.path(), &[("a".into(), a)]).unwrap();
        let want_c: BTreeMap<String, Vec<i64>> = [("a".to_string(), vec![2, 3]), ("c".to_string(), vec![1])].into();
        let err = load_tensors(dir.path(), &want_c, Kind::Float, tch::Device::Cpu).unwrap_err();
        assert!(err.to_string().contains("tensor `c` not found"), "{err}");
        let want_shape: BTreeMap<String, Vec<i64>> = [("a".to_string(), vec![3, 2])].into();
        let err = load_tensors(dir.path(), &want_shape, Kind::Float, tch::Device::Cpu).unwrap_err();
        assert!(err.to_string().contains("has shape [2, 3], expected [3, 2]"), "{err}");
        let empty = tempfile::tempdir().unwrap();
        assert!(shard_files(empty.path()).unwrap_err().to_string().contains("model.safetensors"));
    }
}
