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

/// clap's message on one line: its first line, and the indented lines under it, which name what
/// is wrong ("the following required arguments were not provided:" is followed by `--sub <SUB>`).
fn one_line(text: &str) -> String {
    let mut lines = text.lines();
    let mut line = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_owned();
    let named: Vec<&str> = lines
        .take_while(|l| l.starts_with(char::is_whitespace) && !l.trim().is_empty())
        .map(str::trim)
        .collect();
    if !named.is_empty() {
        line.push(' ');
        line.push_str(&named.join(", "));
    }
    line
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
            eprintln!("clerk-verify: {} (see --help)", one_line(&e.to_string()));
            ExitCode::from(USAGE_EXIT)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn a_missing_argument_is_named_on_the_one_line() {
        let clap = concat!(
            "error: the following required arguments were not provided:\n",
            "  --sub <SUB>\n",
            "  --key <KEY>\n",
            "\n",
            "Usage: clerk-verify dev mint --sub <SUB>\n",
            "\n",
            "For more information, try '--help'.\n"
        );
        assert_eq!(
            one_line(clap),
            "the following required arguments were not provided: --sub <SUB>, --key <KEY>"
        );
        assert_eq!(
            one_line("error: unexpected argument '--x' found\n\nUsage: clerk-verify\n"),
            "unexpected argument '--x' found"
        );
    }
}
