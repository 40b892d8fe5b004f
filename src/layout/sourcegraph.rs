//! Directory per migration with `metadata.yaml` (Sourcegraph's migrator and tools modelled
//! on it): `<version>_<name>/up.sql`, `down.sql` and `metadata.yaml` holding `name`,
//! `parents` (the versions this one follows), `createIndexConcurrently` and `privileged`.
//!
//! Order: the migrations form a graph through `parents`; they apply parents first, versions
//! breaking ties. When that differs from version order, each migration's sort key becomes
//! its position in the graph order (so `apply_order` keeps it). Parents that are not in the
//! directory (squashed away) are ignored; a cycle is an error.
//!
//! Transactions: a migration runs in a transaction unless it is marked
//! `createIndexConcurrently: true`, which the runner applies outside one.

use super::common;
use super::detect::Candidate;
use super::{Found, LayoutOptions, Migration, TransactionMode, Version, Vote};
use crate::source::Snapshot;
use anyhow::{anyhow, bail, Result};
use std::collections::{BTreeMap, BTreeSet};
use yaml_rust2::{Yaml, YamlLoader};

const UP: &str = "up.sql";
const DOWN: &str = "down.sql";
pub(super) const METADATA: &str = "metadata.yaml";

/// What `metadata.yaml` says.
#[derive(Debug, Default, PartialEq, Eq)]
struct Metadata {
    name: Option<String>,
    parents: Vec<String>,
    concurrently: bool,
}

pub(super) fn vote(file: &Candidate<'_>) -> Vote {
    match file.in_subdir() {
        Some((dir, METADATA)) if dir.starts_with(|c: char| c.is_ascii_digit()) => Vote::Yes,
        _ => Vote::No,
    }
}

pub(super) fn read(snapshot: &Snapshot, _: &LayoutOptions) -> Result<Found> {
    let mut dirs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (dir, file) in common::files_one_level_down(snapshot) {
        if matches!(file, UP | DOWN | METADATA) && dir.starts_with(|c: char| c.is_ascii_digit()) {
            dirs.entry(dir).or_default().push(file);
        }
    }
    let mut read = Vec::new();
    for (dir, files) in dirs {
        if files.contains(&UP) || files.contains(&DOWN) {
            read.push(migration(snapshot, dir, &files)?);
        }
    }
    Found::of(in_graph_order(read)?)
}

fn migration(snapshot: &Snapshot, dir: &str, files: &[&str]) -> Result<(Migration, Metadata)> {
    let (version, dir_name) = dir.split_once('_').unwrap_or((dir, ""));
    let metadata = if files.contains(&METADATA) {
        read_metadata(snapshot, &format!("{dir}/{METADATA}"))?
    } else {
        Metadata::default()
    };
    let part = |file: &str| {
        files
            .contains(&file)
            .then(|| common::whole_file(snapshot, &format!("{dir}/{file}")))
    };
    let mode = if metadata.concurrently {
        TransactionMode::None
    } else {
        TransactionMode::Wrapped
    };
    let name = metadata.name.as_deref().unwrap_or(dir_name);
    let mut migration = common::versioned(version, name, part(UP), part(DOWN), mode);
    if files.contains(&METADATA) {
        migration.paths.push(format!("{dir}/{METADATA}"));
    }
    Ok((migration, metadata))
}

fn read_metadata(snapshot: &Snapshot, path: &str) -> Result<Metadata> {
    let text = snapshot.text(path)?;
    let docs = YamlLoader::load_from_str(text)
        .map_err(|err| anyhow!("{path}:{}: {}", err.marker().line(), err.info()))?;
    let Some(doc) = docs.first() else {
        return Ok(Metadata::default());
    };
    let wrong = |key: &str, expected: &str| {
        let line = text
            .lines()
            .position(|line| line.trim_start().starts_with(key))
            .map_or(1, |index| index + 1);
        anyhow!("{path}:{line}: `{key}` must be {expected}")
    };
    let name = match &doc["name"] {
        Yaml::BadValue | Yaml::Null => None,
        Yaml::String(name) => Some(name.clone()),
        _ => return Err(wrong("name", "a string")),
    };
    let parents = match &doc["parents"] {
        Yaml::BadValue | Yaml::Null => Vec::new(),
        Yaml::Array(items) => items
            .iter()
            .map(|item| match item {
                Yaml::Integer(version) => Ok(version.to_string()),
                Yaml::String(version) => Ok(version.clone()),
                _ => Err(wrong("parents", "a list of versions")),
            })
            .collect::<Result<_>>()?,
        _ => return Err(wrong("parents", "a list of versions")),
    };
    let concurrently = match &doc["createIndexConcurrently"] {
        Yaml::BadValue | Yaml::Null => false,
        Yaml::Boolean(value) => *value,
        _ => return Err(wrong("createIndexConcurrently", "true or false")),
    };
    Ok(Metadata {
        name,
        parents,
        concurrently,
    })
}

/// Parents first, the lowest version first among those ready. When that order is not the
/// version order, sort keys become positions.
fn in_graph_order(read: Vec<(Migration, Metadata)>) -> Result<Vec<Migration>> {
    let ids: BTreeSet<Version> = read.iter().map(|(m, _)| m.version.clone()).collect();
    let mut pending: Vec<(Migration, BTreeSet<Version>)> = read
        .into_iter()
        .map(|(migration, metadata)| {
            let parents = metadata
                .parents
                .iter()
                .map(|parent| Version::parse(parent))
                .filter(|parent| ids.contains(parent) && *parent != migration.version)
                .collect();
            (migration, parents)
        })
        .collect();
    pending.sort_by(|a, b| a.0.version.cmp(&b.0.version));
    let mut done: BTreeSet<Version> = BTreeSet::new();
    let mut ordered: Vec<Migration> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let Some(index) = pending
            .iter()
            .position(|(_, parents)| parents.is_subset(&done))
        else {
            let stuck: Vec<&str> = pending.iter().map(|(m, _)| m.display_path()).collect();
            bail!(
                "the `parents` in metadata.yaml form a cycle among {}",
                stuck.join(", ")
            );
        };
        let (migration, _) = pending.remove(index);
        done.insert(migration.version.clone());
        ordered.push(migration);
    }
    let in_version_order = ordered.windows(2).all(|w| w[0].version <= w[1].version);
    if !in_version_order {
        for (position, migration) in ordered.iter_mut().enumerate() {
            migration.version = Version::with_tiebreak(&position.to_string(), &migration.id);
        }
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(files: &[(&str, &str)]) -> Snapshot {
        let mut snapshot = Snapshot::new();
        for (path, text) in files {
            snapshot.insert(*path, *text);
        }
        snapshot
    }

    #[test]
    fn concurrent_index_migrations_run_outside_a_transaction() {
        let files = snapshot(&[
            ("1000_init/up.sql", "CREATE TABLE t (id int);"),
            ("1000_init/metadata.yaml", "name: init\nparents: []\n"),
            ("1001_idx/up.sql", "CREATE INDEX CONCURRENTLY i ON t (id);"),
            (
                "1001_idx/metadata.yaml",
                "name: 'index t'\nparents: [1000]\ncreateIndexConcurrently: true\n",
            ),
        ]);
        let found = read(&files, &LayoutOptions::default()).unwrap();
        let modes: Vec<_> = found
            .migrations
            .iter()
            .map(|m| (m.name.as_str(), m.transaction))
            .collect();
        assert_eq!(
            modes,
            [
                ("init", TransactionMode::Wrapped),
                ("index t", TransactionMode::None)
            ]
        );
        assert_eq!(
            found.migrations[1].paths,
            ["1001_idx/up.sql", "1001_idx/metadata.yaml"]
        );
    }

    #[test]
    fn parents_order_before_versions() {
        let files = snapshot(&[
            ("1_root/up.sql", "SELECT 1;"),
            ("2_child/up.sql", "SELECT 2;"),
            ("2_child/metadata.yaml", "parents: [3]\n"),
            ("3_branch/up.sql", "SELECT 3;"),
            ("3_branch/metadata.yaml", "parents: [1]\n"),
        ]);
        let mut found = read(&files, &LayoutOptions::default()).unwrap().migrations;
        found.sort_by(super::super::apply_order);
        let ids: Vec<_> = found.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["1", "3", "2"]);
    }

    #[test]
    fn a_cycle_and_a_bad_value_are_errors_naming_the_file() {
        let cycle = snapshot(&[
            ("1_a/up.sql", "SELECT 1;"),
            ("1_a/metadata.yaml", "parents: [2]\n"),
            ("2_b/up.sql", "SELECT 2;"),
            ("2_b/metadata.yaml", "parents: [1]\n"),
        ]);
        let err = read(&cycle, &LayoutOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("cycle") && err.contains("1_a/up.sql"), "{err}");
        let bad = snapshot(&[
            ("1_a/up.sql", "SELECT 1;"),
            (
                "1_a/metadata.yaml",
                "name: a\ncreateIndexConcurrently: maybe\n",
            ),
        ]);
        let err = read(&bad, &LayoutOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "1_a/metadata.yaml:2: `createIndexConcurrently` must be true or false"
        );
        let broken = snapshot(&[
            ("1_a/up.sql", "SELECT 1;"),
            ("1_a/metadata.yaml", "name: [a\n"),
        ]);
        let err = read(&broken, &LayoutOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("1_a/metadata.yaml:"), "{err}");
    }
}
