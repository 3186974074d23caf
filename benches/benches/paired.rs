//! The contenders of `rs256-verify` (benches/verify.rs) measured in interleaved rounds, for
//! ratios that a shared, noisy machine cannot skew.
//!
//! ```text
//! cargo bench -p clerk-benches --bench paired                                            # ring
//! cargo bench -p clerk-benches --no-default-features --features aws-lc-rs --bench paired # aws-lc-rs
//! ROUNDS=201 BATCH_MS=10 cargo bench -p clerk-benches --bench paired
//! ```
//!
//! Criterion measures one benchmark for seconds, then the next: when the machine's speed drifts
//! between the two (other tenants, frequency), their ratio moves by as much as the margins the
//! performance issue sets (we saw the same code give 1.04 and 1.07 against the floor). Here
//! every round runs one batch (about `BATCH_MS` ms) of each contender, in an order that rotates
//! each round, and each ratio is taken within a round, from batches that ran within a few tens
//! of milliseconds of each other. The report gives, per key size, each contender's median time
//! per token and, for clerk-verify against each other contender, the median of the per-round
//! ratios with its quartiles.

mod common;
#[path = "common/stats.rs"]
mod stats;

use clerk_dev::now_unix;
use clerk_verify::keys::CRYPTO_BACKEND;
use common::{Case, Contender};
use stats::{env_or, quantile};
use std::time::{Duration, Instant};

fn main() {
    // `cargo bench` passes `--bench`; this harness takes its settings from the environment.
    let rounds: usize = env_or("ROUNDS", 101);
    let batch = Duration::from_millis(env_or("BATCH_MS", 20));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "paired rounds, backend {CRYPTO_BACKEND}: {rounds} rounds of one {batch:?} batch per \
         contender; {} cores, load average {}",
        std::thread::available_parallelism().map_or(1, usize::from),
        load.split(' ').take(3).collect::<Vec<_>>().join(" ")
    );
    for case in Case::every_key_size() {
        let now = now_unix() as u64;
        let iters = Contender::ALL.map(|who| calibrate(&case, who, now, batch));
        // ns per token, per contender, per round.
        let mut times: [Vec<f64>; 6] = Default::default();
        for round in 0..rounds {
            for i in 0..Contender::ALL.len() {
                let slot = (i + round) % Contender::ALL.len();
                let (who, n) = (Contender::ALL[slot], iters[slot]);
                let start = Instant::now();
                for _ in 0..n {
                    case.run(who, now);
                }
                times[slot].push(start.elapsed().as_nanos() as f64 / n as f64);
            }
        }
        report(case.bits, &times);
    }
}

/// Iterations of `who` that take about `batch`.
fn calibrate(case: &Case, who: Contender, now: u64, batch: Duration) -> u64 {
    // Warm up (and estimate) for about one batch.
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < batch {
        case.run(who, now);
        n += 1;
    }
    let per = start.elapsed().as_nanos() as f64 / n as f64;
    ((batch.as_nanos() as f64 / per) as u64).max(1)
}

fn report(bits: u32, times: &[Vec<f64>; 6]) {
    let ours = &times[0];
    println!("\nRSA-{bits}");
    for (who, t) in Contender::ALL.iter().zip(times) {
        println!(
            "  {:<20} {:>9.2} us (median)",
            who.name(),
            quantile(t, 0.5) / 1e3
        );
    }
    for (who, t) in Contender::ALL.iter().zip(times).skip(1) {
        let ratios: Vec<f64> = ours.iter().zip(t).map(|(a, b)| a / b).collect();
        println!(
            "  clerk-verify / {:<20} {:.3} (quartiles {:.3}-{:.3}){}",
            who.name(),
            quantile(&ratios, 0.5),
            quantile(&ratios, 0.25),
            quantile(&ratios, 0.75),
            if *who == Contender::JsonWebToken {
                format!(
                    "; throughput {:.2}x jsonwebtoken's",
                    1.0 / quantile(&ratios, 0.5)
                )
            } else {
                String::new()
            }
        );
    }
}
