//! `clerk-verify`: verify Clerk session tokens from the shell.

mod args;
mod dev_cmd;
mod verify_cmd;

use std::process::ExitCode;

const USAGE: &str = "\
usage: clerk-verify <command> [options]

commands:
  verify    verify session tokens (clerk-verify verify --help)
  dev       a local issuer for tests: keygen, mint, serve (clerk-verify dev --help)";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let result = match args.next().as_deref() {
        Some("verify") => verify_cmd::run(args.collect()),
        Some("dev") => dev_cmd::run(args.collect()),
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("--version" | "-V") => {
            println!("clerk-verify {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(args::Usage(format!("unknown command {other:?}\n\n{USAGE}"))),
        None => Err(args::Usage(USAGE.into())),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(usage) => {
            eprintln!("clerk-verify: {usage}");
            ExitCode::from(2)
        }
    }
}
