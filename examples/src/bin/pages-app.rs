//! The server-rendered seed app on actix-web, with Clerk's handshake; configured from the
//! environment (see `clerk_examples::config`, plus `CLERK_PUBLISHABLE_KEY`, `CLERK_SIGN_IN_URL`
//! and the other page options of docs/pages.md: satellites, organization sync, refresh).

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let config = clerk_examples::pages_app::config_from_env().unwrap_or_else(|e| {
        eprintln!("pages-app: {e}");
        std::process::exit(1)
    });
    if config.verifier.options().handshake.is_none() {
        eprintln!(
            "pages-app: CLERK_PUBLISHABLE_KEY is not set: expired sessions will show the \
             signed-out page instead of being refreshed through Clerk's handshake"
        );
    }
    clerk_examples::pages_app::run(config).await
}
