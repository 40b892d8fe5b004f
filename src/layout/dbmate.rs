//! dbmate: `<version>_<name>.sql` holding both directions, after `-- migrate:up` and
//! `-- migrate:down` lines.
//!
//! dbmate wraps each direction in a transaction unless its marker line carries
//! `transaction:false`. A migration has one mode, so the up marker's option decides it (the
//! rules judge the up; a down's own opt-out matters only when it runs).

use super::common;
use super::detect::Candidate;
use super::{Found, LayoutOptions, Migration, TransactionMode, Vote};
use crate::source::Snapshot;
use anyhow::{bail, Result};
use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;

static FILE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?<version>[0-9]+)[_-]?(?<name>.*)\.sql$").expect("valid regex")
});

static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^--\s*migrate:(?<direction>up|down)(?<options>\s.*)?$").expect("valid regex")
});

struct Marker {
    up: bool,
    without_transaction: bool,
}

fn marker(line: &str) -> Option<Marker> {
    let captures = MARKER.captures(line.trim_end())?;
    let options = captures
        .name("options")
        .map_or("", |options| options.as_str());
    Some(Marker {
        up: &captures["direction"] == "up",
        without_transaction: options
            .split_whitespace()
            .any(|option| option == "transaction:false"),
    })
}

/// Whether the file has a `-- migrate:up` line (what detection looks for).
pub(super) fn has_up_marker(text: &str) -> bool {
    text.lines().any(|line| marker(line).is_some_and(|m| m.up))
}

pub(super) fn discover(snapshot: &Snapshot) -> Result<Vec<Migration>> {
    common::root_files(snapshot)
        .filter_map(|path| {
            let captures = FILE_NAME.captures(path)?;
            let version = captures.name("version")?.as_str();
            let name = captures.name("name")?.as_str();
            Some(migration(snapshot, path, version, name))
        })
        .collect()
}

fn migration(snapshot: &Snapshot, path: &str, version: &str, name: &str) -> Result<Migration> {
    let text = snapshot.text(path)?;
    let mut up_marker: Option<Range<usize>> = None;
    let mut down_marker: Option<Range<usize>> = None;
    let mut transaction = TransactionMode::Wrapped;
    for (start, line, end) in common::lines_with_offsets(text) {
        match marker(line) {
            Some(Marker {
                up: true,
                without_transaction,
            }) if up_marker.is_none() => {
                up_marker = Some(start..end);
                if without_transaction {
                    transaction = TransactionMode::None;
                }
            }
            Some(Marker { up: false, .. }) if down_marker.is_none() => {
                down_marker = Some(start..end);
            }
            _ => {}
        }
    }
    let Some(up_marker) = up_marker else {
        bail!("{path}: no `-- migrate:up` line (dbmate needs one to know what to run)");
    };
    Ok(common::sectioned(
        path,
        version,
        name,
        text.len(),
        &up_marker,
        down_marker.as_ref(),
        transaction,
    ))
}

pub(super) fn vote(file: &Candidate<'_>) -> Vote {
    if file.numbered_sql().is_some() && has_up_marker(file.text()) {
        Vote::Yes
    } else {
        Vote::No
    }
}

pub(super) fn read(snapshot: &Snapshot, _: &LayoutOptions) -> Result<Found> {
    Found::of(discover(snapshot)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_markers_and_options() {
        assert!(marker("-- migrate:up").unwrap().up);
        assert!(marker("--migrate:down").is_some_and(|m| !m.up));
        assert!(
            marker("-- migrate:up transaction:false")
                .unwrap()
                .without_transaction
        );
        assert!(!marker("-- migrate:up").unwrap().without_transaction);
        assert!(marker("-- migrate:upgrade").is_none());
        assert!(marker("select 1; -- migrate:up").is_none());
    }

    #[test]
    fn splits_the_file_into_sections() {
        let mut snapshot = Snapshot::new();
        let text = "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n-- migrate:down\nDROP INDEX i;\n";
        snapshot.insert("20240101000000_i.sql", text);
        let migration = migration(&snapshot, "20240101000000_i.sql", "20240101000000", "i");
        let migration = migration.unwrap();
        assert_eq!(migration.transaction, TransactionMode::None);
        let up = migration.up.unwrap().range;
        assert_eq!(&text[up], "CREATE INDEX CONCURRENTLY i ON t (a);\n\n");
        assert_eq!(&text[migration.down.unwrap().range], "DROP INDEX i;\n");
    }
}
