//! Layouts: turn a snapshot of files into an ordered list of migrations, one module per tool.
//!
//! Detection is automatic and can be overridden in config or on the command line. Each file
//! at the top of the migrations directory (and each file one directory down, for Diesel and
//! Prisma) votes for the layout its name and markers fit: `sqitch.plan` decides at once,
//! goose and dbmate markers beat names, and the most votes win. `.up.sql`/`.down.sql` pairs
//! read as golang-migrate unless a file opens with sqlx's `-- no-transaction` (see `sqlx`
//! for why that default is the sound one). When nothing votes at the top, the
//! subdirectories are searched so the error can name the set(s) found there.
//!
//! Each layout knows whether its tool wraps a migration in a transaction and honours the
//! tool's opt-out markers.

mod common;
mod dbmate;
mod diesel;
mod flyway;
mod golang_migrate;
mod goose;
mod plain;
mod prisma;
mod sqitch;
mod sqlx;
pub mod version;

use crate::dialect::Dialect;
use crate::source::{self, Snapshot};
use anyhow::{anyhow, bail, Result};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::path::Path;

pub use version::Version;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayoutKind {
    GolangMigrate,
    Flyway,
    Diesel,
    Sqlx,
    Prisma,
    Goose,
    Dbmate,
    Sqitch,
    Plain,
}

impl LayoutKind {
    pub const ALL: [LayoutKind; 9] = [
        LayoutKind::GolangMigrate,
        LayoutKind::Flyway,
        LayoutKind::Diesel,
        LayoutKind::Sqlx,
        LayoutKind::Prisma,
        LayoutKind::Goose,
        LayoutKind::Dbmate,
        LayoutKind::Sqitch,
        LayoutKind::Plain,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LayoutKind::GolangMigrate => "golang-migrate",
            LayoutKind::Flyway => "flyway",
            LayoutKind::Diesel => "diesel",
            LayoutKind::Sqlx => "sqlx",
            LayoutKind::Prisma => "prisma",
            LayoutKind::Goose => "goose",
            LayoutKind::Dbmate => "dbmate",
            LayoutKind::Sqitch => "sqitch",
            LayoutKind::Plain => "plain",
        }
    }

    pub fn parse_name(name: &str) -> Option<LayoutKind> {
        LayoutKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// What the layout's migrations look like, for messages.
    pub fn pattern(self) -> &'static str {
        match self {
            LayoutKind::GolangMigrate => "`1_name.up.sql` / `1_name.down.sql`",
            LayoutKind::Flyway => "`V1__name.sql`, `U1__name.sql`, `R__name.sql`",
            LayoutKind::Diesel => "`<version>_name/up.sql` and `down.sql`",
            LayoutKind::Sqlx => "`<timestamp>_name.sql` or `<timestamp>_name.up.sql`",
            LayoutKind::Prisma => "`<timestamp>_name/migration.sql`",
            LayoutKind::Goose => "`<version>_name.sql` with `-- +goose Up`",
            LayoutKind::Dbmate => "`<version>_name.sql` with `-- migrate:up`",
            LayoutKind::Sqitch => "`sqitch.plan` with `deploy/` and `revert/`",
            LayoutKind::Plain => "`001_name.sql`",
        }
    }
}

/// How the migration tool sends a migration's statements to the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransactionMode {
    /// The tool wraps the whole migration in one transaction.
    Wrapped,
    /// The tool runs each statement on its own, in autocommit (an opt-out such as goose
    /// `NO TRANSACTION`, dbmate `transaction:false`, Diesel `run_in_transaction = false`).
    None,
    /// The tool sends the file as one query string (golang-migrate): Postgres runs a
    /// multi-statement query in one implicit transaction, a single statement on its own.
    ImplicitMultiStatement,
}

impl TransactionMode {
    /// Whether the statements of a migration with `statement_count` statements run inside a
    /// transaction (before any explicit BEGIN/COMMIT in the SQL itself).
    pub fn in_transaction(self, statement_count: usize) -> bool {
        match self {
            TransactionMode::Wrapped => true,
            TransactionMode::None => false,
            TransactionMode::ImplicitMultiStatement => statement_count > 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationKind {
    /// An ordinary, versioned migration.
    Versioned,
    /// Flyway `R__name.sql`: re-applied when its checksum changes, after the versioned ones.
    Repeatable,
    /// Flyway `B<ver>__name.sql`: a baseline that stands in for everything before it.
    Baseline,
}

/// A byte range of one file in the snapshot holding a migration's up or down SQL. Spans in
/// diagnostics are byte offsets into the whole file, so `range` is kept, not the slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlPart {
    pub path: String,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The version as written in the file or directory name (`20240105120000`, `1.2`, `0007`).
    pub id: String,
    /// The sort key derived from `id`: numeric parts compare as numbers.
    pub version: Version,
    /// The descriptive part of the name (`drop_legacy_email`).
    pub name: String,
    pub kind: MigrationKind,
    pub up: Option<SqlPart>,
    pub down: Option<SqlPart>,
    /// Every file that makes up the migration (SQL files, `metadata.toml`, ...), for history
    /// comparison.
    pub paths: Vec<String>,
    pub transaction: TransactionMode,
}

impl Migration {
    /// The path shown for the migration: its up file, else its first file.
    pub fn display_path(&self) -> &str {
        self.up
            .as_ref()
            .map(|part| part.path.as_str())
            .or(self.paths.first().map(String::as_str))
            .unwrap_or("")
    }
}

/// What discovery found in a snapshot.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub layout: LayoutKind,
    /// A dialect the layout itself declares (Prisma's `migration_lock.toml`, sqitch's engine).
    pub dialect: Option<Dialect>,
    /// In apply order: versioned by version (ties by path), then repeatables by name.
    pub migrations: Vec<Migration>,
    /// Files that look like SQL but are not migrations of the layout (a loose data script).
    pub ignored: Vec<String>,
}

/// Which layout to use: detected, or named by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayoutChoice {
    #[default]
    Auto,
    Fixed(LayoutKind),
}

/// Plain numbered files run one transaction per file unless config says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutOptions {
    pub plain_transaction: TransactionMode,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        LayoutOptions {
            plain_transaction: TransactionMode::Wrapped,
        }
    }
}

/// Finds and orders the migrations in `snapshot` (paths relative to the migrations
/// directory). Errors name the offending file: no recognisable layout, several migration
/// sets, a malformed plan or metadata file.
pub fn discover(
    snapshot: &Snapshot,
    choice: LayoutChoice,
    options: &LayoutOptions,
) -> Result<Discovered> {
    if snapshot.is_empty() {
        bail!("no files in the migrations directory");
    }
    let layout = match choice {
        LayoutChoice::Fixed(kind) => kind,
        LayoutChoice::Auto => detect(snapshot)?,
    };
    let (mut migrations, dialect) = read_layout(snapshot, layout, options)?;
    if migrations.is_empty() {
        return Err(no_migrations_error(snapshot, layout));
    }
    migrations.sort_by(apply_order);
    let ignored = ignored_files(snapshot, layout, &migrations);
    Ok(Discovered {
        layout,
        dialect,
        migrations,
        ignored,
    })
}

/// `discover` on the directory `dir` read from disk; errors start with the directory.
pub fn discover_dir(
    dir: &Path,
    choice: LayoutChoice,
    options: &LayoutOptions,
) -> Result<Discovered> {
    let snapshot = source::read_dir(dir)?;
    discover(&snapshot, choice, options).map_err(|err| anyhow!("{}: {err:#}", dir.display()))
}

fn read_layout(
    snapshot: &Snapshot,
    layout: LayoutKind,
    options: &LayoutOptions,
) -> Result<(Vec<Migration>, Option<Dialect>)> {
    Ok(match layout {
        LayoutKind::GolangMigrate => (golang_migrate::discover(snapshot), None),
        LayoutKind::Flyway => (flyway::discover(snapshot)?, None),
        LayoutKind::Diesel => (diesel::discover(snapshot)?, None),
        LayoutKind::Sqlx => (sqlx::discover(snapshot), None),
        LayoutKind::Prisma => (prisma::discover(snapshot), prisma::dialect(snapshot)?),
        LayoutKind::Goose => (goose::discover(snapshot)?, None),
        LayoutKind::Dbmate => (dbmate::discover(snapshot)?, None),
        LayoutKind::Sqitch => (sqitch::discover(snapshot)?, sqitch::dialect(snapshot)?),
        LayoutKind::Plain => (plain::discover(snapshot, options.plain_transaction), None),
    })
}

/// Versioned (and baseline) migrations by version, ties by path; repeatables after, by name.
fn apply_order(a: &Migration, b: &Migration) -> Ordering {
    let repeatable = |m: &Migration| m.kind == MigrationKind::Repeatable;
    let by_key = if repeatable(a) && repeatable(b) {
        a.name.cmp(&b.name)
    } else {
        a.version.cmp(&b.version)
    };
    repeatable(a)
        .cmp(&repeatable(b))
        .then(by_key)
        .then_with(|| a.display_path().cmp(b.display_path()))
}

/// SQL files that no migration uses and the layout does not use otherwise (sqitch's
/// `verify/` scripts are its own).
fn ignored_files(snapshot: &Snapshot, layout: LayoutKind, migrations: &[Migration]) -> Vec<String> {
    let used: BTreeSet<&str> = migrations
        .iter()
        .flat_map(|migration| migration.paths.iter().map(String::as_str))
        .collect();
    snapshot
        .paths()
        .filter(|path| common::is_sql(path) && !used.contains(path))
        .filter(|path| !(layout == LayoutKind::Sqitch && sqitch::is_auxiliary(path)))
        .map(str::to_string)
        .collect()
}

/// Picks the layout from the files at the top of the snapshot, or explains why none fits.
fn detect(snapshot: &Snapshot) -> Result<LayoutKind> {
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
        && flyway::are_folders_of_one_set(snapshot, &dirs)
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

/// The layout of the migrations directly in `dir` (a prefix ending in `/`, or empty): each
/// file votes for the layout its name and markers fit, and the most votes win. Ties go to
/// the more specific layout (the order of `DETECTION_ORDER`).
fn detect_at(snapshot: &Snapshot, dir: &str) -> Option<DetectedSet> {
    let mut votes: HashMap<LayoutKind, usize> = HashMap::new();
    let mut sqlx_marker = false;
    for path in snapshot.paths() {
        let Some(relative) = path.strip_prefix(dir) else {
            continue;
        };
        let Some(vote) = vote(snapshot, path, relative) else {
            continue;
        };
        if vote == LayoutKind::Sqitch {
            return Some(DetectedSet {
                dir: dir.to_string(),
                layout: vote,
                files: files_under(snapshot, dir),
            });
        }
        sqlx_marker |= vote == LayoutKind::GolangMigrate
            && snapshot
                .get(path)
                .is_some_and(sqlx::opts_out_of_transaction);
        *votes.entry(vote).or_default() += 1;
    }
    let (mut layout, _) = votes
        .into_iter()
        .max_by_key(|&(kind, count)| (count, std::cmp::Reverse(detection_rank(kind))))?;
    // `-- no-transaction` exists only in sqlx, which shares golang-migrate's names.
    if layout == LayoutKind::GolangMigrate && sqlx_marker {
        layout = LayoutKind::Sqlx;
    }
    Some(DetectedSet {
        dir: dir.to_string(),
        layout,
        files: files_under(snapshot, dir),
    })
}

fn files_under(snapshot: &Snapshot, dir: &str) -> usize {
    snapshot
        .paths()
        .filter(|path| path.starts_with(dir))
        .count()
}

/// The most specific layouts first: a file that several layouts could read belongs to the
/// one with the most telling marker.
const DETECTION_ORDER: [LayoutKind; 9] = [
    LayoutKind::Sqitch,
    LayoutKind::Prisma,
    LayoutKind::Diesel,
    LayoutKind::Goose,
    LayoutKind::Dbmate,
    LayoutKind::Flyway,
    LayoutKind::GolangMigrate,
    LayoutKind::Sqlx,
    LayoutKind::Plain,
];

fn detection_rank(kind: LayoutKind) -> usize {
    DETECTION_ORDER
        .iter()
        .position(|&other| other == kind)
        .unwrap_or(DETECTION_ORDER.len())
}

/// The layout a file at `relative` (below the directory being detected) belongs to.
fn vote(snapshot: &Snapshot, path: &str, relative: &str) -> Option<LayoutKind> {
    match relative.split_once('/') {
        None => vote_for_file(snapshot, path, relative),
        Some((dir, file)) if !file.contains('/') => {
            if file == prisma::MIGRATION_FILE {
                Some(LayoutKind::Prisma)
            } else if diesel::is_migration_file(dir, file) {
                Some(LayoutKind::Diesel)
            } else {
                None
            }
        }
        Some(_) => None,
    }
}

fn vote_for_file(snapshot: &Snapshot, path: &str, file: &str) -> Option<LayoutKind> {
    if file == sqitch::PLAN {
        return Some(LayoutKind::Sqitch);
    }
    if file == prisma::LOCK_FILE {
        return Some(LayoutKind::Prisma);
    }
    if flyway::parse_file_name(file).is_some() {
        return Some(LayoutKind::Flyway);
    }
    if !common::is_sql(file) || !file.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let text = snapshot.get(path).map(String::from_utf8_lossy);
    let text = text.as_deref().unwrap_or("");
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if goose::has_up_annotation(text) {
        Some(LayoutKind::Goose)
    } else if dbmate::has_up_marker(text) {
        Some(LayoutKind::Dbmate)
    } else if golang_migrate::parse_file_name(file).is_some() {
        Some(LayoutKind::GolangMigrate)
    } else if sqlx::has_timestamp_version(file) {
        Some(LayoutKind::Sqlx)
    } else if plain::parse_file_name(file).is_some() {
        Some(LayoutKind::Plain)
    } else {
        None
    }
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
    LayoutKind::ALL
        .iter()
        .map(|kind| format!("{} ({})", kind.name(), kind.pattern()))
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

fn no_migrations_error(snapshot: &Snapshot, layout: LayoutKind) -> anyhow::Error {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(snapshot: &Snapshot) -> Result<Discovered> {
        discover(snapshot, LayoutChoice::Auto, &LayoutOptions::default())
    }

    fn error(snapshot: &Snapshot) -> String {
        format!("{:#}", auto(snapshot).unwrap_err())
    }

    fn snapshot(files: &[(&str, &str)]) -> Snapshot {
        let mut snapshot = Snapshot::new();
        for (path, text) in files {
            snapshot.insert(*path, *text);
        }
        snapshot
    }

    #[test]
    fn empty_snapshot_says_no_files() {
        assert!(error(&Snapshot::new()).contains("no files"));
    }

    #[test]
    fn unrecognisable_files_are_listed_with_the_layouts() {
        let err = error(&snapshot(&[
            ("schema.sql", "CREATE TABLE t (id int);"),
            ("README.md", ""),
        ]));
        assert!(err.contains("no migrations recognised"), "{err}");
        assert!(
            err.contains("`schema.sql`") && err.contains("2 files (1 .sql)"),
            "{err}"
        );
        for kind in LayoutKind::ALL {
            assert!(err.contains(kind.name()), "{err}");
        }
        assert!(err.contains("--layout"), "{err}");
    }

    #[test]
    fn sibling_sets_ask_to_point_at_one() {
        let err = error(&snapshot(&[
            ("postgres/1_init.up.sql", "CREATE TABLE t (id int);"),
            ("postgres/2_more.up.sql", "ALTER TABLE t ADD COLUMN a int;"),
            ("sqlite/1_init.up.sql", "CREATE TABLE t (id integer);"),
        ]));
        assert!(err.contains("2 separate migration sets"), "{err}");
        assert!(
            err.contains("`postgres/` (golang-migrate, 2 files)"),
            "{err}"
        );
        assert!(
            err.contains("`sqlite/`") && err.contains("point rollsafe at one"),
            "{err}"
        );
    }

    #[test]
    fn one_nested_set_is_pointed_at() {
        let err = error(&snapshot(&[("db/migrations/V1__init.sql", "SELECT 1;")]));
        assert!(err.contains("`db/migrations/` holds a flyway set"), "{err}");
    }

    #[test]
    fn flyway_release_folders_are_one_set() {
        let found = auto(&snapshot(&[
            ("release-1/V1__init.sql", "SELECT 1;"),
            ("release-1/V2__users.sql", "SELECT 2;"),
            ("release-2/V10__email.sql", "SELECT 3;"),
        ]))
        .unwrap();
        assert_eq!(found.layout, LayoutKind::Flyway);
        let ids: Vec<_> = found.migrations.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "10"]);
    }

    #[test]
    fn flyway_copies_per_database_are_several_sets() {
        let err = error(&snapshot(&[
            ("mysql/V1__init.sql", "SELECT 1;"),
            ("postgresql/V1__init.sql", "SELECT 1;"),
        ]));
        assert!(err.contains("2 separate migration sets"), "{err}");
    }

    #[test]
    fn malformed_sqitch_plan_names_file_and_line() {
        let err = error(&snapshot(&[
            (
                "sqitch.plan",
                "%project=x\n\nusers 2013-09-04T13:54:01Z A <a@b.c>\nusers oops\n",
            ),
            ("deploy/users.sql", "SELECT 1;"),
        ]));
        assert!(
            err.starts_with("sqitch.plan:4: malformed change line"),
            "{err}"
        );
    }

    #[test]
    fn missing_deploy_script_names_the_plan_line() {
        let err = error(&snapshot(&[(
            "sqitch.plan",
            "users 2013-09-04T13:54:01Z A <a@b.c>\n",
        )]));
        assert!(
            err.starts_with("sqitch.plan:1: change `users` has no deploy script"),
            "{err}"
        );
    }

    #[test]
    fn fixed_layout_without_its_files_explains() {
        let files = snapshot(&[("1_init.up.sql", "SELECT 1;")]);
        let choice = LayoutChoice::Fixed(LayoutKind::Prisma);
        let err = discover(&files, choice, &LayoutOptions::default()).unwrap_err();
        let err = err.to_string();
        assert!(err.starts_with("no prisma migrations found"), "{err}");
        assert!(err.contains("`1_init.up.sql`"), "{err}");
    }

    #[test]
    fn duplicate_versions_are_kept_in_path_order() {
        let found = auto(&snapshot(&[
            ("2_b.up.sql", "SELECT 2;"),
            ("2_a.up.sql", "SELECT 1;"),
            ("10_c.up.sql", "SELECT 3;"),
        ]))
        .unwrap();
        let names: Vec<_> = found.migrations.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn markers_beat_names() {
        let found = auto(&snapshot(&[
            ("1_a.sql", "-- +goose Up\nSELECT 1;\n"),
            ("2_b.sql", "-- +goose Up\nSELECT 2;\n"),
        ]))
        .unwrap();
        assert_eq!(found.layout, LayoutKind::Goose);
        let found = auto(&snapshot(&[(
            "20240101000000_a.sql",
            "-- migrate:up\nSELECT 1;\n",
        )]));
        assert_eq!(found.unwrap().layout, LayoutKind::Dbmate);
    }

    #[test]
    fn not_utf8_is_an_error_not_a_panic() {
        let mut files = Snapshot::new();
        files.insert("1_a.sql", b"-- +goose Up\nSELECT '\xff';\n".to_vec());
        files.insert("2_b.sql", "-- +goose Up\nSELECT 2;\n");
        let err = error(&files);
        assert!(err.starts_with("1_a.sql:2: not UTF-8"), "{err}");
    }
}
