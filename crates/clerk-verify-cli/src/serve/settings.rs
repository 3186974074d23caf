//! What `serve` runs with, from its flags, else the environment: the verifier (and its remote
//! keys), the readiness rule, and the fetch hooks that feed `/metrics` and `/readyz`.
//!
//! Unlike `verify`, `serve` reads its rules from the environment too (`CLERK_AUTHORIZED_PARTIES`,
//! `CLERK_AUDIENCE`, `CLERK_ISSUER`, `CLERK_CLOCK_SKEW_MS`, `CLERK_ACCEPTS_TOKEN`): a server in a
//! container is configured that way. A flag always beats its variable.
//!
//! Opaque machine tokens are verified by Clerk's Backend API with the secret key (`--secret-key`,
//! `--secret-key-file`, else `CLERK_SECRET_KEY`; M2M tokens with `--machine-secret-key-file`,
//! else `CLERK_MACHINE_SECRET_KEY`, first) at `--api-url`, else `CLERK_API_URL`. With keys from
//! elsewhere (a JWKS, a PEM, the Frontend API), `--api-url` names that API alone.

use crate::serve::args::ServeArgs;
use crate::serve::forwarded::Proxy;
use crate::serve::keys::Readiness;
use crate::serve::metrics::Metrics;
use crate::verifier::{self, Built};
use crate::Usage;
use clerk_verify::env::{
    split_list, ENV_JWKS_URL, ENV_JWT_KEY, ENV_PUBLISHABLE_KEY, ENV_SECRET_KEY,
};
use clerk_verify::remote::{JwksSource, RemoteKeys};
use clerk_verify::{Verifier, VerifyOptions};
use std::sync::Arc;
use std::time::Duration;

/// The gateway policy's name for the Frontend API URL (Zuplo's `frontendApiUrl`).
pub const ENV_FRONTEND_API_URL: &str = "CLERK_FRONTEND_API_URL";
/// `--proxy`'s variable.
pub const ENV_PROXY: &str = "CLERK_PROXY";

/// Everything the server needs, ready to run.
pub struct Settings {
    pub verifier: Verifier,
    /// The fetched keys, to load at start and refresh; `None` for keys known up front.
    pub remote: Option<Arc<RemoteKeys>>,
    /// How often the remote keys are refreshed in the background.
    pub refresh_every: Duration,
    pub readiness: Arc<Readiness>,
    pub allow_unauthenticated: bool,
    /// Whose headers describe the forwarded request.
    pub proxy: Proxy,
}

/// Builds the settings; `env` looks up a variable (blank values count as unset).
pub fn build(
    args: &ServeArgs,
    env: &dyn Fn(&str) -> Option<String>,
    metrics: &Arc<Metrics>,
) -> Result<Settings, Usage> {
    let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let mut opts = options(args, &env)?;
    let machine = verifier::machine_options(&args.key, &args.fetching, &args.machines, &env)?;
    let machine_key = machine.secret_key.is_some() || machine.machine_secret_key.is_some();
    opts = opts.machine(machine);
    let proxy = match (args.proxy, env(ENV_PROXY)) {
        (Some(proxy), _) => proxy,
        (None, Some(text)) => Proxy::parse(&text).ok_or_else(|| {
            Usage(format!(
                "{ENV_PROXY}={text:?}: the proxies are auto, nginx, traefik, caddy and envoy"
            ))
        })?,
        (None, None) => Proxy::default(),
    };

    // The fetch hooks feed `/metrics` and `/readyz`; the readiness of fetched keys lasts as long
    // as the core keeps using them after a fetch.
    let remote = verifier::remote_options(&args.fetching);
    let readiness = Arc::new(Readiness::fetched(
        remote.cache_ttl.saturating_add(remote.max_stale),
    ));
    let refresh_every = remote.cache_ttl / 2;
    let (ok, failed, loaded) = (Arc::clone(metrics), Arc::clone(metrics), readiness.clone());
    let remote = remote
        .on_fetch_success(move |_| {
            ok.jwks_fetch(true);
            loaded.loaded();
        })
        .on_fetch_error(move |_| failed.jwks_fetch(false));

    let key_flag = verifier::key_flag_given(&args.key)
        || args.key.secret_key.is_some()
        || args.key.secret_key_file.is_some();
    // The Frontend API URL comes after CLERK_JWKS_URL in the environment's order (the most
    // specific setting wins) and before Clerk's keys.
    let frontend = args.frontend_api_url.clone().or_else(|| {
        let before = env(ENV_JWT_KEY).is_some() || env(ENV_JWKS_URL).is_some();
        (!key_flag && !before)
            .then(|| env(ENV_FRONTEND_API_URL))
            .flatten()
    });
    // --api-url is the Backend API's, for its keys (with the secret key as the key source) and
    // for machine tokens; with keys from elsewhere and a secret key for machines, it names only
    // where machine tokens are verified.
    let mut fetching = args.fetching.clone();
    let keys_from_secret_key =
        frontend.is_none() && verifier::keys_from_secret_key(&args.key, &env);
    if machine_key && !keys_from_secret_key {
        fetching.api_url = None;
    }
    let built = if let Some(url) = frontend {
        if fetching.api_url.is_some() {
            return Err(Usage(
                "--api-url goes with a secret key, not a Frontend API URL".into(),
            ));
        }
        verifier::remote_verifier(
            JwksSource::frontend_api(&url),
            remote,
            opts,
            "--frontend-api-url",
        )?
    } else {
        let env_key = [
            ENV_JWT_KEY,
            ENV_JWKS_URL,
            ENV_SECRET_KEY,
            ENV_PUBLISHABLE_KEY,
        ]
        .iter()
        .any(|name| env(name).is_some());
        if !key_flag && !env_key {
            return Err(Usage(
                "no key given: pass --frontend-api-url, --jwks, --pem, --publishable-key, \
                 --secret-key(-file) or --hs256-secret-file, or set CLERK_JWT_KEY, \
                 CLERK_JWKS_URL, CLERK_FRONTEND_API_URL, CLERK_SECRET_KEY or \
                 CLERK_PUBLISHABLE_KEY"
                    .into(),
            ));
        }
        verifier::build_keys(&args.key, &fetching, remote, opts, &env)?
    };
    let Built { verifier, remote } = built;
    Ok(Settings {
        readiness: if remote.is_some() {
            readiness
        } else {
            Arc::new(Readiness::fixed())
        },
        verifier,
        remote,
        refresh_every,
        allow_unauthenticated: args.allow_unauthenticated,
        proxy,
    })
}

/// The verify options: the environment's, with each flag given replacing its variable.
fn options(args: &ServeArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<VerifyOptions, Usage> {
    let mut opts = VerifyOptions::from_lookup(env)
        .map_err(|e| Usage(format!("environment: {e} (reason {})", e.reason())))?;
    if !args.authorized_parties.is_empty() {
        let parties: Vec<String> = args
            .authorized_parties
            .iter()
            .flat_map(|p| split_list(p))
            .collect();
        opts = opts.authorized_parties(parties);
    }
    if !args.audience.is_empty() {
        opts = opts.audience(args.audience.iter().cloned());
    }
    if let Some(issuer) = &args.issuer {
        opts = opts.issuer(issuer);
    }
    if let Some(ms) = args.clock_skew_ms {
        opts = opts.clock_skew(Duration::from_millis(ms));
    }
    // The publishable key also tells which __session cookie a browser sends (Clerk's suffixed
    // cookies), so the key-source flag sets it as CLERK_PUBLISHABLE_KEY does.
    if let Some(pk) = &args.key.publishable_key {
        opts = opts.publishable_key(pk);
    }
    // The kinds of token accepted where a location's query does not say (`?accepts=`).
    if let Some(accepts) = args.machines.accepts_token {
        opts = opts.accepts_token(accepts);
    }
    // The verified-token cache is on: `VerifyOptions::from_lookup` turns it on with its default
    // capacity, and CLERK_TOKEN_CACHE_SIZE changes it (0 turns it off).
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use clerk_verify::options::AcceptsToken;

    /// `serve`'s flags alone, as the command line parses them.
    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn args(flags: &[&str]) -> ServeArgs {
        let mut argv = vec!["serve"];
        argv.extend_from_slice(flags);
        Serve::parse_from(argv).args
    }

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn jwks_url(s: &Settings) -> Option<String> {
        s.remote.as_ref().map(|k| k.jwks_url().to_owned())
    }

    #[test]
    fn key_source_order() {
        let m = Arc::new(Metrics::default());
        let fe = "https://clerk.example.com";
        // The flag.
        let s = build(&args(&["--frontend-api-url", fe]), &env(&[]), &m).unwrap();
        assert_eq!(
            jwks_url(&s).as_deref(),
            Some("https://clerk.example.com/.well-known/jwks.json")
        );
        assert!(!s.readiness.is_ready());
        // The variable, before Clerk's secret key, after CLERK_JWKS_URL.
        let vars = [(ENV_FRONTEND_API_URL, fe), (ENV_SECRET_KEY, "sk_test_abc")];
        let s = build(&args(&[]), &env(&vars), &m).unwrap();
        assert!(jwks_url(&s).unwrap().starts_with(fe));
        let vars = [
            (ENV_FRONTEND_API_URL, fe),
            (ENV_JWKS_URL, "https://keys.example.com/jwks.json"),
        ];
        let s = build(&args(&[]), &env(&vars), &m).unwrap();
        assert_eq!(
            jwks_url(&s).as_deref(),
            Some("https://keys.example.com/jwks.json")
        );
        // A key flag beats every variable; a fixed key is ready at once.
        let dir = std::env::temp_dir().join(format!("clerk-serve-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pem = dir.join("key.pem");
        std::fs::write(&pem, clerk_dev::fixtures::rsa2048().public_pem()).unwrap();
        let s = build(
            &args(&["--pem", pem.to_str().unwrap()]),
            &env(&[(ENV_FRONTEND_API_URL, fe)]),
            &m,
        )
        .unwrap();
        assert!(s.remote.is_none() && s.readiness.is_ready());
        std::fs::remove_dir_all(&dir).unwrap();
        // Nothing at all, or a blank variable: a usage error naming the new source too.
        for vars in [&[][..], &[(ENV_FRONTEND_API_URL, "  ")][..]] {
            let e = build(&args(&[]), &env(vars), &m).err().unwrap();
            assert!(e.0.contains("--frontend-api-url"), "{e}");
        }
        let e = build(
            &args(&[
                "--frontend-api-url",
                fe,
                "--api-url",
                "https://api.example.com",
            ]),
            &env(&[]),
            &m,
        )
        .err()
        .unwrap();
        assert!(e.0.contains("--api-url"), "{e}");
    }

    #[test]
    fn the_verified_token_cache_is_on_by_default() {
        let m = Arc::new(Metrics::default());
        let fe = [(ENV_FRONTEND_API_URL, "https://clerk.example.com")];
        let s = build(&args(&[]), &env(&fe), &m).unwrap();
        assert_eq!(
            s.verifier.options().token_cache,
            VerifyOptions::DEFAULT_TOKEN_CACHE_CAPACITY
        );
        let off = [fe[0], ("CLERK_TOKEN_CACHE_SIZE", "0")];
        let s = build(&args(&[]), &env(&off), &m).unwrap();
        assert_eq!(s.verifier.options().token_cache, 0);
    }

    #[test]
    fn the_proxy_from_the_flag_else_the_environment() {
        let m = Arc::new(Metrics::default());
        let fe = (ENV_FRONTEND_API_URL, "https://clerk.example.com");
        let s = build(&args(&[]), &env(&[fe, (ENV_PROXY, "caddy")]), &m).unwrap();
        assert_eq!(s.proxy, Proxy::Caddy);
        let s = build(
            &args(&["--proxy", "nginx"]),
            &env(&[fe, (ENV_PROXY, "caddy")]),
            &m,
        )
        .unwrap();
        assert_eq!(s.proxy, Proxy::Nginx);
        let s = build(&args(&[]), &env(&[fe, (ENV_PROXY, " ")]), &m).unwrap();
        assert_eq!(s.proxy, Proxy::Auto);
        let e = build(&args(&[]), &env(&[fe, (ENV_PROXY, "haproxy")]), &m)
            .err()
            .unwrap();
        assert!(
            e.0.contains("CLERK_PROXY") && e.0.contains("traefik"),
            "{e}"
        );
    }

    #[test]
    fn rules_from_flags_else_environment() {
        let m = Arc::new(Metrics::default());
        let vars = [
            (ENV_FRONTEND_API_URL, "https://clerk.example.com"),
            (
                "CLERK_AUTHORIZED_PARTIES",
                "https://a.example, https://b.example",
            ),
            ("CLERK_ISSUER", "https://clerk.example.com"),
            ("CLERK_CLOCK_SKEW_MS", "0"),
        ];
        let s = build(&args(&[]), &env(&vars), &m).unwrap();
        let o = s.verifier.options();
        assert_eq!(
            o.authorized_parties,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(o.issuer.as_deref(), Some("https://clerk.example.com"));
        assert_eq!(o.clock_skew, Duration::ZERO);
        let s = build(
            &args(&[
                "--authorized-party",
                "https://c.example,https://d.example",
                "--authorized-party",
                "https://e.example",
                "--clock-skew-ms",
                "1000",
                "--audience",
                "api",
            ]),
            &env(&vars),
            &m,
        )
        .unwrap();
        let o = s.verifier.options();
        assert_eq!(
            o.authorized_parties,
            [
                "https://c.example",
                "https://d.example",
                "https://e.example"
            ]
        );
        assert_eq!(o.clock_skew, Duration::from_secs(1));
        assert_eq!(o.audience, ["api"]);
        assert!(!s.allow_unauthenticated);
        assert_eq!(s.proxy, Proxy::Auto);
        let bad = [
            (ENV_FRONTEND_API_URL, "https://clerk.example.com"),
            ("CLERK_CLOCK_SKEW_MS", "soon"),
        ];
        assert!(build(&args(&[]), &env(&bad), &m).is_err());
    }

    #[test]
    fn accepted_kinds_and_machine_secrets_from_flags_else_environment() {
        let m = Arc::new(Metrics::default());
        let fe = (ENV_FRONTEND_API_URL, "https://clerk.example.com");
        // Sessions only unless asked.
        let s = build(&args(&[]), &env(&[fe]), &m).unwrap();
        assert_eq!(
            s.verifier.options().accepts_token,
            AcceptsToken::SESSION_TOKEN
        );
        let vars = [fe, ("CLERK_ACCEPTS_TOKEN", "api_key, m2m_token")];
        let s = build(&args(&[]), &env(&vars), &m).unwrap();
        assert_eq!(
            s.verifier.options().accepts_token.to_string(),
            "api_key,m2m_token"
        );
        let s = build(&args(&["--accepts-token", "any"]), &env(&vars), &m).unwrap();
        assert_eq!(s.verifier.options().accepts_token, AcceptsToken::ANY);
        let bad = [fe, ("CLERK_ACCEPTS_TOKEN", "cookies")];
        let e = build(&args(&[]), &env(&bad), &m).err().unwrap();
        assert!(e.0.contains("CLERK_ACCEPTS_TOKEN"), "{e}");

        // Keys from the Frontend API, machine tokens at --api-url with CLERK_SECRET_KEY: the
        // URL is the machines' alone, not a mistake.
        let vars = [
            fe,
            (ENV_SECRET_KEY, "sk_test_serve"),
            ("CLERK_MACHINE_SECRET_KEY", "ak_machine"),
        ];
        let s = build(
            &args(&[
                "--api-url",
                "http://127.0.0.1:9",
                "--fetch-timeout-ms",
                "700",
            ]),
            &env(&vars),
            &m,
        )
        .unwrap();
        assert!(jwks_url(&s)
            .unwrap()
            .starts_with("https://clerk.example.com/"));
        let machine = &s.verifier.options().machine;
        assert_eq!(machine.secret_key.as_deref(), Some("sk_test_serve"));
        assert_eq!(machine.machine_secret_key.as_deref(), Some("ak_machine"));
        assert_eq!(machine.api_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(machine.timeout, Duration::from_millis(700));
        // The secret key as the key source: --api-url is the keys' and the machines'.
        let s = build(
            &args(&[
                "--secret-key",
                "sk_test_flag",
                "--api-url",
                "http://127.0.0.1:9",
            ]),
            &env(&[]),
            &m,
        )
        .unwrap();
        assert_eq!(jwks_url(&s).as_deref(), Some("http://127.0.0.1:9/v1/jwks"));
        let machine = &s.verifier.options().machine;
        assert_eq!(machine.secret_key.as_deref(), Some("sk_test_flag"));
        assert_eq!(machine.api_url.as_deref(), Some("http://127.0.0.1:9"));
    }
}
