//! Helpers shared by the layout modules: file names, whole-file parts, line offsets, and
//! pairing of up and down scripts.

use super::{Migration, MigrationKind, SqlPart, TransactionMode, Version};
use crate::source::Snapshot;
use std::collections::BTreeMap;
use std::ops::Range;

/// Files directly in the snapshot's root (no `/` in their path).
pub(super) fn root_files(snapshot: &Snapshot) -> impl Iterator<Item = &str> {
    files_in(snapshot, "")
}

/// Files exactly one directory deep, as `(directory, file name)`.
pub(super) fn files_one_level_down(snapshot: &Snapshot) -> impl Iterator<Item = (&str, &str)> {
    snapshot
        .paths()
        .filter_map(|path| path.split_once('/'))
        .filter(|(_, file)| !file.contains('/'))
}

/// The names of the files directly in `dir` (a prefix ending in `/`, or empty for the root).
pub(super) fn files_in<'a>(snapshot: &'a Snapshot, dir: &'a str) -> impl Iterator<Item = &'a str> {
    snapshot
        .paths()
        .filter_map(move |path| path.strip_prefix(dir))
        .filter(|file| !file.contains('/'))
}

/// The last component of a `/`-separated path.
pub(super) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

pub(super) fn is_sql(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with(".sql")
}

/// A part covering the whole of the file at `path`.
pub(super) fn whole_file(snapshot: &Snapshot, path: &str) -> SqlPart {
    let len = snapshot.get(path).map_or(0, <[u8]>::len);
    SqlPart {
        path: path.to_string(),
        range: 0..len,
    }
}

/// The 1-based line holding byte `offset` of `text`.
pub(super) fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Each line of `text` with the byte offset where it starts and where the next one starts.
pub(super) fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, &str, usize)> {
    let mut start = 0;
    text.split_inclusive('\n').map(move |raw| {
        let line_start = start;
        start += raw.len();
        // A byte-order mark must not hide a marker on the first line.
        let line = raw
            .trim_end_matches(['\n', '\r'])
            .trim_start_matches('\u{feff}');
        (line_start, line, start)
    })
}

/// A TOML error as `path:line: message`.
pub(super) fn toml_error(path: &str, text: &str, err: &toml::de::Error) -> anyhow::Error {
    let line = err.span().map_or(1, |span| line_at(text, span.start));
    anyhow::anyhow!("{path}:{line}: {}", err.message().trim_end())
}

/// The up and down sections of a file of `len` bytes, given the byte ranges of their marker
/// lines: each section runs from the end of its marker line to the next marker or the end.
pub(super) fn sections(
    len: usize,
    up_marker: &Range<usize>,
    down_marker: Option<&Range<usize>>,
) -> (Range<usize>, Option<Range<usize>>) {
    let end_after = |marker: &Range<usize>, other: Option<&Range<usize>>| match other {
        Some(other) if other.start > marker.start => other.start,
        _ => len,
    };
    let up = up_marker.end..end_after(up_marker, down_marker);
    let down = down_marker.map(|marker| marker.end..end_after(marker, Some(up_marker)));
    (up, down)
}

/// An ordinary versioned migration.
pub(super) fn versioned(
    id: &str,
    name: &str,
    up: Option<SqlPart>,
    down: Option<SqlPart>,
    transaction: TransactionMode,
) -> Migration {
    let paths = up
        .iter()
        .chain(down.iter())
        .map(|part| part.path.clone())
        .collect();
    Migration {
        id: id.to_string(),
        version: Version::parse(id),
        name: name.to_string(),
        kind: MigrationKind::Versioned,
        up,
        down,
        paths,
        transaction,
    }
}

/// A migration whose up and down are sections of one file (goose, dbmate), cut at their
/// marker lines.
pub(super) fn sectioned(
    path: &str,
    version: &str,
    name: &str,
    text_len: usize,
    up_marker: &Range<usize>,
    down_marker: Option<&Range<usize>>,
    transaction: TransactionMode,
) -> Migration {
    let (up, down) = sections(text_len, up_marker, down_marker);
    let part = |range| SqlPart {
        path: path.to_string(),
        range,
    };
    let mut migration = versioned(version, name, Some(part(up)), down.map(part), transaction);
    // Both sections are the same file.
    migration.paths.dedup();
    migration
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    Up,
    Down,
}

/// One up or down script named `<version>_<name>.<direction>.sql` (or similar).
#[derive(Debug, Clone, Copy)]
pub(super) struct Script<'a> {
    pub version: &'a str,
    pub name: &'a str,
    pub direction: Direction,
    pub path: &'a str,
}

/// An up script and its down script, either of which may be missing.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pair<'a> {
    pub version: &'a str,
    pub name: &'a str,
    pub up: Option<&'a str>,
    pub down: Option<&'a str>,
}

/// Pairs up and down scripts of the same version. Scripts that share their name pair first;
/// when one up and one down remain for a version they pair even if their names differ (the
/// tools key on the version: ente has `30_add_magic_metadata.up.sql` with
/// `30_drop_magic_metadata.down.sql`). Anything left stands alone, so duplicate versions
/// survive for the `duplicate-version` rule.
pub(super) fn pair_scripts<'a>(scripts: impl IntoIterator<Item = Script<'a>>) -> Vec<Pair<'a>> {
    let mut by_version: BTreeMap<Version, Vec<Script<'a>>> = BTreeMap::new();
    for script in scripts {
        by_version
            .entry(Version::parse(script.version))
            .or_default()
            .push(script);
    }
    by_version
        .into_values()
        .flat_map(pair_same_version)
        .collect()
}

fn pair_same_version(mut scripts: Vec<Script<'_>>) -> Vec<Pair<'_>> {
    scripts.sort_by_key(|script| script.path);
    let (ups, mut downs): (Vec<_>, Vec<_>) = scripts
        .into_iter()
        .partition(|script| script.direction == Direction::Up);
    let mut pairs = Vec::new();
    let mut lone_ups = Vec::new();
    for up in ups {
        match downs.iter().position(|down| down.name == up.name) {
            Some(index) => pairs.push(pair(Some(up), Some(downs.remove(index)))),
            None => lone_ups.push(up),
        }
    }
    if let ([up], [down]) = (lone_ups.as_slice(), downs.as_slice()) {
        pairs.push(pair(Some(*up), Some(*down)));
    } else {
        pairs.extend(lone_ups.into_iter().map(|up| pair(Some(up), None)));
        pairs.extend(downs.into_iter().map(|down| pair(None, Some(down))));
    }
    pairs
}

fn pair<'a>(up: Option<Script<'a>>, down: Option<Script<'a>>) -> Pair<'a> {
    let named = up.or(down).expect("a pair has an up or a down script");
    Pair {
        version: named.version,
        name: named.name,
        up: up.map(|script| script.path),
        down: down.map(|script| script.path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(version: &'static str, name: &'static str, direction: Direction) -> Script<'static> {
        let suffix = if direction == Direction::Up {
            "up"
        } else {
            "down"
        };
        let path = Box::leak(format!("{version}_{name}.{suffix}.sql").into_boxed_str());
        Script {
            version,
            name,
            direction,
            path,
        }
    }

    #[test]
    fn pairs_by_version_when_names_differ() {
        let pairs = pair_scripts([
            script("30", "add_magic", Direction::Up),
            script("30", "drop_magic", Direction::Down),
        ]);
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].name, "add_magic");
        assert!(pairs[0].down.is_some());
    }

    #[test]
    fn duplicate_versions_pair_by_name_and_keep_both() {
        let pairs = pair_scripts([
            script("59", "a", Direction::Up),
            script("59", "b", Direction::Up),
            script("59", "b", Direction::Down),
            script("0059", "c", Direction::Up),
        ]);
        let names: Vec<_> = pairs.iter().map(|p| (p.name, p.down.is_some())).collect();
        assert_eq!(names, [("b", true), ("c", false), ("a", false)]);
    }

    #[test]
    fn lines_carry_offsets() {
        let lines: Vec<_> = lines_with_offsets("a\r\nbc\nd").collect();
        assert_eq!(lines, [(0, "a", 3), (3, "bc", 6), (6, "d", 7)]);
        assert_eq!(line_at("a\nb\nc", 4), 3);
    }
}
