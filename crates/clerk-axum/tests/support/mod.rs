//! What the integration tests share: an axum app served on 127.0.0.1 by `axum::serve`, on a
//! single-threaded runtime of its own (so the executor is one known thread), stopped and
//! joined on drop.

// Each test binary compiles this module and uses part of it.
#![allow(dead_code)]

use axum::Router;
use std::future::IntoFuture;
use std::thread::{JoinHandle, ThreadId};
use tokio::sync::oneshot;

pub struct Served {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub addr: std::net::SocketAddr,
    /// The runtime's one thread, where handlers and extractors run.
    pub executor: ThreadId,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Served {
    pub fn start(app: Router) -> Served {
        Served::start_with(|_| app)
    }

    /// Binds first, then builds the app for its own base URL (e.g. a verifier whose authorized
    /// party is the app's origin).
    pub fn start_with(app: impl FnOnce(&str) -> Router) -> Served {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        Served::start_on(listener, app)
    }

    /// As [`Served::start_with`], on a listener bound already (two apps that each need the
    /// other's address).
    pub fn start_on(listener: std::net::TcpListener, app: impl FnOnce(&str) -> Router) -> Served {
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let app = app(&base);
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                // Not a graceful shutdown: dropping the runtime ends open connections too.
                tokio::select! {
                    served = axum::serve(listener, app).into_future() => served.unwrap(),
                    _ = stopped => {}
                }
            });
        });
        Served {
            base,
            addr,
            executor: thread.thread().id(),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
