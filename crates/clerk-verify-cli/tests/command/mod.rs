//! The built `clerk-verify` binary, run as outside tests run it: arguments, standard input, and
//! an environment without the caller's `CLERK_*` variables (so a developer's shell cannot change
//! a result); a scratch directory per test. Shared by the command-line test files.

#![allow(dead_code)] // each test file uses a part of it

use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// Every variable the binary reads: removed unless a test sets it.
const CLERK_VARIABLES: [&str; 9] = [
    "CLERK_JWT_KEY",
    "CLERK_SECRET_KEY",
    "CLERK_MACHINE_SECRET_KEY",
    "CLERK_PUBLISHABLE_KEY",
    "CLERK_JWKS_URL",
    "CLERK_API_URL",
    "CLERK_ACCEPTS_TOKEN",
    "CLERK_WEBHOOK_SIGNING_SECRET",
    "CLERK_AUTHORIZED_PARTIES",
];

/// A scratch directory of one test, removed on drop.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!(
            "clerk-verify-{}-{}-{name}",
            env!("CARGO_CRATE_NAME"),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }

    /// Writes `name` in the directory; its path.
    pub fn file(&self, name: &str, content: impl AsRef<[u8]>) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p.to_string_lossy().into_owned()
    }

    /// The path of `name` in the directory (not created).
    pub fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `clerk-verify args…` with `stdin` (closed at once without), `env` on top of an
/// environment without [`CLERK_VARIABLES`], to its end.
pub fn cli(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_clerk-verify"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in CLERK_VARIABLES {
        cmd.env_remove(name);
    }
    cmd.envs(env.iter().copied());
    let mut child = cmd.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        // A usage error may end the process before it reads its input.
        if let Err(e) = pipe.write_all(input) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Standard output's lines, each a JSON value.
pub fn json_lines(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
