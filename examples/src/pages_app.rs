//! A server-rendered app on actix-web (seed `pages-app`): `GET /` greets a signed-in user by id
//! and shows a signed-out page (200) otherwise; `GET /dashboard` requires sign-in and sends a
//! signed-out browser to `CLERK_SIGN_IN_URL` (307, with `redirect_url`); `GET /api/me` is an API
//! route (401 when signed out, never a redirect). A browser whose session cookie expired goes
//! through Clerk's handshake (307 to the Frontend API named by `CLERK_PUBLISHABLE_KEY`) and
//! comes back with fresh cookies.

use crate::config::AppConfig;
use actix_web::dev::Server;
use actix_web::{get, web, App, HttpResponse, HttpServer};
use clerk_actix::{ClerkAuth, ClerkPage, RequireSignIn};
use serde_json::json;
use std::net::SocketAddr;

/// The greeting when signed in, the signed-out page otherwise.
#[get("/")]
async fn home(page: ClerkPage) -> HttpResponse {
    let body = match page.as_ref() {
        Some(user) => format!(
            "<h1>Welcome back</h1><p>Signed in as <code id=\"user-id\">{}</code>.</p>\
             <p><a href=\"/dashboard\">Your dashboard</a></p>",
            escape(user.user_id())
        ),
        None => "<h1>Welcome</h1><p id=\"signed-out\">You are signed out.</p>\
                 <p><a href=\"/dashboard\">Sign in to see your dashboard</a></p>"
            .to_owned(),
    };
    html(&body)
}

/// Signed-in users only: anyone else is sent to the sign-in page.
#[get("/dashboard")]
async fn dashboard(user: RequireSignIn) -> HttpResponse {
    let org = user
        .org()
        .map(|o| format!("<p>Organization <code>{}</code></p>", escape(&o.id)))
        .unwrap_or_default();
    html(&format!(
        "<h1>Dashboard</h1><p>Signed in as <code id=\"user-id\">{}</code>.</p>{org}",
        escape(user.user_id())
    ))
}

/// An API route beside the pages: JSON, 401 when signed out, never redirected.
#[get("/api/me")]
async fn me(auth: ClerkAuth) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "userId": auth.user_id() }))
}

fn html(body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // Pages depend on the session cookie: never cache them.
        .insert_header(("cache-control", "no-store"))
        .body(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>pages-app</title></head>\
             <body>{body}</body></html>"
        ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The routes, for `App::configure`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home).service(dashboard).service(me);
}

/// Binds the app to `config.addr`; returns the server and the address it listens on.
pub fn server(config: AppConfig) -> std::io::Result<(Server, SocketAddr)> {
    let verifier = web::Data::new(config.verifier);
    let http = HttpServer::new(move || App::new().app_data(verifier.clone()).configure(routes))
        .bind(config.addr)?;
    let addr = http.addrs().first().copied().unwrap_or(config.addr);
    Ok((http.run(), addr))
}

/// Serves the app until Ctrl-C.
pub async fn run(config: AppConfig) -> std::io::Result<()> {
    let (server, _) = server(config)?;
    server.await
}
