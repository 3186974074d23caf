//! The machine filters ([`machine`], [`machine_accepting`], [`require_scope`], [`principal`])
//! through warp's server on 127.0.0.1, against the dev issuer's Backend API: clerk-dev's
//! machine contract, written once for every adapter and seed app. (Warp keeps nothing per
//! request, so a route takes one Clerk filter: the contract's two-extractor route does not
//! apply.)

mod support;

use clerk_dev::machines::{check_machine_routes, MachineIssuer, MachineRoutes, SCOPE};
use clerk_warp::{
    handle_rejection, machine, machine_accepting, principal, require_scope, signed_in_headers,
    AcceptsToken, MachineAuth, MachineOptions, Principal, Verifier,
};
use serde_json::json;
use support::Served;
use warp::Filter;

const TIMEOUT: std::time::Duration = MachineOptions::DEFAULT_TIMEOUT;

fn body(machine: MachineAuth) -> warp::reply::Json {
    warp::reply::json(&json!({
        "tokenType": machine.token_type(),
        "subject": machine.subject(),
        "scopes": machine.scopes(),
    }))
}

#[test]
fn machine_filters_meet_the_contract() {
    let issuer = MachineIssuer::start();
    // Configured as a seed app is from its environment: CLERK_SECRET_KEY, ...
    let verifier = Verifier::from_lookup(issuer.lookup()).unwrap();
    let served = Served::start_with(|_| {
        let any = warp::path!("machine")
            .and(machine(verifier.clone()))
            .map(body);
        let api_keys = warp::path!("api-keys")
            .and(machine_accepting(verifier.clone(), AcceptsToken::API_KEY))
            .map(body);
        let scoped = warp::path!("scoped")
            .and(require_scope(verifier.clone(), SCOPE))
            .map(body);
        let principal =
            warp::path!("principal")
                .and(principal(verifier))
                .map(|caller: Principal| {
                    let body =
                        json!({ "tokenType": caller.token_type(), "subject": caller.subject() });
                    warp::reply::json(&body)
                });
        warp::get()
            .and(any.or(api_keys).or(scoped).or(principal))
            .with(signed_in_headers())
            .recover(handle_rejection)
    });
    let routes = MachineRoutes {
        twice: None,
        ..MachineRoutes::all()
    };
    check_machine_routes(&issuer, &served.base, &routes, TIMEOUT);
}
