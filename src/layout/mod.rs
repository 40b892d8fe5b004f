//! Layouts: turn a snapshot of files into an ordered list of migrations, one module per tool.
//!
//! Every fact the rest of the crate knows about a tool is one row of `LAYOUTS`: its name,
//! what its files look like, how a file votes for it during detection, how its migrations
//! are read, which in-file markers it understands, and how the tool treats its history
//! (what it does with an older pending migration, what it keys applied migrations by).
//! Adding a layout is its own module plus one row; a test fails when a `LayoutKind` has no
//! row.
//!
//! Detection is automatic and can be overridden in config or on the command line. Each file
//! at the top of the migrations directory (and each file one directory down, for the
//! directory-per-migration layouts) votes for the first layout, in table order, that claims
//! it: a file that decides (`sqitch.plan`, `atlas.sum`) settles it at once, and the most
//! votes win. A layout whose telling sign only some files carry (sqlx's `-- no-transaction`,
//! popx's dialect files) takes over the majority of the layout it shares names with. When
//! nothing votes at the top, the subdirectories are searched so the error can name the
//! set(s) found there.
//!
//! After reading, nothing is dropped silently: a migration file that carries another tool's
//! markers is an error naming the layout to use, and every other SQL file or code migration
//! in the directory is listed in `Discovered::ignored` with the reason.

mod atlas;
mod common;
mod custom;
mod dbmate;
mod detect;
mod diesel;
pub mod flyway;
mod golang_migrate;
mod goose;
mod leftovers;
mod plain;
mod popx;
mod prisma;
mod sourcegraph;
mod sqitch;
mod sql_migrate;
mod sqlx;
pub mod version;

use crate::dialect::Dialect;
use crate::source::{self, Snapshot};
use anyhow::{anyhow, bail, Result};
use serde::Serialize;
use std::cmp::Ordering;
use std::ops::Range;
use std::path::Path;

pub use custom::CustomPattern;
pub use version::Version;

/// Declares `LayoutKind` and the list of its variants, so a test can check that each has a
/// row in `LAYOUTS` without a second list to keep up to date.
macro_rules! layout_kinds {
    ($($(#[$doc:meta])* $variant:ident,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum LayoutKind {
            $($(#[$doc])* $variant,)*
        }

        /// Every variant, in declaration order.
        #[cfg(test)]
        const EVERY_KIND: &[LayoutKind] = &[$(LayoutKind::$variant,)*];
    };
}

layout_kinds! {
    GolangMigrate,
    Flyway,
    Diesel,
    Sqlx,
    Prisma,
    Goose,
    Dbmate,
    Sqitch,
    Plain,
    SqlMigrate,
    Popx,
    Sourcegraph,
    Atlas,
    /// Described by a pattern in `rollsafe.toml`.
    Custom,
}

/// What a tool does with a pending migration older than the newest one it applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OlderPending {
    /// The tool skips it or refuses to run (golang-migrate only moves forward; Flyway
    /// without `outOfOrder`, goose without `--allow-missing` and Atlas refuse).
    Rejected,
    /// The tool applies every pending migration whatever its order (Diesel, sqlx, dbmate,
    /// sql-migrate): the schema sees an order no test has, but nothing is skipped.
    Applied,
}

/// What a tool records an applied migration by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationKey {
    /// The version (`007_a` and `7_b` are the same migration to the tool).
    Version,
    /// The full file name (sql-migrate): two files with the same numeric prefix are two
    /// migrations, ordered by the rest of the name. The layout builds `Migration::version`
    /// from the whole name, so equal versions mean equal keys.
    FileName,
}

/// How a tool treats its history, for the history rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistorySemantics {
    pub older_pending: OlderPending,
    pub key: MigrationKey,
}

const REJECTS_OLDER: HistorySemantics = HistorySemantics {
    older_pending: OlderPending::Rejected,
    key: MigrationKey::Version,
};

const APPLIES_OLDER: HistorySemantics = HistorySemantics {
    older_pending: OlderPending::Applied,
    key: MigrationKey::Version,
};

/// How one file votes during detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vote {
    No,
    Yes,
    /// The file settles the layout on its own (`sqitch.plan`, `atlas.sum`).
    Decides,
}

/// Everything rollsafe knows about one migration tool.
pub struct LayoutSpec {
    pub kind: LayoutKind,
    /// The name used on the command line, in config and in reports.
    pub name: &'static str,
    /// What the layout's migrations look like, for messages and `--help`.
    pub pattern: &'static str,
    pub history: HistorySemantics,
    /// Line prefixes (lowercase, no space after `--`) that mark a file as this tool's. A
    /// migration file carrying another row's marker is an error.
    pub markers: &'static [&'static str],
    /// Reads the migrations.
    read: fn(&Snapshot, &LayoutOptions) -> Result<Found>,
    /// How a file votes for this layout during detection.
    vote: fn(&detect::Candidate<'_>) -> Vote,
    /// Layouts whose majority this one takes over when any file votes for it.
    overrides: &'static [LayoutKind],
    /// Files the tool uses that are not migration SQL (sqitch's `verify/`), never "ignored".
    auxiliary: fn(&str) -> bool,
}

/// What a layout's reader found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub migrations: Vec<Migration>,
    /// A dialect the layout itself declares or chose (Prisma's lock file, sqitch's engine,
    /// popx's dialect files).
    pub dialect: Option<Dialect>,
    /// The tool's files that are not migrations here and not ignored either (popx's files
    /// for another dialect).
    pub set_aside: Vec<String>,
}

impl Found {
    fn of(migrations: Vec<Migration>) -> Result<Found> {
        Ok(Found {
            migrations,
            ..Found::default()
        })
    }
}

fn no_auxiliary(_: &str) -> bool {
    false
}

/// The registry, in detection order: the most specific layouts first, since a file that
/// several layouts could read belongs to the one with the most telling sign.
pub static LAYOUTS: [LayoutSpec; 14] = [
    LayoutSpec {
        kind: LayoutKind::Sqitch,
        name: "sqitch",
        pattern: "`sqitch.plan` with `deploy/` and `revert/`",
        history: REJECTS_OLDER,
        markers: &[],
        read: sqitch::read,
        vote: sqitch::vote,
        overrides: &[],
        auxiliary: sqitch::is_auxiliary,
    },
    LayoutSpec {
        kind: LayoutKind::Atlas,
        name: "atlas",
        pattern: "`atlas.sum` beside `<version>_name.sql`",
        history: REJECTS_OLDER,
        markers: &["--atlas:"],
        read: atlas::read,
        vote: atlas::vote,
        overrides: &[],
        auxiliary: atlas::is_auxiliary,
    },
    LayoutSpec {
        kind: LayoutKind::Prisma,
        name: "prisma",
        pattern: "`<timestamp>_name/migration.sql`",
        history: APPLIES_OLDER,
        markers: &[],
        read: prisma::read,
        vote: prisma::vote,
        overrides: &[],
        auxiliary: no_auxiliary,
    },
    LayoutSpec {
        kind: LayoutKind::Sourcegraph,
        name: "sourcegraph",
        pattern: "`<version>_name/up.sql`, `down.sql` and `metadata.yaml`",
        // `parents` make the order a graph: a merged branch is not out of order.
        history: APPLIES_OLDER,
        markers: &[],
        read: sourcegraph::read,
        vote: sourcegraph::vote,
        overrides: &[LayoutKind::Diesel],
        auxiliary: no_auxiliary,
    },
    LayoutSpec {
        kind: LayoutKind::Diesel,
        name: "diesel",
        pattern: "`<version>_name/up.sql` and `down.sql`",
        history: APPLIES_OLDER,
        markers: &[],
        read: diesel::read,
        vote: diesel::vote,
        overrides: &[],
        auxiliary: no_auxiliary,
    },
    LayoutSpec {
        kind: LayoutKind::Goose,
        name: "goose",
        pattern: "`<version>_name.sql` with `-- +goose Up`",
        // goose refuses missing (older) migrations unless run with `--allow-missing`.
        history: REJECTS_OLDER,
        markers: &["--+goose"],
        read: goose::read,
        vote: goose::vote,
        overrides: &[],
        auxiliary: no_auxiliary,
    },
    LayoutSpec {
        kind: LayoutKind::SqlMigrate,
        name: "sql-migrate",
        pattern: "`<version>-name.sql` with `-- +migrate Up`",
        history: HistorySemantics {
            older_pending: OlderPending::Applied,
            key: MigrationKey::FileName,
        },
        markers: &["--+migrate"],
        read: sql_migrate::read,
        vote: sql_migrate::vote,
        overrides: &[],
        auxiliary: no_auxiliary,
    },
    LayoutSpec {
        kind: LayoutKind::Dbmate,
        name: "dbmate",
        pattern: "`<version>_name.sql` with `-- migrate:up`",
        history: APPLIES_OLDER,
        markers: &["--migrate:up", "--migrate:down"],
        read: dbmate::read,
        vote: dbmate::vote,
        overrides: &[],
        auxiliary: no_auxiliary,
    },
    LayoutSpec {
        kind: LayoutKind::Flyway,
        name: "flyway",
        pattern: "`V1__name.sql`, `U1__name.sql`, `R__name.sql`",
        // Without `outOfOrder=true`, Flyway's validation fails on an older pending version.
        history: REJECTS_OLDER,
        markers: &[],
        read: flyway::read,
        vote: flyway::vote,
        overrides: &[],
        auxiliary: no_auxiliary,
    },
    LayoutSpec {
        kind: LayoutKind::Popx,
        name: "popx",
        pattern: "`<version>_name[.<dialect>].up.sql` / `.down.sql`",
        history: APPLIES_OLDER,
        // Ory's sets moved from sql-migrate to popx; a leftover `-- +migrate Up` heads some
        // files, harmless since popx runs the whole file. A `Down` marker is still an error.
        markers: &["--+migrate up"],
        read: popx::read,
        vote: popx::vote,
        overrides: &[LayoutKind::GolangMigrate],
        auxiliary: no_auxiliary,
    },
    LayoutSpec {
        kind: LayoutKind::Sqlx,
        name: "sqlx",
        pattern: "`<timestamp>_name.sql` or `<timestamp>_name.up.sql`",
        history: APPLIES_OLDER,
        markers: &[],
        read: sqlx::read,
        vote: sqlx::vote,
        // `-- no-transaction` exists only in sqlx, which shares golang-migrate's names.
        overrides: &[LayoutKind::GolangMigrate],
        auxiliary: no_auxiliary,
    },
    LayoutSpec {
        kind: LayoutKind::GolangMigrate,
        name: "golang-migrate",
        pattern: "`1_name.up.sql` / `1_name.down.sql`",
        // golang-migrate only moves forward: an older pending migration is never run.
        history: REJECTS_OLDER,
        markers: &[],
        read: golang_migrate::read,
        vote: golang_migrate::vote,
        overrides: &[],
        auxiliary: no_auxiliary,
    },
    LayoutSpec {
        kind: LayoutKind::Plain,
        name: "plain",
        pattern: "`001_name.sql`",
        // Unknown runner: assume the strict behaviour.
        history: REJECTS_OLDER,
        markers: &[],
        read: plain::read,
        vote: plain::vote,
        overrides: &[],
        auxiliary: no_auxiliary,
    },
    LayoutSpec {
        kind: LayoutKind::Custom,
        name: "custom",
        pattern: "`[custom_layout] pattern` in rollsafe.toml",
        // Unknown runner: assume the strict behaviour.
        history: REJECTS_OLDER,
        markers: &[],
        read: custom::read,
        vote: custom::vote,
        overrides: &[],
        auxiliary: no_auxiliary,
    },
];

impl LayoutKind {
    /// Every layout, in detection order.
    pub const ALL: [LayoutKind; LAYOUTS.len()] = {
        let mut all = [LayoutKind::Plain; LAYOUTS.len()];
        let mut index = 0;
        while index < LAYOUTS.len() {
            all[index] = LAYOUTS[index].kind;
            index += 1;
        }
        all
    };

    /// The layout's row in `LAYOUTS`.
    pub fn spec(self) -> &'static LayoutSpec {
        LAYOUTS
            .iter()
            .find(|spec| spec.kind == self)
            .expect("every layout has a row in LAYOUTS (tested)")
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn parse_name(name: &str) -> Option<LayoutKind> {
        LAYOUTS
            .iter()
            .find(|spec| spec.name == name)
            .map(|spec| spec.kind)
    }

    /// What the layout's migrations look like, for messages.
    pub fn pattern(self) -> &'static str {
        self.spec().pattern
    }

    pub fn history(self) -> HistorySemantics {
        self.spec().history
    }

    /// Position in detection order (ties go to the more specific layout).
    fn rank(self) -> usize {
        LAYOUTS
            .iter()
            .position(|spec| spec.kind == self)
            .unwrap_or(LAYOUTS.len())
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
    /// A migration written in code (goose's `.go`, Flyway's `.java`): it keeps its place in
    /// the order and its edits are history, but it has no SQL to analyse.
    Code,
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

/// A file (or directory) in the migrations directory that is not read as a migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ignored {
    pub path: String,
    pub reason: String,
}

/// What discovery found in a snapshot.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub layout: LayoutKind,
    /// A dialect the layout itself declares (Prisma's `migration_lock.toml`, sqitch's engine)
    /// or whose files it read (popx, a custom pattern with `{dialect}`).
    pub dialect: Option<Dialect>,
    /// In apply order: versioned by version (ties by path), then repeatables by name.
    pub migrations: Vec<Migration>,
    /// SQL files in the migrations directory that are not read as migrations, with the
    /// reason.
    pub ignored: Vec<Ignored>,
}

/// Which layout to use: detected, or named by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayoutChoice {
    #[default]
    Auto,
    Fixed(LayoutKind),
}

/// What config tells the layouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutOptions {
    /// Plain numbered files run one transaction per file unless config says otherwise.
    pub plain_transaction: TransactionMode,
    /// The dialect the user named (command line or config): picks popx's dialect files.
    pub dialect: Option<Dialect>,
    /// Read another dialect's files as the dialect's (`cockroach` read as Postgres), where a
    /// layout keeps one file per dialect.
    pub dialect_files: Option<String>,
    /// The pattern of the `custom` layout.
    pub custom: Option<CustomPattern>,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        LayoutOptions {
            plain_transaction: TransactionMode::Wrapped,
            dialect: None,
            dialect_files: None,
            custom: None,
        }
    }
}

/// Finds and orders the migrations in `snapshot` (paths relative to the migrations
/// directory). Errors name the offending file: no recognisable layout, several migration
/// sets, a malformed plan or metadata file, another tool's markers.
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
        LayoutChoice::Auto => detect::detect(snapshot)?,
    };
    let found = (layout.spec().read)(snapshot, options)?;
    let mut migrations = found.migrations;
    if migrations.is_empty() {
        return Err(detect::no_migrations_error(snapshot, layout));
    }
    let accounted: Vec<&str> = found.set_aside.iter().map(String::as_str).collect();
    let code = leftovers::code_migrations(snapshot, layout, &migrations, &accounted);
    migrations.extend(code);
    migrations.sort_by(apply_order);
    leftovers::reject_foreign_markers(snapshot, layout, &migrations)?;
    // In path order, as the snapshot lists them.
    let ignored = leftovers::ignored(snapshot, layout, &migrations, &accounted);
    Ok(Discovered {
        layout,
        dialect: found.dialect,
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

/// The dialect a migrations directory is named after (`postgres/`, `postgresql/`, `mysql/`,
/// `sqlite/`, `sqlite3/`), or its parent is (`sqlite/migrations/`), for projects that keep
/// one directory per dialect.
pub fn dialect_of_dir(dir: &Path) -> Option<Dialect> {
    let canonical = dir.canonicalize().ok()?;
    let named = |path: &Path| Dialect::parse_name(path.file_name()?.to_str()?);
    named(&canonical).or_else(|| named(canonical.parent()?))
}

/// Whether a file of this name lives in a directory of its own per migration (Diesel,
/// Prisma, Sourcegraph-style): the migrations directory is then one level above it.
pub fn is_per_migration_file(name: &str) -> bool {
    [
        diesel::UP,
        diesel::DOWN,
        diesel::METADATA,
        prisma::MIGRATION_FILE,
        sourcegraph::METADATA,
    ]
    .contains(&name)
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

#[cfg(test)]
mod tests;
