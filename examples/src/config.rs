//! What every seed app reads from the environment: `HOST`, `PORT`, the key source (through
//! [`clerk_verify::Verifier::from_env`]) and `CLERK_AUTHORIZED_PARTIES` (also the CORS origins).

use clerk_verify::{Error, Verifier};
use std::net::SocketAddr;

/// Default listening port.
pub const DEFAULT_PORT: u16 = 3000;
/// Default listening host: loopback, so a demo is never exposed by accident.
pub const DEFAULT_HOST: &str = "127.0.0.1";

/// An app's configuration.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The shared verifier.
    pub verifier: Verifier,
    /// Origins allowed by CORS: the authorized parties.
    pub cors_origins: Vec<String>,
}

impl AppConfig {
    /// Reads `HOST`, `PORT` and the Clerk variables.
    pub fn from_env() -> Result<AppConfig, String> {
        let addr = listen_addr_from_env()?;
        let verifier =
            Verifier::from_env().map_err(|e: Error| format!("{e} (reason {})", e.reason()))?;
        Ok(AppConfig::new(addr, verifier))
    }

    /// A configuration from parts; the CORS origins are the verifier's authorized parties.
    pub fn new(addr: SocketAddr, verifier: Verifier) -> AppConfig {
        let cors_origins = verifier.options().authorized_parties.clone();
        AppConfig {
            addr,
            verifier,
            cors_origins,
        }
    }
}

/// The address to listen on, from `HOST` (default [`DEFAULT_HOST`]) and `PORT` (default
/// [`DEFAULT_PORT`]).
pub fn listen_addr_from_env() -> Result<SocketAddr, String> {
    let host = std::env::var("HOST").unwrap_or_else(|_| DEFAULT_HOST.to_owned());
    let port = match std::env::var("PORT") {
        Ok(p) => p
            .parse::<u16>()
            .map_err(|_| format!("PORT must be a port number, not {p:?}"))?,
        Err(_) => DEFAULT_PORT,
    };
    format!("{host}:{port}")
        .parse::<SocketAddr>()
        .or_else(|_| {
            std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
                .ok()
                .and_then(|mut a| a.next())
                .ok_or(())
        })
        .map_err(|()| format!("cannot listen on HOST {host:?}"))
}
