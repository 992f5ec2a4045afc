//! The `Sandbox` trait: where SWE actions run. One long-lived environment per task with a
//! per-command timeout that kills the whole process tree, capped output and file transfer
//! (SWE-bench `docker_utils.py`, SWE-ReX practice; rust-stack.md §7). Implementations:
//! [`crate::DockerSandbox`] (real containers on bollard) and [`crate::FakeSandbox`] (host bash
//! in a temporary folder, for fast tests of the code above).
use crate::Result;
use std::future::Future;
use std::time::Duration;

/// One command to run: a bash script plus where and how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    /// The script, run by `bash -c`.
    pub script: String,
    /// Working directory (absolute, inside the sandbox); the sandbox's default when `None`.
    pub workdir: Option<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Timeout; the sandbox's default when `None`.
    pub timeout: Option<Duration>,
}

impl ExecRequest {
    /// A request running `script` with the sandbox's defaults.
    pub fn new(script: impl Into<String>) -> Self {
        Self { script: script.into(), workdir: None, env: Vec::new(), timeout: None }
    }

    /// Sets the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the working directory.
    pub fn workdir(mut self, dir: impl Into<String>) -> Self {
        self.workdir = Some(dir.into());
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecOutput {
    /// Exit code (137 when killed by the timeout).
    pub exit_code: i64,
    /// Standard output and standard error interleaved in arrival order (lossy UTF-8), capped.
    pub output: String,
    /// Standard output alone, capped.
    pub stdout: String,
    /// Standard error alone, capped.
    pub stderr: String,
    /// Whether the timeout fired.
    pub timed_out: bool,
    /// Bytes cut from `output` by the cap (0 when nothing was cut).
    pub truncated_bytes: u64,
    /// Wall time of the command.
    pub duration: Duration,
}

impl ExecOutput {
    /// Whether it exited with 0 in time.
    pub fn success(&self) -> bool {
        self.exit_code == 0 && !self.timed_out
    }
}

/// An isolated place to run commands and move files.
///
/// All paths are absolute paths inside the sandbox. Methods are async and `Send`, so many
/// sandboxes can be driven from one tokio runtime.
pub trait Sandbox: Send + Sync {
    /// A short name for logs (`docker:<id12>`, `fake:<dir>`).
    fn name(&self) -> &str;

    /// Runs a bash script; a timeout is reported in the output, not as an error.
    fn exec(&self, request: &ExecRequest) -> impl Future<Output = Result<ExecOutput>> + Send;

    /// Runs a bash script with standard error merged into standard output in arrival order
    /// (`output` and `stdout` hold it, `stderr` is empty). The default calls [`Sandbox::exec`],
    /// whose `output` already interleaves both; [`crate::DockerSandbox`] uses its persistent
    /// exec session ([`crate::session`]), several times faster per command.
    fn exec_merged(&self, request: &ExecRequest) -> impl Future<Output = Result<ExecOutput>> + Send {
        self.exec(request)
    }

    /// Writes a whole file (parents created), replacing it if present.
    fn write_file(&self, path: &str, contents: &[u8]) -> impl Future<Output = Result<()>> + Send;

    /// Reads a whole regular file; [`crate::SandboxError::NotFound`] /
    /// [`crate::SandboxError::IsDirectory`] when it is not one.
    fn read_file(&self, path: &str) -> impl Future<Output = Result<Vec<u8>>> + Send;

    /// Extracts a tar archive into the folder `dest_dir` (created when missing).
    fn upload(&self, tar: Vec<u8>, dest_dir: &str) -> impl Future<Output = Result<()>> + Send;

    /// A tar archive of `path` (file or folder), its last component at the archive root.
    fn download(&self, path: &str) -> impl Future<Output = Result<Vec<u8>>> + Send;

    /// Removes the sandbox; later calls fail with [`crate::SandboxError::Removed`]. Idempotent.
    fn remove(&self) -> impl Future<Output = Result<()>> + Send;
}

/// Collects a command's output under a byte cap; what does not fit is counted, not kept.
#[derive(Debug)]
pub(crate) struct OutputCollector {
    cap: usize,
    combined: Vec<u8>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    dropped: u64,
    dropped_out: u64,
    dropped_err: u64,
}

impl OutputCollector {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap,
            combined: Vec::new(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            dropped: 0,
            dropped_out: 0,
            dropped_err: 0,
        }
    }

    fn push_capped(buf: &mut Vec<u8>, cap: usize, bytes: &[u8]) -> u64 {
        let room = cap.saturating_sub(buf.len());
        let take = room.min(bytes.len());
        buf.extend_from_slice(&bytes[..take]);
        (bytes.len() - take) as u64
    }

    pub(crate) fn push(&mut self, is_stderr: bool, bytes: &[u8]) {
        self.dropped += Self::push_capped(&mut self.combined, self.cap, bytes);
        if is_stderr {
            self.dropped_err += Self::push_capped(&mut self.stderr, self.cap, bytes);
        } else {
            self.dropped_out += Self::push_capped(&mut self.stdout, self.cap, bytes);
        }
    }

    pub(crate) fn finish(self, exit_code: i64, timed_out: bool, duration: Duration) -> ExecOutput {
        let text = |buf: &[u8], dropped: u64| {
            let mut s = String::from_utf8_lossy(buf).into_owned();
            if dropped > 0 {
                s.push_str(&truncation_marker(dropped));
            }
            s
        };
        ExecOutput {
            exit_code,
            output: text(&self.combined, self.dropped),
            stdout: text(&self.stdout, self.dropped_out),
            stderr: text(&self.stderr, self.dropped_err),
            timed_out,
            truncated_bytes: self.dropped,
            duration,
        }
    }
}

/// The marker appended to capped output.
pub fn truncation_marker(cut_bytes: u64) -> String {
    format!("\n<output truncated: {cut_bytes} bytes cut>\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collector_caps_and_names_the_cut() {
        let mut c = OutputCollector::new(10);
        c.push(false, b"0123456");
        c.push(true, b"abcdef");
        let out = c.finish(0, false, Duration::ZERO);
        assert_eq!(out.truncated_bytes, 3);
        assert!(out.output.starts_with("0123456abc\n<output truncated: 3 bytes cut>"), "{}", out.output);
        assert_eq!(out.stdout, "0123456");
        assert_eq!(out.stderr, "abcdef");
    }
}
