//! What the integration tests share: a Rocket app served on 127.0.0.1 (any free port, logs
//! off, no grace period) on its own thread and runtime, shut down and joined on drop.

// Each test binary compiles this module and uses part of it.
#![allow(dead_code)]

use rocket::fairing::AdHoc;
use rocket::{Build, Rocket, Shutdown};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A Rocket to build the app on, configured for the tests' server.
pub fn loopback() -> Rocket<Build> {
    loopback_on(0)
}

/// As [`loopback`], on `port` (0: any free one).
pub fn loopback_on(port: u16) -> Rocket<Build> {
    let figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("shutdown.grace", 0))
        .merge(("shutdown.mercy", 0))
        .merge(("shutdown.ctrlc", false));
    rocket::custom(figment)
}

pub struct Served {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    shutdown: Shutdown,
    thread: Option<JoinHandle<()>>,
}

impl Served {
    /// Launches `rocket` (built on [`loopback`]) and waits until it listens.
    pub fn launch(rocket: Rocket<Build>) -> Served {
        let (tx, rx) = mpsc::channel();
        let rocket = rocket.attach(AdHoc::on_liftoff("report", move |rocket| {
            let report = (rocket.config().port, rocket.shutdown());
            Box::pin(async move {
                let _ = tx.send(report);
            })
        }));
        let thread = std::thread::spawn(move || {
            let _ = rocket::execute(rocket.launch());
        });
        let (port, shutdown) = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_ne!(port, 0, "Rocket reports the port it bound");
        Served {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            base: format!("http://127.0.0.1:{port}"),
            shutdown,
            thread: Some(thread),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
