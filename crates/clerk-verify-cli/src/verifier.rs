//! How a subcommand builds its [`Verifier`] from the key-source flags, else the environment,
//! and the rule flags. Only the key source comes from the environment for `verify`: a shell's
//! variables cannot change what a scripted check accepts.

use crate::groups::{Fetching, KeySource, Machines, Rules};
use crate::Usage;
use clerk_verify::env::{
    split_list, ENV_API_URL, ENV_JWKS_URL, ENV_JWT_KEY, ENV_MACHINE_SECRET_KEY, ENV_SECRET_KEY,
};
use clerk_verify::options::MachineOptions;
use clerk_verify::remote::{JwksSource, RemoteKeys, RemoteOptions};
use clerk_verify::{Clock, Error, Verifier, VerifyOptions};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const API_URL_WITHOUT_SECRET: &str =
    "--api-url goes with a secret key (--secret-key, --secret-key-file, or CLERK_SECRET_KEY)";

/// The verify options the rule flags ask for.
pub fn options(rules: &Rules) -> VerifyOptions {
    let parties: Vec<String> = rules
        .authorized_parties
        .iter()
        .flat_map(|p| split_list(p))
        .collect();
    let mut opts = VerifyOptions::default()
        .authorized_parties(parties)
        .audience(rules.audience.iter().cloned())
        .clock_skew(Duration::from_millis(rules.clock_skew_ms));
    if let Some(issuer) = &rules.issuer {
        opts = opts.issuer(issuer);
    }
    if let Some(now) = rules.now {
        opts = opts.clock(Clock::fixed(now));
    }
    opts
}

/// Remote options with one bound on every phase of a fetch.
pub fn remote_options(fetching: &Fetching) -> RemoteOptions {
    let t = Duration::from_millis(fetching.fetch_timeout_ms);
    RemoteOptions::default()
        .timeout(t)
        .connect_timeout(t)
        .read_timeout(t)
}

/// How opaque machine tokens are verified, from the flags, else the environment: the secret key
/// (`--secret-key`, `--secret-key-file`, else `CLERK_SECRET_KEY`), the machine secret key
/// (`--machine-secret-key-file`, else `CLERK_MACHINE_SECRET_KEY`), the Backend API
/// (`--api-url`, else `CLERK_API_URL`), and one bound on a call (`--fetch-timeout-ms`).
pub fn machine_options(
    key: &KeySource,
    fetching: &Fetching,
    machines: &Machines,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<MachineOptions, Usage> {
    let var = |name: &str| {
        env(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let mut machine =
        MachineOptions::default().timeout(Duration::from_millis(fetching.fetch_timeout_ms));
    machine.secret_key = match (&key.secret_key, &key.secret_key_file) {
        (Some(sk), _) => Some(sk.clone()),
        (None, Some(path)) => Some(read_text(path)?.trim().to_owned()),
        (None, None) => var(ENV_SECRET_KEY),
    };
    machine.machine_secret_key = match &machines.machine_secret_key_file {
        Some(path) => Some(read_text(path)?.trim().to_owned()),
        None => var(ENV_MACHINE_SECRET_KEY),
    };
    machine.api_url = fetching.api_url.clone().or_else(|| var(ENV_API_URL));
    Ok(machine)
}

/// Whether the keys the flags (else the environment) name are the Backend API's, fetched with
/// the secret key, so that `--api-url` is theirs too.
pub fn keys_from_secret_key(key: &KeySource, env: &dyn Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| env(name).is_some_and(|v| !v.trim().is_empty());
    if key.secret_key.is_some() || key.secret_key_file.is_some() {
        return true;
    }
    !key_flag_given(key) && !set(ENV_JWT_KEY) && !set(ENV_JWKS_URL) && set(ENV_SECRET_KEY)
}

/// A verifier, and its keys when they are fetched: `serve` warms and refreshes them.
pub struct Built {
    pub verifier: Verifier,
    /// `None` for keys known up front (a PEM, a JWKS file, an HS256 secret).
    pub remote: Option<Arc<RemoteKeys>>,
}

/// A verifier over the key source the flags name, else the environment's (`env` looks up a
/// variable; blank values count as unset).
pub fn build(
    key: &KeySource,
    fetching: &Fetching,
    remote: RemoteOptions,
    opts: VerifyOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Verifier, Usage> {
    build_keys(key, fetching, remote, opts, env).map(|b| b.verifier)
}

/// A verifier over remote keys from `source` (`what` names the setting in errors).
pub fn remote_verifier(
    source: Result<JwksSource, Error>,
    remote: RemoteOptions,
    opts: VerifyOptions,
    what: &str,
) -> Result<Built, Usage> {
    let keys = source
        .and_then(|s| RemoteKeys::new(s, remote))
        .map(Arc::new)
        .map_err(|e| config_err(what, e))?;
    let verifier = Verifier::new(Arc::clone(&keys), opts).map_err(|e| config_err(what, e))?;
    Ok(Built {
        verifier,
        remote: Some(keys),
    })
}

/// [`build`], keeping the remote keys' handle.
pub fn build_keys(
    key: &KeySource,
    fetching: &Fetching,
    remote: RemoteOptions,
    opts: VerifyOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Built, Usage> {
    let fixed = |v: Verifier| Built {
        verifier: v,
        remote: None,
    };
    let remote_verifier = |source: Result<JwksSource, Error>, what: &str| {
        remote_verifier(source, remote.clone(), opts.clone(), what)
    };
    let api_url = fetching.api_url.as_deref();
    let secret_flag = match (&key.secret_key, &key.secret_key_file) {
        (Some(sk), _) => Some(sk.clone()),
        (None, Some(path)) => Some(read_text(path)?.trim().to_owned()),
        (None, None) => None,
    };
    if let Some(sk) = secret_flag {
        return remote_verifier(JwksSource::secret_key(&sk, api_url), "--secret-key");
    }
    if api_url.is_some() && key_flag_given(key) {
        return Err(Usage(API_URL_WITHOUT_SECRET.into()));
    }
    if let Some(jwks) = &key.jwks {
        if jwks.starts_with("https://") || jwks.starts_with("http://") {
            return remote_verifier(JwksSource::url(jwks), "--jwks");
        }
        return Verifier::from_jwks(&read_text(Path::new(jwks))?, opts)
            .map(fixed)
            .map_err(|e| config_err(&format!("--jwks {jwks}"), e));
    }
    if let Some(pk) = &key.publishable_key {
        return remote_verifier(JwksSource::publishable_key(pk), "--publishable-key");
    }
    if let Some(path) = &key.pem {
        return Verifier::from_pem(&read_text(path)?, opts)
            .map(fixed)
            .map_err(|e| config_err(&format!("--pem {}", path.display()), e));
    }
    if let Some(path) = &key.hs256_secret_file {
        let mut secret = std::fs::read(path)
            .map_err(|e| Usage(format!("cannot read {}: {e}", path.display())))?;
        if secret.ends_with(b"\n") {
            secret.pop();
            if secret.ends_with(b"\r") {
                secret.pop();
            }
        }
        return Verifier::from_hs256_secret(&secret, opts)
            .map(fixed)
            .map_err(|e| config_err(&format!("--hs256-secret-file {}", path.display()), e));
    }
    // The environment. A flag beats a variable: --api-url over CLERK_API_URL.
    let get = |name: &str| {
        if name == ENV_API_URL && api_url.is_some() {
            return api_url.map(str::to_owned);
        }
        env(name).filter(|v| !v.trim().is_empty())
    };
    if let Some(pem) = get(ENV_JWT_KEY) {
        if api_url.is_some() {
            return Err(Usage(API_URL_WITHOUT_SECRET.into()));
        }
        return Verifier::from_pem(&pem, opts)
            .map(fixed)
            .map_err(|e| config_err(ENV_JWT_KEY, e));
    }
    match JwksSource::from_lookup(get) {
        Ok(Some(source)) => {
            if api_url.is_some() && !matches!(source, JwksSource::BackendApi { .. }) {
                return Err(Usage(API_URL_WITHOUT_SECRET.into()));
            }
            remote_verifier(Ok(source), "environment")
        }
        Ok(None) => Err(Usage(
            "no key given: pass --jwks, --pem, --publishable-key, --secret-key(-file) or \
             --hs256-secret-file, or set CLERK_JWT_KEY, CLERK_JWKS_URL, CLERK_SECRET_KEY or \
             CLERK_PUBLISHABLE_KEY"
                .into(),
        )),
        Err(e) => Err(config_err("environment", e)),
    }
}

fn config_err(what: &str, e: Error) -> Usage {
    Usage(format!("{what}: {e} (reason {})", e.reason()))
}

/// Whether a key flag other than the secret key's is given.
pub fn key_flag_given(key: &KeySource) -> bool {
    key.jwks.is_some()
        || key.pem.is_some()
        || key.hs256_secret_file.is_some()
        || key.publishable_key.is_some()
}

pub fn read_text(path: &Path) -> Result<String, Usage> {
    std::fs::read_to_string(path).map_err(|e| Usage(format!("cannot read {}: {e}", path.display())))
}
