//! The keys' side of the server: loading them at start, keeping them fresh in the background so
//! that requests are answered from memory, and whether they are loaded (`/readyz`).

use crate::serve::logging::{Line, TARGET};
use clerk_verify::remote::RemoteKeys;
use clerk_verify::Clock;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// First wait before trying again after a failed load; it doubles up to the refresh interval.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// Whether the keys are loaded: always for keys known up front; for fetched keys, while the
/// last successful fetch is recent enough that the core still uses its keys (TTL + max stale).
#[derive(Debug)]
pub struct Readiness {
    fixed: bool,
    usable_for: Duration,
    loaded_at: Mutex<Option<Instant>>,
}

impl Readiness {
    /// For keys known up front.
    pub fn fixed() -> Readiness {
        Readiness {
            fixed: true,
            usable_for: Duration::MAX,
            loaded_at: Mutex::new(None),
        }
    }

    /// For fetched keys the core uses for `usable_for` after a fetch.
    pub fn fetched(usable_for: Duration) -> Readiness {
        Readiness {
            fixed: false,
            usable_for,
            loaded_at: Mutex::new(None),
        }
    }

    /// A fetch succeeded (called from the core's fetch hook).
    pub fn loaded(&self) {
        *self.loaded_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }

    /// Whether `/readyz` answers 200.
    pub fn is_ready(&self) -> bool {
        self.fixed
            || self
                .loaded_at
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some_and(|t| t.elapsed() < self.usable_for)
    }
}

/// Loads the keys now, then refreshes them every `every` (half the cache TTL, so the cache is
/// never due when a request arrives); after a failure, tries again after 1 s, 2 s, 4 s… up to
/// `every`. Each fetch runs on the blocking pool. Runs until the runtime stops.
pub async fn keep_fresh(keys: Arc<RemoteKeys>, clock: Clock, every: Duration) {
    let mut retry = FIRST_RETRY;
    let mut loaded_once = false;
    loop {
        let fetching = Arc::clone(&keys);
        let now = clock.now();
        let wait = match tokio::task::spawn_blocking(move || fetching.refresh(now)).await {
            Ok(Ok(n)) => {
                if !loaded_once {
                    log::info!(
                        target: TARGET,
                        "{}",
                        Line::event("keys-loaded")
                            .kv("keys", n)
                            .kv("url", keys.jwks_url())
                    );
                    loaded_once = true;
                }
                retry = FIRST_RETRY;
                every
            }
            // The core has logged the cause (target clerk_verify::remote) and counted it.
            Ok(Err(_)) => {
                let wait = retry;
                retry = (retry * 2).min(every);
                wait
            }
            Err(e) => {
                log::error!(target: TARGET, "{}", Line::event("refresh-failed").kv("error", e));
                retry
            }
        };
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness() {
        assert!(Readiness::fixed().is_ready());
        let r = Readiness::fetched(Duration::from_secs(60));
        assert!(!r.is_ready());
        r.loaded();
        assert!(r.is_ready());
        let brief = Readiness::fetched(Duration::from_millis(1));
        brief.loaded();
        std::thread::sleep(Duration::from_millis(5));
        assert!(!brief.is_ready());
    }
}
