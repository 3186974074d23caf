//! The seed app on actix-web: `GET /clerk-jwt` (optional auth), `GET /get-gated` (required
//! auth), and the guard examples `GET /admin` (role `org:admin`) and `GET /invoices`
//! (permission `org:invoices:read`), with CORS for the authorized parties; and `GET
//! /api/machine` for machine tokens ([`crate::machine`]).

use crate::config::AppConfig;
use crate::machine::MachineBody;
use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::{get, web, App, HttpResponse, HttpServer};
use clerk_actix::{ClerkAuth, ClerkError, ClerkMachine, ClerkMiddleware, OptionalAuth};
use serde_json::json;
use std::net::SocketAddr;

/// `{"userId": "<sub>"}` when signed in, `{"userId": null}` without a valid session; 503 when
/// a token was sent but the key source is down (an outage never makes users anonymous).
#[get("/clerk-jwt")]
async fn clerk_jwt(auth: OptionalAuth) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "userId": auth.as_ref().map(|a| a.user_id()) }))
}

/// `{"foo":"bar"}` when signed in; 401 (or 503 when the keys cannot be had) otherwise.
#[get("/get-gated")]
async fn get_gated(_auth: ClerkAuth) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "foo": "bar" }))
}

/// Organization admins only: 403 for other signed-in users.
#[get("/admin")]
async fn admin(auth: ClerkAuth) -> Result<HttpResponse, ClerkError> {
    auth.require_role("org:admin")?;
    Ok(HttpResponse::Ok().json(json!({ "ok": true })))
}

/// Members allowed to read invoices only: 403 for other signed-in users.
#[get("/invoices")]
async fn invoices(auth: ClerkAuth) -> Result<HttpResponse, ClerkError> {
    auth.require_permission("org:invoices:read")?;
    Ok(HttpResponse::Ok().json(json!({ "ok": true })))
}

/// Machine tokens of the three kinds: `{"tokenType", "subject", "scopes"}`; 401 otherwise (a
/// session token: `token-type-mismatch`), 503 when Clerk's Backend API cannot answer.
#[get("/api/machine")]
async fn machine(machine: ClerkMachine) -> HttpResponse {
    HttpResponse::Ok().json(MachineBody::from(&*machine))
}

/// The routes, for `App::configure`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(clerk_jwt)
        .service(get_gated)
        .service(admin)
        .service(invoices)
        .service(machine);
}

/// CORS for the authorized parties: credentials and the `Authorization` header allowed.
fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "OPTIONS"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .supports_credentials()
        .max_age(600)
}

/// Binds the app to `config.addr` and returns the server (run it by awaiting it; it stops on
/// Ctrl-C) with the address it actually listens on.
pub fn server(config: AppConfig) -> std::io::Result<(Server, SocketAddr)> {
    let verifier = web::Data::new(config.verifier);
    let origins = config.cors_origins;
    let http = HttpServer::new(move || {
        App::new()
            .app_data(verifier.clone())
            // The last `wrap` runs first: CORS answers preflights before any authentication.
            .wrap(ClerkMiddleware::new())
            .wrap(cors(&origins))
            .configure(routes)
    })
    .bind(config.addr)?;
    let addr = http.addrs().first().copied().unwrap_or(config.addr);
    Ok((http.run(), addr))
}

/// Serves the app until Ctrl-C.
pub async fn run(config: AppConfig) -> std::io::Result<()> {
    let (server, _) = server(config)?;
    server.await
}
