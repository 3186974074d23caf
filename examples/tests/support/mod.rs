//! What the example tests share: a child process that cannot outlive its test, a free loopback
//! port, an HTTP client that reports 4xx/5xx as answers rather than errors, and the loud skip of
//! a test whose tool is missing.

use std::process::Child;
use std::time::Duration;

/// A child process, killed and reaped on drop.
#[allow(dead_code)] // not every test binary that includes this module starts one
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
#[allow(dead_code)]
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

/// A test that cannot run here (a tool is missing) says so loudly and returns; under CI (`CI`
/// set) it fails instead, since CI installs every tool.
#[allow(dead_code)] // not every test binary that includes this module needs a tool
pub fn skip_unless_ci(msg: &str) {
    assert!(std::env::var_os("CI").is_none(), "{msg}");
    // Straight to the process's standard error: `cargo test` captures `eprintln!` of a passing
    // test, and this notice must be seen.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("\n!!! SKIPPED: {msg}\n").as_bytes(),
    );
}
pub mod postgres;
