//! `/metrics`: counters, gauges and one histogram, written in Prometheus' text format by hand
//! (a handful of metrics do not justify a metrics crate).
//!
//! - `clerk_verify_requests_total{result,reason}`: `/auth` answers. `result` is one of
//!   [`Outcome::label`]'s values; `reason` is a code from `clerk_verify::reason` (bounded), or
//!   `none` when the answer has no reason (signed in, preflight).
//! - `clerk_verify_jwks_fetches_total{outcome}`: `success` or `failure`, from the core's fetch
//!   hooks (so it counts every fetch: warm-up, refreshes, unknown-`kid` refetches).
//! - `clerk_verify_request_duration_seconds`: time to answer `/auth`, from the request's arrival
//!   to its response, verification and key fetches included.
//!
//! Machine tokens (API keys, M2M and OAuth access tokens):
//!
//! - `clerk_verify_machine_requests_total{token_type,result,reason}`: `/auth` answers to
//!   requests whose `Authorization` header holds a machine token (by its form: `ak_`, `mt_`,
//!   `oat_`, or a machine's JWT), at locations that accept machine tokens;
//! - from the core's `Verifier::machine_stats()`, for opaque tokens:
//!   `clerk_verify_backend_api_calls_total{outcome}` (`verified`, `refused`: the API said it is
//!   not a valid token, `failed`: unreachable, slow, 5xx or 429, unreadable, or the secret key
//!   refused), `clerk_verify_machine_answers_without_call_total{why}` (`joined`: shared the call
//!   in flight for the same token, `malformed`: cannot be Clerk's, `refused-before`: the API
//!   refused it a moment ago, `cached`: the result cache, `shed`: over the bound on calls),
//!   and the gauges `clerk_verify_backend_api_calls_in_flight`,
//!   `clerk_verify_machine_refused_remembered` and `clerk_verify_machine_cached_results`.

use clerk_verify::machine::MachineStats;
use clerk_verify::options::TokenKind;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::Duration;

/// How an `/auth` request was answered: the `result` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// 200, a valid session.
    SignedIn,
    /// 200 without a session (`--allow-unauthenticated`).
    SignedOut,
    /// 200, a CORS preflight.
    Preflight,
    /// 400: the forwarded request's headers cannot be trusted.
    BadRequest,
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 503: the keys could not be had.
    Unavailable,
    /// 500: misconfiguration.
    Error,
}

/// The `reason` label of an answer without a reason.
fn label(reason: &'static str) -> &'static str {
    if reason.is_empty() {
        "none"
    } else {
        reason
    }
}

/// Adds one to the counter of `key`: a read lock and an atomic add, the write lock only for a
/// key seen for the first time (the keys are bounded: our own constants).
fn count<K: std::hash::Hash + Eq>(map: &RwLock<HashMap<K, AtomicU64>>, key: K) {
    {
        let read = map.read().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = read.get(&key) {
            c.fetch_add(1, Ordering::Relaxed);
            return;
        }
    }
    let mut write = map.write().unwrap_or_else(|e| e.into_inner());
    write
        .entry(key)
        .or_default()
        .fetch_add(1, Ordering::Relaxed);
}

impl Outcome {
    /// The `result` label value.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::SignedIn => "signed-in",
            Outcome::SignedOut => "signed-out",
            Outcome::Preflight => "preflight",
            Outcome::BadRequest => "bad-request",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Forbidden => "forbidden",
            Outcome::Unavailable => "unavailable",
            Outcome::Error => "error",
        }
    }

    /// The outcome of a refusal's status.
    pub fn of_status(status: u16) -> Outcome {
        match status {
            400 => Outcome::BadRequest,
            401 => Outcome::Unauthorized,
            403 => Outcome::Forbidden,
            503 => Outcome::Unavailable,
            _ => Outcome::Error,
        }
    }
}

/// Upper bounds of the duration histogram's buckets, in seconds: 50 µs (a cached verification
/// on loopback) up to 10 s (a slow key fetch).
const BUCKETS: [f64; 17] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0,
];

/// Every metric of the server. Counting takes a read lock and atomic adds.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: RwLock<HashMap<(Outcome, &'static str), AtomicU64>>,
    machine_requests: RwLock<HashMap<(&'static str, Outcome, &'static str), AtomicU64>>,
    fetch_successes: AtomicU64,
    fetch_failures: AtomicU64,
    /// Per bucket (not cumulative), the last one being +Inf.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    duration_sum_nanos: AtomicU64,
    duration_count: AtomicU64,
}

impl Metrics {
    /// Counts one `/auth` answer and its duration.
    pub fn request(&self, outcome: Outcome, reason: &'static str, took: Duration) {
        count(&self.requests, (outcome, label(reason)));
        let secs = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|le| secs <= *le)
            .unwrap_or(BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.duration_sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.duration_count.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one `/auth` answer to a request with a machine token of `kind`.
    pub fn machine_request(&self, kind: TokenKind, outcome: Outcome, reason: &'static str) {
        count(
            &self.machine_requests,
            (kind.as_str(), outcome, label(reason)),
        );
    }

    /// Counts one JWKS fetch.
    pub fn jwks_fetch(&self, success: bool) {
        let counter = if success {
            &self.fetch_successes
        } else {
            &self.fetch_failures
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition format (version 0.0.4), with the core's machine-token counts.
    pub fn render(&self, machines: &MachineStats) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str(
            "# HELP clerk_verify_requests_total Answers of /auth, by result and reason.\n\
             # TYPE clerk_verify_requests_total counter\n",
        );
        let mut rows: Vec<((Outcome, &str), u64)> = self
            .requests
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (*k, v.load(Ordering::Relaxed)))
            .collect();
        rows.sort();
        for ((outcome, reason), n) in rows {
            // Label values are our own constants: nothing to escape.
            let _ = writeln!(
                out,
                "clerk_verify_requests_total{{result=\"{}\",reason=\"{reason}\"}} {n}",
                outcome.label()
            );
        }
        let _ = write!(
            out,
            "# HELP clerk_verify_jwks_fetches_total JWKS fetches, by outcome.\n\
             # TYPE clerk_verify_jwks_fetches_total counter\n\
             clerk_verify_jwks_fetches_total{{outcome=\"success\"}} {}\n\
             clerk_verify_jwks_fetches_total{{outcome=\"failure\"}} {}\n",
            self.fetch_successes.load(Ordering::Relaxed),
            self.fetch_failures.load(Ordering::Relaxed),
        );
        out.push_str(
            "# HELP clerk_verify_request_duration_seconds Time to answer /auth.\n\
             # TYPE clerk_verify_request_duration_seconds histogram\n",
        );
        let mut cumulative = 0;
        for (i, count) in self.buckets.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let le = BUCKETS.get(i).map_or("+Inf".to_owned(), |b| b.to_string());
            let _ = writeln!(
                out,
                "clerk_verify_request_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}"
            );
        }
        let sum = Duration::from_nanos(self.duration_sum_nanos.load(Ordering::Relaxed));
        let _ = write!(
            out,
            "clerk_verify_request_duration_seconds_sum {}\n\
             clerk_verify_request_duration_seconds_count {}\n",
            sum.as_secs_f64(),
            self.duration_count.load(Ordering::Relaxed),
        );
        self.render_machines(&mut out, machines);
        out
    }

    fn render_machines(&self, out: &mut String, m: &MachineStats) {
        out.push_str(
            "# HELP clerk_verify_machine_requests_total Answers of /auth to machine tokens, by \
             kind, result and reason.\n\
             # TYPE clerk_verify_machine_requests_total counter\n",
        );
        let mut rows: Vec<((&str, Outcome, &str), u64)> = self
            .machine_requests
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (*k, v.load(Ordering::Relaxed)))
            .collect();
        rows.sort();
        for ((kind, outcome, reason), n) in rows {
            let _ = writeln!(
                out,
                "clerk_verify_machine_requests_total{{token_type=\"{kind}\",result=\"{}\",\
                 reason=\"{reason}\"}} {n}",
                outcome.label()
            );
        }
        out.push_str(
            "# HELP clerk_verify_backend_api_calls_total Calls to Clerk's Backend API to verify \
             opaque machine tokens, by outcome.\n\
             # TYPE clerk_verify_backend_api_calls_total counter\n",
        );
        for (outcome, n) in [
            ("verified", m.verified),
            ("refused", m.refused),
            ("failed", m.failed),
        ] {
            let _ = writeln!(
                out,
                "clerk_verify_backend_api_calls_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP clerk_verify_machine_answers_without_call_total Opaque machine tokens \
             answered without a call of their own, by why.\n\
             # TYPE clerk_verify_machine_answers_without_call_total counter\n",
        );
        for (why, n) in [
            ("joined", m.joined),
            ("malformed", m.malformed),
            ("refused-before", m.refused_from_memory),
            ("cached", m.cache_hits),
            ("shed", m.shed),
        ] {
            let _ = writeln!(
                out,
                "clerk_verify_machine_answers_without_call_total{{why=\"{why}\"}} {n}"
            );
        }
        for (name, help, n) in [
            (
                "clerk_verify_backend_api_calls_in_flight",
                "Calls to the Backend API running or waiting for a slot.",
                m.in_flight,
            ),
            (
                "clerk_verify_machine_refused_remembered",
                "Machine tokens the Backend API refused, remembered to refuse again without a call.",
                m.refused_remembered,
            ),
            (
                "clerk_verify_machine_cached_results",
                "Verified machine tokens in the result cache.",
                m.cached_results,
            ),
        ] {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {n}\n"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format() {
        let m = Metrics::default();
        let text = m.render(&MachineStats::default());
        assert!(text.contains("clerk_verify_jwks_fetches_total{outcome=\"success\"} 0\n"));
        assert!(text.contains("clerk_verify_request_duration_seconds_bucket{le=\"+Inf\"} 0\n"));
        assert!(!text.contains("clerk_verify_requests_total{"));

        m.request(Outcome::SignedIn, "", Duration::from_micros(30));
        m.request(Outcome::SignedIn, "", Duration::from_micros(70));
        m.request(
            Outcome::Unauthorized,
            "token-expired",
            Duration::from_secs(20),
        );
        m.jwks_fetch(true);
        m.jwks_fetch(false);
        m.jwks_fetch(false);
        m.machine_request(TokenKind::ApiKey, Outcome::SignedIn, "");
        m.machine_request(TokenKind::ApiKey, Outcome::SignedIn, "");
        m.machine_request(
            TokenKind::M2mToken,
            Outcome::Unavailable,
            "backend-api-unavailable",
        );
        let mut stats = MachineStats::default();
        stats.verified = 3;
        stats.refused = 2;
        stats.failed = 1;
        stats.joined = 49;
        stats.malformed = 500;
        stats.refused_from_memory = 4;
        stats.shed = 7;
        stats.refused_remembered = 2;
        stats.in_flight = 1;
        let text = m.render(&stats);
        for line in [
            "clerk_verify_requests_total{result=\"signed-in\",reason=\"none\"} 2",
            "clerk_verify_requests_total{result=\"unauthorized\",reason=\"token-expired\"} 1",
            "clerk_verify_jwks_fetches_total{outcome=\"success\"} 1",
            "clerk_verify_jwks_fetches_total{outcome=\"failure\"} 2",
            // Cumulative buckets: 30 µs in the first, 70 µs by the second, 20 s only in +Inf.
            "clerk_verify_request_duration_seconds_bucket{le=\"0.00005\"} 1",
            "clerk_verify_request_duration_seconds_bucket{le=\"0.0001\"} 2",
            "clerk_verify_request_duration_seconds_bucket{le=\"10\"} 2",
            "clerk_verify_request_duration_seconds_bucket{le=\"+Inf\"} 3",
            "clerk_verify_request_duration_seconds_sum 20.0001",
            "clerk_verify_request_duration_seconds_count 3",
            "clerk_verify_machine_requests_total{token_type=\"api_key\",result=\"signed-in\",reason=\"none\"} 2",
            "clerk_verify_machine_requests_total{token_type=\"m2m_token\",result=\"unavailable\",reason=\"backend-api-unavailable\"} 1",
            "clerk_verify_backend_api_calls_total{outcome=\"verified\"} 3",
            "clerk_verify_backend_api_calls_total{outcome=\"refused\"} 2",
            "clerk_verify_backend_api_calls_total{outcome=\"failed\"} 1",
            "clerk_verify_machine_answers_without_call_total{why=\"joined\"} 49",
            "clerk_verify_machine_answers_without_call_total{why=\"malformed\"} 500",
            "clerk_verify_machine_answers_without_call_total{why=\"refused-before\"} 4",
            "clerk_verify_machine_answers_without_call_total{why=\"cached\"} 0",
            "clerk_verify_machine_answers_without_call_total{why=\"shed\"} 7",
            "clerk_verify_backend_api_calls_in_flight 1",
            "clerk_verify_machine_refused_remembered 2",
            "clerk_verify_machine_cached_results 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        // Every sample line is `name{labels} value` or `name value`, after its HELP and TYPE.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }

    #[test]
    fn outcomes_of_statuses() {
        assert_eq!(Outcome::of_status(400), Outcome::BadRequest);
        assert_eq!(Outcome::of_status(401), Outcome::Unauthorized);
        assert_eq!(Outcome::of_status(403), Outcome::Forbidden);
        assert_eq!(Outcome::of_status(503), Outcome::Unavailable);
        assert_eq!(Outcome::of_status(500), Outcome::Error);
    }
}
