//! Every shell block of README.md and docs/*.md, run as a newcomer would paste it, so the docs
//! cannot rot: a command that no longer exists, a renamed flag, a missing file, a server queried
//! before it listens or a token the docs' own commands mint and then refuse fails this test.
//!
//! The blocks of one page run in order, in one scratch directory of their own (a later block may
//! use a file an earlier one wrote, as a reader's would), each with `bash -euo pipefail` so a
//! failing line fails its block, and each within [`BLOCK_TIMEOUT`]. Whatever a block started and
//! left running is killed when it ends. Commands resolve to this build: `clerk-verify` and
//! `cargo run -p clerk-verify-cli -- …` to the CLI built beside this test, `cargo run … --bin
//! <app>` to the example app, and `cargo install --path crates/clerk-verify-cli` to nothing (the
//! binary is already on the PATH).
//!
//! A block's info string says how it is treated:
//!
//! - ` ```sh `: run;
//! - ` ```sh clerk-account `: needs a real Clerk instance: shown, not run;
//! - ` ```sh long `: benchmarks and fuzzing campaigns (minutes to hours): checked, not run: bash
//!   parses it, and every script, bench and fuzz target it names exists (CI compiles every
//!   bench with `clippy --all-targets` and runs each fuzz target briefly, `.ci/fuzz`; the
//!   benchmarks themselves are run by hand, their numbers in docs/benchmarks.md);
//! - ` ```sh postgres `: needs a PostgreSQL server: run against a throwaway cluster
//!   (`support::postgres`) in which the role `app` owns the database `membership`, its port in
//!   `PGPORT` (skipped with a loud notice without PostgreSQL, except under `CI`);
//! - ` ```sh setup `: the README's first block, the two commands of a fresh machine: checked to
//!   be what CI runs (`.ci/run` runs the tests, `tests/demo.rs` the demo), since running `cargo
//!   test` from inside `cargo test` would never end.

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The longest a block may take.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(120);

/// The fixed ports the docs' blocks listen on (a reader's commands cannot pick free ones).
const DOC_PORTS: [u16; 3] = [3000, 8787, 8788];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Run,
    ClerkAccount,
    Long,
    Setup,
    Postgres,
}

struct Block {
    file: String,
    line: usize,
    mode: Mode,
    text: String,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The shell blocks of one Markdown file, in order.
fn blocks_of(file: &str) -> Vec<Block> {
    let text = std::fs::read_to_string(repo().join(file)).unwrap();
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let mut words = info.split_whitespace();
        let lang = words.next().unwrap_or("");
        let body: Vec<&str> = lines
            .by_ref()
            .map(|(_, l)| l)
            .take_while(|l| !l.starts_with("```"))
            .collect();
        if !matches!(lang, "sh" | "bash" | "shell" | "console") {
            continue;
        }
        let mode = match words.next() {
            None => Mode::Run,
            Some("clerk-account") => Mode::ClerkAccount,
            Some("long") => Mode::Long,
            Some("setup") => Mode::Setup,
            Some("postgres") => Mode::Postgres,
            Some(other) => panic!("{file}:{}: unknown shell block mode {other:?}", n + 1),
        };
        blocks.push(Block {
            file: file.to_owned(),
            line: n + 1,
            mode,
            text: body.join("\n") + "\n",
        });
    }
    blocks
}

/// README.md, then docs/*.md by name.
fn pages() -> Vec<String> {
    let mut docs: Vec<String> = std::fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    docs.insert(0, "README.md".to_owned());
    docs
}

/// The directory of this build's binaries (`target/debug`): the test runs from `deps/` in it.
fn binaries() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// A `bin/` of shims that resolve the docs' commands to this build.
fn shims(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let built = binaries();
    std::os::unix::fs::symlink(built.join("clerk-verify"), bin.join("clerk-verify")).unwrap();
    let cargo = format!(
        r#"#!/usr/bin/env bash
set -euo pipefail
built='{built}'
case "${{1:-}}" in
  install)
    if [[ " $* " == *" --path crates/clerk-verify-cli "* ]]; then exit 0; fi ;;
  run)
    shift
    bin="" cli=0 rest=()
    while [[ $# -gt 0 ]]; do
      case "$1" in
        --) shift; rest=("$@"); break ;;
        -q|--quiet|--no-default-features|--release|--locked) shift ;;
        --features|--manifest-path) shift 2 ;;
        -p) if [[ "$2" == clerk-verify-cli ]]; then cli=1; fi; shift 2 ;;
        --bin) bin="$2"; shift 2 ;;
        *) echo "docs test: 'cargo run $1' is not understood" >&2; exit 97 ;;
      esac
    done
    if [[ $cli == 1 ]]; then exec "$built/clerk-verify" "${{rest[@]}}"; fi
    if [[ -n "$bin" && -x "$built/$bin" ]]; then exec "$built/$bin" "${{rest[@]}}"; fi ;;
esac
echo "docs test: 'cargo $*' is not a command the docs test runs" >&2
exit 97
"#,
        built = built.display()
    );
    let path = bin.join("cargo");
    std::fs::write(&path, cargo).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&path, perms).unwrap();
    bin
}

/// Runs one block in `dir`; `Err` says why it failed, with its output.
fn run(block: &Block, dir: &Path, bin: &Path, env: &[(&str, String)]) -> Result<(), String> {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Its own session and process group, so everything it started can be killed with it.
    let mut child = Command::new("setsid")
        .args(["bash", "-euo", "pipefail", "-c", &block.text])
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("CLERK_JWKS_URL")
        .env_remove("CLERK_WEBHOOK_SIGNING_SECRET")
        .env_remove("DATABASE_URL")
        .env_remove("PGPORT")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start bash: {e}"))?;
    let pid = child.id();
    // Read the output as it comes, so a chatty server cannot fill a pipe and stall the block.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > BLOCK_TIMEOUT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // The block's background processes hold the pipes open: kill them before reading.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
    let output = format!(
        "--- stdout\n{}--- stderr\n{}",
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default()
    );
    match status {
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(format!("{s}\n{output}")),
        None => Err(format!("did not finish in {BLOCK_TIMEOUT:?}\n{output}")),
    }
}

/// A `long` block: bash parses it, and the scripts, benches and fuzz targets it names exist.
fn check_long(block: &Block) -> Result<(), String> {
    let parse = Command::new("bash")
        .args(["-n", "-c", &block.text])
        .output()
        .map_err(|e| e.to_string())?;
    if !parse.status.success() {
        return Err(String::from_utf8_lossy(&parse.stderr).into_owned());
    }
    let words: Vec<&str> = block.text.split_whitespace().collect();
    for word in &words {
        let script = word.starts_with("benches/") || word.starts_with(".ci/");
        if script && !word.contains(['<', '*']) && !repo().join(word).exists() {
            return Err(format!("{word} does not exist"));
        }
    }
    let benches = std::fs::read_to_string(repo().join("benches/Cargo.toml")).unwrap();
    let fuzz = std::fs::read_to_string(repo().join("fuzz/Cargo.toml")).unwrap();
    for pair in words.windows(3) {
        if pair[0] == "--bench" && !benches.contains(&format!("name = \"{}\"", pair[1])) {
            return Err(format!("no bench named {}", pair[1]));
        }
        let target = pair[2];
        if pair[0] == "fuzz"
            && pair[1] == "run"
            && !target.starts_with(['<', '[', '-', '$'])
            && !fuzz.contains(&format!("name = \"{target}\""))
        {
            return Err(format!("no fuzz target named {target}"));
        }
    }
    Ok(())
}

/// The README's first block: the demo (run by tests/demo.rs) and the test commands CI runs.
fn check_setup(block: &Block) -> Result<(), String> {
    let ci = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    let commands = block
        .text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty());
    for command in commands {
        // CI adds --locked (the lock file must not change under it); the command is the same.
        let is_ci = ci
            .lines()
            .any(|l| l.trim().replace(" --locked", "") == command);
        let is_demo =
            command.contains("--bin demo") && repo().join("examples/tests/demo.rs").is_file();
        if !is_ci && !is_demo {
            return Err(format!(
                "`{command}` is not a line of .ci/run (nor the demo)"
            ));
        }
    }
    Ok(())
}

#[test]
fn every_shell_block_of_the_docs_runs() {
    // The CLI is another package's binary: `cargo test --workspace` builds it before any test
    // runs; this package's tests alone do not.
    let cli = binaries().join("clerk-verify");
    if !cli.is_file() {
        support::skip_unless_ci(&format!(
            "{} is not built, so the docs' shell blocks did not run: run the workspace's tests \
             (cargo test --workspace), or `cargo build -p clerk-verify-cli` first",
            cli.display()
        ));
        return;
    }
    for port in DOC_PORTS {
        assert!(
            TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} on 127.0.0.1 is in use: the docs' commands listen on it, so this test \
             needs it free"
        );
    }
    let scratch = std::env::temp_dir().join(format!("clerk-docs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let bin = shims(&scratch);
    let (mut failures, mut ran) = (Vec::new(), 0);
    for page in pages() {
        let dir = scratch.join(page.replace('/', "_"));
        std::fs::create_dir_all(&dir).unwrap();
        for block in blocks_of(&page) {
            let result = match block.mode {
                Mode::ClerkAccount => continue,
                Mode::Long => check_long(&block),
                Mode::Setup => check_setup(&block),
                Mode::Run => {
                    ran += 1;
                    run(&block, &dir, &bin, &[])
                }
                Mode::Postgres => {
                    let Some(pg) = support::postgres::Postgres::start("docs") else {
                        continue;
                    };
                    pg.query("CREATE ROLE app LOGIN PASSWORD 'secret'");
                    pg.query("CREATE DATABASE membership OWNER app");
                    ran += 1;
                    run(&block, &dir, &bin, &[("PGPORT", pg.port.to_string())])
                }
            };
            if let Err(why) = result {
                failures.push(format!(
                    "{}:{} ({:?}): {why}",
                    block.file, block.line, block.mode
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(ran >= 4, "only {ran} blocks ran");
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}
