//! The `clerk-verify verify` CLI on a file of distinct tokens, against ring's raw RSA verify of
//! the same tokens measured in the same run. Run it through `benches/cli.sh`, which builds the
//! release binary first:
//!
//! ```text
//! benches/cli.sh                 # 20,000 tokens, 9 rounds
//! TOKENS=50000 ROUNDS=15 benches/cli.sh
//! KEEP=1 benches/cli.sh          # keep the tokens file and JWKS (to profile the CLI on them)
//! ```
//!
//! Each round times, one after the other (so load changes hit all three alike): ring's raw
//! verification of every token on this thread (pre-decoded signatures and a pre-built key: the
//! floor), then the CLI with `--jobs 1` and with `--jobs 2`, reading the tokens from a file and
//! writing its JSON lines to `/dev/null`. The CLI's time is the whole process (start-up, key
//! loading, reading, verifying, writing), divided by the number of tokens. Medians of the rounds
//! are reported, with the ratios the performance issue sets targets for: `--jobs 1` at most
//! 1.15 x the raw verify, `--jobs 2` below 1 x.

#[path = "common/stats.rs"]
mod stats;

use clerk_dev::b64url;
use ring::signature::{RsaKeyPair, RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use stats::{env_or, quantile};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    // `cargo bench` passes `--bench`; this harness takes its settings from the environment.
    let tokens: usize = env_or("TOKENS", 20_000usize);
    let rounds: usize = env_or("ROUNDS", 9usize);
    let cli = std::env::var_os("CLI_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(default_cli);
    assert!(
        cli.exists(),
        "{} not found: build it first (`cargo build --release -p clerk-verify-cli`) or set \
         CLI_BIN; benches/cli.sh does both",
        cli.display()
    );
    let dir = std::env::temp_dir().join(format!("clerk-verify-cli-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    let key = clerk_dev::fixtures::rsa2048();
    let minted = Instant::now();
    let list = mint(tokens);
    eprintln!(
        "minted {tokens} distinct RS256 tokens ({} bytes each) in {:.1?}",
        list[0].len(),
        minted.elapsed()
    );
    let token_file = dir.join("tokens.txt");
    std::fs::write(&token_file, list.join("\n") + "\n").expect("write tokens");
    let jwks_file = dir.join("jwks.json");
    std::fs::write(&jwks_file, key.jwks_json()).expect("write jwks");

    // The floor's inputs, decoded outside the timing.
    let jwk = key.public_jwk();
    let part = |m: &str| clerk_dev::b64url_decode(jwk[m].as_str().expect("n, e")).expect("b64");
    let public = RsaPublicKeyComponents {
        n: part("n"),
        e: part("e"),
    };
    let inputs: Vec<(&str, Vec<u8>)> = list
        .iter()
        .map(|t| {
            let (input, sig) = t.rsplit_once('.').expect("three parts");
            (input, clerk_dev::b64url_decode(sig).expect("signature"))
        })
        .collect();

    // Every token is valid for the CLI before anything is timed.
    let out = run_cli(&cli, &jwks_file, &token_file, 1, Stdio::piped());
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert!(out.status.success(), "the CLI refused a token");
    assert_eq!(text.lines().count(), tokens);
    assert!(text.lines().all(|l| l.starts_with("{\"valid\":true,")));

    let raw_verify = || {
        let start = Instant::now();
        for (input, sig) in &inputs {
            public
                .verify(&RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), sig)
                .expect("valid");
        }
        per_token(start.elapsed(), tokens)
    };
    let (mut raw, mut one, mut two) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // The floor is measured before and after the CLI runs, and averaged: the round's
        // ratios then compare runs that bracket each other in time.
        let before = raw_verify();
        one.push(per_token(
            time_cli(&cli, &jwks_file, &token_file, 1),
            tokens,
        ));
        two.push(per_token(
            time_cli(&cli, &jwks_file, &token_file, 2),
            tokens,
        ));
        raw.push((before + raw_verify()) / 2.0);
        eprintln!(
            "round {}: raw {:.2} us, --jobs 1 {:.2} us, --jobs 2 {:.2} us per token",
            round + 1,
            raw[round],
            one[round],
            two[round]
        );
    }
    let ratios = |cli: &[f64]| -> Vec<f64> { cli.iter().zip(&raw).map(|(c, r)| c / r).collect() };
    let (one_ratio, two_ratio) = (ratios(&one), ratios(&two));
    println!(
        "clerk-verify CLI, {tokens} distinct RS256 tokens (RSA-2048), medians of {rounds} rounds \
         (ratios: the median of the rounds' own ratios, and its quartiles)"
    );
    println!(
        "  ring raw verify, this thread: {:.2} us/token",
        quantile(&raw, 0.5)
    );
    for (jobs, times, ratio, target) in [
        (1, &one, &one_ratio, "<= 1.15"),
        (2, &two, &two_ratio, "< 1"),
    ] {
        println!(
            "  clerk-verify verify --jobs {jobs}: {:.2} us/token, {:.3} x raw (quartiles \
             {:.3}-{:.3}; target {target})",
            quantile(times, 0.5),
            quantile(ratio, 0.5),
            quantile(ratio, 0.25),
            quantile(ratio, 0.75),
        );
    }
    if std::env::var_os("KEEP").is_some() {
        eprintln!("tokens and JWKS kept in {}", dir.display());
    } else {
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// `count` distinct Clerk-shaped session tokens, signed with ring (on every core).
fn mint(count: usize) -> Vec<String> {
    let pem = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/clerk-dev/fixtures/rsa2048.pem"),
    )
    .expect("fixture key");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).expect("PEM body");
    let pair = RsaKeyPair::from_pkcs8(&der).expect("PKCS #8 key");
    let kid = clerk_dev::fixtures::rsa2048().kid();
    let header = b64url(format!(r#"{{"alg":"RS256","kid":"{kid}","typ":"JWT"}}"#).as_bytes());
    let now = clerk_dev::now_unix();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let per = count.div_ceil(threads);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (pair, header) = (&pair, &header);
                s.spawn(move || {
                    let rng = ring::rand::SystemRandom::new();
                    (t * per..((t + 1) * per).min(count))
                        .map(|i| {
                            let payload = format!(
                                r#"{{"azp":"{azp}","exp":{exp},"fea":"o:impersonation,o:memberships","fva":[12,-1],"iat":{now},"iss":"{iss}","jti":"{i:020}","nbf":{nbf},"o":{{"fpm":"1,3","id":"org_2abcdefghijklmnopqrstuvwx","per":"read,manage","rol":"admin","slg":"acme"}},"pla":"u:free,o:pro","sid":"sess_{i:024}","sts":"active","sub":"user_{i:024}","v":2}}"#,
                                azp = clerk_dev::TEST_AZP,
                                iss = clerk_dev::TEST_ISSUER,
                                exp = now + 3600,
                                nbf = now - 10,
                            );
                            let input = format!("{header}.{}", b64url(payload.as_bytes()));
                            let mut sig = vec![0; pair.public().modulus_len()];
                            pair.sign(
                                &ring::signature::RSA_PKCS1_SHA256,
                                &rng,
                                input.as_bytes(),
                                &mut sig,
                            )
                            .expect("sign");
                            format!("{input}.{}", b64url(&sig))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("minting thread"))
            .collect()
    })
}

fn run_cli(
    cli: &Path,
    jwks: &Path,
    tokens: &Path,
    jobs: u32,
    stdout: Stdio,
) -> std::process::Output {
    let input = std::fs::File::open(tokens).expect("tokens file");
    let child = Command::new(cli)
        .args(["verify", "--jwks"])
        .arg(jwks)
        .args(["--jobs", &jobs.to_string()])
        .stdin(input)
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run the CLI");
    child.wait_with_output().expect("CLI output")
}

fn time_cli(cli: &Path, jwks: &Path, tokens: &Path, jobs: u32) -> Duration {
    let start = Instant::now();
    let out = run_cli(cli, jwks, tokens, jobs, Stdio::null());
    let elapsed = start.elapsed();
    assert!(out.status.success(), "the CLI refused a token");
    elapsed
}

fn per_token(d: Duration, tokens: usize) -> f64 {
    d.as_secs_f64() * 1e6 / tokens as f64
}

/// `target/release/clerk-verify` of this workspace (or of `CARGO_TARGET_DIR`).
fn default_cli() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("release").join("clerk-verify")
}
