//! The seed app on warp 0.4, protected with `clerk-warp`:
//!
//! - `GET /clerk-jwt`: `{"userId": "<sub>"}` when signed in, `{"userId": null}` without a valid
//!   session, 503 when a token was sent but the key source is down
//!   ([`clerk_warp::optional_authentication`], answered through [`clerk_warp::with_auth_headers`]
//!   so that it carries the debug headers, signed in or out, as in the actix-web and Rocket apps).
//! - `GET /get-gated`: `{"foo": "bar"}` when signed in; 401 (or 503 when the key source is down)
//!   otherwise ([`clerk_warp::clerk_auth`]).
//! - `GET /admin`: `{"ok": true}` for the organization role `org:admin`, else 403
//!   ([`clerk_warp::require_role`]).
//! - `GET /invoices`: `{"ok": true}` with the permission `org:invoices:read`, else 403
//!   ([`clerk_warp::require_permission`]).
//! - `GET /api/machine`: machine tokens ([`crate::machine`], [`clerk_warp::machine`]).
//!
//! CORS is `warp::cors()` for the authorized parties, with credentials and the `Authorization`
//! header allowed; it answers preflights before any route runs, so `OPTIONS` is never
//! authenticated. Refusals become JSON through [`clerk_warp::handle_rejection`], inside the CORS
//! wrapper so browsers can read them; successful replies of the guarded routes get
//! `x-clerk-auth-status: signed-in` from [`clerk_warp::signed_in_headers`].

use crate::config::AppConfig;
use crate::machine::MachineBody;
use clerk_verify::{Auth, Authentication, MachineAuth, Verifier};
use clerk_warp::{
    clerk_auth, handle_rejection, machine, optional_authentication, require_permission,
    require_role, signed_in_headers, with_auth_headers,
};
use serde_json::json;
use warp::http::Uri;
use warp::{Filter, Rejection, Reply};

/// The app's routes, with CORS for `cors_origins`. Fails if an origin is not
/// `scheme://host[:port]`.
pub fn routes(
    verifier: Verifier,
    cors_origins: &[String],
) -> Result<
    impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone + Send + Sync + 'static,
    String,
> {
    let clerk_jwt = warp::path!("clerk-jwt")
        .and(warp::get())
        .and(optional_authentication(verifier.clone()))
        .map(|state: Authentication| {
            let body = json!({ "userId": state.auth().map(Auth::user_id) });
            with_auth_headers(warp::reply::json(&body), &state)
        });
    let get_gated = warp::path!("get-gated")
        .and(warp::get())
        .and(clerk_auth(verifier.clone()))
        .map(|_: Auth| warp::reply::json(&json!({ "foo": "bar" })))
        .with(signed_in_headers());
    let admin = warp::path!("admin")
        .and(warp::get())
        .and(require_role(verifier.clone(), "org:admin"))
        .map(|_: Auth| warp::reply::json(&json!({ "ok": true })))
        .with(signed_in_headers());
    let invoices = warp::path!("invoices")
        .and(warp::get())
        .and(require_permission(verifier.clone(), "org:invoices:read"))
        .map(|_: Auth| warp::reply::json(&json!({ "ok": true })))
        .with(signed_in_headers());
    let machine = warp::path!("api" / "machine")
        .and(warp::get())
        .and(machine(verifier))
        .map(|machine: MachineAuth| warp::reply::json(&MachineBody::from(&machine)))
        .with(signed_in_headers());

    Ok(clerk_jwt
        .or(get_gated)
        .or(admin)
        .or(invoices)
        .or(machine)
        .recover(handle_rejection)
        .with(cors(cors_origins)?))
}

/// Serves the app on `config.addr` until Ctrl-C.
pub async fn run(config: AppConfig) -> Result<(), String> {
    let routes = routes(config.verifier, &config.cors_origins)?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    println!("warp-app listening on http://{}", config.addr);
    warp::serve(routes)
        .incoming(listener)
        .graceful(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .run()
        .await;
    Ok(())
}

/// `warp::cors()` panics on a malformed origin; check them first and say which one is wrong.
fn cors(origins: &[String]) -> Result<warp::cors::Builder, String> {
    for origin in origins {
        let valid = origin.contains("://")
            && origin
                .parse::<Uri>()
                .is_ok_and(|uri| uri.scheme().is_some() && uri.authority().is_some());
        if !valid {
            return Err(format!(
                "CORS origin {origin:?} (from the authorized parties) is not scheme://host[:port]"
            ));
        }
    }
    Ok(warp::cors()
        .allow_origins(origins.iter().map(String::as_str))
        .allow_credentials(true)
        .allow_headers(["authorization", "content-type"])
        .allow_methods(["GET", "OPTIONS"]))
}
