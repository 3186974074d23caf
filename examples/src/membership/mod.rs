//! `membership-app`: a membership content platform on actix-web and SQLite or PostgreSQL, after the
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
//! Any route answers 503 `database-unavailable` (with `Retry-After`) while the database cannot
//! be reached, and works again by itself once it can.
//!
//! Environment: `HOST`, `PORT`, `DATABASE_URL` (`sqlite:PATH` or `postgres://…`) or else
//! `DATABASE_PATH` (a SQLite file, default `membership.db`; not both),
//! `CLERK_WEBHOOK_SIGNING_SECRET`, and the key source of the other apps (`CLERK_JWT_KEY`,
//! `CLERK_JWKS_URL`, `CLERK_SECRET_KEY`, `CLERK_PUBLISHABLE_KEY`, `CLERK_AUTHORIZED_PARTIES`).
//! The schema is in `examples/migrations/{sqlite,postgres}/`, applied at start-up. Any number
//! of instances may share one PostgreSQL database (docs/membership.md).
//!
//! - `model`: tiers, users, articles, the access rule;
//! - `db`: the pool, the backends, migrations, and which failures are 503;
//! - `store`: the queries of the user and article routes;
//! - `webhook`: the webhook endpoint and how a delivery changes the users table;
//! - `routes`: the user and article routes.

mod db;
mod model;
mod routes;
mod store;
mod webhook;

pub use db::{Database, Db};

use crate::config::listen_addr_from_env;
use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::{web, App, HttpServer};
use clerk_actix::ClerkMiddleware;
use clerk_verify::{Error, Verifier, Webhook};
use routes::ApiError;
use std::net::SocketAddr;

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
    /// The database.
    pub database: Database,
}

impl MembershipConfig {
    /// Reads `HOST`, `PORT`, `DATABASE_URL` or `DATABASE_PATH`, `CLERK_WEBHOOK_SIGNING_SECRET`
    /// and the Clerk key-source variables; a missing or malformed secret or key source, or a
    /// database named twice or by an unknown scheme, is an error here, at start-up.
    pub fn from_env() -> Result<MembershipConfig, String> {
        let describe = |e: Error| format!("{e} (reason {})", e.reason());
        Ok(MembershipConfig {
            addr: listen_addr_from_env()?,
            verifier: Verifier::from_env().map_err(describe)?,
            webhook: Webhook::from_env().map_err(describe)?,
            database: Database::from_lookup(
                |name| std::env::var(name).ok(),
                DEFAULT_DATABASE_PATH,
            )?,
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
/// it by awaiting it), the address it listens on, and the database (close it once the server
/// is done).
pub async fn server(config: MembershipConfig) -> Result<(Server, SocketAddr, db::Db), String> {
    let opened = db::Db::open(&config.database).await?;
    let db = web::Data::new(opened.clone());
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
    Ok((http.run(), addr, opened))
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

/// Serves until Ctrl-C (or SIGTERM), then closes the database's connections.
pub async fn run(config: MembershipConfig) -> Result<(), String> {
    let (server, _, db) = server(config).await?;
    let served = server.await.map_err(|e| e.to_string());
    db.close().await;
    served
}
