//! `srl-swe serve sandbox`: multi-turn SWE sessions over the Docker sandbox for other engines'
//! agent loops (veRL `AgentLoopBase`, OpenRLHF `AgentExecutor`, TRL `environment_factory`; the
//! adapters are in `integrations/`, the protocol in docs/agent.md). The same axum/hyper stack as
//! the reward server ([`crate::server`]).
//!
//! Routes: `POST /v1/sessions {instance_id, timeout_s?}` → `{session_id, observation, system,
//! messages, …}`; `POST /v1/sessions/{id}/step {action}` → `{observation, exit_code, done,
//! truncated, format_error, turns}`; `POST /v1/sessions/{id}/evaluate {reward?}` → `{resolved,
//! reward, patch, tests: {FAIL_TO_PASS: {passed, total}, PASS_TO_PASS: {…}}}`;
//! `DELETE /v1/sessions/{id}`; `GET /v1/sessions`; `GET /health`. Errors are
//! `{"error", "code"}` ([`protocol::ApiError`]). The episode rules (task turn, format errors,
//! caps) are `srl_sandbox::episode`'s, the same as in `srl-swe train`'s swe-episode stages.
pub mod protocol;
pub mod sessions;

use crate::error::{Result, ServeError};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use bytes::Bytes;
use protocol::{parse, ApiError, CreateSession, EvaluateRequest, SessionCreated, StepRequest};
use sessions::{RewardKind, Sessions};
use srl_core::{Message, Role};
use srl_sandbox::SandboxConfig;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Default listen address of the session server.
pub const DEFAULT_SANDBOX_BIND: &str = "127.0.0.1:8090";
/// Default idle TTL of a session (seconds).
pub const DEFAULT_IDLE_TTL_S: u64 = 600;

/// Settings of the session server.
#[derive(Debug, Clone)]
pub struct SandboxServerConfig {
    /// Listen address.
    pub bind: SocketAddr,
    /// The environments folder (`environments/`: each `<name>/instances.jsonl`).
    pub environments: PathBuf,
    /// Sessions (containers) alive at once.
    pub max_sessions: usize,
    /// Create calls that may wait for a slot; beyond that `429` at once.
    pub max_queue: usize,
    /// How long a create call waits for a slot before `429`.
    pub queue_wait_ms: u64,
    /// `Retry-After` of a `429`, seconds.
    pub retry_after_s: u64,
    /// Idle time after which a session is reaped (default of `timeout_s`).
    pub idle_ttl_s: u64,
    /// How often the reaper looks.
    pub reap_every_ms: u64,
    /// Agent turns before an episode is cut.
    pub max_turns: usize,
    /// Wall-clock cap of an episode, seconds.
    pub episode_s: u64,
    /// Per-call timeout of `bash`, seconds (the command's process tree is killed in the
    /// container when it fires).
    pub bash_timeout_s: u64,
    /// SWE-agent's review step on the first `submit`.
    pub review_submit: bool,
    /// Container limits.
    pub sandbox: SandboxConfig,
    /// System prompt (default: the SRL SWE prompt with the tool descriptions).
    pub system_prompt: Option<String>,
}

impl Default for SandboxServerConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self {
            bind: DEFAULT_SANDBOX_BIND.parse().expect("constant address"),
            environments: srl_sandbox::environments::default_environments_dir(),
            max_sessions: cores,
            max_queue: 2 * cores,
            queue_wait_ms: 30_000,
            retry_after_s: 5,
            idle_ttl_s: DEFAULT_IDLE_TTL_S,
            reap_every_ms: 1_000,
            max_turns: 30,
            episode_s: 3_600,
            bash_timeout_s: 60,
            review_submit: true,
            sandbox: SandboxConfig::default(),
            system_prompt: None,
        }
    }
}

/// A bound session server.
pub struct SandboxServer {
    listener: TcpListener,
    addr: SocketAddr,
    sessions: Arc<Sessions>,
}

impl SandboxServer {
    /// Loads the environments, removes the containers of crashed runs (owner gone, as
    /// `srl-swe sandbox gc` does) and binds. Must run inside a tokio runtime.
    pub async fn bind(config: SandboxServerConfig) -> Result<Self> {
        if config.max_sessions == 0 {
            return Err(ServeError::Config { field: "max-sessions", message: "must be ≥ 1".into() });
        }
        let instances = srl_sandbox::environments::load_all_instances(&config.environments)
            .map_err(|e| ServeError::Config { field: "environments", message: e.to_string() })?;
        if instances.is_empty() {
            return Err(ServeError::Config {
                field: "environments",
                message: format!("{}: no task instances", config.environments.display()),
            });
        }
        let docker = srl_sandbox::docker::connect()
            .await
            .map_err(|e| ServeError::Config { field: "docker", message: e.to_string() })?;
        match srl_sandbox::docker::gc(&docker, srl_sandbox::docker::GcScope::Orphaned).await {
            Ok(o) if !o.removed.is_empty() => tracing::warn!(removed = o.removed.len(), "removed orphaned containers"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "start-up clean-up of orphaned containers failed"),
        }
        let addr = config.bind;
        let listener = TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind { addr, source })?;
        let server_id = format!("srv{}-{}", std::process::id(), addr.port());
        let system = config.system_prompt.clone().unwrap_or_else(srl_trajectory::prompts::swe_system_prompt);
        tracing::info!(%addr, server = %server_id, instances = instances.len(), capacity = config.max_sessions, "sandbox server bound");
        Ok(Self { listener, addr, sessions: Arc::new(Sessions::new(server_id, config, instances, system)) })
    }

    /// The address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server id (label `srl-swe.server` and run id of its containers).
    pub fn server_id(&self) -> &str {
        self.sessions.server_id()
    }

    /// Serves until `shutdown` resolves, then removes every session's container.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let sessions = Arc::clone(&self.sessions);
        let reaper = {
            let s = Arc::clone(&sessions);
            let every = Duration::from_millis(s.config().reap_every_ms.max(10));
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    s.reap().await;
                }
            })
        };
        let app = router(Arc::clone(&sessions));
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await.map_err(ServeError::Serve);
        reaper.abort();
        sessions.shutdown().await;
        tracing::info!("sandbox server stopped; every session's container removed");
        served
    }
}

fn router(sessions: Arc<Sessions>) -> Router {
    Router::new()
        .route("/v1/sessions", post(create).get(list))
        .route("/v1/sessions/{id}", delete(remove))
        .route("/v1/sessions/{id}/step", post(step))
        .route("/v1/sessions/{id}/evaluate", post(evaluate))
        .route("/health", get(health))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such route (POST/GET /v1/sessions, POST /v1/sessions/{id}/step, POST /v1/sessions/{id}/evaluate, DELETE /v1/sessions/{id}, GET /health)",
            )
        })
        .layer(DefaultBodyLimit::max(16 << 20))
        .with_state(sessions)
}

fn answer<T: serde::Serialize>(r: std::result::Result<T, ApiError>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn create(State(s): State<Arc<Sessions>>, body: Bytes) -> Response {
    let req: CreateSession = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let created = async {
        let observation = srl_sandbox::episode::task_prompt(s.instance(&req.instance_id)?);
        let id = s.create(&req.instance_id, req.timeout_s).await?;
        let system = s.system().to_string();
        Ok(SessionCreated {
            session_id: id,
            messages: vec![
                Message { role: Role::System, content: system.clone() },
                Message { role: Role::User, content: observation.clone() },
            ],
            observation,
            system,
            instance_id: req.instance_id.clone(),
            max_turns: s.config().max_turns,
        })
    }
    .await;
    answer(created)
}

async fn list(State(s): State<Arc<Sessions>>) -> Response {
    Json(s.list()).into_response()
}

async fn step(State(s): State<Arc<Sessions>>, Path(id): Path<String>, body: Bytes) -> Response {
    match parse::<StepRequest>(&body) {
        Ok(r) => answer(s.step(&id, r.action).await),
        Err(e) => e.into_response(),
    }
}

async fn evaluate(State(s): State<Arc<Sessions>>, Path(id): Path<String>, body: Bytes) -> Response {
    let req = if body.iter().all(u8::is_ascii_whitespace) {
        EvaluateRequest::default()
    } else {
        match parse::<EvaluateRequest>(&body) {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        }
    };
    let kind = match req.reward.as_deref() {
        None | Some("resolved") => RewardKind::Resolved,
        Some("f2p-fraction") => RewardKind::F2pFraction,
        Some(o) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("reward {o:?}: expected \"resolved\" or \"f2p-fraction\""),
            )
            .into_response()
        }
    };
    answer(s.evaluate_session(&id, kind).await)
}

async fn remove(State(s): State<Arc<Sessions>>, Path(id): Path<String>) -> Response {
    answer(s.close(&id).await.map(|()| serde_json::json!({"session_id": id, "deleted": true})))
}

async fn health(State(s): State<Arc<Sessions>>) -> Response {
    Json(serde_json::json!({
        "status": "ok",
        "server_id": s.server_id(),
        "active": s.active(),
        "capacity": s.capacity(),
    }))
    .into_response()
}
