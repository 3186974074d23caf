//! The README's reason-code table is the one users read: it must list exactly the codes in
//! `clerk_verify::reason`, no more (a stale code) and no fewer (a code nobody can look up).

use std::collections::BTreeSet;

#[test]
fn the_readme_lists_exactly_the_reason_codes() {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("## Reason codes")
        .expect("README has a Reason codes section");
    let end = start + readme[start..].find("\n## ").expect("a section after it");
    let table = &readme[start..end];
    let listed: BTreeSet<&str> = table
        .lines()
        .filter(|line| line.starts_with("| `"))
        .flat_map(|line| {
            let first_cell = line.split('|').nth(1).unwrap_or("");
            first_cell.split('`').skip(1).step_by(2).collect::<Vec<_>>()
        })
        .collect();
    let known: BTreeSet<&str> = clerk_verify::reason::ALL.iter().copied().collect();
    let missing: Vec<_> = known.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&known).collect();
    assert!(
        missing.is_empty(),
        "codes missing from the README table: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "README codes that clerk_verify::reason lacks: {stale:?}"
    );
}
