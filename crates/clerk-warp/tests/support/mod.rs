//! What the integration tests share: warp's server on 127.0.0.1, on its own thread and
//! multi-threaded runtime (so the filters' futures must be `Send`), stopped and joined on drop.

// Each test binary compiles this module and uses part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;
use warp::{Filter, Rejection, Reply};

pub struct Served {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Served {
    /// Binds first, then builds the routes for the server's own base URL (e.g. a verifier
    /// whose authorized party is the app's origin).
    pub fn start_with<F>(routes: impl FnOnce(&str) -> F) -> Served
    where
        F: Filter<Error = Rejection> + Clone + Send + Sync + 'static,
        F::Extract: Reply,
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        Served::start_on(listener, routes)
    }

    /// As [`Served::start_with`], on a listener bound already (two apps that each need the
    /// other's address).
    pub fn start_on<F>(listener: std::net::TcpListener, routes: impl FnOnce(&str) -> F) -> Served
    where
        F: Filter<Error = Rejection> + Clone + Send + Sync + 'static,
        F::Extract: Reply,
    {
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let routes = routes(&base);
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, is_ready) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    ready.send(()).unwrap();
                    warp::serve(routes)
                        .incoming(listener)
                        .graceful(async {
                            let _ = stopped.await;
                        })
                        .run()
                        .await;
                })
        });
        is_ready.recv_timeout(Duration::from_secs(30)).unwrap();
        Served {
            addr,
            base,
            stop: Some(stop),
            thread: Some(thread),
        }
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
