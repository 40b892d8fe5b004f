//! popx (Ory's migrator, as in keto and hydra): `<version>_<name>.up.sql` and `.down.sql`,
//! plus per-dialect files `<version>_<name>.<dialect>.up.sql` beside them (`postgres`,
//! `mysql`, `sqlite`/`sqlite3`, `cockroach`), and `.autocommit` before the direction for a
//! file that runs outside a transaction.
//!
//! One version is one migration. For each direction, the file of the dialect being checked
//! wins and the generic file applies to every dialect, so a generic down covers every
//! dialect's up. A version with neither (a file for another dialect only) does not run on
//! this dialect. CockroachDB's files are read (as Postgres) only when the user asks, with
//! `dialect_files = "cockroach"`: a Postgres project must not be judged on them. Files of
//! other dialects are the tool's, not ignored ones.

use super::common;
use super::detect::Candidate;
use super::{Found, LayoutOptions, TransactionMode, Vote};
use crate::dialect::Dialect;
use crate::source::Snapshot;
use anyhow::Result;
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

static FILE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?<version>[0-9]+)_(?<name>[^.]+)(?:\.(?<dialect>[a-z0-9]+))??(?<autocommit>\.autocommit)?\.(?<direction>up|down)\.sql$",
    )
    .expect("valid regex")
});

/// One popx file name, read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Script<'a> {
    version: &'a str,
    name: &'a str,
    /// The canonical dialect name (`sqlite` is `sqlite3`), `None` for a generic file.
    dialect: Option<&'static str>,
    autocommit: bool,
    up: bool,
    path: &'a str,
}

/// popx's name for a file's dialect (pop's canonical names); unknown names stay unknown.
fn canonical_dialect(name: &str) -> Option<&'static str> {
    match name {
        "postgres" | "postgresql" | "pg" => Some("postgres"),
        "mysql" | "mariadb" => Some("mysql"),
        "sqlite" | "sqlite3" => Some("sqlite3"),
        "cockroach" | "cockroachdb" | "crdb" => Some("cockroach"),
        _ => None,
    }
}

/// The files of which dialect rollsafe reads for `dialect`.
fn files_for(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "postgres",
        Dialect::Mysql => "mysql",
        Dialect::Sqlite => "sqlite3",
    }
}

fn parse_file_name(path: &str) -> Option<Script<'_>> {
    let captures = FILE_NAME.captures(path)?;
    let dialect = match captures.name("dialect").map(|m| m.as_str()) {
        None => None,
        Some(name) => Some(canonical_dialect(name)?),
    };
    Some(Script {
        version: captures.name("version")?.as_str(),
        name: captures.name("name")?.as_str(),
        dialect,
        autocommit: captures.name("autocommit").is_some(),
        up: &captures["direction"] == "up",
        path,
    })
}

/// A dialect file votes popx: golang-migrate's names hold no dialect.
pub(super) fn vote(file: &Candidate<'_>) -> Vote {
    let name = file.numbered_sql().and_then(parse_file_name);
    if name.is_some_and(|script| script.dialect.is_some() || script.autocommit) {
        Vote::Yes
    } else {
        Vote::No
    }
}

pub(super) fn read(snapshot: &Snapshot, options: &LayoutOptions) -> Result<Found> {
    let dialect = options.dialect.unwrap_or_default();
    let wanted = options
        .dialect_files
        .as_deref()
        .and_then(canonical_dialect)
        .unwrap_or(files_for(dialect));
    let mut versions: BTreeMap<&str, Vec<Script<'_>>> = BTreeMap::new();
    for script in common::root_files(snapshot).filter_map(parse_file_name) {
        versions.entry(script.version).or_default().push(script);
    }
    let mut found = Found {
        dialect: Some(dialect),
        ..Found::default()
    };
    for scripts in versions.values() {
        let pick = |up: bool| {
            let of = |dialect: Option<&str>| {
                scripts
                    .iter()
                    .find(|script| script.up == up && script.dialect == dialect)
            };
            of(Some(wanted)).or_else(|| of(None))
        };
        let (up, down) = (pick(true), pick(false));
        let chosen = [up, down];
        found.set_aside.extend(
            scripts
                .iter()
                .filter(|script| !chosen.contains(&Some(script)))
                .map(|script| script.path.to_string()),
        );
        let Some(up) = up else {
            // Another dialect's migration only: it does not run here.
            found
                .set_aside
                .extend(down.map(|script| script.path.to_string()));
            continue;
        };
        let mode = if up.autocommit {
            TransactionMode::None
        } else {
            TransactionMode::Wrapped
        };
        let up_part = common::whole_file(snapshot, up.path);
        let down_part = down.map(|script| common::whole_file(snapshot, script.path));
        let migration = common::versioned(up.version, up.name, Some(up_part), down_part, mode);
        found.migrations.push(migration);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(paths: &[&str]) -> Snapshot {
        let mut snapshot = Snapshot::new();
        for path in paths {
            snapshot.insert(*path, format!("-- {path}\nSELECT 1;\n"));
        }
        snapshot
    }

    fn options(dialect: Dialect, files: Option<&str>) -> LayoutOptions {
        LayoutOptions {
            dialect: Some(dialect),
            dialect_files: files.map(str::to_string),
            ..LayoutOptions::default()
        }
    }

    const FILES: &[&str] = &[
        "1_init.cockroach.up.sql",
        "1_init.down.sql",
        "1_init.mysql.up.sql",
        "1_init.postgres.up.sql",
        "1_init.up.sql",
        "2_index.cockroach.autocommit.up.sql",
        "2_index.cockroach.autocommit.down.sql",
        "3_more.sqlite.up.sql",
        "3_more.up.sql",
        "3_more.sqlite.down.sql",
    ];

    fn chosen(found: &Found) -> Vec<(String, Option<String>)> {
        found
            .migrations
            .iter()
            .map(|m| {
                let path =
                    |part: &Option<super::super::SqlPart>| part.as_ref().map(|p| p.path.clone());
                (path(&m.up).unwrap(), path(&m.down))
            })
            .collect()
    }

    #[test]
    fn the_dialect_file_wins_and_the_generic_down_covers_it() {
        let found = read(&snapshot(FILES), &options(Dialect::Postgres, None)).unwrap();
        let expected = [
            (
                "1_init.postgres.up.sql".to_string(),
                Some("1_init.down.sql".to_string()),
            ),
            ("3_more.up.sql".to_string(), None),
        ];
        assert_eq!(chosen(&found), expected);
        assert!(found
            .set_aside
            .contains(&"2_index.cockroach.autocommit.up.sql".to_string()));
        assert!(found.set_aside.contains(&"1_init.up.sql".to_string()));
    }

    #[test]
    fn sqlite_reads_sqlite_files_by_either_name() {
        let found = read(&snapshot(FILES), &options(Dialect::Sqlite, None)).unwrap();
        let ups: Vec<_> = chosen(&found)
            .into_iter()
            .map(|(up, down)| (up, down.is_some()))
            .collect();
        assert_eq!(
            ups,
            [
                ("1_init.up.sql".to_string(), true),
                ("3_more.sqlite.up.sql".to_string(), true)
            ]
        );
    }

    #[test]
    fn cockroach_files_only_when_asked_and_autocommit_runs_outside_a_transaction() {
        let found = read(
            &snapshot(FILES),
            &options(Dialect::Postgres, Some("cockroach")),
        )
        .unwrap();
        let ids: Vec<_> = found.migrations.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3"]);
        assert_eq!(
            found.migrations[0].display_path(),
            "1_init.cockroach.up.sql"
        );
        assert_eq!(found.migrations[1].transaction, TransactionMode::None);
        assert_eq!(found.migrations[2].transaction, TransactionMode::Wrapped);
    }

    #[test]
    fn reads_names() {
        let script = parse_file_name("20150101000001000000_networks.cockroach.up.sql").unwrap();
        assert_eq!(
            (script.name, script.dialect),
            ("networks", Some("cockroach"))
        );
        let script = parse_file_name("2_x.postgres.autocommit.down.sql").unwrap();
        assert!(script.autocommit && !script.up);
        let script = parse_file_name("2_x.autocommit.up.sql").unwrap();
        assert_eq!((script.dialect, script.autocommit), (None, true));
        assert!(parse_file_name("2_x.mssql.up.sql").is_none());
    }
}
