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

/// Says loudly, on the process's standard error (which `cargo test` shows, unlike a passing
/// test's `eprintln!`), that a test did not run what it is for.
#[allow(dead_code)] // not every test binary that includes this module skips anything
pub fn skipped(why: &str) {
    let bar = "!".repeat(80);
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("\n{bar}\n!!! SKIPPED: {why}\n{bar}\n").as_bytes(),
    );
}
