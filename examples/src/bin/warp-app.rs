//! `warp-app`: the seed app on warp (`clerk_examples::warp_app`), configured from the environment.

use clerk_examples::{config::AppConfig, warp_app};

#[tokio::main]
async fn main() {
    let result = match AppConfig::from_env() {
        Ok(config) => warp_app::run(config).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        eprintln!("warp-app: {e}");
        std::process::exit(1);
    }
}
