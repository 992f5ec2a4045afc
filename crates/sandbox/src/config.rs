//! Resource limits and defaults of a sandbox container (SWE-bench / SWE-agent practice,
//! SWE-ReX and SWE-bench practice): the file layer is serde with `deny_unknown_fields` and named defaults.
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Default memory limit: 2 GiB.
pub const DEFAULT_MEMORY_BYTES: i64 = 2 << 30;
/// Default CPU share: one CPU.
pub const DEFAULT_NANO_CPUS: i64 = 1_000_000_000;
/// Default process limit (contains fork bombs).
pub const DEFAULT_PIDS_LIMIT: i64 = 512;
/// Default per-command timeout, seconds (SWE-smith's generation config uses 300 s; tests run
/// under 120 s in the SWE-smith harness).
pub const DEFAULT_EXEC_TIMEOUT_SECS: u64 = 120;
/// Default cap on captured output per command (bytes).
pub const DEFAULT_OUTPUT_LIMIT_BYTES: usize = 1 << 20;
/// Default size cap of the `/testbed` file system (the task repository plus what commands
/// write there): 2 GiB.
pub const DEFAULT_TESTBED_BYTES: i64 = 2 << 30;
/// Default size cap of `/tmp` (scratch, `$HOME`): 512 MiB.
pub const DEFAULT_TMP_BYTES: i64 = 512 << 20;
/// Default user of the commands: uid:gid 1000:1000, no capabilities, whether or not the image
/// names it in `/etc/passwd`.
pub const DEFAULT_USER: &str = "1000:1000";
/// Default block-device bandwidth limit for reads and writes of the container (bytes/s).
pub const DEFAULT_IO_BPS: i64 = 200 << 20;

/// Limits and defaults of one sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct SandboxConfig {
    /// Memory limit in bytes (swap is disabled: memory-swap = memory).
    pub memory_bytes: i64,
    /// CPU limit in units of 1e-9 CPUs.
    pub nano_cpus: i64,
    /// Maximum number of processes in the container.
    pub pids_limit: i64,
    /// Per-command timeout in seconds, unless a call gives its own.
    pub exec_timeout_secs: u64,
    /// Bytes of output kept per command; the rest is cut and a marker says how much.
    pub output_limit_bytes: usize,
    /// Working directory of commands.
    pub workdir: String,
    /// Run id written in the `srl-swe.run` label (defaults to `<pid>-<start time>`).
    pub run_id: Option<String>,
    /// Pull a task image that is missing locally (machines with a registry, e.g. SWE-smith's
    /// `swebench/swesmith.*` images). Off by default: without a registry the pull only waits.
    pub pull_missing: bool,
    /// `UID:GID` the commands run as (`"0:0"` for root, still without capabilities).
    pub user: String,
    /// Size cap of `/testbed` in bytes (a memory-backed volume filled from the image).
    pub testbed_bytes: i64,
    /// Size cap of `/tmp` in bytes (memory-backed, also `$HOME` and `$TMPDIR`).
    pub tmp_bytes: i64,
    /// Mount the image's root file system read-only, so that `/testbed` and `/tmp` are the only
    /// writable places and nothing a command writes reaches the host's disk.
    pub read_only_root: bool,
    /// Read and write bandwidth limit on the block device holding Docker's data (bytes/s;
    /// 0 = none). Applied when that device is found on this host.
    pub io_bps: i64,
    /// Extra labels on every container (e.g. `srl-swe.session` / `srl-swe.server` of the session
    /// server), besides `srl-swe`, `srl-swe.run` and the owner's.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            memory_bytes: DEFAULT_MEMORY_BYTES,
            nano_cpus: DEFAULT_NANO_CPUS,
            pids_limit: DEFAULT_PIDS_LIMIT,
            exec_timeout_secs: DEFAULT_EXEC_TIMEOUT_SECS,
            output_limit_bytes: DEFAULT_OUTPUT_LIMIT_BYTES,
            workdir: "/testbed".to_string(),
            run_id: None,
            pull_missing: false,
            user: DEFAULT_USER.to_string(),
            testbed_bytes: DEFAULT_TESTBED_BYTES,
            tmp_bytes: DEFAULT_TMP_BYTES,
            read_only_root: true,
            io_bps: DEFAULT_IO_BPS,
            labels: Default::default(),
        }
    }
}

impl SandboxConfig {
    /// The default per-command timeout.
    pub fn exec_timeout(&self) -> Duration {
        Duration::from_secs(self.exec_timeout_secs)
    }

    /// The run id: the configured one or a process-wide default.
    pub fn run_id(&self) -> String {
        self.run_id.clone().unwrap_or_else(default_run_id)
    }

    /// Reads a TOML or JSON config file (by extension).
    pub fn from_file(path: &std::path::Path) -> crate::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| crate::SandboxError::Io { path: path.to_path_buf(), source })?;
        let cfg_err = |message: String| crate::SandboxError::Config { path: path.to_path_buf(), message };
        if path.extension().is_some_and(|e| e == "json") {
            let cfg: Self = serde_json::from_str(&text).map_err(|e| cfg_err(e.to_string()))?;
            cfg.validate().map_err(cfg_err)?;
            Ok(cfg)
        } else {
            Err(cfg_err("only .json sandbox configs are supported".into()))
        }
    }

    /// The numeric `(uid, gid)` of [`SandboxConfig::user`], or what is wrong with it.
    pub fn uid_gid(&self) -> Result<(u32, u32), String> {
        let bad = || format!("field user: expected \"UID:GID\" with numbers (e.g. \"{DEFAULT_USER}\")");
        let (u, g) = self.user.split_once(':').ok_or_else(bad)?;
        Ok((u.parse().map_err(|_| bad())?, g.parse().map_err(|_| bad())?))
    }

    /// Checks the fields that serde cannot: the user's form and the sizes.
    pub fn validate(&self) -> Result<(), String> {
        self.uid_gid()?;
        for (name, v, min) in [
            ("memory-bytes", self.memory_bytes, 6 << 20),
            ("testbed-bytes", self.testbed_bytes, 1 << 20),
            ("tmp-bytes", self.tmp_bytes, 1 << 20),
            ("pids-limit", self.pids_limit, 8),
            ("io-bps", self.io_bps, 0),
        ] {
            if v < min {
                return Err(format!("field {name}: {v} is below the minimum {min}"));
            }
        }
        Ok(())
    }
}

/// `<pid>-<unix seconds at first call>`, the same for the whole process.
pub fn default_run_id() -> String {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let secs =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        format!("{}-{secs}", std::process::id())
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_rejected_and_defaults_fill_in() {
        let cfg: SandboxConfig = serde_json::from_str(r#"{"pids-limit": 64}"#).unwrap();
        assert_eq!(cfg.pids_limit, 64);
        assert_eq!(cfg.memory_bytes, 2 << 30);
        let err = serde_json::from_str::<SandboxConfig>(r#"{"pids_limit": 64}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        assert_eq!(cfg.uid_gid(), Ok((1000, 1000)));
        let named = SandboxConfig { user: "agent".into(), ..SandboxConfig::default() };
        assert!(named.validate().unwrap_err().contains("field user"));
        let tiny = SandboxConfig { tmp_bytes: 10, ..SandboxConfig::default() };
        assert!(tiny.validate().unwrap_err().contains("field tmp-bytes"));
    }
}
