//! The `Sandbox` trait: where SWE actions run. One long-lived environment per task with a
//! per-command timeout that kills the whole process tree, capped output and file transfer
//! (SWE-bench `docker_utils.py`, SWE-ReX practice). Implementations:
//! [`crate::DockerSandbox`] (real containers on bollard) and [`crate::FakeSandbox`] (host bash
//! in a temporary folder, for fast tests of the code above).
use crate::{Result, SandboxError};
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
    /// What the output cap keeps.
    pub capture: Capture,
}

/// What the output cap keeps of a command's output when it is longer than the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Capture {
    /// The first `cap` bytes, then the truncation marker (observations, as SWE-agent clips).
    #[default]
    Head,
    /// The first and the last `cap / 2` bytes with the truncation marker between them: for
    /// logs whose end matters (test statuses and the end marker printed last).
    HeadAndTail,
}

impl ExecRequest {
    /// A request running `script` with the sandbox's defaults.
    pub fn new(script: impl Into<String>) -> Self {
        Self { script: script.into(), workdir: None, env: Vec::new(), timeout: None, capture: Capture::Head }
    }

    /// Sets what the output cap keeps ([`Capture::HeadAndTail`] for test logs).
    pub fn capture(mut self, capture: Capture) -> Self {
        self.capture = capture;
        self
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
    /// Standard output and standard error interleaved in arrival order (lossy UTF-8), capped
    /// as the request's [`Capture`] says.
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

    /// `Ok(self)` when it succeeded, else [`SandboxError::CommandFailed`] naming the sandbox
    /// and the command: the one check for commands the library itself relies on (git, setup).
    pub fn require_success(self, sandbox: &str, cmd: &str) -> Result<Self> {
        if self.success() {
            return Ok(self);
        }
        Err(SandboxError::CommandFailed {
            sandbox: sandbox.to_string(),
            cmd: cmd.to_string(),
            exit_code: if self.timed_out { 137 } else { self.exit_code },
            output: self.output,
        })
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

/// One capped buffer: the head, and with [`Capture::HeadAndTail`] a ring of the last bytes.
#[derive(Debug)]
struct Capped {
    head_cap: usize,
    tail_cap: usize,
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    /// Bytes seen in all.
    total: u64,
}

impl Capped {
    fn new(cap: usize, capture: Capture) -> Self {
        let (head_cap, tail_cap) = match capture {
            Capture::Head => (cap, 0),
            Capture::HeadAndTail => (cap - cap / 2, cap / 2),
        };
        Self { head_cap, tail_cap, head: Vec::new(), tail: Default::default(), total: 0 }
    }

    fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let room = self.head_cap.saturating_sub(self.head.len());
        let take = room.min(bytes.len());
        self.head.extend_from_slice(&bytes[..take]);
        bytes = &bytes[take..];
        if self.tail_cap == 0 || bytes.is_empty() {
            return;
        }
        if bytes.len() >= self.tail_cap {
            self.tail.clear();
            self.tail.extend(&bytes[bytes.len() - self.tail_cap..]);
        } else {
            let over = (self.tail.len() + bytes.len()).saturating_sub(self.tail_cap);
            self.tail.drain(..over);
            self.tail.extend(bytes);
        }
    }

    fn dropped(&self) -> u64 {
        self.total - self.head.len() as u64 - self.tail.len() as u64
    }

    /// Head, marker, tail as text. The tail starts at a character boundary: continuation
    /// bytes cut from their lead byte are counted as cut.
    fn text(self) -> (String, u64) {
        let mut tail: Vec<u8> = self.tail.into_iter().collect();
        let dropped_now = self.total - self.head.len() as u64 - tail.len() as u64;
        if dropped_now > 0 {
            let skip = tail.iter().take(3).take_while(|&&b| b & 0xC0 == 0x80).count();
            tail.drain(..skip);
        }
        let dropped = self.total - self.head.len() as u64 - tail.len() as u64;
        let mut s = String::from_utf8_lossy(&self.head).into_owned();
        if dropped > 0 {
            s.push_str(&truncation_marker(dropped));
        }
        s.push_str(&String::from_utf8_lossy(&tail));
        (s, dropped)
    }
}

/// Collects a command's output under a byte cap; what does not fit is counted, not kept.
#[derive(Debug)]
pub(crate) struct OutputCollector {
    combined: Capped,
    stdout: Capped,
    stderr: Capped,
}

impl OutputCollector {
    pub(crate) fn new(cap: usize, capture: Capture) -> Self {
        Self {
            combined: Capped::new(cap, capture),
            stdout: Capped::new(cap, capture),
            stderr: Capped::new(cap, capture),
        }
    }

    pub(crate) fn push(&mut self, is_stderr: bool, bytes: &[u8]) {
        self.combined.push(bytes);
        if is_stderr {
            self.stderr.push(bytes);
        } else {
            self.stdout.push(bytes);
        }
    }

    /// Bytes cut so far from the interleaved output.
    #[allow(dead_code)]
    pub(crate) fn dropped(&self) -> u64 {
        self.combined.dropped()
    }

    pub(crate) fn finish(self, exit_code: i64, timed_out: bool, duration: Duration) -> ExecOutput {
        let (output, truncated_bytes) = self.combined.text();
        ExecOutput {
            exit_code,
            output,
            stdout: self.stdout.text().0,
            stderr: self.stderr.text().0,
            timed_out,
            truncated_bytes,
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
        let mut c = OutputCollector::new(10, Capture::Head);
        c.push(false, b"0123456");
        c.push(true, b"abcdef");
        let out = c.finish(0, false, Duration::ZERO);
        assert_eq!(out.truncated_bytes, 3);
        assert!(out.output.starts_with("0123456abc\n<output truncated: 3 bytes cut>"), "{}", out.output);
        assert_eq!(out.stdout, "0123456");
        assert_eq!(out.stderr, "abcdef");
    }

    #[test]
    fn head_and_tail_keeps_both_ends() {
        let mut c = OutputCollector::new(8, Capture::HeadAndTail);
        for chunk in [&b"0123"[..], b"456789", b"abcdefgh", b"XY"] {
            c.push(false, chunk);
        }
        let out = c.finish(0, false, Duration::ZERO);
        assert_eq!(out.truncated_bytes, 12);
        assert_eq!(out.output, "0123\n<output truncated: 12 bytes cut>\nghXY");
        // Short output is kept whole; a tail cut inside a character starts at the next one.
        let mut c = OutputCollector::new(8, Capture::HeadAndTail);
        c.push(false, b"abc");
        assert_eq!(c.finish(0, false, Duration::ZERO).output, "abc");
        let mut c = OutputCollector::new(7, Capture::HeadAndTail);
        c.push(false, "aaaa\u{e9}\u{e9}\u{e9}\u{e9}".as_bytes());
        let out = c.finish(0, false, Duration::ZERO);
        assert_eq!(out.output, "aaaa\n<output truncated: 6 bytes cut>\n\u{e9}");
        assert_eq!(out.truncated_bytes, 6);
    }
}
