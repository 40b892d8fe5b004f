//! sqlx: simple `<version>_<name>.sql` files (up only) or reversible
//! `<version>_<name>.up.sql` / `.down.sql` pairs, in one flat directory.
//!
//! sqlx wraps each migration in a transaction unless its first line is `-- no-transaction`.
//!
//! The reversible names are the same as golang-migrate's, and nothing in the files tells the
//! two apart except that marker. Detection therefore picks golang-migrate for `.up.sql` pairs
//! unless some file starts with `-- no-transaction`; set `layout = "sqlx"` to override. That
//! default is the sound one: the two tools differ only for single-statement files, which
//! golang-migrate runs outside a transaction and sqlx inside. Assuming sqlx for a
//! golang-migrate project would report every single-statement `CREATE INDEX CONCURRENTLY` as
//! running in a transaction, a false error on the safe pattern; assuming golang-migrate for a
//! sqlx project misses only that error, which Postgres itself raises the first time the
//! migration runs anywhere (so it never reaches production unnoticed).

use super::common::{self, Direction, Script};
use super::detect::Candidate;
use super::{golang_migrate, Found, LayoutOptions, Migration, TransactionMode, Vote};
use crate::source::Snapshot;
use anyhow::Result;
use regex::Regex;
use std::sync::LazyLock;

static REVERSIBLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?<version>[0-9]+)_(?<name>.*)\.(?<direction>up|down)\.sql$")
        .expect("valid regex")
});

static SIMPLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?<version>[0-9]+)_(?<name>.*)\.sql$").expect("valid regex"));

const NO_TRANSACTION: &[u8] = b"-- no-transaction";

/// Reads a sqlx file name: reversible scripts carry their direction, simple ones are ups.
pub(super) fn parse_file_name(path: &str) -> Option<Script<'_>> {
    if let Some(captures) = REVERSIBLE.captures(path) {
        let direction = match &captures["direction"] {
            "up" => Direction::Up,
            _ => Direction::Down,
        };
        return Some(Script {
            version: captures.name("version")?.as_str(),
            name: captures.name("name")?.as_str(),
            direction,
            path,
        });
    }
    let captures = SIMPLE.captures(path)?;
    Some(Script {
        version: captures.name("version")?.as_str(),
        name: captures.name("name")?.as_str(),
        direction: Direction::Up,
        path,
    })
}

/// Whether the file opts out of sqlx's transaction (the marker must open the file).
pub(super) fn opts_out_of_transaction(contents: &[u8]) -> bool {
    contents.starts_with(NO_TRANSACTION)
}

/// Simple sqlx names are timestamps (`sqlx migrate add` writes `YYYYMMDDHHMMSS`): that is
/// what tells them from plain numbered files during detection.
pub(super) fn has_timestamp_version(path: &str) -> bool {
    SIMPLE
        .captures(path)
        .is_some_and(|captures| captures["version"].len() == 14)
}

pub(super) fn discover(snapshot: &Snapshot) -> Vec<Migration> {
    let scripts = common::root_files(snapshot).filter_map(parse_file_name);
    common::pair_scripts(scripts)
        .into_iter()
        .map(|pair| {
            let opted_out = pair
                .up
                .and_then(|path| snapshot.get(path))
                .is_some_and(opts_out_of_transaction);
            let mode = if opted_out {
                TransactionMode::None
            } else {
                TransactionMode::Wrapped
            };
            golang_migrate::migration(snapshot, pair, mode)
        })
        .collect()
}

/// A reversible name that opens with `-- no-transaction` (only sqlx writes it), or a simple
/// timestamped name (golang-migrate's `.up.sql` names vote for golang-migrate).
pub(super) fn vote(file: &Candidate<'_>) -> Vote {
    let Some(name) = file.numbered_sql() else {
        return Vote::No;
    };
    let reversible = golang_migrate::parse_file_name(name).is_some();
    let marked = reversible && opts_out_of_transaction(file.text().as_bytes());
    if marked || (!reversible && has_timestamp_version(name)) {
        Vote::Yes
    } else {
        Vote::No
    }
}

pub(super) fn read(snapshot: &Snapshot, _: &LayoutOptions) -> Result<Found> {
    Found::of(discover(snapshot))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_simple_and_reversible_names() {
        let simple = parse_file_name("20210425153745_create_history.sql").unwrap();
        assert_eq!(simple.name, "create_history");
        assert_eq!(simple.direction, Direction::Up);
        let down = parse_file_name("20231021111635_initial.down.sql").unwrap();
        assert_eq!((down.name, down.direction), ("initial", Direction::Down));
        assert!(has_timestamp_version("20210425153745_create_history.sql"));
        assert!(!has_timestamp_version("001_create_history.sql"));
    }
}
