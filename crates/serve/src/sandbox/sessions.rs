//! The sessions of the sandbox server: a bounded pool of task containers, one actor task per
//! session that owns its container and its SWE-agent tools, an idle-TTL reaper.
//!
//! What the users of SkyRL, rLLM and veRL's SWE recipes report must not happen here
//! (docs/agent.md): every container carries the labels `srl-swe.server` and `srl-swe.session`
//! (besides the owner labels `srl-swe sandbox gc` reads); container starts and steps run in
//! tasks of their own, so a client that hangs up mid-call cannot leave a half-made container or
//! a command running (the command ends by its own timeout, which kills its process tree in the
//! container); the pool is bounded (a short queue, then `429` with `Retry-After`); a container
//! that fails to start is a structured `503`; idle sessions are reaped; shutdown removes all.
use super::protocol::{ApiError, EvaluateResponse, SessionInfo, SessionList, StepResponse, TestCount, TestCounts};
use super::SandboxServerConfig;
use axum::http::StatusCode;
use srl_core::TaskInstance;
use srl_sandbox::episode::{EpisodeLimits, EpisodeState};
use srl_sandbox::grading::TestReport;
use srl_sandbox::{DockerSandbox, Sandbox, SandboxConfig, SweTools, TaskEnv};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

/// Label naming the server that made a container.
pub const SERVER_LABEL: &str = "srl-swe.server";
/// Label naming the session a container belongs to.
pub const SESSION_LABEL: &str = "srl-swe.session";

/// Which reward `evaluate` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewardKind {
    /// 1 when resolved, else 0.
    Resolved,
    /// Passing share of FAIL_TO_PASS (0 when a PASS_TO_PASS test breaks).
    F2pFraction,
}

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

enum Command {
    Step(String, Reply<StepResponse>),
    Evaluate(RewardKind, Reply<EvaluateResponse>),
    Close(oneshot::Sender<()>),
}

struct Handle {
    id: String,
    instance_id: String,
    tx: mpsc::Sender<Command>,
    created: Instant,
    last: Mutex<Instant>,
    ttl: Duration,
    turns: AtomicUsize,
    done: AtomicBool,
}

impl Handle {
    fn touch(&self) {
        if let Ok(mut l) = self.last.lock() {
            *l = Instant::now();
        }
    }

    fn idle(&self) -> Duration {
        self.last.lock().map(|l| l.elapsed()).unwrap_or_default()
    }
}

/// The pool of sessions.
pub struct Sessions {
    server_id: String,
    config: SandboxServerConfig,
    instances: HashMap<String, TaskInstance>,
    system: String,
    slots: Arc<Semaphore>,
    grading: Arc<Semaphore>,
    queued: AtomicUsize,
    counter: AtomicU64,
    stopping: AtomicBool,
    live: Mutex<HashMap<String, Arc<Handle>>>,
}

fn internal(code: &'static str, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::BAD_GATEWAY, code, e.to_string())
}

impl Sessions {
    /// A pool serving `instances`.
    pub fn new(server_id: String, config: SandboxServerConfig, instances: Vec<TaskInstance>, system: String) -> Self {
        let capacity = config.max_sessions.max(1);
        Self {
            server_id,
            slots: Arc::new(Semaphore::new(capacity)),
            grading: Arc::new(Semaphore::new(capacity)),
            instances: instances.into_iter().map(|i| (i.instance_id.clone(), i)).collect(),
            system,
            config,
            queued: AtomicUsize::new(0),
            counter: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            live: Mutex::new(HashMap::new()),
        }
    }

    /// This server's id (label `srl-swe.server`, run id of its containers).
    pub fn server_id(&self) -> &str {
        &self.server_id
    }

    /// The settings.
    pub fn config(&self) -> &SandboxServerConfig {
        &self.config
    }

    /// The system prompt shown with every task.
    pub fn system(&self) -> &str {
        &self.system
    }

    /// Sessions allowed at once.
    pub fn capacity(&self) -> usize {
        self.config.max_sessions.max(1)
    }

    /// Live sessions.
    pub fn active(&self) -> usize {
        self.live.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// The instance of `id`.
    pub fn instance(&self, id: &str) -> Result<&TaskInstance, ApiError> {
        self.instances.get(id).ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, "unknown_instance", format!("no task instance {id:?} is served here"))
        })
    }

    fn handle(&self, id: &str) -> Result<Arc<Handle>, ApiError> {
        let h = self.live.lock().ok().and_then(|m| m.get(id).cloned());
        h.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown_session", format!("no session {id:?}")))
    }

    async fn slot(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(p) = Arc::clone(&self.slots).try_acquire_owned() {
            return Ok(p);
        }
        let retry = self.config.retry_after_s;
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.config.max_queue {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::pool_full(retry, self.capacity()));
        }
        let wait = Duration::from_millis(self.config.queue_wait_ms);
        let got = tokio::time::timeout(wait, Arc::clone(&self.slots).acquire_owned()).await;
        self.queued.fetch_sub(1, Ordering::SeqCst);
        match got {
            Ok(Ok(p)) => Ok(p),
            _ => Err(ApiError::pool_full(retry, self.capacity())),
        }
    }

    /// Starts a session on `instance_id` (runs to its end even when the caller goes away).
    pub async fn create(self: &Arc<Self>, instance_id: &str, timeout_s: Option<f64>) -> Result<String, ApiError> {
        if self.stopping.load(Ordering::SeqCst) {
            return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "the server is stopping"));
        }
        let instance = self.instance(instance_id)?.clone();
        let ttl = match timeout_s {
            Some(t) if t.is_finite() && t > 0.0 => Duration::from_secs_f64(t.min(7.0 * 86_400.0)),
            Some(t) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("timeout_s must be > 0, got {t}"),
                ))
            }
            None => Duration::from_secs(self.config.idle_ttl_s),
        };
        let permit = self.slot().await?;
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let id = format!("{}-{n}", self.server_id);
        let me = Arc::clone(self);
        let task = tokio::spawn(async move { me.start(id, instance, ttl, permit).await });
        task.await.map_err(|e| internal("sandbox_failed", e))?
    }

    async fn start(
        self: Arc<Self>,
        id: String,
        instance: TaskInstance,
        ttl: Duration,
        permit: OwnedSemaphorePermit,
    ) -> Result<String, ApiError> {
        let mut cfg: SandboxConfig = self.config.sandbox.clone();
        cfg.run_id = Some(self.server_id.clone());
        cfg.labels.insert(SERVER_LABEL.into(), self.server_id.clone());
        cfg.labels.insert(SESSION_LABEL.into(), id.clone());
        let env = srl_sandbox::start_task(&instance, &cfg).await.map_err(|e| {
            tracing::warn!(session = %id, instance = %instance.instance_id, error = %e, "container failed to start");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "container_start_failed", e.to_string())
        })?;
        let (tx, rx) = mpsc::channel(8);
        let handle = Arc::new(Handle {
            id: id.clone(),
            instance_id: instance.instance_id.clone(),
            tx,
            created: Instant::now(),
            last: Mutex::new(Instant::now()),
            ttl,
            turns: AtomicUsize::new(0),
            done: AtomicBool::new(false),
        });
        if let Ok(mut m) = self.live.lock() {
            m.insert(id.clone(), Arc::clone(&handle));
        }
        tokio::spawn(Arc::clone(&self).actor(env, cfg, permit, rx, handle));
        tracing::info!(session = %id, instance = %instance.instance_id, "session started");
        Ok(id)
    }

    /// The session's task loop: it owns the container until `Close` (or the server stops).
    async fn actor(
        self: Arc<Self>,
        env: TaskEnv<DockerSandbox>,
        cfg: SandboxConfig,
        permit: OwnedSemaphorePermit,
        mut rx: mpsc::Receiver<Command>,
        handle: Arc<Handle>,
    ) {
        let c = &self.config;
        let limits =
            EpisodeLimits { max_turns: c.max_turns, wall_clock: Some(Duration::from_secs(c.episode_s.max(1))) };
        let mut tools = SweTools::new(&env.sandbox, env.base_sha.clone())
            .with_review(c.review_submit)
            .with_bash_timeout(Duration::from_secs(c.bash_timeout_s.max(1)));
        let mut state = EpisodeState::new(limits);
        let mut closed = None;
        while let Some(cmd) = rx.recv().await {
            match cmd {
                Command::Step(text, reply) => {
                    let r = if state.done {
                        Err(ApiError::new(
                            StatusCode::CONFLICT,
                            "session_over",
                            "the episode is over; evaluate or delete it",
                        ))
                    } else {
                        state.step(&mut tools, &text).await.map_err(|e| internal("sandbox_failed", e)).map(|o| {
                            StepResponse {
                                observation: o.observation,
                                exit_code: o.exit_code,
                                done: o.done,
                                truncated: o.truncated,
                                format_error: o.format_error.map(str::to_string),
                                turns: state.turns,
                            }
                        })
                    };
                    handle.turns.store(state.turns, Ordering::SeqCst);
                    handle.done.store(state.done, Ordering::SeqCst);
                    let _ = reply.send(r);
                }
                Command::Evaluate(kind, reply) => {
                    let patch = match &state.submission {
                        Some(p) => Ok(p.clone()),
                        None => tools.submission().await.map_err(|e| internal("sandbox_failed", e)),
                    };
                    let r = match patch {
                        Ok(p) => self.evaluate(&env.instance, p, kind, &cfg).await,
                        Err(e) => Err(e),
                    };
                    let _ = reply.send(r);
                }
                Command::Close(reply) => {
                    closed = Some(reply);
                    break;
                }
            }
            handle.touch();
        }
        drop(tools);
        if let Err(e) = env.sandbox.remove().await {
            tracing::warn!(session = %handle.id, error = %e, "removing the container failed (srl-swe sandbox gc removes it)");
        }
        drop(permit);
        if let Ok(mut m) = self.live.lock() {
            m.remove(&handle.id);
        }
        tracing::info!(session = %handle.id, turns = state.turns, "session closed");
        if let Some(reply) = closed {
            let _ = reply.send(());
        }
    }

    async fn evaluate(
        &self,
        instance: &TaskInstance,
        patch: String,
        kind: RewardKind,
        cfg: &SandboxConfig,
    ) -> Result<EvaluateResponse, ApiError> {
        let total = |v: &Vec<String>| v.len();
        let report: Option<TestReport> = if patch.trim().is_empty() {
            None
        } else {
            let _slot = self.grading.acquire().await.map_err(|e| internal("sandbox_failed", e))?;
            Some(
                srl_sandbox::replay::grade_in_fresh_container(instance, &patch, cfg)
                    .await
                    .map_err(|e| internal("sandbox_failed", format!("grading: {e}")))?,
            )
        };
        let count = |s: Option<&srl_sandbox::grading::SuccessFailure>, n: usize| match s {
            Some(s) => TestCount { passed: s.success.len(), total: s.success.len() + s.failure.len() },
            None => TestCount { passed: 0, total: n },
        };
        let tests = TestCounts {
            fail_to_pass: count(report.as_ref().map(|r| &r.fail_to_pass), total(&instance.fail_to_pass)),
            pass_to_pass: count(report.as_ref().map(|r| &r.pass_to_pass), total(&instance.pass_to_pass)),
        };
        let resolved = report.as_ref().is_some_and(|r| r.resolved);
        let reward = match (kind, &report) {
            (RewardKind::Resolved, _) => f64::from(u8::from(resolved)),
            (RewardKind::F2pFraction, Some(r)) if r.pass_to_pass.failure.is_empty() => r.fail_to_pass.ratio(),
            (RewardKind::F2pFraction, _) => 0.0,
        };
        Ok(EvaluateResponse { resolved, reward, patch, tests })
    }

    async fn call<T>(&self, id: &str, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, ApiError> {
        let h = self.handle(id)?;
        h.touch();
        let (tx, rx) = oneshot::channel();
        h.tx.send(make(tx)).await.map_err(|_| self.gone(id))?;
        let r = rx.await.map_err(|_| self.gone(id))?;
        h.touch();
        r
    }

    fn gone(&self, id: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "unknown_session", format!("session {id:?} was closed"))
    }

    /// Runs one agent turn.
    pub async fn step(&self, id: &str, action: String) -> Result<StepResponse, ApiError> {
        self.call(id, |r| Command::Step(action, r)).await
    }

    /// Grades the session's final diff in a fresh container.
    pub async fn evaluate_session(&self, id: &str, kind: RewardKind) -> Result<EvaluateResponse, ApiError> {
        self.call(id, |r| Command::Evaluate(kind, r)).await
    }

    /// Closes a session and removes its container (returns once it is gone).
    pub async fn close(&self, id: &str) -> Result<(), ApiError> {
        let h = self.handle(id)?;
        let (tx, rx) = oneshot::channel();
        h.tx.send(Command::Close(tx)).await.map_err(|_| self.gone(id))?;
        let _ = rx.await;
        Ok(())
    }

    /// What `GET /v1/sessions` shows.
    pub fn list(&self) -> SessionList {
        let handles: Vec<Arc<Handle>> = self.live.lock().map(|m| m.values().cloned().collect()).unwrap_or_default();
        let mut sessions: Vec<SessionInfo> = handles
            .iter()
            .map(|h| SessionInfo {
                session_id: h.id.clone(),
                instance_id: h.instance_id.clone(),
                turns: h.turns.load(Ordering::SeqCst),
                done: h.done.load(Ordering::SeqCst),
                idle_s: h.idle().as_secs_f64(),
                age_s: h.created.elapsed().as_secs_f64(),
            })
            .collect();
        sessions.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        SessionList {
            active: sessions.len(),
            sessions,
            capacity: self.capacity(),
            queued: self.queued.load(Ordering::SeqCst),
        }
    }

    /// Closes the sessions idle past their TTL; returns how many.
    pub async fn reap(&self) -> usize {
        let idle: Vec<String> = self
            .live
            .lock()
            .map(|m| m.values().filter(|h| h.idle() >= h.ttl).map(|h| h.id.clone()).collect())
            .unwrap_or_default();
        for id in &idle {
            tracing::info!(session = %id, "idle past its TTL: reaping");
            let _ = self.close(id).await;
        }
        idle.len()
    }

    /// Refuses new sessions and closes every live one.
    pub async fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let ids: Vec<String> = self.live.lock().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        futures_util::future::join_all(ids.iter().map(|id| self.close(id))).await;
    }
}
