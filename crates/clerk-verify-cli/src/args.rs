//! A small, exact command-line parser: the CLI's flags are a contract that external tests drive,
//! so every accepted spelling is written out here rather than left to a framework's defaults.

use std::collections::VecDeque;
use std::fmt;

/// A usage error: printed on stderr, exit status 2.
#[derive(Debug)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Arguments after the subcommand: `--flag value`, `--flag=value`, `--` then positionals.
pub struct Args {
    rest: VecDeque<String>,
    positionals: Vec<String>,
    options_ended: bool,
}

impl Args {
    pub fn new(args: impl IntoIterator<Item = String>) -> Args {
        Args {
            rest: args.into_iter().collect(),
            positionals: Vec::new(),
            options_ended: false,
        }
    }

    /// The next flag, or `None` when only positionals remain (collected in order).
    pub fn next_flag(&mut self) -> Option<(String, Option<String>)> {
        while let Some(arg) = self.rest.pop_front() {
            if self.options_ended {
                self.positionals.push(arg);
                continue;
            }
            if arg == "--" {
                self.options_ended = true;
                continue;
            }
            if let Some(body) = arg.strip_prefix("--") {
                return Some(match body.split_once('=') {
                    Some((name, value)) => (format!("--{name}"), Some(value.to_owned())),
                    None => (arg.clone(), None),
                });
            }
            if arg.len() > 1 && arg.starts_with('-') && arg != "-" {
                return Some((arg, None));
            }
            self.positionals.push(arg);
        }
        None
    }

    /// The value of `flag`: the `=value` part, or the next argument.
    pub fn value(&mut self, flag: &str, inline: Option<String>) -> Result<String, Usage> {
        if let Some(v) = inline {
            return Ok(v);
        }
        match self.rest.pop_front() {
            Some(v) if v != "--" => Ok(v),
            _ => Err(Usage(format!("{flag} needs a value"))),
        }
    }

    /// Positional arguments seen so far (call after `next_flag` returned `None`).
    pub fn positionals(self) -> Vec<String> {
        self.positionals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> (Vec<(String, String)>, Vec<String>) {
        let mut a = Args::new(v.iter().map(|s| s.to_string()));
        let mut flags = Vec::new();
        while let Some((f, inline)) = a.next_flag() {
            let val = a.value(&f, inline).unwrap();
            flags.push((f, val));
        }
        (flags, a.positionals())
    }

    #[test]
    fn flags_and_positionals() {
        let (f, p) = parse(&["--jwks", "a.json", "--issuer=x", "tok"]);
        assert_eq!(
            f,
            [
                ("--jwks".into(), "a.json".into()),
                ("--issuer".into(), "x".into())
            ]
        );
        assert_eq!(p, ["tok"]);
    }

    #[test]
    fn double_dash_ends_options() {
        let (f, p) = parse(&["--pem", "k", "--", "--not-a-flag"]);
        assert_eq!(f.len(), 1);
        assert_eq!(p, ["--not-a-flag"]);
    }
}
