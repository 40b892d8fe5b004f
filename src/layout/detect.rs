//! Detection: which layout the files of a snapshot follow, or an error that says what was
//! found instead. Each file votes through the rows of `LAYOUTS` (see the module comment of
//! `layout`).

use super::{common, LayoutKind, Vote, LAYOUTS};
use crate::source::Snapshot;
use anyhow::{anyhow, bail, Result};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};

/// A file seen from the directory being detected.
pub(crate) struct Candidate<'a> {
    snapshot: &'a Snapshot,
    /// The path in the snapshot.
    pub path: &'a str,
    /// The path below the directory being detected.
    pub relative: &'a str,
    text: OnceCell<Cow<'a, str>>,
}

impl<'a> Candidate<'a> {
    pub(super) fn new(snapshot: &'a Snapshot, path: &'a str, relative: &'a str) -> Self {
        Candidate {
            snapshot,
            path,
            relative,
            text: OnceCell::new(),
        }
    }

    /// The file name when the file lies directly in the detected directory.
    pub fn top_file(&self) -> Option<&'a str> {
        (!self.relative.contains('/')).then_some(self.relative)
    }

    /// `(directory, file name)` when the file lies one directory down.
    pub fn in_subdir(&self) -> Option<(&'a str, &'a str)> {
        let (dir, file) = self.relative.split_once('/')?;
        (!file.contains('/')).then_some((dir, file))
    }

    /// A top-level `.sql` file whose name starts with a digit: what the numbered layouts
    /// read.
    pub fn numbered_sql(&self) -> Option<&'a str> {
        self.top_file()
            .filter(|file| common::is_sql(file) && file.starts_with(|c: char| c.is_ascii_digit()))
    }

    /// The file's text (lossy: detection must not fail on a stray byte), without a
    /// byte-order mark.
    pub fn text(&self) -> &str {
        let text = self.text.get_or_init(|| {
            String::from_utf8_lossy(self.snapshot.get(self.path).unwrap_or_default())
        });
        text.strip_prefix('\u{feff}').unwrap_or(text)
    }
}

/// Picks the layout from the files at the top of the snapshot, or explains why none fits.
pub(super) fn detect(snapshot: &Snapshot) -> Result<LayoutKind> {
    if let Some(detected) = detect_at(snapshot, "") {
        return Ok(detected.layout);
    }
    let nested = nested_sets(snapshot);
    if is_one_flyway_tree(snapshot, &nested) {
        return Ok(LayoutKind::Flyway);
    }
    match nested.as_slice() {
        [] => Err(nothing_recognised_error(snapshot)),
        [set] => bail!(
            "no migrations at the top of the migrations directory, but `{}` holds a {} set \
             ({} files): point rollsafe at that directory",
            set.dir,
            set.layout.name(),
            set.files
        ),
        sets => bail!(
            "found {} separate migration sets: {}; point rollsafe at one of them \
             (or set `migrations` in rollsafe.toml)",
            sets.len(),
            describe_sets(sets)
        ),
    }
}

/// Flyway folders (`v1/`, `v2/`) whose versions do not overlap are one set, read
/// recursively as Flyway does; per-database copies of a set are not.
fn is_one_flyway_tree(snapshot: &Snapshot, sets: &[DetectedSet]) -> bool {
    let dirs: Vec<&str> = sets.iter().map(|set| set.dir.as_str()).collect();
    sets.len() > 1
        && sets.iter().all(|set| set.layout == LayoutKind::Flyway)
        && super::flyway::are_folders_of_one_set(snapshot, &dirs)
}

/// A layout found in one directory of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DetectedSet {
    /// The directory, with a trailing `/` (empty for the root).
    dir: String,
    layout: LayoutKind,
    /// How many files the directory holds.
    files: usize,
}

/// The first layout, in table order, that the file votes for.
fn vote(candidate: &Candidate<'_>) -> Option<(LayoutKind, Vote)> {
    LAYOUTS
        .iter()
        .find_map(|spec| match (spec.vote)(candidate) {
            Vote::No => None,
            vote => Some((spec.kind, vote)),
        })
}

/// The layout of the migrations directly in `dir` (a prefix ending in `/`, or empty): each
/// file votes, the most votes win, ties go to the more specific layout, and a layout that
/// overrides the winner takes over when any file voted for it.
fn detect_at(snapshot: &Snapshot, dir: &str) -> Option<DetectedSet> {
    let mut votes: HashMap<LayoutKind, usize> = HashMap::new();
    let set = |layout| DetectedSet {
        dir: dir.to_string(),
        layout,
        files: files_under(snapshot, dir),
    };
    for path in snapshot.paths() {
        let Some(relative) = path.strip_prefix(dir) else {
            continue;
        };
        match vote(&Candidate::new(snapshot, path, relative)) {
            Some((layout, Vote::Decides)) => return Some(set(layout)),
            Some((layout, _)) => *votes.entry(layout).or_default() += 1,
            None => {}
        }
    }
    let (winner, _) = votes
        .iter()
        .max_by_key(|&(kind, count)| (count, std::cmp::Reverse(kind.rank())))?;
    let overriding = LAYOUTS
        .iter()
        .find(|spec| spec.overrides.contains(winner) && votes.contains_key(&spec.kind));
    Some(set(overriding.map_or(*winner, |spec| spec.kind)))
}

fn files_under(snapshot: &Snapshot, dir: &str) -> usize {
    snapshot
        .paths()
        .filter(|path| path.starts_with(dir))
        .count()
}

/// Migration sets in subdirectories, outermost only (a set's own subdirectories are part of
/// it).
fn nested_sets(snapshot: &Snapshot) -> Vec<DetectedSet> {
    let dirs: BTreeSet<String> = snapshot
        .paths()
        .flat_map(|path| {
            path.match_indices('/')
                .map(|(end, _)| path[..=end].to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut sets: Vec<DetectedSet> = Vec::new();
    for dir in dirs {
        if sets.iter().any(|set| dir.starts_with(&set.dir)) {
            continue;
        }
        sets.extend(detect_at(snapshot, &dir));
    }
    sets
}

fn describe_sets(sets: &[DetectedSet]) -> String {
    sets.iter()
        .map(|set| format!("`{}` ({}, {} files)", set.dir, set.layout.name(), set.files))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the snapshot holds, for messages: a count and the first few paths.
fn describe_files(snapshot: &Snapshot) -> String {
    const SHOWN: usize = 5;
    let sql = snapshot.paths().filter(|path| common::is_sql(path)).count();
    let mut shown: Vec<String> = snapshot
        .paths()
        .take(SHOWN)
        .map(|path| format!("`{path}`"))
        .collect();
    if snapshot.len() > SHOWN {
        shown.push(format!("and {} more", snapshot.len() - SHOWN));
    }
    format!(
        "{} files ({sql} .sql): {}",
        snapshot.len(),
        shown.join(", ")
    )
}

fn layout_list() -> String {
    LAYOUTS
        .iter()
        .map(|spec| format!("{} ({})", spec.name, spec.pattern))
        .collect::<Vec<_>>()
        .join("; ")
}

fn nothing_recognised_error(snapshot: &Snapshot) -> anyhow::Error {
    anyhow!(
        "no migrations recognised: found {}. Known layouts: {}. If the files follow one of \
         them, name it with `--layout <name>` or `layout = \"<name>\"` in rollsafe.toml",
        describe_files(snapshot),
        layout_list()
    )
}

pub(super) fn no_migrations_error(snapshot: &Snapshot, layout: LayoutKind) -> anyhow::Error {
    let nested = nested_sets(snapshot);
    let hint = if nested.is_empty() {
        String::new()
    } else {
        format!(
            "; migration sets were found in subdirectories: {} (point rollsafe at one)",
            describe_sets(&nested)
        )
    };
    anyhow!(
        "no {} migrations found (expected {}): found {}{hint}",
        layout.name(),
        layout.pattern(),
        describe_files(snapshot)
    )
}
