//! How the head's migrations relate to the base's: which are new, edited, deleted or renamed.
//! The history rules read this.
//!
//! Matching, in order (each migration is matched at most once):
//! 1. same id and same path: unchanged, or edited when any of its files differs;
//! 2. gone at head, but a head migration with another id or path has byte-identical files:
//!    renamed (the head one stays `New`: the tool sees a migration it has not run);
//! 3. gone at head, but a head migration has the same id under another path: edited (a
//!    tool that tracks versions will never run the new content);
//! 4. anything left is deleted (base) or new (head).

use crate::layout::{Migration, MigrationKind};
use crate::project::{MigrationStatus, ParsedMigration};
use crate::source::Snapshot;
use crate::sql;
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

/// A migration present at base whose content differs at head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    pub base: Migration,
    pub head: Migration,
    /// A short description of what changed: a header line, then the first changed lines
    /// prefixed with `-` (base) and `+` (head).
    pub summary: String,
    /// The head file where the first change is, and the byte span of its first changed line
    /// there (empty when the change is a removal at the end or a file that is gone).
    pub path: String,
    pub span: Range<usize>,
    /// What the edit changes, as the database would run it.
    pub kind: EditKind,
}

/// What an edit of a shipped migration changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditKind {
    /// What the up executes: the tools never run it again, so the schema drifts.
    Up,
    /// Another file of the migration (metadata that says how it runs).
    OtherFile,
    /// Only the down: a rollback runs the new text, which nothing has tested against the
    /// shipped up.
    DownOnly,
    /// Whitespace, comments or keyword case only: the same statements run.
    Reformatted,
}

/// The comparison of base and head migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryDiff {
    pub edited: Vec<Edited>,
    /// Present at base, gone at head (and not renamed).
    pub deleted: Vec<Migration>,
    /// Same content, new name or version: (base, head).
    pub renamed: Vec<(Migration, Migration)>,
    /// The newest version applied at base, for `out-of-order-migration`.
    pub newest_at_base: Option<Migration>,
    /// What the project's tool does with an older pending migration (from the layout
    /// table); `None` when unknown.
    pub older_pending: Option<crate::layout::OlderPending>,
    /// Every migration at head, in apply order, for `duplicate-version`.
    pub head: Vec<Migration>,
}

/// One side of the comparison: its migrations and the files they were read from.
#[derive(Clone, Copy)]
pub struct Revision<'a> {
    pub migrations: &'a [ParsedMigration],
    pub files: &'a Snapshot,
}

impl HistoryDiff {
    /// The history of a single snapshot (`--all` mode): nothing edited, deleted or renamed,
    /// only the head list, so `duplicate-version` can see the whole project.
    pub fn single_snapshot(migrations: &[ParsedMigration]) -> HistoryDiff {
        HistoryDiff {
            head: migrations.iter().map(|m| m.migration.clone()).collect(),
            ..HistoryDiff::default()
        }
    }

    /// True when `migration` (at head) is the new name of a renamed base migration.
    pub fn is_rename_target(&self, migration: &Migration) -> bool {
        self.renamed.iter().any(|(_, head)| head == migration)
    }
}

/// Compares base and head. Returns the diff and each head migration's status, in the order
/// of `head.migrations` (`New`, `Edited` or `Unchanged`; a rename target is `New`).
pub fn compare(base: Revision<'_>, head: Revision<'_>) -> (HistoryDiff, Vec<MigrationStatus>) {
    let mut matching = Matching::new(base, head);
    let unmatched = matching.same_id_and_path();
    let gone = matching.renames(unmatched);
    matching.moved_or_deleted(gone);
    (matching.diff, matching.statuses)
}

/// The state of the matching passes (see the module comment).
struct Matching<'a> {
    base: Revision<'a>,
    head: Revision<'a>,
    /// Head migrations already paired with a base one.
    matched: Vec<bool>,
    statuses: Vec<MigrationStatus>,
    diff: HistoryDiff,
}

impl<'a> Matching<'a> {
    fn new(base: Revision<'a>, head: Revision<'a>) -> Self {
        Matching {
            base,
            head,
            matched: vec![false; head.migrations.len()],
            statuses: vec![MigrationStatus::New; head.migrations.len()],
            diff: HistoryDiff {
                newest_at_base: newest(base.migrations),
                ..HistoryDiff::single_snapshot(head.migrations)
            },
        }
    }

    /// Pass 1: unchanged or edited in place. Returns the base migrations left over.
    fn same_id_and_path(&mut self) -> Vec<&'a Migration> {
        // A plain lookup: long histories have thousands of migrations.
        let by_key: HashMap<(&str, &str), usize> = (self.head.migrations.iter().enumerate())
            .map(|(index, m)| (key(&m.migration), index))
            .collect();
        let mut unmatched = Vec::new();
        for old in self.base.migrations.iter().map(|m| &m.migration) {
            match by_key.get(&key(old)) {
                Some(&index) if !self.matched[index] => {
                    let edit = edit_of(
                        old,
                        self.base.files,
                        self.head_migration(index),
                        self.head.files,
                    );
                    self.pair(index, edit);
                }
                _ => unmatched.push(old),
            }
        }
        unmatched
    }

    /// Pass 2: byte-identical content elsewhere. Returns the base migrations left over.
    fn renames(&mut self, unmatched: Vec<&'a Migration>) -> Vec<&'a Migration> {
        let mut gone = Vec::new();
        for old in unmatched {
            let content = fingerprint(old, self.base.files);
            let head_files = self.head.files;
            let identical =
                |new: &Migration| !content.is_empty() && fingerprint(new, head_files) == content;
            match self.find_unmatched(identical) {
                Some(index) => {
                    self.matched[index] = true;
                    let new = self.head_migration(index).clone();
                    self.diff.renamed.push((old.clone(), new));
                }
                None => gone.push(old),
            }
        }
        gone
    }

    /// Pass 3: the same id under another path is an edit; anything else is deleted.
    fn moved_or_deleted(&mut self, gone: Vec<&'a Migration>) {
        for old in gone {
            let Some(index) = self.find_unmatched(|new| new.id == old.id) else {
                self.diff.deleted.push(old.clone());
                continue;
            };
            let new = self.head_migration(index);
            let mut edit = edit_of(old, self.base.files, new, self.head.files)
                .unwrap_or_else(|| unchanged_content(old, new));
            edit.summary = format!("moved from {}; {}", old.display_path(), edit.summary);
            self.pair(index, Some(edit));
        }
    }

    fn head_migration(&self, index: usize) -> &'a Migration {
        &self.head.migrations[index].migration
    }

    fn pair(&mut self, index: usize, edit: Option<Edited>) {
        self.matched[index] = true;
        self.statuses[index] = match edit {
            Some(edit) => {
                self.diff.edited.push(edit);
                MigrationStatus::Edited
            }
            None => MigrationStatus::Unchanged,
        };
    }

    fn find_unmatched(&self, wanted: impl Fn(&Migration) -> bool) -> Option<usize> {
        (0..self.head.migrations.len())
            .find(|&index| !self.matched[index] && wanted(self.head_migration(index)))
    }
}

fn key(migration: &Migration) -> (&str, &str) {
    (&migration.id, migration.display_path())
}

/// The base migration with the greatest version (versioned and baseline ones: repeatables
/// have no place in the order).
fn newest(migrations: &[ParsedMigration]) -> Option<Migration> {
    migrations
        .iter()
        .map(|m| &m.migration)
        .filter(|m| m.kind != MigrationKind::Repeatable)
        .max_by(|a, b| a.version.cmp(&b.version))
        .cloned()
}

/// The contents of a migration's files, sorted: equal for a migration that was only renamed.
fn fingerprint<'a>(migration: &Migration, files: &'a Snapshot) -> Vec<&'a [u8]> {
    let mut contents: Vec<&[u8]> = migration
        .paths
        .iter()
        .filter_map(|path| files.get(path))
        .collect();
    contents.sort();
    contents
}

/// An edit for a migration moved to another path with the very same content.
fn unchanged_content(old: &Migration, new: &Migration) -> Edited {
    Edited {
        base: old.clone(),
        head: new.clone(),
        summary: "content unchanged".to_string(),
        path: new.display_path().to_string(),
        span: 0..0,
        kind: EditKind::OtherFile,
    }
}

/// What changed between the two versions of a migration, or `None` when nothing did. The
/// up SQL is described first, then the down SQL, then any other file.
fn edit_of(
    old: &Migration,
    old_files: &Snapshot,
    new: &Migration,
    new_files: &Snapshot,
) -> Option<Edited> {
    let sections = [
        (
            "up SQL",
            section(old.up.as_ref(), old_files),
            section(new.up.as_ref(), new_files),
        ),
        (
            "down SQL",
            section(old.down.as_ref(), old_files),
            section(new.down.as_ref(), new_files),
        ),
    ];
    let described = sections
        .into_iter()
        .find_map(|(label, before, after)| describe_section(label, before?, after?));
    let (summary, path, span) = match described {
        Some(found) => found,
        None => {
            let changed = changed_files(old, old_files, new, new_files);
            if changed.is_empty() {
                return None;
            }
            (changed.join(", "), new.display_path().to_string(), 0..0)
        }
    };
    let kind = edit_kind(old, old_files, new, new_files);
    Some(Edited {
        base: old.clone(),
        head: new.clone(),
        summary,
        path,
        span,
        kind,
    })
}

/// What an edit changes: the up's statements first, then another file, then the down's.
fn edit_kind(
    old: &Migration,
    old_files: &Snapshot,
    new: &Migration,
    new_files: &Snapshot,
) -> EditKind {
    let differs = |before: Option<Section<'_>>, after: Option<Section<'_>>| match (before, after) {
        (Some(before), Some(after)) => {
            let text = |s: &Section<'_>| String::from_utf8_lossy(s.text).into_owned();
            !sql::same_tokens(&text(&before), &text(&after))
        }
        (None, None) => false,
        _ => true,
    };
    if differs(
        section(old.up.as_ref(), old_files),
        section(new.up.as_ref(), new_files),
    ) {
        return EditKind::Up;
    }
    let sql_files: BTreeSet<&String> = [&old.up, &old.down, &new.up, &new.down]
        .into_iter()
        .flatten()
        .map(|part| &part.path)
        .collect();
    let other_changed = changed_files(old, old_files, new, new_files)
        .iter()
        .any(|change| {
            !sql_files
                .iter()
                .any(|path| change.starts_with(path.as_str()))
        });
    if other_changed {
        return EditKind::OtherFile;
    }
    if differs(
        section(old.down.as_ref(), old_files),
        section(new.down.as_ref(), new_files),
    ) {
        return EditKind::DownOnly;
    }
    EditKind::Reformatted
}

/// A migration's up or down SQL: its file, the text of its section, and where the section
/// starts in the file.
struct Section<'a> {
    path: &'a str,
    text: &'a [u8],
    start: usize,
}

fn section<'a>(
    part: Option<&'a crate::layout::SqlPart>,
    files: &'a Snapshot,
) -> Option<Section<'a>> {
    let part = part?;
    let bytes = files.get(&part.path)?;
    let text = bytes.get(part.range.clone())?;
    Some(Section {
        path: &part.path,
        text,
        start: part.range.start,
    })
}

/// The summary, head path and span of a changed section, or `None` when it is unchanged.
fn describe_section(
    label: &str,
    before: Section<'_>,
    after: Section<'_>,
) -> Option<(String, String, Range<usize>)> {
    if before.text == after.text {
        return None;
    }
    let old = String::from_utf8_lossy(before.text);
    let new = String::from_utf8_lossy(after.text);
    let first_change = common_prefix_len(before.text, after.text);
    let line = line_span(&new, first_change.min(new.len()));
    let line_number = new[..line.start].matches('\n').count() + 1;
    let span = after.start + line.start..after.start + line.end;
    let summary = match whitespace_only(&old, &new) {
        Some(place) => format!("{label}: whitespace only, {place}"),
        None => format!(
            "{label}, from line {line_number}:\n{}",
            line_diff(&old, &new)
        ),
    };
    Some((summary, after.path.to_string(), span))
}

/// Where a whitespace-only change is, or `None` when more than whitespace changed.
fn whitespace_only(old: &str, new: &str) -> Option<&'static str> {
    if !old.split_whitespace().eq(new.split_whitespace()) {
        return None;
    }
    if old.trim_end() == new.trim_end() {
        Some("at the end of the file")
    } else {
        Some("inside the file")
    }
}

/// Files that were added, removed or changed, other than in the compared SQL sections.
fn changed_files(
    old: &Migration,
    old_files: &Snapshot,
    new: &Migration,
    new_files: &Snapshot,
) -> Vec<String> {
    let paths: BTreeSet<&String> = old.paths.iter().chain(&new.paths).collect();
    paths
        .into_iter()
        .filter_map(|path| {
            let before = old
                .paths
                .contains(path)
                .then(|| old_files.get(path))
                .flatten();
            let after = new
                .paths
                .contains(path)
                .then(|| new_files.get(path))
                .flatten();
            match (before, after) {
                (Some(a), Some(b)) if a == b => None,
                (Some(_), Some(_)) => Some(format!("{path} changed")),
                (None, Some(_)) => Some(format!("{path} added")),
                (Some(_), None) => Some(format!("{path} removed")),
                (None, None) => None,
            }
        })
        .collect()
}

fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// The byte range of the line of `text` holding `offset` (without its newline).
fn line_span(text: &str, offset: usize) -> Range<usize> {
    let mut offset = offset;
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    start..end
}

/// How many changed lines a summary shows, and how wide each may be.
const SHOWN_LINES: usize = 4;
const LINE_WIDTH: usize = 100;
/// Above this many line pairs, the changed block is shown whole instead of diffed line by
/// line (a quadratic table on a huge file is not worth it for a summary).
const MAX_DIFF_CELLS: usize = 250_000;

/// The first changed lines, `-` for the base's and `+` for the head's, then how many more.
pub fn line_diff(old: &str, new: &str) -> String {
    let changes = changed_lines(old, new);
    let mut out: Vec<String> = changes
        .iter()
        .take(SHOWN_LINES)
        .map(|(sign, line)| format!("{sign} {}", shorten(line)))
        .collect();
    if changes.len() > SHOWN_LINES {
        out.push(format!(
            "(and {} more changed lines)",
            changes.len() - SHOWN_LINES
        ));
    }
    out.join("\n")
}

/// Removed and added lines, in order, from a longest-common-subsequence alignment of the
/// part between the common first and last lines.
fn changed_lines<'a>(old: &'a str, new: &'a str) -> Vec<(char, &'a str)> {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old = &old[prefix..old.len() - suffix];
    let new = &new[prefix..new.len() - suffix];
    if old.len() * new.len() > MAX_DIFF_CELLS {
        let removed = old.iter().map(|line| ('-', *line));
        return removed.chain(new.iter().map(|line| ('+', *line))).collect();
    }
    lcs_diff(old, new)
}

fn lcs_diff<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<(char, &'a str)> {
    // common[i][j]: the longest common subsequence of old[i..] and new[j..].
    let mut common = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            common[i][j] = if old[i] == new[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            i += 1;
            j += 1;
        } else if j == new.len() || (i < old.len() && common[i + 1][j] >= common[i][j + 1]) {
            out.push(('-', old[i]));
            i += 1;
        } else {
            out.push(('+', new[j]));
            j += 1;
        }
    }
    out
}

fn shorten(line: &str) -> String {
    let line = line.trim_end();
    if line.chars().count() <= LINE_WIDTH {
        return line.to_string();
    }
    let cut: String = line.chars().take(LINE_WIDTH).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{SqlPart, TransactionMode, Version};
    use crate::sql::SqlFile;

    /// A one-file migration `<id>_<name>.sql` whose up SQL is the whole file.
    fn migration(id: &str, name: &str, files: &mut Snapshot, sql: &str) -> ParsedMigration {
        let path = format!("{id}_{name}.sql");
        files.insert(path.clone(), sql);
        ParsedMigration {
            migration: Migration {
                id: id.to_string(),
                version: Version::parse(id),
                name: name.to_string(),
                kind: MigrationKind::Versioned,
                up: Some(SqlPart {
                    path: path.clone(),
                    range: 0..sql.len(),
                }),
                down: None,
                paths: vec![path],
                transaction: TransactionMode::Wrapped,
            },
            up: SqlFile::default(),
            down: None,
            status: MigrationStatus::Unchanged,
        }
    }

    struct Side {
        files: Snapshot,
        migrations: Vec<ParsedMigration>,
    }

    impl Side {
        fn new(list: &[(&str, &str, &str)]) -> Side {
            let mut files = Snapshot::new();
            let migrations = list
                .iter()
                .map(|(id, name, sql)| migration(id, name, &mut files, sql))
                .collect();
            Side { files, migrations }
        }

        fn revision(&self) -> Revision<'_> {
            Revision {
                migrations: &self.migrations,
                files: &self.files,
            }
        }
    }

    fn run(base: &Side, head: &Side) -> (HistoryDiff, Vec<MigrationStatus>) {
        compare(base.revision(), head.revision())
    }

    const USERS: &str = "CREATE TABLE users (id int);\n";
    const ORDERS: &str = "CREATE TABLE orders (id int);\n";

    #[test]
    fn unchanged_and_new_migrations() {
        let base = Side::new(&[("1", "users", USERS)]);
        let head = Side::new(&[("1", "users", USERS), ("2", "orders", ORDERS)]);
        let (diff, statuses) = run(&base, &head);
        assert_eq!(statuses, [MigrationStatus::Unchanged, MigrationStatus::New]);
        assert!(diff.edited.is_empty() && diff.deleted.is_empty() && diff.renamed.is_empty());
        assert_eq!(diff.newest_at_base.unwrap().id, "1");
        assert_eq!(diff.head.len(), 2);
    }

    #[test]
    fn an_edit_is_summarised_as_a_line_diff() {
        let base = Side::new(&[(
            "1",
            "users",
            "CREATE TABLE users (\n  id int,\n  name text\n);\n",
        )]);
        let head = Side::new(&[(
            "1",
            "users",
            "CREATE TABLE users (\n  id bigint,\n  name text\n);\n",
        )]);
        let (diff, statuses) = run(&base, &head);
        assert_eq!(statuses, [MigrationStatus::Edited]);
        let edited = &diff.edited[0];
        assert_eq!(
            edited.summary,
            "up SQL, from line 2:\n-   id int,\n+   id bigint,"
        );
        assert_eq!(edited.path, "1_users.sql");
        let text = head.files.text("1_users.sql").unwrap();
        assert_eq!(&text[edited.span.clone()], "  id bigint,");
    }

    #[test]
    fn a_whitespace_edit_at_the_end_is_still_an_edit() {
        let base = Side::new(&[("1", "users", USERS)]);
        let head = Side::new(&[("1", "users", "CREATE TABLE users (id int);\n\n")]);
        let (diff, statuses) = run(&base, &head);
        assert_eq!(statuses, [MigrationStatus::Edited]);
        assert_eq!(
            diff.edited[0].summary,
            "up SQL: whitespace only, at the end of the file"
        );
    }

    #[test]
    fn a_vanished_migration_is_deleted() {
        let base = Side::new(&[("1", "users", USERS), ("2", "orders", ORDERS)]);
        let head = Side::new(&[("1", "users", USERS)]);
        let (diff, _) = run(&base, &head);
        assert_eq!(diff.deleted.len(), 1);
        assert_eq!(diff.deleted[0].id, "2");
        assert_eq!(diff.newest_at_base.unwrap().id, "2");
    }

    #[test]
    fn identical_content_under_a_new_version_is_a_rename() {
        let base = Side::new(&[("1", "users", USERS), ("2", "orders", ORDERS)]);
        let head = Side::new(&[("1", "users", USERS), ("3", "orders", ORDERS)]);
        let (diff, statuses) = run(&base, &head);
        assert_eq!(statuses, [MigrationStatus::Unchanged, MigrationStatus::New]);
        assert!(diff.deleted.is_empty());
        let (old, new) = &diff.renamed[0];
        assert_eq!((old.id.as_str(), new.id.as_str()), ("2", "3"));
        assert!(diff.is_rename_target(new));
    }

    #[test]
    fn the_same_version_under_another_name_with_new_content_is_an_edit() {
        let base = Side::new(&[("1", "users", USERS)]);
        let head = Side::new(&[("1", "people", "CREATE TABLE people (id int);\n")]);
        let (diff, statuses) = run(&base, &head);
        assert_eq!(statuses, [MigrationStatus::Edited]);
        assert!(diff.edited[0]
            .summary
            .starts_with("moved from 1_users.sql; up SQL"));
        assert!(diff.deleted.is_empty() && diff.renamed.is_empty());
    }

    #[test]
    fn newest_at_base_compares_versions_numerically() {
        let base = Side::new(&[("9", "a", USERS), ("10", "b", ORDERS)]);
        let (diff, _) = run(&base, &base);
        assert_eq!(diff.newest_at_base.unwrap().id, "10");
    }

    #[test]
    fn a_changed_extra_file_is_named() {
        let mut base = Side::new(&[("1", "users", USERS)]);
        let mut head = Side::new(&[("1", "users", USERS)]);
        for (side, text) in [(&mut base, "a = 1"), (&mut head, "a = 2")] {
            side.migrations[0]
                .migration
                .paths
                .push("metadata.toml".into());
            side.files.insert("metadata.toml", text);
        }
        let (diff, _) = run(&base, &head);
        assert_eq!(diff.edited[0].summary, "metadata.toml changed");
    }

    #[test]
    fn line_diff_shows_the_first_changes_and_counts_the_rest() {
        let old = "a\nb\nc\nd\ne\nf\n";
        let new = "a\nB\nc\nD\ne\nF\n";
        assert_eq!(
            line_diff(old, new),
            "- b\n+ B\n- d\n+ D\n(and 2 more changed lines)"
        );
        assert_eq!(line_diff("a\n", "a\nb\n"), "+ b");
    }
}
