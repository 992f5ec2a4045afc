//! Checkpoints: `checkpoint-<step>/` holds the policy in Hugging Face layout (`config.json`,
//! `model.safetensors`, codec files; the Hugging Face checkpoint layout, docs/design.md) plus the
//! trainer state beside it: `optimizer.safetensors` (AdamW moments) and `trainer_state.json`
//! (step, stage, data cursor, seed, best score). The RNG needs no stored state: every random
//! draw is seeded from (seed, step, round), so resuming from step k reproduces steps k+1… exactly.
//! Retention keeps the last K checkpoints and the best by validation.

use crate::data::DataCursor;
use crate::error::{Result, TrainError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File of the trainer state.
pub const STATE_FILE: &str = "trainer_state.json";
/// File of the optimizer moments.
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
const PREFIX: &str = "checkpoint-";

/// The best checkpoint by validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Best {
    /// Global step.
    pub step: u64,
    /// Validation score (higher is better).
    pub score: f64,
}

/// Everything besides weights and moments needed to continue a run exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "trainer_state")]
pub struct TrainerState {
    /// Record version (1).
    pub version: u32,
    /// Completed steps over all stages.
    pub global_step: u64,
    /// Stage being trained.
    pub stage_index: usize,
    /// Completed steps in that stage.
    pub stage_step: u64,
    /// Data cursor of that stage.
    pub cursor: DataCursor,
    /// AdamW updates taken.
    pub optimizer_steps: u64,
    /// Run seed (checked on resume).
    pub seed: u64,
    /// Best validation so far.
    pub best: Option<Best>,
}

impl TrainerState {
    /// The state before step 0.
    pub fn new(seed: u64) -> Self {
        Self {
            version: 1,
            global_step: 0,
            stage_index: 0,
            stage_step: 0,
            cursor: DataCursor::default(),
            optimizer_steps: 0,
            seed,
            best: None,
        }
    }
}

/// The folder of the checkpoint at `step`.
pub fn checkpoint_dir(run_dir: &Path, step: u64) -> PathBuf {
    run_dir.join(format!("{PREFIX}{step}"))
}

/// Step checkpoints in `run_dir`, oldest first.
pub fn list_checkpoints(run_dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(run_dir) else { return Ok(out) };
    for e in rd {
        let e = e.map_err(TrainError::io(run_dir))?;
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(step) = name.strip_prefix(PREFIX).and_then(|s| s.parse::<u64>().ok()) {
            if e.path().join(STATE_FILE).exists() {
                out.push((step, e.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The newest checkpoint that passes [`verify`], if any; damaged newer ones are skipped with a
/// warning (a crash or a full disk can leave one behind).
pub fn latest_checkpoint(run_dir: &Path) -> Result<Option<PathBuf>> {
    for (step, dir) in list_checkpoints(run_dir)?.into_iter().rev() {
        match verify(&dir) {
            Ok(()) => return Ok(Some(dir)),
            Err(e) => {
                tracing::warn!(step, dir = %dir.display(), error = %e, "damaged checkpoint; trying the previous one")
            }
        }
    }
    Ok(None)
}

/// Checks that a checkpoint folder is complete and readable: trainer state, optimizer moments,
/// `config.json` and the weights' safetensors headers.
pub fn verify(dir: &Path) -> Result<()> {
    load(dir)?;
    let cfg = dir.join("config.json");
    if !cfg.is_file() {
        return Err(TrainError::Checkpoint { path: cfg, message: "missing".into() });
    }
    srl_model::checkpoint::tensor_names(dir)?;
    Ok(())
}

/// Flushes a file or folder to disk.
fn fsync(path: &Path) -> Result<()> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(TrainError::io(path))
}

/// Writes a checkpoint atomically: everything goes to a temporary folder renamed into place,
/// with `trainer_state.json` written last. `save_model` writes the policy files.
pub fn save(
    run_dir: &Path,
    state: &TrainerState,
    optimizer: &[(String, tch::Tensor)],
    save_model: impl FnOnce(&Path) -> Result<()>,
) -> Result<PathBuf> {
    let dir = checkpoint_dir(run_dir, state.global_step);
    let tmp = run_dir.join(format!(".tmp-{PREFIX}{}", state.global_step));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(TrainError::io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(TrainError::io(&tmp))?;
    save_model(&tmp)?;
    tch::Tensor::write_safetensors(optimizer, tmp.join(OPTIMIZER_FILE))?;
    srl_core::io::write_json_pretty(tmp.join(STATE_FILE), state)?;
    // Everything reaches the disk before the rename makes the checkpoint visible.
    for e in std::fs::read_dir(&tmp).map_err(TrainError::io(&tmp))? {
        let p = e.map_err(TrainError::io(&tmp))?.path();
        if p.is_file() {
            fsync(&p)?;
        }
    }
    fsync(&tmp)?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(TrainError::io(&dir))?;
    }
    std::fs::rename(&tmp, &dir).map_err(TrainError::io(&dir))?;
    fsync(run_dir)?;
    Ok(dir)
}

/// Reads the trainer state and optimizer moments of a checkpoint folder.
pub fn load(dir: &Path) -> Result<(TrainerState, Vec<(String, tch::Tensor)>)> {
    let sp = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&sp).map_err(TrainError::io(&sp))?;
    let state: TrainerState =
        serde_json::from_str(&text).map_err(|e| TrainError::Checkpoint { path: sp.clone(), message: e.to_string() })?;
    if state.version != 1 {
        return Err(TrainError::Checkpoint { path: sp, message: format!("unsupported version {}", state.version) });
    }
    let op = dir.join(OPTIMIZER_FILE);
    let moments = tch::Tensor::read_safetensors(&op)
        .map_err(|e| TrainError::Checkpoint { path: op.clone(), message: e.to_string() })?;
    Ok((state, moments))
}

/// Deletes step checkpoints beyond the newest `keep_last`, sparing `keep_step` (the best).
pub fn prune(run_dir: &Path, keep_last: usize, keep_step: Option<u64>) -> Result<Vec<u64>> {
    let all = list_checkpoints(run_dir)?;
    let cut = all.len().saturating_sub(keep_last);
    let mut removed = Vec::new();
    for (step, path) in &all[..cut] {
        if Some(*step) == keep_step {
            continue;
        }
        std::fs::remove_dir_all(path).map_err(TrainError::io(path))?;
        removed.push(*step);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_and_prune_keep_last_and_best() {
        let dir = tempfile::tempdir().unwrap();
        let m = vec![("exp_avg.w".to_string(), tch::Tensor::from_slice(&[1.5f32, -2.0]))];
        for step in 1..=4 {
            let mut s = TrainerState::new(7);
            s.global_step = step;
            s.cursor = DataCursor { epoch: 1, position: step as usize };
            save(dir.path(), &s, &m, |d| std::fs::write(d.join("model.safetensors"), b"x").map_err(TrainError::io(d)))
                .unwrap();
        }
        let (s, moments) = load(&checkpoint_dir(dir.path(), 3)).unwrap();
        assert_eq!((s.global_step, s.cursor.position, s.seed), (3, 3, 7));
        assert_eq!(Vec::<f32>::try_from(&moments[0].1).unwrap(), vec![1.5, -2.0]);
        assert_eq!(prune(dir.path(), 2, Some(1)).unwrap(), vec![2]);
        let left: Vec<u64> = list_checkpoints(dir.path()).unwrap().into_iter().map(|(s, _)| s).collect();
        assert_eq!(left, vec![1, 3, 4]);
        // The fake checkpoints have no real weights: verification rejects them all.
        assert_eq!(latest_checkpoint(dir.path()).unwrap(), None);
        assert_eq!(list_checkpoints(dir.path()).unwrap().last().map(|c| c.0), Some(4));
    }
}
