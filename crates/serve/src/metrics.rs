//! Counters and a latency histogram in Prometheus' text exposition format (`GET /metrics`), kept
//! in atomics so recording costs a few nanoseconds and needs no lock.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The routes that are counted apart (everything else is `other`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /get_reward`.
    GetReward,
    /// `POST /score`.
    Score,
    /// `GET /health`.
    Health,
    /// `GET /version`.
    Version,
    /// `GET /metrics`.
    Metrics,
    /// Anything else (404/405).
    Other,
}

const ROUTES: [Route; 6] =
    [Route::GetReward, Route::Score, Route::Health, Route::Version, Route::Metrics, Route::Other];

impl Route {
    fn label(self) -> &'static str {
        match self {
            Self::GetReward => "/get_reward",
            Self::Score => "/score",
            Self::Health => "/health",
            Self::Version => "/version",
            Self::Metrics => "/metrics",
            Self::Other => "other",
        }
    }
}

/// Why an item scored −1 with `error = 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemError {
    /// Over the per-item time budget.
    Budget,
    /// Response, expert or answer over the length cap.
    TooLong,
    /// No expert action (SRL) or answer (RLVR) to score against, or an unusable label.
    MissingTarget,
    /// A failure inside the scorer.
    Internal,
}

const ITEM_ERRORS: [ItemError; 4] =
    [ItemError::Budget, ItemError::TooLong, ItemError::MissingTarget, ItemError::Internal];

impl ItemError {
    fn label(self) -> &'static str {
        match self {
            Self::Budget => "budget",
            Self::TooLong => "too_long",
            Self::MissingTarget => "missing_target",
            Self::Internal => "internal",
        }
    }
}

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Status classes counted.
const STATUSES: [u16; 6] = [200, 400, 404, 405, 413, 500];

#[derive(Default)]
struct RouteStats {
    by_status: [AtomicU64; STATUSES.len() + 1],
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    routes: [RouteStats; ROUTES.len()],
    items: AtomicU64,
    item_errors: [AtomicU64; ITEM_ERRORS.len()],
    in_flight: AtomicU64,
}

impl Metrics {
    /// A request started.
    pub fn start(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A request finished with `status` after `elapsed`.
    pub fn finish(&self, route: Route, status: u16, elapsed: Duration) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let stats = &self.routes[ROUTES.iter().position(|r| *r == route).unwrap_or(ROUTES.len() - 1)];
        let slot = STATUSES.iter().position(|s| *s == status).unwrap_or(STATUSES.len());
        stats.by_status[slot].fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        if let Some(b) = BUCKETS.iter().position(|b| secs <= *b) {
            stats.buckets[b].fetch_add(1, Ordering::Relaxed);
        }
        stats.count.fetch_add(1, Ordering::Relaxed);
        stats.sum_micros.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    /// `n` items were scored (failed ones included).
    pub fn items_scored(&self, n: u64) {
        self.items.fetch_add(n, Ordering::Relaxed);
    }

    /// One item failed for `reason`.
    pub fn item_error(&self, reason: ItemError) {
        let i = ITEM_ERRORS.iter().position(|e| *e == reason).unwrap_or(0);
        self.item_errors[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        out.push_str("# HELP srl_serve_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE srl_serve_requests_total counter\n");
        for (route, stats) in ROUTES.iter().zip(&self.routes) {
            for (i, counter) in stats.by_status.iter().enumerate() {
                let status = STATUSES.get(i).map_or_else(|| "other".to_string(), |s| s.to_string());
                let _ = writeln!(
                    out,
                    "srl_serve_requests_total{{route=\"{}\",status=\"{status}\"}} {}",
                    route.label(),
                    load(counter)
                );
            }
        }
        out.push_str("# HELP srl_serve_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE srl_serve_request_duration_seconds histogram\n");
        for (route, stats) in ROUTES.iter().zip(&self.routes) {
            let mut cumulative = 0;
            for (bound, counter) in BUCKETS.iter().zip(&stats.buckets) {
                cumulative += load(counter);
                let _ = writeln!(
                    out,
                    "srl_serve_request_duration_seconds_bucket{{route=\"{}\",le=\"{bound}\"}} {cumulative}",
                    route.label()
                );
            }
            let count = load(&stats.count);
            let label = route.label();
            let _ = writeln!(out, "srl_serve_request_duration_seconds_bucket{{route=\"{label}\",le=\"+Inf\"}} {count}");
            let sum = load(&stats.sum_micros) as f64 / 1e6;
            let _ = writeln!(out, "srl_serve_request_duration_seconds_sum{{route=\"{label}\"}} {sum}");
            let _ = writeln!(out, "srl_serve_request_duration_seconds_count{{route=\"{label}\"}} {count}");
        }
        out.push_str("# HELP srl_serve_items_total Items scored (failed ones included).\n");
        out.push_str("# TYPE srl_serve_items_total counter\n");
        let _ = writeln!(out, "srl_serve_items_total {}", load(&self.items));
        out.push_str("# HELP srl_serve_item_errors_total Items scored -1 with error=1, by reason.\n");
        out.push_str("# TYPE srl_serve_item_errors_total counter\n");
        for (reason, counter) in ITEM_ERRORS.iter().zip(&self.item_errors) {
            let _ = writeln!(out, "srl_serve_item_errors_total{{reason=\"{}\"}} {}", reason.label(), load(counter));
        }
        out.push_str("# HELP srl_serve_in_flight_requests Requests being answered.\n");
        out.push_str("# TYPE srl_serve_in_flight_requests gauge\n");
        let _ = writeln!(out, "srl_serve_in_flight_requests {}", load(&self.in_flight));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_counts_statuses() {
        let m = Metrics::default();
        m.start();
        m.finish(Route::Score, 200, Duration::from_micros(800));
        m.start();
        m.finish(Route::Score, 400, Duration::from_millis(30));
        m.item_error(ItemError::Budget);
        let text = m.render();
        assert!(text.contains("srl_serve_requests_total{route=\"/score\",status=\"200\"} 1\n"), "{text}");
        assert!(text.contains("srl_serve_requests_total{route=\"/score\",status=\"400\"} 1\n"));
        assert!(text.contains("srl_serve_request_duration_seconds_bucket{route=\"/score\",le=\"0.001\"} 1\n"));
        assert!(text.contains("srl_serve_request_duration_seconds_bucket{route=\"/score\",le=\"0.05\"} 2\n"));
        assert!(text.contains("srl_serve_request_duration_seconds_bucket{route=\"/score\",le=\"+Inf\"} 2\n"));
        assert!(text.contains("srl_serve_item_errors_total{reason=\"budget\"} 1\n"));
        assert!(text.contains("srl_serve_in_flight_requests 0\n"));
    }
}
