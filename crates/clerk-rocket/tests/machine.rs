//! The machine guards ([`ClerkMachine`], [`RequireScope`], [`ClerkPrincipal`]) through a real
//! Rocket server on 127.0.0.1, against the dev issuer's Backend API: clerk-dev's machine
//! contract, written once for every adapter and seed app.

mod support;

use clerk_dev::machines::{check_machine_routes, MachineIssuer, MachineRoutes, SCOPE};
use clerk_rocket::{
    ApiKeys, ClerkFairing, ClerkMachine, ClerkPrincipal, MachineAuth, MachineOptions, RequireScope,
    Scope, Verifier,
};
use rocket::get;
use rocket::serde::json::{json, Value};
use support::{loopback, Served};

const TIMEOUT: std::time::Duration = MachineOptions::DEFAULT_TIMEOUT;

struct Write;
impl Scope for Write {
    const SCOPE: &'static str = SCOPE;
}

fn body(machine: &MachineAuth) -> Value {
    json!({
        "tokenType": machine.token_type(),
        "subject": machine.subject(),
        "scopes": machine.scopes(),
    })
}

#[get("/machine")]
fn any(machine: ClerkMachine) -> Value {
    body(&machine)
}

#[get("/api-keys")]
fn api_keys(key: ClerkMachine<ApiKeys>) -> Value {
    body(&key)
}

#[get("/scoped")]
fn scoped(machine: RequireScope<Write>) -> Value {
    body(&machine)
}

#[get("/principal")]
fn principal(caller: ClerkPrincipal) -> Value {
    json!({ "tokenType": caller.token_type(), "subject": caller.subject() })
}

#[get("/twice")]
fn twice(machine: ClerkMachine, scoped: RequireScope<Write>) -> Value {
    assert_eq!(machine.id(), scoped.id());
    body(&machine)
}

#[test]
fn machine_guards_meet_the_contract() {
    let issuer = MachineIssuer::start();
    // Configured as a seed app is from its environment: CLERK_SECRET_KEY, ...
    let verifier = Verifier::from_lookup(issuer.lookup()).unwrap();
    let served = Served::launch(
        loopback()
            .manage(verifier)
            .attach(ClerkFairing::default())
            .register("/", clerk_rocket::catchers())
            .mount(
                "/",
                rocket::routes![any, api_keys, scoped, principal, twice],
            ),
    );
    check_machine_routes(&issuer, &served.base, &MachineRoutes::all(), TIMEOUT);
}
