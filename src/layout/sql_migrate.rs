//! sql-migrate (rubenv/sql-migrate): any `<name>.sql` holding both directions, after
//! `-- +migrate Up` and `-- +migrate Down` lines.
//!
//! The tool records an applied migration by its full file name and sorts by the numeric
//! prefix, then by the whole name: `20230222172540-x-1.sql` and `20230222172540-x-2.sql` are
//! two migrations, in that order. `Migration::id` is therefore the file name, and the
//! version carries the name as a tie-break (`Version::with_tiebreak`), so equal versions
//! mean the same key. Each direction runs in a transaction unless its marker says
//! `notransaction`; `StatementBegin`/`StatementEnd` stay in the text for the SQL splitter.

use super::common;
use super::detect::Candidate;
use super::{Found, LayoutOptions, Migration, TransactionMode, Version, Vote};
use crate::source::Snapshot;
use anyhow::{bail, Result};
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Up { transaction: bool },
    Down,
    Other,
}

/// The sql-migrate command on `line`, if it is one (`-- +migrate Up notransaction`).
fn command(line: &str) -> Option<Command> {
    let comment = line.trim().strip_prefix("--")?.trim_start();
    let rest = comment
        .get(..8)
        .filter(|p| p.eq_ignore_ascii_case("+migrate"))?;
    let after = &comment[rest.len()..];
    if !after.is_empty() && !after.starts_with(char::is_whitespace) {
        return None;
    }
    let mut words = after.split_whitespace();
    let command = words.next().unwrap_or("").to_ascii_lowercase();
    let options: Vec<String> = words.map(str::to_ascii_lowercase).collect();
    Some(match command.as_str() {
        "up" => Command::Up {
            transaction: !options.iter().any(|option| option == "notransaction"),
        },
        "down" => Command::Down,
        _ => Command::Other,
    })
}

fn has_up(text: &str) -> bool {
    text.lines()
        .any(|line| matches!(command(line), Some(Command::Up { .. })))
}

pub(super) fn vote(file: &Candidate<'_>) -> Vote {
    let sql = file.top_file().is_some_and(common::is_sql);
    if sql && has_up(file.text()) {
        Vote::Yes
    } else {
        Vote::No
    }
}

pub(super) fn read(snapshot: &Snapshot, _: &LayoutOptions) -> Result<Found> {
    let migrations = common::root_files(snapshot)
        .filter(|path| common::is_sql(path))
        .map(|path| migration(snapshot, path))
        .collect::<Result<_>>()?;
    Found::of(migrations)
}

/// `(numeric prefix, descriptive name)` of a file name: `20180805174141-tournaments.sql`
/// gives `("20180805174141", "tournaments")`.
fn split_name(file: &str) -> (&str, &str) {
    let stem = file.strip_suffix(".sql").unwrap_or(file);
    let digits = stem
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(stem.len());
    let name = stem[digits..].trim_start_matches(['-', '_', '.']);
    (&stem[..digits], name)
}

fn migration(snapshot: &Snapshot, path: &str) -> Result<Migration> {
    let text = snapshot.text(path)?;
    let mut up_marker: Option<Range<usize>> = None;
    let mut down_marker: Option<Range<usize>> = None;
    let mut transaction = TransactionMode::Wrapped;
    for (start, line, end) in common::lines_with_offsets(text) {
        match command(line) {
            Some(Command::Up { transaction: wraps }) if up_marker.is_none() => {
                up_marker = Some(start..end);
                if !wraps {
                    transaction = TransactionMode::None;
                }
            }
            Some(Command::Down) if down_marker.is_none() => down_marker = Some(start..end),
            _ => {}
        }
    }
    let Some(up_marker) = up_marker else {
        bail!("{path}: no `-- +migrate Up` line (sql-migrate needs one to know what to run)");
    };
    let (prefix, name) = split_name(path);
    let mut migration = common::sectioned(
        path,
        path,
        name,
        text.len(),
        &up_marker,
        down_marker.as_ref(),
        transaction,
    );
    migration.version = Version::with_tiebreak(prefix, path);
    Ok(migration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_commands_and_options() {
        assert_eq!(
            command("-- +migrate Up"),
            Some(Command::Up { transaction: true })
        );
        assert_eq!(
            command("-- +migrate Up notransaction"),
            Some(Command::Up { transaction: false })
        );
        assert_eq!(command("--+migrate Down"), Some(Command::Down));
        assert_eq!(command("-- +migrate StatementBegin"), Some(Command::Other));
        assert_eq!(command("-- migrate:up"), None);
        assert_eq!(command("-- +migrateUp"), None);
    }

    #[test]
    fn the_down_section_is_not_part_of_the_up() {
        let mut snapshot = Snapshot::new();
        let text = "/* license */\n-- +migrate Up\nCREATE TABLE t (id int);\n-- +migrate Down\nDROP TABLE t;\n";
        snapshot.insert("20180103142001_t.sql", text);
        let migration = migration(&snapshot, "20180103142001_t.sql").unwrap();
        assert_eq!(
            &text[migration.up.unwrap().range],
            "CREATE TABLE t (id int);\n"
        );
        assert_eq!(&text[migration.down.unwrap().range], "DROP TABLE t;\n");
        assert_eq!(migration.id, "20180103142001_t.sql");
        assert_eq!(migration.name, "t");
    }

    #[test]
    fn same_prefix_is_two_migrations_ordered_by_name() {
        let a = Version::with_tiebreak("20230222172540", "20230222172540-uid-1.sql");
        let b = Version::with_tiebreak("20230222172540", "20230222172540-uid-2.sql");
        let later = Version::with_tiebreak("20230706095800", "20230706095800-index.sql");
        assert!(a < b && b < later);
        assert_ne!(a, b);
    }

    #[test]
    fn a_file_without_up_is_an_error_naming_it() {
        let mut snapshot = Snapshot::new();
        snapshot.insert("1_t.sql", "CREATE TABLE t (id int);\n");
        let err = read(&snapshot, &LayoutOptions::default()).unwrap_err();
        assert!(
            err.to_string().starts_with("1_t.sql: no `-- +migrate Up`"),
            "{err}"
        );
    }
}
