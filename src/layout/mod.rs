//! Layouts: turn a snapshot of files into an ordered list of migrations, one module per tool.
//!
//! Detection is automatic (`LayoutKind::detect`) and can be overridden in config or on the
//! command line. Each layout knows whether its tool wraps a migration in a transaction and
//! honours the tool's opt-out markers.

pub mod version;

use crate::dialect::Dialect;
use crate::source::Snapshot;
use anyhow::Result;
use serde::Serialize;
use std::ops::Range;

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
/// directory). Errors name the offending file: no recognisable layout, an ambiguous one,
/// a malformed plan or metadata file.
pub fn discover(
    snapshot: &Snapshot,
    choice: LayoutChoice,
    options: &LayoutOptions,
) -> Result<Discovered> {
    let _ = (snapshot, choice, options);
    anyhow::bail!("layout discovery is not implemented yet")
}
