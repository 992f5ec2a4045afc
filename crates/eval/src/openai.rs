//! OpenAI-compatible chat-completions client (`POST {base_url}/chat/completions`, the protocol
//! vLLM and SGLang serve; Agentless-mini's `utils/api.py` sends the same request: `model`,
//! `messages`, `max_tokens`, `temperature`, `n = 1`). Blocking (ureq), with a concurrency cap,
//! retries with exponential backoff on transport errors, 408/429 and 5xx, and a per-request
//! timeout. The API key is read from an environment variable and sent as a bearer token.

use crate::backend::{ChatRequest, Completion, ModelBackend};
use crate::error::{EvalError, Result};
use serde::{Deserialize, Serialize};
use srl_core::Role;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Settings of the client (CLI `--base-url`, `--model-name`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OpenAiConfig {
    /// Base URL including the version prefix, e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    /// Model name sent in the request and written to predictions.
    pub model: String,
    /// Environment variable holding the API key (unset or empty: no `Authorization` header).
    pub api_key_env: String,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Retries after the first attempt.
    pub retries: u32,
    /// Backoff before the first retry; doubles each retry.
    pub backoff_ms: u64,
    /// Whole-request timeout.
    pub timeout_s: u64,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        OpenAiConfig {
            base_url: "http://127.0.0.1:8000/v1".into(),
            model: "default".into(),
            api_key_env: "OPENAI_API_KEY".into(),
            concurrency: 8,
            retries: 3,
            backoff_ms: 1000,
            timeout_s: 600,
        }
    }
}

#[derive(Debug, Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Debug, Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    temperature: f64,
    max_tokens: u32,
    n: u32,
}

#[derive(Debug, Deserialize)]
struct WireResponse {
    choices: Vec<WireChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct WireChoice {
    message: WireChoiceMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireChoiceMessage {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

/// A counting semaphore for the concurrency cap.
#[derive(Debug)]
struct Slots {
    free: Mutex<usize>,
    cv: Condvar,
}

impl Slots {
    fn acquire(&self) -> SlotGuard<'_> {
        let mut free = self.free.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while *free == 0 {
            free = self.cv.wait(free).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *free -= 1;
        SlotGuard(self)
    }
}

struct SlotGuard<'a>(&'a Slots);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let mut free = self.0.free.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *free += 1;
        self.0.cv.notify_one();
    }
}

/// The OpenAI-compatible backend.
#[derive(Debug)]
pub struct OpenAiBackend {
    config: OpenAiConfig,
    agent: ureq::Agent,
    api_key: Option<String>,
    slots: Slots,
}

/// Longest server-requested wait honoured per retry (seconds).
pub const MAX_RETRY_AFTER_S: u64 = 300;

enum Attempt {
    /// Worth another try, after the server's Retry-After when it sent one.
    Retry(String, Option<Duration>),
    Fatal(String),
}

impl OpenAiBackend {
    /// Builds the client; reads the API key from `config.api_key_env` now.
    pub fn new(config: OpenAiConfig) -> Result<Self> {
        if config.concurrency == 0 {
            return Err(EvalError::Config { field: "concurrency", message: "must be at least 1".into() });
        }
        if !(config.base_url.starts_with("http://") || config.base_url.starts_with("https://")) {
            return Err(EvalError::Config {
                field: "base-url",
                message: format!("`{}` is not an http(s) URL", config.base_url),
            });
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(config.timeout_s.max(1))))
            .http_status_as_error(false)
            .build()
            .into();
        let api_key = std::env::var(&config.api_key_env).ok().filter(|k| !k.is_empty());
        let slots = Slots { free: Mutex::new(config.concurrency), cv: Condvar::new() };
        Ok(OpenAiBackend { config, agent, api_key, slots })
    }

    fn url(&self) -> String {
        format!("{}/chat/completions", self.config.base_url.trim_end_matches('/'))
    }

    fn attempt(&self, body: &WireRequest<'_>) -> std::result::Result<Completion, Attempt> {
        let mut req = self.agent.post(&self.url()).header("Content-Type", "application/json");
        if let Some(key) = &self.api_key {
            req = req.header("Authorization", &format!("Bearer {key}"));
        }
        let mut resp = req.send_json(body).map_err(|e| Attempt::Retry(format!("request failed: {e}"), None))?;
        let status = resp.status().as_u16();
        // Retry-After in seconds (the form vLLM/OpenAI send); an HTTP date falls back to backoff.
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(MAX_RETRY_AFTER_S)));
        let text =
            resp.body_mut().read_to_string().map_err(|e| Attempt::Retry(format!("reading the response: {e}"), None))?;
        if status != 200 {
            let msg = format!("HTTP {status}: {}", text.chars().take(500).collect::<String>());
            return Err(if status == 408 || status == 429 || status >= 500 {
                Attempt::Retry(msg, retry_after)
            } else {
                Attempt::Fatal(msg)
            });
        }
        let parsed: WireResponse =
            serde_json::from_str(&text).map_err(|e| Attempt::Fatal(format!("bad response JSON: {e}")))?;
        let choice =
            parsed.choices.into_iter().next().ok_or_else(|| Attempt::Fatal("response has no choices".into()))?;
        Ok(Completion {
            text: choice.message.content.unwrap_or_default(),
            prompt_tokens: parsed.usage.as_ref().and_then(|u| u.prompt_tokens),
            completion_tokens: parsed.usage.as_ref().and_then(|u| u.completion_tokens),
            token_ids: None,
            logprobs: None,
            finish_reason: choice.finish_reason,
        })
    }
}

impl ModelBackend for OpenAiBackend {
    fn name(&self) -> &str {
        &self.config.model
    }

    fn complete(&self, request: &ChatRequest) -> Result<Completion> {
        let body = WireRequest {
            model: &self.config.model,
            messages: request
                .messages
                .iter()
                .map(|m| WireMessage {
                    role: match m.role {
                        Role::System => "system",
                        Role::User => "user",
                        Role::Assistant => "assistant",
                    },
                    content: &m.content,
                })
                .collect(),
            temperature: request.temperature,
            max_tokens: request.max_tokens,
            n: 1,
        };
        let _slot = self.slots.acquire();
        let mut delay = Duration::from_millis(self.config.backoff_ms);
        let mut last = String::new();
        let mut wait_hint: Option<Duration> = None;
        for attempt in 0..=self.config.retries {
            if attempt > 0 {
                // The server's Retry-After when it gave one, else exponential backoff.
                let wait = wait_hint.map_or(delay, |h| h.max(delay));
                tracing::warn!(instance = %request.instance_id, attempt, wait_s = wait.as_secs_f64(), error = %last, "retrying chat completion");
                std::thread::sleep(wait);
                delay = delay.saturating_mul(2);
            }
            match self.attempt(&body) {
                Ok(c) => return Ok(c),
                Err(Attempt::Fatal(m)) => {
                    return Err(EvalError::Backend { backend: self.config.model.clone(), message: m })
                }
                Err(Attempt::Retry(m, hint)) => {
                    last = m;
                    wait_hint = hint;
                }
            }
        }
        Err(EvalError::Backend {
            backend: self.config.model.clone(),
            message: format!("gave up after {} attempts: {last}", self.config.retries + 1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Purpose;
    use srl_core::Message;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::Arc;

    /// One recorded HTTP request: (request line, headers lowercased, body).
    type Seen = Arc<Mutex<Vec<(String, Vec<(String, String)>, String)>>>;

    /// A minimal OpenAI-compatible server on 127.0.0.1: answers each request with the next
    /// (status, body) from `script`, recording what it received.
    fn server(script: Vec<(u16, String)>) -> (String, Seen) {
        server_with_retry_after(script.into_iter().map(|(status, body)| (status, body, None)).collect())
    }

    /// [`server`] whose scripted answers may carry a `Retry-After: <seconds>` header.
    fn server_with_retry_after(script: Vec<(u16, String, Option<u64>)>) -> (String, Seen) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for (status, body, retry_after) in script {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut headers = Vec::new();
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    let h = h.trim_end().to_string();
                    if h.is_empty() {
                        break;
                    }
                    let (k, v) = h.split_once(':').unwrap();
                    let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                    if k == "content-length" {
                        len = v.parse().unwrap();
                    }
                    headers.push((k, v));
                }
                let mut buf = vec![0u8; len];
                reader.read_exact(&mut buf).unwrap();
                seen2.lock().unwrap().push((
                    request_line.trim_end().to_string(),
                    headers,
                    String::from_utf8(buf).unwrap(),
                ));
                let mut stream = stream;
                let reason = if status == 200 { "OK" } else { "Error" };
                let extra = retry_after.map(|s| format!("Retry-After: {s}\r\n")).unwrap_or_default();
                write!(stream, "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
                stream.flush().unwrap();
            }
        });
        (format!("http://{addr}/v1"), seen)
    }

    fn request() -> ChatRequest {
        ChatRequest {
            instance_id: "i".into(),
            purpose: Purpose::Repair,
            sample: 0,
            messages: vec![Message::new(Role::User, "Fix it")],
            temperature: 0.0,
            max_tokens: 128,
            files: vec![],
        }
    }

    fn config(base_url: String, key_env: &str) -> OpenAiConfig {
        OpenAiConfig {
            base_url,
            model: "tiny-coder".into(),
            api_key_env: key_env.into(),
            concurrency: 2,
            retries: 2,
            backoff_ms: 10,
            timeout_s: 5,
        }
    }

    #[test]
    fn speaks_the_chat_completions_protocol_and_retries() {
        let ok = r#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"```python\n### a.py\n```"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}"#;
        let (url, seen) = server(vec![(503, "{\"error\":\"busy\"}".into()), (200, ok.into())]);
        std::env::set_var("SRL_EVAL_TEST_KEY_A", "sk-test");
        let backend = OpenAiBackend::new(config(url, "SRL_EVAL_TEST_KEY_A")).unwrap();
        let c = backend.complete(&request()).unwrap();
        assert_eq!(c.text, "```python\n### a.py\n```");
        assert_eq!((c.prompt_tokens, c.completion_tokens), (Some(12), Some(7)));
        assert_eq!(c.finish_reason.as_deref(), Some("stop"));
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2, "one retry after the 503");
        let (line, headers, body) = &seen[1];
        assert_eq!(line, "POST /v1/chat/completions HTTP/1.1");
        assert!(headers.contains(&("authorization".into(), "Bearer sk-test".into())), "{headers:?}");
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"model":"tiny-coder","messages":[{"role":"user","content":"Fix it"}],"temperature":0.0,"max_tokens":128,"n":1})
        );
    }

    /// A 429 with `Retry-After` waits as long as the server asked, not the (much
    /// shorter) exponential backoff.
    #[test]
    fn a_429_waits_for_the_servers_retry_after() {
        let ok = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"done"},"finish_reason":"stop"}]}"#;
        let (url, seen) = server_with_retry_after(vec![
            (429, "{\"error\":\"rate limited\"}".into(), Some(1)),
            (200, ok.into(), None),
        ]);
        let backend = OpenAiBackend::new(config(url, "SRL_EVAL_TEST_KEY_UNSET")).unwrap();
        let started = std::time::Instant::now();
        let c = backend.complete(&request()).unwrap();
        let waited = started.elapsed();
        assert_eq!(c.text, "done");
        assert_eq!(seen.lock().unwrap().len(), 2, "one retry after the 429");
        assert!(
            waited >= Duration::from_millis(950),
            "Retry-After: 1 honoured, waited only {waited:?} (backoff is 10 ms)"
        );
    }

    #[test]
    fn client_errors_are_not_retried_and_name_the_status() {
        let (url, seen) = server(vec![(400, "{\"error\":\"context too long\"}".into())]);
        let backend = OpenAiBackend::new(config(url, "SRL_EVAL_TEST_KEY_UNSET")).unwrap();
        let err = backend.complete(&request()).unwrap_err().to_string();
        assert!(err.contains("HTTP 400") && err.contains("context too long"), "{err}");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert!(!seen[0].1.iter().any(|(k, _)| k == "authorization"));
    }

    #[test]
    fn gives_up_after_the_retries() {
        let (url, _seen) = server(vec![(500, "{}".into()), (500, "{}".into()), (500, "{}".into())]);
        let backend = OpenAiBackend::new(config(url, "SRL_EVAL_TEST_KEY_UNSET")).unwrap();
        let err = backend.complete(&request()).unwrap_err().to_string();
        assert!(err.contains("gave up after 3 attempts"), "{err}");
    }

    #[test]
    fn rejects_bad_config() {
        assert!(OpenAiBackend::new(OpenAiConfig { concurrency: 0, ..OpenAiConfig::default() }).is_err());
        assert!(OpenAiBackend::new(OpenAiConfig { base_url: "ftp://x".into(), ..OpenAiConfig::default() }).is_err());
    }
}
