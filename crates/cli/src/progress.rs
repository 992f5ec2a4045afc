//! The binary's one progress drawing: an indicatif bar on stderr for the libraries' progress
//! seams (`srl_core::progress::Progress` and the domain reporters), hidden when stderr is not a
//! terminal (the logs then carry the progress, and files and pipes get no control codes).
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `len` items on stderr.
pub(crate) fn bar(len: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {per_sec} eta {eta}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.to_string());
    bar
}

/// [`srl_core::progress::Progress`] drawn as a bar.
#[derive(Clone)]
pub(crate) struct Bar(pub(crate) ProgressBar);

impl Bar {
    /// A bar named `message`, its length set when the job starts.
    pub(crate) fn new(message: &str) -> Self {
        Self(bar(0, message))
    }
}

impl srl_core::progress::Progress for Bar {
    fn start(&self, total: Option<u64>, what: &str) {
        if let Some(total) = total {
            self.0.set_length(total);
        }
        if !what.is_empty() {
            self.0.set_message(what.to_string());
        }
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn item_done(&self, item: &str) {
        self.0.inc(1);
        tracing::debug!(item, "done");
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
