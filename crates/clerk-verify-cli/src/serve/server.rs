//! The HTTP/1.1 server: accept connections, serve them with hyper, and on SIGTERM (or Ctrl-C)
//! stop accepting, let the requests in flight finish, and return.

use crate::serve::logging::{Line, TARGET};
use crate::serve::routes::{self, State};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A client gets this long to send a request's head (slow clients cannot hold connections).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait at shutdown for the requests in flight (a key fetch is bounded well below).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves until `shutdown` completes, then drains the connections.
pub async fn serve(listener: TcpListener, state: Arc<State>, shutdown: impl Future<Output = ()>) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        log::warn!(target: TARGET, "{}", Line::event("accept-failed").kv("error", e));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&state);
                let service = service_fn(move |req| routes::handle(Arc::clone(&state), req));
                let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        log::debug!(target: TARGET, "{}", Line::event("connection-error").kv("error", e));
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let open = graceful.count();
    log::info!(target: TARGET, "{}", Line::event("shutting-down").kv("connections", open));
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            log::warn!(
                target: TARGET,
                "{}",
                Line::event("shutdown-timeout").kv("seconds", SHUTDOWN_GRACE.as_secs())
            );
        }
    }
}

/// Completes on SIGTERM or SIGINT. The handlers are installed at the call, not when the future
/// is first polled, so a signal that arrives while the server starts is not missed. Call it
/// inside the runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, Signal, SignalKind};
        // A handler that could not be installed leaves that signal's default action (exit).
        async fn recv(signal: Option<Signal>) {
            match signal {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            tokio::select! {
                () = recv(term) => {}
                () = recv(int) => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
