//! [`MachineOptions`]: how opaque machine tokens (API keys, M2M and OAuth access tokens) are
//! verified through Clerk's Backend API, as plain values: the keys and URL, the call's bounds,
//! and the memories that spare the API (and the instance's quota) repeated or made-up calls.

use crate::error::Error;
use std::fmt;
use std::time::Duration;

/// Settings of machine authentication ([`crate::VerifyOptions::machine`]).
///
/// Opaque tokens (`ak_…`, `mt_…`, `oat_…`) can only be judged by Clerk's Backend API, one call
/// per token, as Clerk's SDKs do (`POST {api_url}/api_keys/verify` and the like, with the
/// secret key). Beyond Clerk's SDKs, these calls are bounded, so that neither an outage nor a
/// stranger can turn them against the service:
///
/// - an outage is never a sign-out: an API that is unreachable, slower than
///   [`MachineOptions::timeout`], or answers 5xx/429 gives `backend-api-unavailable` (503);
///   a 401 is `secret-key-invalid` (500); a 404 is `token-invalid` (401);
/// - a token that cannot be Clerk's (after its prefix, not 16 to 128 ASCII letters and digits)
///   is refused without a call;
/// - a token the API refused is remembered ([`MachineOptions::refused_ttl`], at most
///   [`MachineOptions::refused_capacity`] tokens) and refused again without a call;
/// - concurrent requests with the same token share one call;
/// - at most [`MachineOptions::max_in_flight`] calls run at once; more wait, at most
///   [`MachineOptions::queue_wait`] for a slot (and at most [`MachineOptions::max_queued`] of
///   them), then get `backend-api-unavailable`; at most
///   [`MachineOptions::calls_per_second`] calls start per second;
/// - the result cache ([`MachineOptions::result_cache_capacity`]) is **off by default**: with
///   it on, a verified token is answered from memory for up to
///   [`MachineOptions::result_cache_ttl`] (never past its `expiration`), so **a revoked key
///   stays usable for up to that long**.
///
/// ```
/// use clerk_verify::options::MachineOptions;
/// use std::time::Duration;
///
/// let machine = MachineOptions::default()
///     .secret_key("sk_test_abc123")
///     .result_cache(1_000, Duration::from_secs(10)); // revoked keys live on up to 10 s
/// assert_eq!(machine.result_cache_capacity, 1_000);
/// assert!(!format!("{machine:?}").contains("sk_test_abc123"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MachineOptions {
    /// The secret key (`CLERK_SECRET_KEY`): the bearer of every verify call (`mt_` tokens use
    /// the machine secret key first).
    pub secret_key: Option<String>,
    /// The machine secret key (`CLERK_MACHINE_SECRET_KEY`): the bearer for `mt_` tokens when
    /// set (Clerk's `machineSecretKey`), else the secret key.
    pub machine_secret_key: Option<String>,
    /// The Backend API (`CLERK_API_URL`), default `https://api.clerk.com` (`http://` only on a
    /// loopback host). The verify paths have no `/v1`, as in Clerk's SDKs.
    pub api_url: Option<String>,
    /// Longest one verify call may take, from connecting to the last byte of the answer.
    /// Default 3 s.
    pub timeout: Duration,
    /// Longest connecting may take (DNS, TCP, TLS). Default 2 s.
    pub connect_timeout: Duration,
    /// Most verify calls running at once (each on a thread of its own). Default 32.
    pub max_in_flight: usize,
    /// Most calls waiting for a slot; one more is answered `backend-api-unavailable` at once.
    /// Default 128.
    pub max_queued: usize,
    /// Longest a call waits for a slot before its requests get `backend-api-unavailable`.
    /// Default 1 s.
    pub queue_wait: Duration,
    /// Most verify calls started per second (a token bucket with as large a burst); beyond it
    /// a new token is answered `backend-api-unavailable` without a call. Default 100, the
    /// Backend API's own limit for a production instance (1,000 requests per 10 s), above
    /// which Clerk would answer 429 anyway.
    pub calls_per_second: u32,
    /// How long a token the API refused (404 and the like, revoked, expired) is refused again
    /// without a call. Default 60 s; zero forgets at once.
    pub refused_ttl: Duration,
    /// Most refused tokens remembered (by their SHA-256, with why). Default 10,000 (about
    /// 2 MiB).
    pub refused_capacity: usize,
    /// Capacity of the result cache, in tokens; 0 (the default) turns it off.
    pub result_cache_capacity: usize,
    /// How long a verified opaque token is answered from the result cache (whole seconds;
    /// never past the token's `expiration`). Default 10 s. A revoked key keeps working for up
    /// to this long.
    pub result_cache_ttl: Duration,
    /// Largest answer body read from the API. Default 64 KiB.
    pub max_response_bytes: usize,
}

impl MachineOptions {
    /// Default [`MachineOptions::timeout`].
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
    /// Default [`MachineOptions::connect_timeout`].
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
    /// Default [`MachineOptions::max_in_flight`].
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 32;
    /// Default [`MachineOptions::max_queued`].
    pub const DEFAULT_MAX_QUEUED: usize = 128;
    /// Default [`MachineOptions::queue_wait`].
    pub const DEFAULT_QUEUE_WAIT: Duration = Duration::from_secs(1);
    /// Default [`MachineOptions::calls_per_second`].
    pub const DEFAULT_CALLS_PER_SECOND: u32 = 100;
    /// Default [`MachineOptions::refused_ttl`].
    pub const DEFAULT_REFUSED_TTL: Duration = Duration::from_secs(60);
    /// Default [`MachineOptions::refused_capacity`].
    pub const DEFAULT_REFUSED_CAPACITY: usize = 10_000;
    /// Default [`MachineOptions::result_cache_ttl`] (when the cache is turned on).
    pub const DEFAULT_RESULT_CACHE_TTL: Duration = Duration::from_secs(10);
    /// Default [`MachineOptions::max_response_bytes`].
    pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024;
    /// Largest accepted [`MachineOptions::max_in_flight`], [`MachineOptions::max_queued`],
    /// [`MachineOptions::refused_capacity`] and [`MachineOptions::result_cache_capacity`].
    pub const MAX_CAPACITY: usize = 1_000_000;

    /// Sets [`MachineOptions::secret_key`].
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> Self {
        self.secret_key = Some(secret_key.into());
        self
    }

    /// Sets [`MachineOptions::machine_secret_key`].
    pub fn machine_secret_key(mut self, key: impl Into<String>) -> Self {
        self.machine_secret_key = Some(key.into());
        self
    }

    /// Sets [`MachineOptions::api_url`].
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(url.into());
        self
    }

    /// Sets [`MachineOptions::timeout`] and, when it is shorter, the connect timeout too.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.connect_timeout = self.connect_timeout.min(timeout);
        self
    }

    /// Sets [`MachineOptions::max_in_flight`].
    pub fn max_in_flight(mut self, calls: usize) -> Self {
        self.max_in_flight = calls;
        self
    }

    /// Sets [`MachineOptions::max_queued`].
    pub fn max_queued(mut self, calls: usize) -> Self {
        self.max_queued = calls;
        self
    }

    /// Sets [`MachineOptions::queue_wait`].
    pub fn queue_wait(mut self, wait: Duration) -> Self {
        self.queue_wait = wait;
        self
    }

    /// Sets [`MachineOptions::calls_per_second`].
    pub fn calls_per_second(mut self, calls: u32) -> Self {
        self.calls_per_second = calls;
        self
    }

    /// Sets [`MachineOptions::refused_ttl`] and [`MachineOptions::refused_capacity`].
    pub fn refused(mut self, capacity: usize, ttl: Duration) -> Self {
        self.refused_capacity = capacity;
        self.refused_ttl = ttl;
        self
    }

    /// Turns the result cache on (`capacity` > 0) with `ttl`, or off (`capacity` 0). A revoked
    /// key keeps working for up to `ttl`.
    pub fn result_cache(mut self, capacity: usize, ttl: Duration) -> Self {
        self.result_cache_capacity = capacity;
        self.result_cache_ttl = ttl;
        self
    }

    /// Refuses settings that cannot be meant.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(Error::config(
                "the machine verify timeouts must not be zero",
            ));
        }
        if self.max_in_flight == 0 {
            return Err(Error::config(
                "machine max_in_flight is zero: no opaque token could ever be verified",
            ));
        }
        if self.calls_per_second == 0 {
            return Err(Error::config(
                "machine calls_per_second is zero: no opaque token could ever be verified",
            ));
        }
        let capacities = [
            ("max_in_flight", self.max_in_flight),
            ("max_queued", self.max_queued),
            ("refused_capacity", self.refused_capacity),
            ("result_cache_capacity", self.result_cache_capacity),
        ];
        if let Some((name, n)) = capacities
            .iter()
            .find(|(_, n)| *n > MachineOptions::MAX_CAPACITY)
        {
            return Err(Error::config(format!(
                "machine {name} is {n}; at most {} is accepted",
                MachineOptions::MAX_CAPACITY
            )));
        }
        if self.max_response_bytes < 1024 {
            return Err(Error::config(
                "machine max_response_bytes is under 1 KiB: no answer would fit",
            ));
        }
        Ok(())
    }
}

impl Default for MachineOptions {
    fn default() -> MachineOptions {
        MachineOptions {
            secret_key: None,
            machine_secret_key: None,
            api_url: None,
            timeout: MachineOptions::DEFAULT_TIMEOUT,
            connect_timeout: MachineOptions::DEFAULT_CONNECT_TIMEOUT,
            max_in_flight: MachineOptions::DEFAULT_MAX_IN_FLIGHT,
            max_queued: MachineOptions::DEFAULT_MAX_QUEUED,
            queue_wait: MachineOptions::DEFAULT_QUEUE_WAIT,
            calls_per_second: MachineOptions::DEFAULT_CALLS_PER_SECOND,
            refused_ttl: MachineOptions::DEFAULT_REFUSED_TTL,
            refused_capacity: MachineOptions::DEFAULT_REFUSED_CAPACITY,
            result_cache_capacity: 0,
            result_cache_ttl: MachineOptions::DEFAULT_RESULT_CACHE_TTL,
            max_response_bytes: MachineOptions::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

impl fmt::Debug for MachineOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |k: &Option<String>| k.as_ref().map(|_| "[redacted]");
        f.debug_struct("MachineOptions")
            .field("secret_key", &redacted(&self.secret_key))
            .field("machine_secret_key", &redacted(&self.machine_secret_key))
            .field("api_url", &self.api_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_in_flight", &self.max_in_flight)
            .field("max_queued", &self.max_queued)
            .field("queue_wait", &self.queue_wait)
            .field("calls_per_second", &self.calls_per_second)
            .field("refused_ttl", &self.refused_ttl)
            .field("refused_capacity", &self.refused_capacity)
            .field("result_cache_capacity", &self.result_cache_capacity)
            .field("result_cache_ttl", &self.result_cache_ttl)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_safe_and_validated() {
        let o = MachineOptions::default();
        assert_eq!(o.result_cache_capacity, 0, "the result cache is opt-in");
        assert!(o.validate().is_ok());
        assert!(MachineOptions::default()
            .max_in_flight(0)
            .validate()
            .is_err());
        assert!(MachineOptions::default()
            .calls_per_second(0)
            .validate()
            .is_err());
        assert!(MachineOptions::default()
            .timeout(Duration::ZERO)
            .validate()
            .is_err());
        assert!(MachineOptions::default()
            .result_cache(MachineOptions::MAX_CAPACITY + 1, Duration::from_secs(1))
            .validate()
            .is_err());
        let short = MachineOptions::default().timeout(Duration::from_millis(500));
        assert_eq!(short.connect_timeout, Duration::from_millis(500));
    }
}
