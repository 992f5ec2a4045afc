//! Wire formats of the session server (`srl-swe serve sandbox`, docs/agent.md). Every answer
//! is JSON; every error is [`ApiError`] with a stable `code`, never a bare 500.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// `POST /v1/sessions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// A task instance of the served environments.
    pub instance_id: String,
    /// Idle time after which the reaper removes the session (default: the server's TTL).
    #[serde(default)]
    pub timeout_s: Option<f64>,
}

/// Answer of `POST /v1/sessions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionCreated {
    /// Id to use in the other calls.
    pub session_id: String,
    /// The task turn (SWE-smith's instance template around the issue).
    pub observation: String,
    /// The system prompt, with the tool descriptions.
    pub system: String,
    /// `[system, user]` chat messages: what an agent loop starts from.
    pub messages: Vec<srl_core::Message>,
    /// The task.
    pub instance_id: String,
    /// Agent turns before the episode is cut (`truncated`).
    pub max_turns: usize,
}

/// `POST /v1/sessions/{id}/step`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// The agent's turn: an optional `<think>…</think>`, then one canonical action.
    pub action: String,
}

/// Answer of `POST /v1/sessions/{id}/step`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepResponse {
    /// The observation turn to append (`OBSERVATION:\n` + tool output, or SWE-agent's
    /// format-error message).
    pub observation: String,
    /// `bash`'s exit code (null for other tools).
    pub exit_code: Option<i64>,
    /// The episode is over: the final `submit`, or a cap.
    pub done: bool,
    /// Ended by a cap (turns, wall clock) rather than `submit`.
    pub truncated: bool,
    /// Reason code of a malformed action (null when it parsed).
    pub format_error: Option<String>,
    /// Agent turns so far.
    pub turns: usize,
}

/// `POST /v1/sessions/{id}/evaluate` (body optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    /// `resolved` (default: 1/0) or `f2p-fraction`.
    #[serde(default)]
    pub reward: Option<String>,
}

/// Passed / total tests of one list.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct TestCount {
    /// Passing.
    pub passed: usize,
    /// In the list.
    pub total: usize,
}

/// Both lists.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct TestCounts {
    /// FAIL_TO_PASS.
    #[serde(rename = "FAIL_TO_PASS")]
    pub fail_to_pass: TestCount,
    /// PASS_TO_PASS.
    #[serde(rename = "PASS_TO_PASS")]
    pub pass_to_pass: TestCount,
}

/// Answer of `POST /v1/sessions/{id}/evaluate`: the final diff graded in a fresh container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvaluateResponse {
    /// All FAIL_TO_PASS and PASS_TO_PASS tests pass.
    pub resolved: bool,
    /// The reward asked for.
    pub reward: f64,
    /// The diff graded (the submitted one, else the current state's).
    pub patch: String,
    /// Test counts.
    pub tests: TestCounts,
}

/// One entry of `GET /v1/sessions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Id.
    pub session_id: String,
    /// Task.
    pub instance_id: String,
    /// Agent turns so far.
    pub turns: usize,
    /// Over.
    pub done: bool,
    /// Seconds since the last call.
    pub idle_s: f64,
    /// Seconds since creation.
    pub age_s: f64,
}

/// Answer of `GET /v1/sessions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionList {
    /// Live sessions.
    pub sessions: Vec<SessionInfo>,
    /// Their number.
    pub active: usize,
    /// Sessions allowed at once.
    pub capacity: usize,
    /// Create calls waiting for a slot.
    pub queued: usize,
}

/// A structured error: `{"error": message, "code": code}` with its HTTP status.
#[derive(Debug, Clone, Serialize)]
pub struct ApiError {
    /// What happened.
    pub error: String,
    /// Stable code: `bad_request`, `unknown_instance`, `unknown_session`, `pool_full`,
    /// `container_start_failed`, `sandbox_failed`, `session_over`, `not_found`, `shutting_down`.
    pub code: &'static str,
    #[serde(skip)]
    status: u16,
    #[serde(skip)]
    retry_after_s: Option<u64>,
}

impl ApiError {
    /// An error with `status`.
    pub fn new(status: StatusCode, code: &'static str, error: impl Into<String>) -> Self {
        Self { error: error.into(), code, status: status.as_u16(), retry_after_s: None }
    }

    /// 429 with `Retry-After`.
    pub fn pool_full(retry_after_s: u64, capacity: usize) -> Self {
        Self {
            error: format!("all {capacity} session slots are busy; retry later"),
            code: "pool_full",
            status: 429,
            retry_after_s: Some(retry_after_s.max(1)),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.retry_after_s;
        let mut response = (status, Json(self)).into_response();
        if let Some(s) = retry {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// Parses a JSON body into `T`, naming the bad field.
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { String::new() } else { format!(" at {path}") };
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("invalid request body{at}: {}", e.inner()))
    })
}
