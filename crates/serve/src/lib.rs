//! `srl-serve`: the HTTP servers of srl-swe. Today one: the SRL reward server behind
//! `srl-swe serve reward`, so that existing RL engines (veRL, OpenRLHF, TRL) train with the exact
//! reward of srl-swe's own trainer (Deng et al., arXiv 2510.25992, §4.2; the engines' interfaces
//! in `docs/engines.md`).
//!
//! - [`server`]: axum/hyper on tokio; `POST /get_reward` (OpenRLHF's remote-reward protocol),
//!   `POST /score` (batched, for the veRL and TRL shims in `integrations/`), `GET /health`,
//!   `GET /version`, `GET /metrics` (Prometheus); graceful shutdown.
//! - [`sandbox`]: `srl-swe serve sandbox`, multi-turn SWE sessions over the Docker sandbox for
//!   other engines' agent loops (docs/agent.md).
//! - [`scoring`]: a bounded CPU pool, per-item time budget and length cap, fixed result keys.
//! - [`protocol`]: the wire formats, response-text extraction and label parsing.
//! - [`config`] / [`metrics`]: settings and counters.
//!
//! ```no_run
//! # async fn demo() -> srl_serve::Result<()> {
//! use srl_serve::{RewardServer, RewardServerConfig};
//! let config = RewardServerConfig { bind: "127.0.0.1:0".parse().unwrap(), ..Default::default() };
//! let server = RewardServer::bind(config)?;
//! println!("listening on http://{}", server.local_addr());
//! server.run(async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```
//!
//! Sibling crates: `srl-reward` (the reward code), `srl-core` (records); the binary wires it in
//! `crates/cli/src/commands/serve.rs`.

pub mod config;
mod error;
pub mod metrics;
pub mod protocol;
pub mod sandbox;
pub mod scoring;
pub mod server;

pub use config::{special_tokens_of, ItemKind, RewardServerConfig, ScoreScale};
pub use error::{Result, ServeError};
pub use scoring::{Item, ItemResult, Scorer};
pub use server::RewardServer;
