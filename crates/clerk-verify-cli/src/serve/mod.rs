//! `clerk-verify serve`: a forward-auth server that puts Clerk in front of any service behind
//! nginx (`auth_request`), Traefik (`forwardAuth`), Caddy (`forward_auth`) or Envoy
//! (`ext_authz`). The proxy asks `/auth` about each request; a 200 carries the user's identity
//! in `X-Clerk-*` headers for the proxy to copy onto the request it forwards. See
//! `docs/gateway.md`.
//!
//! - `args`: the flags (a fixed interface);
//! - `settings`: flags and environment → the verifier, its remote keys, the fetch hooks;
//! - `keys`: loading the keys at start, refreshing them, readiness;
//! - `routes`: `/auth` and the other routes; `policy`: a location's requirements (and the kinds
//!   of token it accepts) from the query; `forwarded`: which request the proxy asks about, from
//!   the headers it sets; `identity`: the `X-Clerk-*` headers of a signed-in answer;
//! - `metrics`: `/metrics`; `logging`: key=value lines on standard error;
//! - `server`: connections, SIGTERM and the graceful drain.

mod args;
mod forwarded;
mod identity;
mod keys;
mod logging;
mod metrics;
mod policy;
mod routes;
mod server;
mod settings;

pub use args::ServeArgs;

use crate::Usage;
use logging::{Line, TARGET};
use metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;

/// Runs the server until SIGTERM; `Err` is a usage or configuration problem (exit 2).
pub fn run(args: ServeArgs) -> Result<u8, Usage> {
    let metrics = Arc::new(Metrics::default());
    let env = |name: &str| std::env::var(name).ok();
    let settings = settings::build(&args, &env, &metrics)?;
    logging::init(&args.log_level);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Usage(format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(async move {
        let shutdown = server::shutdown_signal();
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| Usage(format!("cannot listen on {}: {e}", args.listen)))?;
        let addr = listener.local_addr().map_err(|e| Usage(e.to_string()))?;
        let keys = settings
            .remote
            .as_ref()
            .map_or("fixed".to_owned(), |k| k.jwks_url().to_owned());
        log::info!(
            target: TARGET,
            "{}",
            Line::event("listening")
                .kv("addr", addr)
                .kv("keys", keys)
                .kv("accepts", settings.verifier.options().accepts_token)
                .kv("allow_unauthenticated", settings.allow_unauthenticated)
                .kv("proxy", settings.proxy.name())
        );
        let options = settings.verifier.options();
        let machine = &options.machine;
        if options.accepts_token.accepts_machines()
            && machine.secret_key.is_none()
            && machine.machine_secret_key.is_none()
        {
            // JWT forms still verify; opaque tokens are each a 500 config-invalid.
            log::warn!(
                target: TARGET,
                "{}",
                Line::event("no-secret-key").kv(
                    "detail",
                    "machine tokens are accepted, but opaque ones (ak_, mt_, oat_) cannot be \
                     verified without CLERK_SECRET_KEY or --secret-key-file"
                )
            );
        }
        if let Some(remote) = &settings.remote {
            tokio::spawn(keys::keep_fresh(
                Arc::clone(remote),
                settings.verifier.options().clock.clone(),
                settings.refresh_every,
            ));
        }
        let state = Arc::new(routes::State {
            verifier: settings.verifier,
            allow_unauthenticated: settings.allow_unauthenticated,
            proxy: settings.proxy,
            metrics,
            readiness: settings.readiness,
        });
        server::serve(listener, state, shutdown).await;
        Ok(0)
    });
    // A key fetch still running on the blocking pool is bounded by --fetch-timeout-ms.
    runtime.shutdown_timeout(Duration::from_secs(5));
    log::info!(target: TARGET, "{}", Line::event("stopped"));
    result
}
