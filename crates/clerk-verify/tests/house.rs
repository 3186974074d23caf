//! The crate's floors, as docs/architecture.md draws them, held against the code: every
//! `crate::` path a source file names (outside comments) is an arrow from its part to another,
//! and only the arrows drawn below may exist. Floors point down: the token path knows nothing
//! of requests, remote keys or the environment; configuration and the base know nothing above
//! them; and no two parts import each other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules (a file `x.rs` or a folder `x/`) and the part each belongs to.
const PARTS: &[(&str, &str)] = &[
    ("error", "Base"),
    ("reason", "Base"),
    ("crypto", "Base"),
    ("host", "Base"),
    ("limits", "Base"),
    ("options", "Config"),
    ("token", "Token"),
    ("keys", "Token"),
    ("claims", "Token"),
    ("verify", "Token"),
    ("token_cache", "Token"),
    ("dangerous", "Token"),
    ("webhook", "Webhook"),
    ("remote", "Remote"),
    ("machine", "Machine"),
    ("request", "Request"),
    ("env", "Env"),
    ("testing", "TestUtil"),
    ("verifier", "Face"),
    ("adapter", "Face"),
];

/// Every arrow the house may have, from a part to a lower one.
const ALLOWED: &[(&str, &str)] = &[
    ("Config", "Base"),
    ("Token", "Base"),
    ("Token", "Config"),
    ("Webhook", "Base"),
    ("Webhook", "Config"),
    ("Remote", "Base"),
    ("Remote", "Config"),
    ("Remote", "Token"),
    ("Machine", "Base"),
    ("Machine", "Config"),
    ("Machine", "Token"),
    ("Machine", "Remote"),
    ("Request", "Base"),
    ("Request", "Config"),
    ("Request", "Token"),
    ("Request", "Remote"),
    ("Request", "Machine"),
    ("Env", "Base"),
    ("Env", "Config"),
    ("Env", "Remote"),
    ("Env", "Webhook"),
    ("TestUtil", "Base"),
    ("TestUtil", "Config"),
    ("TestUtil", "Token"),
    ("Face", "Base"),
    ("Face", "Config"),
    ("Face", "Token"),
    ("Face", "Webhook"),
    ("Face", "Remote"),
    ("Face", "Request"),
    ("Face", "Machine"),
    ("Face", "Env"),
];

/// The root only declares modules and re-exports: it stands above everything.
const ROOT: &str = "lib.rs";

fn part_of(module: &str) -> Option<&'static str> {
    PARTS.iter().find(|(m, _)| *m == module).map(|(_, p)| *p)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a line of code names through `crate::`. An exported macro's
/// `$crate::` paths are not arrows: they resolve in the user's crate, through the public API.
fn named_modules(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        // `$crate::` in an exported macro can only name the root's exports: not an arrow.
        let in_macro = rest[..at].ends_with('$');
        rest = &rest[at + "crate::".len()..];
        if in_macro {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let inside = group.split('}').next().unwrap_or("");
            found.extend(
                inside
                    .split(',')
                    .map(|item| ident(item.trim()))
                    .filter(|m| !m.is_empty()),
            );
        } else {
            let name = ident(rest);
            // `$crate::some_macro!` is an exported macro (the face's), not a module.
            if !rest[name.len()..].starts_with('!') {
                found.push(name);
            }
        }
    }
    found
}

fn ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Each part's arrows to others, with one file and line that makes each.
fn arrows() -> BTreeMap<(&'static str, &'static str), String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut arrows = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        if relative == Path::new(ROOT) {
            continue;
        }
        let top = relative.components().next().unwrap().as_os_str();
        let top = top.to_str().unwrap().trim_end_matches(".rs");
        let from = part_of(top).unwrap_or_else(|| {
            panic!("{} belongs to no part: add it to PARTS", relative.display())
        });
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                continue;
            }
            for module in named_modules(line) {
                // A root re-export (`crate::Verifier`) hides which part is meant: name the
                // module instead.
                let to = part_of(&module).unwrap_or_else(|| {
                    panic!(
                        "{}:{}: `crate::{module}` names no module of a part; use the module path",
                        relative.display(),
                        n + 1
                    )
                });
                if to != from {
                    arrows
                        .entry((from, to))
                        .or_insert_with(|| format!("{}:{}", relative.display(), n + 1));
                }
            }
        }
    }
    arrows
}

#[test]
fn floors_only_point_down() {
    let arrows = arrows();
    let allowed: BTreeSet<_> = ALLOWED.iter().copied().collect();
    let wrong: Vec<String> = arrows
        .iter()
        .filter(|(arrow, _)| !allowed.contains(arrow))
        .map(|((from, to), at)| format!("{from} -> {to} ({at})"))
        .collect();
    assert!(
        wrong.is_empty(),
        "arrows the house must not have:\n{}",
        wrong.join("\n")
    );
    // The ones the architecture rests on, named.
    for (from, to) in [
        ("Token", "Request"),
        ("Token", "Remote"),
        ("Token", "Env"),
        ("Request", "Env"),
        ("Webhook", "Request"),
        ("Config", "Token"),
        ("Machine", "Request"),
        ("Machine", "Env"),
        ("Token", "Machine"),
    ] {
        assert!(!arrows.contains_key(&(from, to)), "{from} -> {to}");
    }
}

#[test]
fn the_allowed_arrows_have_no_circle() {
    // Each allowed arrow must point to a part that never reaches back.
    let reach = |start: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![start];
        while let Some(part) = todo.pop() {
            for (from, to) in ALLOWED {
                if *from == part && seen.insert(*to) {
                    todo.push(to);
                }
            }
        }
        seen
    };
    for (part, _) in PARTS.iter().map(|(_, p)| (*p, ())) {
        assert!(!reach(part).contains(part), "{part} reaches itself");
    }
}

#[test]
fn the_scanner_reads_paths_and_groups() {
    assert_eq!(
        named_modules("use crate::request::cookies::Cookies;"),
        ["request"]
    );
    assert_eq!(
        named_modules("use crate::{error::Error, options::Clock};"),
        ["error", "options"]
    );
    assert_eq!(
        named_modules("let x = 1; // crate::env"),
        Vec::<String>::new()
    );
    assert_eq!(
        named_modules("$crate::adapter_optional! { x } crate::machine::Route"),
        ["machine"]
    );
}
