//! The reward server: axum on tokio, scoring on a separate CPU pool ([`crate::scoring`]).
//!
//! Routes: `POST /get_reward` (OpenRLHF), `POST /score` (veRL/TRL shims), `GET /health`,
//! `GET /version`, `GET /metrics`. Every answer is JSON (Prometheus text for `/metrics`),
//! including 404/405/413. Shutdown is graceful: the listener closes, requests in flight are
//! answered, then [`RewardServer::run`] returns.

use crate::config::RewardServerConfig;
use crate::error::{Result, ServeError};
use crate::metrics::{ItemError, Metrics, Route};
use crate::protocol::{
    item_from_label, parse_body, response_text, scaled, BadRequest, ExtraLogs, GetRewardRequest, GetRewardResponse,
    ScoreRequest, ScoreResponse,
};
use crate::scoring::{Item, ItemResult, Scorer};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use bytes::Bytes;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::{TcpListener, TcpSocket};

/// Pending-connection queue of the listener: OpenRLHF opens rollout_batch × n connections at
/// once, more than the usual 1,024 (the kernel caps it at `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 8192;

struct AppState {
    config: RewardServerConfig,
    scorer: Scorer,
    metrics: Arc<Metrics>,
}

/// A bound reward server, ready to [`run`](Self::run).
pub struct RewardServer {
    listener: TcpListener,
    addr: SocketAddr,
    state: Arc<AppState>,
}

impl RewardServer {
    /// Validates `config`, starts the scoring pool and binds `config.bind` (port 0 picks a free
    /// port; see [`local_addr`](Self::local_addr)). Must be called inside a tokio runtime.
    pub fn bind(config: RewardServerConfig) -> Result<Self> {
        config.validate()?;
        let addr = config.bind;
        let bind_err = |source| ServeError::Bind { addr, source };
        let socket = if addr.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }.map_err(bind_err)?;
        socket.set_reuseaddr(true).map_err(bind_err)?;
        socket.bind(addr).map_err(bind_err)?;
        let listener = socket.listen(LISTEN_BACKLOG).map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        let metrics = Arc::new(Metrics::default());
        let scorer = Scorer::new(&config, Arc::clone(&metrics))?;
        tracing::info!(%addr, workers = config.workers, "reward server bound");
        Ok(Self { listener, addr, state: Arc::new(AppState { config, scorer, metrics }) })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then answers the requests in flight and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let app = router(Arc::clone(&self.state));
        let listener = self.listener.tap_io(|tcp| {
            // Small JSON answers: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms.
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app).with_graceful_shutdown(shutdown).await.map_err(ServeError::Serve)?;
        tracing::info!(in_flight = self.state.metrics.in_flight(), "reward server stopped");
        Ok(())
    }
}

fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/get_reward", post(get_reward))
        .route("/score", post(score))
        .route("/health", get(health))
        .route("/version", get(version))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&state), record))
        .with_state(state)
}

async fn record(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let route = match request.uri().path() {
        "/get_reward" => Route::GetReward,
        "/score" => Route::Score,
        "/health" => Route::Health,
        "/version" => Route::Version,
        "/metrics" => Route::Metrics,
        _ => Route::Other,
    };
    let start = Instant::now();
    state.metrics.start();
    let response = next.run(request).await;
    state.metrics.finish(route, response.status().as_u16(), start.elapsed());
    response
}

fn error_response(status: StatusCode, error: String, field: Option<String>) -> Response {
    (status, Json(BadRequest { error, field })).into_response()
}

// The error is the finished HTTP response the handler returns as is (axum's idiom), not a value
// carried further, so its size does not matter.
#[allow(clippy::result_large_err)]
fn body_or_error(body: std::result::Result<Bytes, BytesRejection>) -> std::result::Result<Bytes, Response> {
    body.map_err(|rejection| {
        let status = rejection.status();
        error_response(status, rejection.body_text(), None)
    })
}

async fn get_reward(State(state): State<Arc<AppState>>, body: std::result::Result<Bytes, BytesRejection>) -> Response {
    let body = match body_or_error(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let request: GetRewardRequest = match parse_body(&body) {
        Ok(r) => r,
        Err(bad) => return (StatusCode::BAD_REQUEST, Json(bad)).into_response(),
    };
    let n = request.query.len();
    for (name, len) in [("prompts", request.prompts.len()), ("labels", request.labels.len())] {
        if len != n {
            let message = format!("{name} has {len} entries but query has {n}; they must have equal lengths");
            return error_response(StatusCode::BAD_REQUEST, message, Some(name.to_string()));
        }
    }
    let config = &state.config;
    let mut items = Vec::with_capacity(n);
    let mut unusable = Vec::new();
    for (i, ((query, prompt), label)) in request.query.iter().zip(&request.prompts).zip(&request.labels).enumerate() {
        let response = response_text(query, prompt, config);
        match item_from_label(response, label, config) {
            Some(item) => items.push(item),
            None => {
                state.metrics.item_error(ItemError::MissingTarget);
                unusable.push(i);
                // A placeholder that the scorer rejects at once (no expert): keeps input order.
                items.push(Item { response: String::new(), kind: config.default_kind, expert: None, answer: None });
            }
        }
    }
    let results = state.scorer.score(items).await;
    let mut out = GetRewardResponse {
        rewards: Vec::with_capacity(n),
        scores: Vec::with_capacity(n),
        extra_logs: ExtraLogs {
            format_ok: Vec::with_capacity(n),
            srl_ratio: Vec::with_capacity(n),
            error: Vec::with_capacity(n),
        },
    };
    for (i, r) in results.into_iter().enumerate() {
        let r = if unusable.contains(&i) { ItemResult::FAILED } else { r };
        out.rewards.push(r.score);
        out.scores.push(scaled(r.score, config.scores));
        out.extra_logs.format_ok.push(r.format_ok);
        out.extra_logs.srl_ratio.push(r.srl_ratio);
        out.extra_logs.error.push(r.error);
    }
    Json(out).into_response()
}

async fn score(State(state): State<Arc<AppState>>, body: std::result::Result<Bytes, BytesRejection>) -> Response {
    let body = match body_or_error(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let request: ScoreRequest = match parse_body(&body) {
        Ok(r) => r,
        Err(bad) => return (StatusCode::BAD_REQUEST, Json(bad)).into_response(),
    };
    let items = request
        .items
        .into_iter()
        .map(|i| Item { response: i.response, kind: i.kind, expert: i.expert, answer: i.answer })
        .collect();
    let results = state.scorer.score(items).await;
    Json(ScoreResponse { results }).into_response()
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    let body = serde_json::json!({
        "status": "ok",
        "workers": state.config.workers,
        "in_flight": state.metrics.in_flight(),
    });
    Json(body).into_response()
}

/// What scored a run, for trainers to log.
async fn version(State(state): State<Arc<AppState>>) -> Response {
    let srl = state.config.srl;
    let body = serde_json::json!({
        "name": "srl-swe",
        "version": env!("CARGO_PKG_VERSION"),
        // All crates share the workspace version: the reward code (srl-reward) and the action
        // parser (srl-core `Action::parse_canonical`) are those of this build.
        "reward_code_version": env!("CARGO_PKG_VERSION"),
        "action_parser_version": env!("CARGO_PKG_VERSION"),
        "action_format": "canonical XML function call: <function=TOOL>\\n<parameter=KEY>VALUE</parameter>\\n</function>",
        "sequence_matcher": {
            "call": "difflib.SequenceMatcher(None, a, b).ratio()",
            "a": "model action",
            "b": "expert action",
            "autojunk": srl.autojunk,
            "comparison": srl.comparison,
        },
        "format_error_reward": srl_reward::FORMAT_ERROR_REWARD,
        "scores": state.config.scores,
        "item_budget_ms": state.config.item_budget_ms,
        "max_item_chars": state.config.max_item_chars,
    });
    Json(body).into_response()
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

async fn not_found() -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        "no such route (POST /get_reward, POST /score, GET /health, GET /version, GET /metrics)".into(),
        None,
    )
}

async fn method_not_allowed() -> Response {
    error_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed on this route".into(), None)
}
