//! Diesel: one directory per migration, `<version>_<name>/` holding `up.sql`, `down.sql`
//! and an optional `metadata.toml`.
//!
//! Diesel runs each migration in a transaction unless `metadata.toml` says
//! `run_in_transaction = false`. Versions come in several forms that must interleave in
//! time order: `20140924113530`, `2019-03-22-170700`, `2025-11-20-101010-0000` and
//! `00000000000000` (the initial setup).

use super::common;
use super::detect::Candidate;
use super::{Found, LayoutOptions, Migration, TransactionMode, Version, Vote};
use crate::source::Snapshot;
use anyhow::Result;
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

pub(super) const UP: &str = "up.sql";
pub(super) const DOWN: &str = "down.sql";
pub(super) const METADATA: &str = "metadata.toml";

/// A dashed date, optionally with a time, and whatever follows (`-0000`).
static DASHED_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?<date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?:-(?<time>[0-9]{6}))?(?<rest>.*)$")
        .expect("valid regex")
});

#[derive(Deserialize)]
struct Metadata {
    run_in_transaction: Option<bool>,
}

/// Whether `dir/file` is one of Diesel's migration files in a versioned directory.
pub(super) fn is_migration_file(dir: &str, file: &str) -> bool {
    (file == UP || file == DOWN) && dir.starts_with(|c: char| c.is_ascii_digit())
}

pub(super) fn discover(snapshot: &Snapshot) -> Result<Vec<Migration>> {
    let mut dirs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (dir, file) in common::files_one_level_down(snapshot) {
        if is_migration_file(dir, file) || file == METADATA {
            dirs.entry(dir).or_default().push(file);
        }
    }
    dirs.into_iter()
        .filter(|(_, files)| files.iter().any(|&file| file == UP || file == DOWN))
        .map(|(dir, files)| migration(snapshot, dir, &files))
        .collect()
}

fn migration(snapshot: &Snapshot, dir: &str, files: &[&str]) -> Result<Migration> {
    // Diesel splits at the first `_`: everything before is the version.
    let (version, name) = dir.split_once('_').unwrap_or((dir, ""));
    let part = |file: &str| {
        files
            .contains(&file)
            .then(|| common::whole_file(snapshot, &format!("{dir}/{file}")))
    };
    let mut transaction = TransactionMode::Wrapped;
    if files.contains(&METADATA) {
        transaction = read_metadata(snapshot, &format!("{dir}/{METADATA}"))?;
    }
    let mut migration = common::versioned(version, name, part(UP), part(DOWN), transaction);
    migration.version = sort_key(version);
    if files.contains(&METADATA) {
        migration.paths.push(format!("{dir}/{METADATA}"));
    }
    Ok(migration)
}

fn read_metadata(snapshot: &Snapshot, path: &str) -> Result<TransactionMode> {
    let text = snapshot.text(path)?;
    let metadata: Metadata =
        toml::from_str(text).map_err(|err| common::toml_error(path, text, &err))?;
    Ok(match metadata.run_in_transaction {
        Some(false) => TransactionMode::None,
        _ => TransactionMode::Wrapped,
    })
}

/// Writes dashed versions as the timestamp they stand for, so `2019-03-22-170700` sorts
/// between `20161115111853` and `20200101000000`. Diesel compares the versions with their
/// dashes removed; a missing time (vaultwarden's `2024-03-13_170000_...`) counts as midnight.
fn sort_key(version: &str) -> Version {
    let Some(captures) = DASHED_DATE.captures(version) else {
        return Version::parse(version);
    };
    let date = captures["date"].replace('-', "");
    let time = captures.name("time").map_or("000000", |time| time.as_str());
    Version::parse(&format!("{date}{time}{}", &captures["rest"]))
}

pub(super) fn vote(file: &Candidate<'_>) -> Vote {
    match file.in_subdir() {
        Some((dir, name)) if is_migration_file(dir, name) => Vote::Yes,
        _ => Vote::No,
    }
}

pub(super) fn read(snapshot: &Snapshot, _: &LayoutOptions) -> Result<Found> {
    Found::of(discover(snapshot)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_forms_sort_in_time_order() {
        let ordered = [
            "00000000000000",
            "20161115111853",
            "2019-03-22-170700",
            "20200101000000",
            "2025-11-20-101010-0000",
            "2025-11-20-101011",
        ];
        for window in ordered.windows(2) {
            assert!(sort_key(window[0]) < sort_key(window[1]), "{window:?}");
        }
    }

    #[test]
    fn malformed_metadata_names_the_line() {
        let mut snapshot = Snapshot::new();
        snapshot.insert("2024-01-05-120000_x/up.sql", "select 1;");
        snapshot.insert(
            "2024-01-05-120000_x/metadata.toml",
            "# comment\nrun_in_transaction = nope\n",
        );
        let err = discover(&snapshot).unwrap_err().to_string();
        assert!(
            err.starts_with("2024-01-05-120000_x/metadata.toml:2:"),
            "{err}"
        );
    }
}
