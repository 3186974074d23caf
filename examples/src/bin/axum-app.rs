//! `axum-app`: the seed app on axum (`clerk_examples::axum_app`), configured from the environment.

use clerk_examples::{axum_app, config::AppConfig};

#[tokio::main]
async fn main() {
    let result = match AppConfig::from_env() {
        Ok(config) => axum_app::run(config).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        eprintln!("axum-app: {e}");
        std::process::exit(1);
    }
}
