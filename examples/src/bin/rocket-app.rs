//! The seed app on Rocket: `HOST`, `PORT` and the Clerk variables from the environment.

use clerk_examples::{config::AppConfig, rocket_app};

#[rocket::main]
async fn main() {
    let result = match AppConfig::from_env() {
        Ok(config) => rocket_app::run(config).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        eprintln!("rocket-app: {e}");
        std::process::exit(1);
    }
}
