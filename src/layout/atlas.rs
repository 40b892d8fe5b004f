//! Atlas migration directories: `<version>_<name>.sql` (or `<version>.sql`) beside the
//! `atlas.sum` integrity file, up only.
//!
//! Atlas runs each file in its own transaction unless the file opens with
//! `-- atlas:txmode none`; files apply in version order, and an older pending file is an
//! error in its default linear execution order.

use super::common;
use super::detect::Candidate;
use super::{Found, LayoutOptions, Migration, TransactionMode, Vote};
use crate::source::Snapshot;
use anyhow::Result;
use regex::Regex;
use std::sync::LazyLock;

pub(super) const SUM: &str = "atlas.sum";

static FILE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?<version>[0-9]+)(?:_(?<name>.*))?\.sql$").expect("valid regex")
});

pub(super) fn vote(file: &Candidate<'_>) -> Vote {
    if file.top_file() == Some(SUM) {
        Vote::Decides
    } else {
        Vote::No
    }
}

pub(super) fn is_auxiliary(path: &str) -> bool {
    path == SUM
}

/// Whether the directives at the top of the file turn the transaction off.
fn opts_out_of_transaction(text: &str) -> bool {
    text.lines()
        .take_while(|line| line.trim_start().starts_with("--") || line.trim().is_empty())
        .any(|line| {
            let words: Vec<String> = line
                .trim_start_matches([' ', '\t', '-'])
                .split_whitespace()
                .map(str::to_ascii_lowercase)
                .collect();
            words == ["atlas:txmode", "none"]
        })
}

pub(super) fn read(snapshot: &Snapshot, _: &LayoutOptions) -> Result<Found> {
    let mut migrations: Vec<Migration> = Vec::new();
    for path in common::root_files(snapshot) {
        let Some(captures) = FILE_NAME.captures(path) else {
            continue;
        };
        let text = snapshot.text(path)?;
        let mode = if opts_out_of_transaction(text) {
            TransactionMode::None
        } else {
            TransactionMode::Wrapped
        };
        let name = captures.name("name").map_or("", |name| name.as_str());
        let up = common::whole_file(snapshot, path);
        migrations.push(common::versioned(
            &captures["version"],
            name,
            Some(up),
            None,
            mode,
        ));
    }
    Found::of(migrations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txmode_none_opts_out() {
        assert!(opts_out_of_transaction(
            "-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
        ));
        assert!(!opts_out_of_transaction(
            "CREATE TABLE t (id int);\n-- atlas:txmode none\n"
        ));
        assert!(!opts_out_of_transaction("-- atlas:txmode file\n"));
    }

    #[test]
    fn reads_versions_with_and_without_names() {
        let mut snapshot = Snapshot::new();
        snapshot.insert(SUM, "h1:abc=\n");
        snapshot.insert("20240101000000_init.sql", "CREATE TABLE t (id int);\n");
        snapshot.insert("20240102000000.sql", "-- atlas:txmode none\nSELECT 1;\n");
        let found = read(&snapshot, &LayoutOptions::default()).unwrap();
        let read: Vec<_> = found
            .migrations
            .iter()
            .map(|m| (m.id.as_str(), m.name.as_str(), m.transaction))
            .collect();
        assert_eq!(
            read,
            [
                ("20240101000000", "init", TransactionMode::Wrapped),
                ("20240102000000", "", TransactionMode::None)
            ]
        );
    }
}
