//! What the example tests share: a child process that cannot outlive its test, a free loopback
//! port, and an HTTP client that reports 4xx/5xx as answers rather than errors.

use std::process::Child;
use std::time::Duration;

/// A child process, killed and reaped on drop.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A client with a bounded total time whose error statuses are answers, not errors.
#[allow(dead_code)] // not every test binary that includes this module sends with ureq
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(15)))
        .build()
        .into()
}

pub mod postgres;
