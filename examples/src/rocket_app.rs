//! The seed app on Rocket 0.5, protected with `clerk-rocket`:
//!
//! - `GET /clerk-jwt`: `{"userId": "<sub>"}` when signed in, `{"userId": null}` without a valid
//!   session; 503 when a token was sent but the key source is down (`OptionalAuth`).
//! - `GET /get-gated`: `{"foo": "bar"}` when signed in; 401 (or 503 when the key source is down)
//!   with a JSON body otherwise (`ClerkAuth`).
//! - `GET /admin`: `{"ok": true}` for the organization role `org:admin`, else 403
//!   (`RequireRole`).
//! - `GET /invoices`: `{"ok": true}` with the permission `org:invoices:read`, else 403
//!   (`RequirePermission`).
//! - `GET /api/machine`: machine tokens ([`crate::machine`], `ClerkMachine`).
//!
//! CORS through `rocket_cors`: the authorized parties are the allowed origins, with credentials
//! and the `Authorization` header allowed for GET; preflights never reach the guards.

use crate::config::AppConfig;
use crate::machine::MachineBody;
use clerk_rocket::{
    ClerkAuth, ClerkFairing, ClerkMachine, OptionalAuth, Permission, RequirePermission,
    RequireRole, Role,
};
use rocket::http::Method;
use rocket::serde::json::{json, Json, Value};
use rocket::{get, routes, Build, Rocket};
use rocket_cors::{AllowedHeaders, AllowedOrigins, CorsOptions};

/// The organization role `/admin` requires.
pub struct OrgAdmin;

impl Role for OrgAdmin {
    const ROLE: &'static str = "org:admin";
}

/// The organization permission `/invoices` requires.
pub struct ReadInvoices;

impl Permission for ReadInvoices {
    const PERMISSION: &'static str = "org:invoices:read";
}

#[get("/clerk-jwt")]
fn clerk_jwt(auth: OptionalAuth) -> Value {
    json!({ "userId": auth.as_ref().map(|a| a.user_id()) })
}

#[get("/get-gated")]
fn get_gated(_auth: ClerkAuth) -> Value {
    json!({ "foo": "bar" })
}

#[get("/admin")]
fn admin(_admin: RequireRole<OrgAdmin>) -> Value {
    json!({ "ok": true })
}

#[get("/invoices")]
fn invoices(_reader: RequirePermission<ReadInvoices>) -> Value {
    json!({ "ok": true })
}

/// Machine tokens of the three kinds; a session token is 401 `token-type-mismatch`.
#[get("/api/machine")]
fn machine(machine: ClerkMachine) -> Json<MachineBody> {
    Json(MachineBody::from(&*machine))
}

/// The app, ready to launch: listens on `config.addr` (other Rocket settings still come from
/// `Rocket.toml` / `ROCKET_*` as usual), manages the verifier, and has the Clerk catchers and
/// fairing and the CORS fairing attached.
pub fn rocket(config: AppConfig) -> Result<Rocket<Build>, String> {
    let cors = CorsOptions {
        allowed_origins: AllowedOrigins::some_exact(&config.cors_origins),
        allowed_methods: [Method::Get, Method::Options]
            .into_iter()
            .map(From::from)
            .collect(),
        allowed_headers: AllowedHeaders::some(&["Authorization", "Content-Type"]),
        allow_credentials: true,
        ..CorsOptions::default()
    }
    .to_cors()
    .map_err(|e| format!("CORS configuration: {e}"))?;

    let figment = rocket::Config::figment()
        .merge(("address", config.addr.ip()))
        .merge(("port", config.addr.port()));

    Ok(rocket::custom(figment)
        .manage(config.verifier)
        .attach(cors)
        .attach(ClerkFairing::default())
        .register("/", clerk_rocket::catchers())
        .mount("/", routes![clerk_jwt, get_gated, admin, invoices, machine]))
}

/// Builds the app and serves until shutdown (Ctrl-C).
pub async fn run(config: AppConfig) -> Result<(), String> {
    let _ = rocket(config)?.launch().await.map_err(|e| e.to_string())?;
    Ok(())
}
