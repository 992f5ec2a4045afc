//! What both binaries do around a command: logging set-up and the exit code of a result.
//! `srl-swe` (no libtorch) and `srl-swe-torch` (train, eval, model) share it.
use std::io::IsTerminal;
use std::process::ExitCode;

/// Logs to stderr with `filter` (tracing `EnvFilter` syntax). Colour only when stderr is a
/// terminal and `NO_COLOR` is unset, so logs captured to a file or a pipe hold no ANSI codes.
pub(crate) fn init_logging(filter: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour).init();
}

/// Exit code of a command's result: its own code, or 2 after printing the error chain. A
/// closed stdout (`srl-swe reward … | head`) is not an error.
pub(crate) fn exit_code(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}
