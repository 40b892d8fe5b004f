//! goose: `<version>_<name>.sql` holding both directions, after `-- +goose Up` and
//! `-- +goose Down` annotations.
//!
//! The up and down parts are byte ranges of the one file. `StatementBegin`/`StatementEnd`
//! annotations stay in the text, for the SQL splitter. goose wraps each migration in a
//! transaction unless the file says `-- +goose NO TRANSACTION` (any case, anywhere).

use super::common;
use super::detect::Candidate;
use super::{Found, LayoutOptions, Migration, TransactionMode, Vote};
use crate::source::Snapshot;
use anyhow::{bail, Result};
use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;

static FILE_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?<version>[0-9]+)_(?<name>.*)\.sql$").expect("valid regex"));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Annotation {
    Up,
    Down,
    NoTransaction,
    Other,
}

/// The goose annotation on `line`, if it is one (`-- +goose Up`).
fn annotation(line: &str) -> Option<Annotation> {
    let comment = line.trim().strip_prefix("--")?.trim_start();
    let prefix = comment.get(..6)?;
    if !prefix.eq_ignore_ascii_case("+goose") {
        return None;
    }
    let command = comment[6..]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Some(match command.to_ascii_lowercase().as_str() {
        "up" => Annotation::Up,
        "down" => Annotation::Down,
        "no transaction" => Annotation::NoTransaction,
        _ => Annotation::Other,
    })
}

/// Whether the file has a `-- +goose Up` annotation (what detection looks for).
pub(super) fn has_up_annotation(text: &str) -> bool {
    text.lines()
        .any(|line| annotation(line) == Some(Annotation::Up))
}

/// `(version, name)` of a goose file name.
pub(super) fn parse_file_name(path: &str) -> Option<(&str, &str)> {
    let captures = FILE_NAME.captures(path)?;
    Some((
        captures.name("version")?.as_str(),
        captures.name("name")?.as_str(),
    ))
}

pub(super) fn discover(snapshot: &Snapshot) -> Result<Vec<Migration>> {
    common::root_files(snapshot)
        .filter_map(|path| Some((path, parse_file_name(path)?)))
        .map(|(path, (version, name))| migration(snapshot, path, version, name))
        .collect()
}

fn migration(snapshot: &Snapshot, path: &str, version: &str, name: &str) -> Result<Migration> {
    let text = snapshot.text(path)?;
    let mut up_marker: Option<Range<usize>> = None;
    let mut down_marker: Option<Range<usize>> = None;
    let mut transaction = TransactionMode::Wrapped;
    for (start, line, end) in common::lines_with_offsets(text) {
        match annotation(line) {
            Some(Annotation::Up) => {
                up_marker.get_or_insert(start..end);
            }
            Some(Annotation::Down) => {
                down_marker.get_or_insert(start..end);
            }
            Some(Annotation::NoTransaction) => transaction = TransactionMode::None,
            Some(Annotation::Other) | None => {}
        }
    }
    let Some(up_marker) = up_marker else {
        bail!("{path}: no `-- +goose Up` annotation (goose needs one to know what to run)");
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
    if file.numbered_sql().is_some() && has_up_annotation(file.text()) {
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
    fn reads_annotations_in_any_case() {
        assert_eq!(annotation("-- +goose Up"), Some(Annotation::Up));
        assert_eq!(annotation("--+goose DOWN"), Some(Annotation::Down));
        assert_eq!(
            annotation("-- +goose no  transaction"),
            Some(Annotation::NoTransaction)
        );
        assert_eq!(
            annotation("-- +goose StatementBegin"),
            Some(Annotation::Other)
        );
        assert_eq!(annotation("-- goose up"), None);
        assert_eq!(annotation("SELECT 1; -- +goose Up"), None);
    }

    #[test]
    fn splits_the_file_into_sections() {
        let mut snapshot = Snapshot::new();
        let text = "-- +goose Up\nCREATE TABLE t (id int);\n-- +goose Down\nDROP TABLE t;\n";
        snapshot.insert("1_t.sql", text);
        let migration = migration(&snapshot, "1_t.sql", "1", "t").unwrap();
        let up = migration.up.unwrap().range;
        let down = migration.down.unwrap().range;
        assert_eq!(&text[up], "CREATE TABLE t (id int);\n");
        assert_eq!(&text[down], "DROP TABLE t;\n");
        assert_eq!(migration.paths, ["1_t.sql"]);
    }

    #[test]
    fn a_file_without_up_annotation_is_an_error() {
        let mut snapshot = Snapshot::new();
        snapshot.insert("1_t.sql", "CREATE TABLE t (id int);\n");
        let err = discover(&snapshot).unwrap_err().to_string();
        assert!(err.starts_with("1_t.sql:"), "{err}");
    }
}
