//! `membership-app`: a membership content platform on actix-web and SQLite, after the
//! Strapi/Clerk guide. Clerk signs users in; its webhooks keep a local `users` table in sync
//! (primary email, names, and the tier from `public_metadata.tier`); articles are gated by
//! tier, and only owners change what they own.
//!
//! | Route | Auth | Answers |
//! |---|---|---|
//! | `POST /webhooks/clerk` | Svix signature | 200 `{"status": "applied" \| "duplicate" \| "stale" \| "ignored"}` (also for an event whose JSON Clerk changed: what cannot be read is kept as stored); 400 for a forged, stale or malformed delivery |
//! | `GET /users/me` | required | `{id, email, first_name, last_name, tier}` (a provisional `free` row for a user Clerk has not told us about yet); 401 for a deleted user |
//! | `PUT /users/{id}` | required | the owner's names replaced; 403 for another user, 404 when absent |
//! | `POST /articles` | required | 201, the article `{id, title, content, tier, author}` |
//! | `GET /articles/accessible` | optional | `[{id, title, tier, author}]` the caller's tier may read |
//! | `GET /articles/{id}` | optional | 200; 401 anonymous on a non-free article; 403 tier too low; 404 |
//! | `PUT`, `DELETE /articles/{id}` | required | the author only: 403 otherwise, 404 when absent |
//!
//! Environment: `HOST`, `PORT`, `DATABASE_PATH` (default `membership.db`),
//! `CLERK_WEBHOOK_SIGNING_SECRET`, and the key source of the other apps (`CLERK_JWT_KEY`,
//! `CLERK_JWKS_URL`, `CLERK_SECRET_KEY`, `CLERK_PUBLISHABLE_KEY`, `CLERK_AUTHORIZED_PARTIES`).
//! The schema is in `examples/migrations/`, applied at start-up.
//!
//! - `model`: tiers, users, articles, the access rule;
//! - `db`: the pool, migrations and queries (blocking; run with `web::block`);
//! - `webhook`: the webhook endpoint and how a delivery changes the users table;
//! - `routes`: the user and article routes.

mod db;
mod model;
mod routes;
mod webhook;

use crate::config::listen_addr_from_env;
use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::{web, App, HttpServer};
use clerk_actix::ClerkMiddleware;
use clerk_verify::{Error, Verifier, Webhook};
use routes::ApiError;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Default `DATABASE_PATH`.
pub const DEFAULT_DATABASE_PATH: &str = "membership.db";

/// The app's configuration.
#[derive(Debug, Clone)]
pub struct MembershipConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Session tokens.
    pub verifier: Verifier,
    /// Webhook deliveries.
    pub webhook: Webhook,
    /// The SQLite file.
    pub database_path: PathBuf,
}

impl MembershipConfig {
    /// Reads `HOST`, `PORT`, `DATABASE_PATH`, `CLERK_WEBHOOK_SIGNING_SECRET` and the Clerk
    /// key-source variables; a missing or malformed secret or key source is an error here, at
    /// start-up.
    pub fn from_env() -> Result<MembershipConfig, String> {
        let describe = |e: Error| format!("{e} (reason {})", e.reason());
        Ok(MembershipConfig {
            addr: listen_addr_from_env()?,
            verifier: Verifier::from_env().map_err(describe)?,
            webhook: Webhook::from_env().map_err(describe)?,
            database_path: std::env::var_os("DATABASE_PATH")
                .filter(|p| !p.is_empty())
                .map_or_else(|| DEFAULT_DATABASE_PATH.into(), PathBuf::from),
        })
    }
}

/// CORS for the authorized parties.
fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST", "PUT", "DELETE", "OPTIONS"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .supports_credentials()
        .max_age(600)
}

/// Opens the database (applying migrations), binds `config.addr`, and returns the server (run
/// it by awaiting it) with the address it listens on.
pub fn server(config: MembershipConfig) -> Result<(Server, SocketAddr), String> {
    let db = web::Data::new(db::Db::open(&config.database_path)?);
    let verifier = web::Data::new(config.verifier);
    let hook = web::Data::new(config.webhook);
    let origins = verifier.options().authorized_parties.clone();
    let json = web::JsonConfig::default()
        .limit(256 * 1024)
        .error_handler(|e, _| ApiError::invalid_body(e.to_string()).into());
    let http = HttpServer::new(move || {
        App::new()
            .app_data(db.clone())
            .app_data(verifier.clone())
            .app_data(hook.clone())
            .app_data(json.clone())
            .wrap(ClerkMiddleware::new())
            .wrap(cors(&origins))
            .service(webhook::clerk_webhook)
            .configure(routes::routes)
    })
    .bind(config.addr)
    .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = http.addrs().first().copied().unwrap_or(config.addr);
    Ok((http.run(), addr))
}

/// Writes warnings and errors to standard error, one line each: the app's own (a failed
/// database call) and `clerk_verify`'s (a webhook event whose JSON Clerk changed, under
/// `clerk_verify::webhook`, once per event type and member). Without a logger the `log` facade
/// drops them. Does nothing if a logger is already installed.
pub fn log_to_stderr() {
    struct Stderr;
    impl log::Log for Stderr {
        fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
            metadata.level() <= log::Level::Warn
        }
        fn log(&self, record: &log::Record<'_>) {
            if self.enabled(record.metadata()) {
                eprintln!("{} {}: {}", record.level(), record.target(), record.args());
            }
        }
        fn flush(&self) {}
    }
    static LOGGER: Stderr = Stderr;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
}

/// Serves until Ctrl-C.
pub async fn run(config: MembershipConfig) -> Result<(), String> {
    let (server, _) = server(config)?;
    server.await.map_err(|e| e.to_string())
}
