//! A server-rendered app on actix-web (seed `pages-app`): `GET /` greets a signed-in user by id
//! and shows a signed-out page (200) otherwise; `GET /dashboard` requires sign-in and sends a
//! signed-out browser to `CLERK_SIGN_IN_URL` (307, with `redirect_url`); `GET /orgs/{slug}`
//! requires sign-in and shows the active organization's slug (the path names the organization
//! to activate: `CLERK_ORGANIZATION_PATTERNS`, `/orgs/:slug` unless set); `GET /api/me` is an
//! API route (401 when signed out, never a redirect). A browser whose session cookie expired goes
//! through Clerk's handshake (307 to the Frontend API named by `CLERK_PUBLISHABLE_KEY`) and
//! comes back with fresh cookies, or, with `CLERK_SECRET_KEY` and a `__refresh` cookie, is
//! refreshed through the Backend API and signed in on the same request: `ClerkMiddleware` sets
//! the new cookies on the page's response, so there is no redirect at all.
//!
//! Satellite mode: `CLERK_IS_SATELLITE=true` with `CLERK_DOMAIN` (or `CLERK_PROXY_URL`) and, for
//! a development instance, `CLERK_SIGN_IN_URL` set to the primary's sign-in page; the primary
//! then lists the satellite in `CLERK_ALLOWED_REDIRECT_ORIGINS`. `CLERK_SATELLITE_AUTO_SYNC=true`
//! syncs a first visit (docs/pages.md).

use crate::config::{listen_addr_from_env, AppConfig};
use actix_web::dev::Server;
use actix_web::{get, web, App, HttpResponse, HttpServer};
use clerk_actix::{ClerkAuth, ClerkMiddleware, ClerkPage, RequireSignIn, Verifier};
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

/// An organization's page: the path names the organization (Clerk's handshake activated it
/// before the handler runs, if the user is a member); the page shows the one that is active.
#[get("/orgs/{slug}")]
async fn organization(user: RequireSignIn) -> HttpResponse {
    let active = match user.org() {
        Some(org) => format!(
            "<p>Active organization: <code id=\"org-slug\">{}</code></p>",
            escape(org.slug.as_deref().unwrap_or(&org.id))
        ),
        None => "<p id=\"no-org\">No active organization: your personal account.</p>".to_owned(),
    };
    html(&format!(
        "<h1>Organization</h1><p>Signed in as <code id=\"user-id\">{}</code>.</p>{active}",
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
    cfg.service(home)
        .service(dashboard)
        .service(organization)
        .service(me);
}

/// The organization pattern of this app's routes, unless `CLERK_ORGANIZATION_PATTERNS` says
/// otherwise.
pub const ORGANIZATION_PATTERNS: &str = "/orgs/:slug";

/// The app's configuration from the environment: as every seed app's
/// ([`AppConfig::from_env`]), with [`ORGANIZATION_PATTERNS`] for Clerk's organization sync when
/// `CLERK_ORGANIZATION_PATTERNS` is not set.
pub fn config_from_env() -> Result<AppConfig, String> {
    let addr = listen_addr_from_env()?;
    let lookup = |name: &str| {
        let value = std::env::var(name).ok();
        match name {
            "CLERK_ORGANIZATION_PATTERNS" => {
                value.or_else(|| Some(ORGANIZATION_PATTERNS.to_owned()))
            }
            _ => value,
        }
    };
    let verifier =
        Verifier::from_lookup(lookup).map_err(|e| format!("{e} (reason {})", e.reason()))?;
    Ok(AppConfig::new(addr, verifier))
}

/// Binds the app to `config.addr`; returns the server and the address it listens on.
pub fn server(config: AppConfig) -> std::io::Result<(Server, SocketAddr)> {
    let verifier = web::Data::new(config.verifier);
    let http = HttpServer::new(move || {
        App::new()
            .app_data(verifier.clone())
            // Debug headers, and the cookies of a session refreshed on a page's own request.
            .wrap(ClerkMiddleware::new())
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
