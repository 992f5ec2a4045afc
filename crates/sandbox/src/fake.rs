//! [`FakeSandbox`]: an in-process stand-in for [`crate::DockerSandbox`] used by fast tests of the
//! code above the sandbox (tools, replay, eval).
//!
//! It runs scripts with the **host's** bash inside a temporary folder that plays the role of the
//! container's `/`: the sandbox path `/testbed/x.py` is `<root>/testbed/x.py` on the host and the
//! working directory of a command is mapped the same way. Scripts themselves are not rewritten,
//! so they must use relative paths (or `$SANDBOX_ROOT`, which is set). It gives no isolation: no
//! network, memory or pids limits. Timeouts kill the command's process group (the command runs
//! in its own group) and output is capped exactly like the Docker implementation.
use crate::sandbox::OutputCollector;
use crate::{ExecOutput, ExecRequest, Result, Sandbox, SandboxConfig, SandboxError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

/// See the module docs.
#[derive(Debug)]
pub struct FakeSandbox {
    root: tempfile::TempDir,
    name: String,
    config: SandboxConfig,
    removed: AtomicBool,
}

impl FakeSandbox {
    /// An empty sandbox whose working directory exists.
    pub fn new(config: &SandboxConfig) -> Result<Self> {
        let root = tempfile::Builder::new()
            .prefix("srl-swe-fake-")
            .tempdir()
            .map_err(|source| SandboxError::Io { path: std::env::temp_dir(), source })?;
        let name = format!("fake:{}", root.path().display());
        let sb = Self { root, name, config: config.clone(), removed: AtomicBool::new(false) };
        let wd = sb.host_path(&config.workdir)?;
        std::fs::create_dir_all(&wd).map_err(|source| SandboxError::Io { path: wd, source })?;
        Ok(sb)
    }

    /// The host folder playing `/`.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The host path of a sandbox path.
    pub fn host_path(&self, path: &str) -> Result<PathBuf> {
        let rel = crate::paths::relative_to_root(path)?;
        Ok(self.root.path().join(rel))
    }

    fn check_live(&self) -> Result<()> {
        if self.removed.load(Ordering::SeqCst) {
            return Err(SandboxError::Removed { name: self.name.clone() });
        }
        Ok(())
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SandboxError + '_ {
    move |source| SandboxError::Io { path: path.to_path_buf(), source }
}

impl Sandbox for FakeSandbox {
    fn name(&self) -> &str {
        &self.name
    }

    async fn exec(&self, request: &ExecRequest) -> Result<ExecOutput> {
        self.check_live()?;
        let timeout = request.timeout.unwrap_or_else(|| self.config.exec_timeout());
        let wd = self.host_path(request.workdir.as_deref().unwrap_or(&self.config.workdir))?;
        let mut cmd = tokio::process::Command::new("bash");
        cmd.arg("-c")
            .arg(&request.script)
            .current_dir(&wd)
            .env("SANDBOX_ROOT", self.root.path())
            .env("GIT_PAGER", "cat")
            .env("PAGER", "cat")
            .envs(request.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let start = Instant::now();
        let mut child = cmd.spawn().map_err(io_err(&wd))?;
        let pid = child.id();
        let (Some(mut out), Some(mut err)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(SandboxError::Io { path: wd, source: std::io::Error::other("no pipes") });
        };
        let mut collector = OutputCollector::new(self.config.output_limit_bytes, request.capture);
        let mut buf_out = vec![0u8; 64 * 1024];
        let mut buf_err = vec![0u8; 64 * 1024];
        let (mut out_open, mut err_open) = (true, true);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut timed_out = false;
        while out_open || err_open {
            tokio::select! {
                n = out.read(&mut buf_out), if out_open => match n {
                    Ok(0) | Err(_) => out_open = false,
                    Ok(n) => collector.push(false, &buf_out[..n]),
                },
                n = err.read(&mut buf_err), if err_open => match n {
                    Ok(0) | Err(_) => err_open = false,
                    Ok(n) => collector.push(true, &buf_err[..n]),
                },
                _ = tokio::time::sleep_until(deadline) => { timed_out = true; break; }
            }
        }
        if timed_out {
            if let Some(pid) = pid {
                // Kill the whole process group the command leads.
                let _ =
                    tokio::process::Command::new("kill").arg("-KILL").arg("--").arg(format!("-{pid}")).status().await;
            }
        }
        let status = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        let exit_code = match status {
            Ok(Ok(s)) => s.code().map(i64::from).unwrap_or(137),
            _ => 137,
        };
        let exit_code = if timed_out { 137 } else { exit_code };
        Ok(collector.finish(exit_code, timed_out, start.elapsed()))
    }

    async fn write_file(&self, path: &str, contents: &[u8]) -> Result<()> {
        self.check_live()?;
        let host = self.host_path(path)?;
        if let Some(parent) = host.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        std::fs::write(&host, contents).map_err(io_err(&host))
    }

    async fn read_file(&self, path: &str) -> Result<Vec<u8>> {
        self.check_live()?;
        let host = self.host_path(path)?;
        if host.is_dir() {
            return Err(SandboxError::IsDirectory { path: path.to_string() });
        }
        match std::fs::read(&host) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(SandboxError::NotFound { path: path.to_string() })
            }
            Err(source) => Err(SandboxError::Io { path: host, source }),
        }
    }

    async fn upload(&self, tar: Vec<u8>, dest_dir: &str) -> Result<()> {
        self.check_live()?;
        let host = self.host_path(dest_dir)?;
        std::fs::create_dir_all(&host).map_err(io_err(&host))?;
        tar::Archive::new(tar.as_slice())
            .unpack(&host)
            .map_err(|source| SandboxError::Tar { path: dest_dir.to_string(), source })
    }

    async fn download(&self, path: &str) -> Result<Vec<u8>> {
        self.check_live()?;
        let host = self.host_path(path)?;
        if !host.exists() {
            return Err(SandboxError::NotFound { path: path.to_string() });
        }
        let name = host.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| ".".into());
        let mut builder = tar::Builder::new(Vec::new());
        let tar_err = |source| SandboxError::Tar { path: path.to_string(), source };
        if host.is_dir() {
            builder.append_dir_all(&name, &host).map_err(tar_err)?;
        } else {
            builder.append_path_with_name(&host, &name).map_err(tar_err)?;
        }
        builder.into_inner().map_err(|source| SandboxError::Tar { path: path.to_string(), source })
    }

    async fn remove(&self) -> Result<()> {
        self.removed.store(true, Ordering::SeqCst);
        Ok(())
    }
}
