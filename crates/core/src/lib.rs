//! Shared types of srl-swe, serde only: the structured [`Action`] and its canonical text form,
//! the tool schemas of SWE-agent's tools, the versioned on-disk records that cross crate
//! boundaries ([`StepInstance`], [`RlvrItem`], [`TaskInstance`], [`Prediction`]), atomic file
//! output, the one progress seam ([`progress`]) and the one seeded RNG ([`rng`]).
//!
//! Sibling crates: `srl-trajectory` (prepare), `srl-reward`, `srl-sandbox`, `srl-eval`,
//! `srl-model`, `srl-train`; the binary is `srl-swe` (`crates/cli`).
//!
//! ```
//! use srl_core::Action;
//! let action = Action::new("bash", [("command", "ls /testbed")]);
//! let text = action.to_canonical();
//! assert_eq!(text, "<function=bash>\n<parameter=command>ls /testbed</parameter>\n</function>");
//! assert_eq!(Action::parse_canonical(&text).unwrap(), action);
//! ```

mod action;
mod error;
pub mod io;
pub mod progress;
pub mod prompts;
mod records;
pub mod rng;
pub mod tools;

pub use action::{Action, ActionParseError};
pub use error::{CoreError, Result};
pub use records::{
    Message, Prediction, Provenance, RlvrItem, Role, StepInstance, TaskInstance, TaskKind, RECORD_VERSION,
};
