//! The machine extractors ([`ClerkMachine`], [`RequireScope`], [`ClerkPrincipal`]) through a
//! real actix-web server on 127.0.0.1 (one worker: one executor thread, which a blocking
//! Backend API call would stall), against the dev issuer's Backend API: clerk-dev's machine
//! contract, written once for every adapter and seed app.

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use clerk_actix::{
    ApiKeys, ClerkMachine, ClerkMiddleware, ClerkPrincipal, MachineAuth, MachineOptions,
    RequireScope, Scope, Verifier,
};
use clerk_dev::machines::{check_machine_routes, MachineIssuer, MachineRoutes, SCOPE};
use serde_json::json;
use std::net::TcpListener;
use std::thread::JoinHandle;

const TIMEOUT: std::time::Duration = MachineOptions::DEFAULT_TIMEOUT;

struct Write;
impl Scope for Write {
    const SCOPE: &'static str = SCOPE;
}

fn body(machine: &MachineAuth) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "tokenType": machine.token_type(),
        "subject": machine.subject(),
        "scopes": machine.scopes(),
    }))
}

async fn any(machine: ClerkMachine) -> HttpResponse {
    body(&machine)
}

async fn api_keys(key: ClerkMachine<ApiKeys>) -> HttpResponse {
    body(&key)
}

async fn scoped(machine: RequireScope<Write>) -> HttpResponse {
    body(&machine)
}

async fn principal(caller: ClerkPrincipal) -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({ "tokenType": caller.token_type(), "subject": caller.subject() }))
}

async fn twice(machine: ClerkMachine, scoped: RequireScope<Write>) -> HttpResponse {
    assert_eq!(machine.id(), scoped.id());
    body(&machine)
}

/// An actix-web server on its own thread and runtime, stopped and joined on drop.
struct Served {
    base: String,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(verifier: Verifier) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(verifier.clone()))
                    .wrap(ClerkMiddleware::new())
                    .route("/machine", web::get().to(any))
                    .route("/api-keys", web::get().to(api_keys))
                    .route("/scoped", web::get().to(scoped))
                    .route("/principal", web::get().to(principal))
                    .route("/twice", web::get().to(twice))
            })
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
            tx.send(server.handle()).unwrap();
            let _ = server.await;
        });
    });
    Served {
        base,
        handle: rx.recv().unwrap(),
        thread: Some(thread),
    }
}

#[test]
fn machine_extractors_meet_the_contract() {
    let issuer = MachineIssuer::start();
    // Configured as a seed app is from its environment: CLERK_SECRET_KEY, ...
    let verifier = Verifier::from_lookup(issuer.lookup()).unwrap();
    let served = serve(verifier);
    check_machine_routes(&issuer, &served.base, &MachineRoutes::all(), TIMEOUT);
}
