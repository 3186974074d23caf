//! `clerk-verify`: verify Clerk session tokens from the shell, inspect them, and run a local
//! issuer for tests.

mod args;
mod dev_cmd;
mod groups;
mod inspect_cmd;
mod serve;
mod verifier;
mod verify_cmd;
mod webhook_cmd;

use args::{Cli, Command, USAGE_EXIT};
use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use std::fmt;
use std::process::ExitCode;

/// A usage or configuration error: one line on standard error, exit status 2.
#[derive(Debug)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    let result = match cli.command {
        Command::Verify(a) => verify_cmd::run(a),
        Command::Inspect(a) => inspect_cmd::run(a),
        Command::Webhook(a) => webhook_cmd::run(a),
        Command::Dev(d) => dev_cmd::run(d),
        Command::Serve(a) => serve::run(a),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "clerk-verify", &mut std::io::stdout());
            Ok(0)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(usage) => {
            eprintln!("clerk-verify: {usage}");
            ExitCode::from(USAGE_EXIT)
        }
    }
}

/// `--help` and `--version` go to standard output with status 0; a bare `clerk-verify` prints
/// the help on standard error with status 2; any other parse error is one line, status 2.
fn clap_error(e: clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            print!("{e}");
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprint!("{e}");
            ExitCode::from(USAGE_EXIT)
        }
        _ => {
            let text = e.to_string();
            let line = text
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            eprintln!("clerk-verify: {line} (see --help)");
            ExitCode::from(USAGE_EXIT)
        }
    }
}
