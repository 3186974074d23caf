#!/usr/bin/env bash
# The clerk-verify CLI on a file of distinct tokens against ring's raw verify of the same tokens,
# measured in the same run (benches/benches/cli.rs). Builds the release binary first.
#
#   benches/cli.sh                    # 20,000 tokens, 9 rounds, ring backend
#   TOKENS=50000 ROUNDS=15 benches/cli.sh
#   BACKEND=aws-lc-rs benches/cli.sh  # the CLI built on aws-lc-rs (the floor stays ring's)
set -euo pipefail
cd "$(dirname "$0")/.."

features=()
if [ "${BACKEND:-ring}" = "aws-lc-rs" ]; then
    features=(--no-default-features --features aws-lc-rs)
fi
cargo build --release -q -p clerk-verify-cli "${features[@]}"
# Absolute: cargo runs the bench from benches/, not from here.
target="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
CLI_BIN="$target/release/clerk-verify" cargo bench -q -p clerk-benches --bench cli
