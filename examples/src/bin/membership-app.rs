//! The membership platform on actix-web and SQLite; configured from the environment (see
//! `clerk_examples::membership`).

#[actix_web::main]
async fn main() {
    clerk_examples::membership::log_to_stderr();
    let config = clerk_examples::membership::MembershipConfig::from_env().unwrap_or_else(|e| {
        eprintln!("membership-app: {e}");
        std::process::exit(1)
    });
    if let Err(e) = clerk_examples::membership::run(config).await {
        eprintln!("membership-app: {e}");
        std::process::exit(1)
    }
}
