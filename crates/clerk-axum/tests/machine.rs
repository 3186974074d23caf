//! The machine extractors ([`ClerkMachine`], [`RequireScope`], [`ClerkPrincipal`]) through a
//! real axum server on 127.0.0.1 (a one-thread runtime, so an executor blocked by a Backend API
//! call would serialise the requests), against the dev issuer's Backend API: clerk-dev's
//! machine contract, written once for every adapter and seed app.

mod support;

use axum::routing::get;
use axum::{Json, Router};
use clerk_axum::{
    ApiKeys, ClerkLayer, ClerkMachine, ClerkPrincipal, MachineAuth, MachineOptions, RequireScope,
    Scope, Verifier,
};
use clerk_dev::machines::{check_machine_routes, MachineIssuer, MachineRoutes, SCOPE};
use serde_json::{json, Value};
use support::Served;

const TIMEOUT: std::time::Duration = MachineOptions::DEFAULT_TIMEOUT;

struct Write;
impl Scope for Write {
    const SCOPE: &'static str = SCOPE;
}

fn body(machine: &MachineAuth) -> Json<Value> {
    Json(json!({
        "tokenType": machine.token_type(),
        "subject": machine.subject(),
        "scopes": machine.scopes(),
    }))
}

async fn any(machine: ClerkMachine) -> Json<Value> {
    body(&machine)
}

async fn api_keys(key: ClerkMachine<ApiKeys>) -> Json<Value> {
    body(&key)
}

async fn scoped(machine: RequireScope<Write>) -> Json<Value> {
    body(&machine)
}

async fn principal(caller: ClerkPrincipal) -> Json<Value> {
    Json(json!({ "tokenType": caller.token_type(), "subject": caller.subject() }))
}

async fn twice(machine: ClerkMachine, scoped: RequireScope<Write>) -> Json<Value> {
    assert_eq!(machine.id(), scoped.id());
    body(&machine)
}

#[test]
fn machine_extractors_meet_the_contract() {
    let issuer = MachineIssuer::start();
    // Configured as a seed app is from its environment: CLERK_SECRET_KEY, ...
    let verifier = Verifier::from_lookup(issuer.lookup()).unwrap();
    let app = Router::new()
        .route("/machine", get(any))
        .route("/api-keys", get(api_keys))
        .route("/scoped", get(scoped))
        .route("/principal", get(principal))
        .route("/twice", get(twice))
        .layer(ClerkLayer::new(verifier));
    let served = Served::start(app);
    check_machine_routes(&issuer, &served.base, &MachineRoutes::all(), TIMEOUT);
}
