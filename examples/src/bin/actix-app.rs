//! The seed app on actix-web; configured from the environment (see `clerk_examples::config`).

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let config = clerk_examples::config::AppConfig::from_env().unwrap_or_else(|e| {
        eprintln!("actix-app: {e}");
        std::process::exit(1)
    });
    clerk_examples::actix_app::run(config).await
}
