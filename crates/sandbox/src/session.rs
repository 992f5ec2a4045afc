//! A fast exec path for [`crate::DockerSandbox`]: one long-lived exec runs a small bash server
//! that reads requests on its stdin and streams each command's output back, ended by a marker
//! line holding a per-request secret and the exit code. A command then costs a pipe round trip
//! instead of a Docker exec (create + start + inspect, and a runc process set-up in the daemon),
//! the cost SWE-ReX also avoids with its in-container server.
//!
//! Semantics match [`crate::Sandbox::exec`] except that standard error is merged into standard
//! output (`stdout` holds the merged text, `stderr` is empty): each command runs as
//! `timeout -s KILL <t> [setpriv --reuid … --regid … --clear-groups] bash -c <script>`, so the
//! same tree kill applies on timeout. One command runs at a time per session; a session whose
//! stream breaks is dropped and the next call starts a new one.
//!
//! The framing cannot be forged by the command: the secret (128 random bits per request) is
//! sent on the server's stdin and kept in an unexported shell variable, and the server runs as
//! root while the command runs as the unprivileged command user, so the command can read
//! neither the server's pipes nor its memory through `/proc` (without `setpriv` in the image
//! the server runs as the command user and the secret is the only guard). A command printing a
//! marker-like line gets it back as output.
use crate::sandbox::OutputCollector;
use crate::{ExecOutput, ExecRequest, Result, SandboxError};
use bollard::container::LogOutput;
use futures_util::StreamExt;
use std::pin::Pin;
use tokio::io::AsyncWriteExt;

/// The server run by the session exec; its arguments (`"$@"`) are the command that drops to
/// the command user (`setpriv …`), or none. Each request is a header line `<secret> <timeout>
/// <script bytes> <prelude bytes>` followed by the script and the prelude (which exports
/// variables and changes directory); reading them with `read -N` under `LC_ALL=C` counts bytes
/// and needs no fork.
pub(crate) const SERVER: &str = r#"export LC_ALL=C
while IFS=' ' read -r secret t sl pl; do
  script=''; prelude=''
  if [ "$sl" -gt 0 ]; then IFS= read -r -N "$sl" script; fi
  if [ "$pl" -gt 0 ]; then IFS= read -r -N "$pl" prelude; fi
  ( unset LC_ALL secret; eval "$prelude"; exec timeout -s KILL "$t" "$@" bash -c "$script" ) </dev/null 2>&1
  rc=$?
  printf '\n__SRL_END_%s__ %s\n' "$secret" "$rc"
done
"#;

type Output = Pin<Box<dyn futures_util::Stream<Item = std::result::Result<LogOutput, bollard::errors::Error>> + Send>>;
type Input = Pin<Box<dyn tokio::io::AsyncWrite + Send>>;

/// The attached streams of the server exec.
pub(crate) struct Session {
    pub(crate) input: Input,
    pub(crate) output: Output,
}

/// Runs one request over the session. `Err` means the session is broken (drop it).
pub(crate) async fn run(
    session: &mut Session,
    container: &str,
    secret: &str,
    request: &ExecRequest,
    workdir: &str,
    timeout: std::time::Duration,
    cap: usize,
) -> Result<(ExecOutput, bool)> {
    let mut prelude = String::new();
    for (k, v) in &request.env {
        prelude.push_str(&format!("export {k}={}\n", crate::paths::shell_quote(v)));
    }
    prelude.push_str(&format!("cd {} || exit 126\n", crate::paths::shell_quote(workdir)));
    let mut line =
        format!("{secret} {:.3} {} {}\n", timeout.as_secs_f64(), request.script.len(), prelude.len()).into_bytes();
    line.extend_from_slice(request.script.as_bytes());
    line.extend_from_slice(prelude.as_bytes());
    let broken =
        |e: std::io::Error| SandboxError::Io { path: format!("exec session of {container}").into(), source: e };
    let start = std::time::Instant::now();
    session.input.write_all(&line).await.map_err(broken)?;
    session.input.flush().await.map_err(broken)?;
    let end = format!("\n__SRL_END_{secret}__ ");
    let end = end.as_bytes();
    let keep = end.len() + 24;
    let mut collector = OutputCollector::new(cap, request.capture);
    let mut pending: Vec<u8> = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout + std::time::Duration::from_secs(1);
    loop {
        let item = match tokio::time::timeout_at(deadline, session.output.next()).await {
            Err(_) => return Ok((collector.finish(137, true, start.elapsed()), true)),
            Ok(None) => return Err(broken(std::io::Error::other("session stream ended"))),
            Ok(Some(Err(e))) => return Err(SandboxError::docker("exec session stream", Some(container), e)),
            Ok(Some(Ok(chunk))) => chunk,
        };
        match item {
            LogOutput::StdOut { message } | LogOutput::StdErr { message } | LogOutput::Console { message } => {
                pending.extend_from_slice(&message)
            }
            LogOutput::StdIn { .. } => continue,
        }
        if let Some(pos) = pending.windows(end.len()).position(|w| w == end) {
            let rest = &pending[pos + end.len()..];
            if let Some(nl) = rest.iter().position(|&b| b == b'\n') {
                let rc: i64 = String::from_utf8_lossy(&rest[..nl]).trim().parse().unwrap_or(-1);
                collector.push(false, &pending[..pos]);
                let elapsed = start.elapsed();
                let timed_out = rc == 137 && elapsed + std::time::Duration::from_millis(50) >= timeout;
                return Ok((collector.finish(rc, timed_out, elapsed), timed_out));
            }
        } else if pending.len() > keep {
            let cut = pending.len() - keep;
            collector.push(false, &pending[..cut]);
            pending.drain(..cut);
        }
    }
}
