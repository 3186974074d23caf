//! The seed app on axum 0.8, protected with `clerk-axum`:
//!
//! - `GET /clerk-jwt`: `{"userId": "<sub>"}` when signed in, `{"userId": null}` without a valid
//!   session (`Option<ClerkAuth>`), 503 when a token was sent but the key source is down.
//! - `GET /get-gated`: `{"foo": "bar"}` when signed in; 401 (or 503 when the key source is down)
//!   otherwise ([`ClerkAuth`]).
//! - `GET /admin`: `{"ok": true}` for the organization role `org:admin`, else 403.
//! - `GET /invoices`: `{"ok": true}` with the permission `org:invoices:read`, else 403.
//! - `GET /api/machine`: machine tokens ([`crate::machine`], [`ClerkMachine`]).
//!
//! [`ClerkLayer`] hands the verifier to the extractors and adds the `x-clerk-auth-*` headers;
//! tower-http's `CorsLayer`, outside it, allows the authorized parties with credentials and the
//! `Authorization` header, and answers preflights before any authentication.

use crate::config::AppConfig;
use crate::machine::MachineBody;
use axum::http::{header, HeaderValue, Method};
use axum::routing::get;
use axum::{Json, Router};
use clerk_axum::{ClerkAuth, ClerkLayer, ClerkMachine, ClerkRejection};
use clerk_verify::Verifier;
use serde_json::{json, Value};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// `{"userId": "<sub>"}` when signed in, `{"userId": null}` without a valid session; 503 when
/// a token was sent but the key source is down (an outage never makes users anonymous).
async fn clerk_jwt(auth: Option<ClerkAuth>) -> Json<Value> {
    Json(json!({ "userId": auth.as_ref().map(|a| a.user_id()) }))
}

/// `{"foo":"bar"}` when signed in; 401 (or 503 when the keys cannot be had) otherwise.
async fn get_gated(_auth: ClerkAuth) -> Json<Value> {
    Json(json!({ "foo": "bar" }))
}

/// Organization admins only: 403 for other signed-in users.
async fn admin(auth: ClerkAuth) -> Result<Json<Value>, ClerkRejection> {
    auth.require_role("org:admin")?;
    Ok(Json(json!({ "ok": true })))
}

/// Members allowed to read invoices only: 403 for other signed-in users.
async fn invoices(auth: ClerkAuth) -> Result<Json<Value>, ClerkRejection> {
    auth.require_permission("org:invoices:read")?;
    Ok(Json(json!({ "ok": true })))
}

/// Machine tokens of the three kinds: `{"tokenType", "subject", "scopes"}`; 401 otherwise (a
/// session token: `token-type-mismatch`), 503 when Clerk's Backend API cannot answer.
async fn machine(machine: ClerkMachine) -> Json<MachineBody> {
    Json(MachineBody::from(&*machine))
}

/// The app: its routes behind the Clerk layer, behind CORS for `cors_origins`. Fails if an
/// origin cannot be a header value.
pub fn router(verifier: Verifier, cors_origins: &[String]) -> Result<Router, String> {
    Ok(Router::new()
        .route("/clerk-jwt", get(clerk_jwt))
        .route("/get-gated", get(get_gated))
        .route("/admin", get(admin))
        .route("/invoices", get(invoices))
        .route(crate::machine::PATH, get(machine))
        // The last layer runs first: CORS answers preflights before any authentication.
        .layer(ClerkLayer::new(verifier))
        .layer(cors(cors_origins)?))
}

/// CORS for the authorized parties: credentials and the `Authorization` header allowed.
fn cors(origins: &[String]) -> Result<CorsLayer, String> {
    let origins = origins
        .iter()
        .map(|origin| {
            HeaderValue::from_str(origin).map_err(|_| {
                format!(
                    "CORS origin {origin:?} (from the authorized parties) is not a header value"
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600)))
}

/// Serves the app on `config.addr` until Ctrl-C.
pub async fn run(config: AppConfig) -> Result<(), String> {
    let app = router(config.verifier, &config.cors_origins)?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    println!("axum-app listening on http://{}", config.addr);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| format!("serving on {}: {e}", config.addr))
}
