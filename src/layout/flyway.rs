//! Flyway: `V<version>__<name>.sql` (versioned), `U<version>__<name>.sql` (the undo of that
//! version), `B<version>__<name>.sql` (a baseline) and `R__<name>.sql` (repeatable, applied
//! after the versioned ones, by name).
//!
//! Flyway runs each script in a transaction unless its per-script config
//! (`V1__x.sql.conf`) says `executeInTransaction=false`.

use super::common::{self, Direction, Script};
use super::detect::Candidate;
use super::{Found, LayoutOptions, Migration, MigrationKind, TransactionMode, Version, Vote};
use crate::source::Snapshot;
use anyhow::{bail, Result};
use regex::Regex;
use std::collections::BTreeSet;
use std::sync::LazyLock;

static VERSIONED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?<prefix>[VUB])(?<version>[0-9][0-9._]*?)__(?<name>.*)\.sql$")
        .expect("valid regex")
});

static REPEATABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^R__(?<name>.+)\.sql$").expect("valid regex"));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prefix {
    Versioned,
    Undo,
    Baseline,
    Repeatable,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct FileName<'a> {
    pub prefix: Prefix,
    /// Empty for repeatables.
    pub version: &'a str,
    pub name: &'a str,
}

pub(super) fn parse_file_name(file: &str) -> Option<FileName<'_>> {
    if let Some(captures) = REPEATABLE.captures(file) {
        return Some(FileName {
            prefix: Prefix::Repeatable,
            version: "",
            name: captures.name("name")?.as_str(),
        });
    }
    let captures = VERSIONED.captures(file)?;
    let prefix = match &captures["prefix"] {
        "V" => Prefix::Versioned,
        "U" => Prefix::Undo,
        _ => Prefix::Baseline,
    };
    Some(FileName {
        prefix,
        version: captures.name("version")?.as_str(),
        name: captures.name("name")?.as_str(),
    })
}

/// Every Flyway script in the snapshot with its parsed name. Flyway scans its locations
/// recursively (folders per release are common), so scripts in subdirectories count too.
fn scripts(snapshot: &Snapshot) -> Vec<(&str, FileName<'_>)> {
    snapshot
        .paths()
        .filter_map(|path| Some((path, parse_file_name(common::file_name(path))?)))
        .collect()
}

/// Whether the Flyway sets in `dirs` (prefixes ending in `/`) are folders of one set
/// rather than separate sets: no version appears in two of them (per-database copies of a
/// set repeat every version).
pub(super) fn are_folders_of_one_set(snapshot: &Snapshot, dirs: &[&str]) -> bool {
    let mut seen = BTreeSet::new();
    for dir in dirs {
        let versions: BTreeSet<Version> = common::files_in(snapshot, dir)
            .filter_map(parse_file_name)
            .filter(|name| name.prefix == Prefix::Versioned)
            .map(|name| Version::parse(name.version))
            .collect();
        if versions.iter().any(|version| seen.contains(version)) {
            return false;
        }
        seen.extend(versions);
    }
    true
}

pub(super) fn discover(snapshot: &Snapshot) -> Result<Vec<Migration>> {
    let named = scripts(snapshot);
    let mut migrations = Vec::new();
    let versioned_and_undo = named.iter().filter_map(|&(path, name)| {
        let direction = match name.prefix {
            Prefix::Versioned => Direction::Up,
            Prefix::Undo => Direction::Down,
            _ => return None,
        };
        Some(Script {
            version: name.version,
            name: name.name,
            direction,
            path,
        })
    });
    for pair in common::pair_scripts(versioned_and_undo) {
        let up = pair.up.map(|path| common::whole_file(snapshot, path));
        let down = pair.down.map(|path| common::whole_file(snapshot, path));
        let script = pair.up.or(pair.down).unwrap_or_default();
        let mode = transaction_mode(snapshot, script)?;
        let migration = common::versioned(pair.version, pair.name, up, down, mode);
        migrations.push(with_config_files(snapshot, migration));
    }
    for &(path, name) in &named {
        let kind = match name.prefix {
            Prefix::Baseline => MigrationKind::Baseline,
            Prefix::Repeatable => MigrationKind::Repeatable,
            _ => continue,
        };
        migrations.push(single_script(snapshot, path, name, kind)?);
    }
    Ok(migrations)
}

fn single_script(
    snapshot: &Snapshot,
    path: &str,
    name: FileName<'_>,
    kind: MigrationKind,
) -> Result<Migration> {
    let mode = transaction_mode(snapshot, path)?;
    let up = common::whole_file(snapshot, path);
    // A repeatable has no version: Flyway knows it by its name, so that is its id.
    let id = match kind {
        MigrationKind::Repeatable => name.name,
        _ => name.version,
    };
    let mut migration = common::versioned(id, name.name, Some(up), None, mode);
    migration.kind = kind;
    Ok(with_config_files(snapshot, migration))
}

/// Adds each script's `.conf` file to the migration's paths, so editing it is a change.
fn with_config_files(snapshot: &Snapshot, mut migration: Migration) -> Migration {
    let configs: Vec<String> = migration
        .paths
        .iter()
        .map(|path| format!("{path}.conf"))
        .filter(|conf| snapshot.get(conf).is_some())
        .collect();
    migration.paths.extend(configs);
    migration
}

/// Reads `executeInTransaction` from the script's `.conf` file, if it has one.
fn transaction_mode(snapshot: &Snapshot, script: &str) -> Result<TransactionMode> {
    let conf = format!("{script}.conf");
    if snapshot.get(&conf).is_none() {
        return Ok(TransactionMode::Wrapped);
    }
    let text = snapshot.text(&conf)?;
    for (number, line) in text.lines().enumerate() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() != "executeInTransaction" {
            continue;
        }
        return match value.trim() {
            "true" => Ok(TransactionMode::Wrapped),
            "false" => Ok(TransactionMode::None),
            other => bail!(
                "{conf}:{}: executeInTransaction must be true or false, found `{other}`",
                number + 1
            ),
        };
    }
    Ok(TransactionMode::Wrapped)
}

pub(super) fn vote(file: &Candidate<'_>) -> Vote {
    if file.top_file().and_then(parse_file_name).is_some() {
        Vote::Yes
    } else {
        Vote::No
    }
}

pub(super) fn read(snapshot: &Snapshot, _: &LayoutOptions) -> Result<Found> {
    Found::of(discover(snapshot)?)
}

/// The project configuration files Flyway reads, by name, in a directory.
pub const PROJECT_CONFIGS: [&str; 3] = ["flyway.toml", "flyway.conf", "conf/flyway.conf"];

/// Whether a Flyway project configuration turns on `outOfOrder` (Flyway then applies a
/// pending migration older than the newest applied one instead of rejecting it):
/// `flyway.outOfOrder=true` in `flyway.conf`, `[flyway] outOfOrder = true` in `flyway.toml`.
pub fn out_of_order_enabled(file_name: &str, text: &str) -> bool {
    if file_name.ends_with(".toml") {
        let Ok(value) = text.parse::<toml::Table>() else {
            return false;
        };
        return value
            .get("flyway")
            .and_then(|flyway| flyway.get("outOfOrder"))
            .and_then(toml::Value::as_bool)
            .unwrap_or(false);
    }
    text.lines().any(|line| {
        line.split_once('=').is_some_and(|(key, value)| {
            key.trim() == "flyway.outOfOrder" && value.trim().eq_ignore_ascii_case("true")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_prefixes_and_versions() {
        let name = parse_file_name("V4_0_0_1__Add_Missing_Time_Indices.sql").unwrap();
        assert_eq!((name.prefix, name.version), (Prefix::Versioned, "4_0_0_1"));
        assert_eq!(name.name, "Add_Missing_Time_Indices");
        let name = parse_file_name("V2.1__alter.sql").unwrap();
        assert_eq!(name.version, "2.1");
        let name = parse_file_name("U002__UNDO-Welcome.sql").unwrap();
        assert_eq!((name.prefix, name.version), (Prefix::Undo, "002"));
        let name = parse_file_name("R__Runs_view.sql").unwrap();
        assert_eq!((name.prefix, name.name), (Prefix::Repeatable, "Runs_view"));
        assert!(parse_file_name("V__missing_version.sql").is_none());
        assert!(parse_file_name("beforeMigrate.sql").is_none());
    }

    #[test]
    fn bad_conf_value_names_the_line() {
        let mut snapshot = Snapshot::new();
        snapshot.insert("V1__x.sql", "select 1;");
        snapshot.insert("V1__x.sql.conf", "# conf\nexecuteInTransaction=maybe\n");
        let err = discover(&snapshot).unwrap_err().to_string();
        assert!(err.starts_with("V1__x.sql.conf:2:"), "{err}");
    }
}
