//! The change IR: a small, closed, dialect-free description of what a statement does to the
//! schema. Rules and the schema replay only ever see these types, never sqlparser's AST;
//! `sql::lower` is the one place that translates.

pub mod naming;
pub mod rebuild;
pub mod types;

use serde::{Deserialize, Serialize};
use std::fmt;

/// A schema-qualified object name, already case-folded the way the dialect folds it
/// (unquoted Postgres identifiers are lower-cased; quoted ones are kept as written).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QualifiedName {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.schema.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}.{}", self.schema, self.name)
        }
    }
}

/// A column default as written, with whether it is volatile (evaluated per row, so adding a
/// column with it rewrites the table: `now()` is stable, `random()` or `gen_random_uuid()`
/// or `nextval()` are volatile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultExpr {
    pub sql: String,
    pub volatile: bool,
}

/// How a column gets generated values, if at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Generated {
    #[default]
    No,
    /// `serial`/`bigserial`: a sequence plus a `nextval` default.
    Serial,
    /// `GENERATED {ALWAYS|BY DEFAULT} AS IDENTITY`, or MySQL `AUTO_INCREMENT`.
    Identity,
    /// `GENERATED ALWAYS AS (expr) STORED`.
    Stored,
    /// A virtual generated column (computed on read).
    Virtual,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnDef {
    pub name: String,
    /// The type as Postgres's `format_type` prints it (see `ir::types::canonical_type`).
    pub data_type: String,
    pub nullable: bool,
    pub default: Option<DefaultExpr>,
    pub generated: Generated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    /// The check expression as written.
    Check {
        expr: String,
    },
    ForeignKey {
        references: QualifiedName,
        ref_columns: Vec<String>,
    },
    Exclusion,
}

impl ConstraintKind {
    /// The name used in the schema JSON (`primary_key`, `unique`, ...).
    pub fn json_name(&self) -> &'static str {
        match self {
            ConstraintKind::PrimaryKey => "primary_key",
            ConstraintKind::Unique => "unique",
            ConstraintKind::Check { .. } => "check",
            ConstraintKind::ForeignKey { .. } => "foreign_key",
            ConstraintKind::Exclusion => "exclusion",
        }
    }
}

/// One output column of `CREATE TABLE ... AS SELECT`, as far as the query tells without the
/// schema: the replay resolves it against the tables it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InferredColumn {
    /// The column's name; `None` for a `*` that brings every column of `table`.
    pub name: Option<String>,
    /// The table (and column) the value comes from, when it is a plain column reference.
    pub table: Option<QualifiedName>,
    pub column: Option<String>,
    /// The type a cast gives it (`x::bigint`), canonical.
    pub data_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstraintDef {
    /// The name as written; `None` when the database generates one (the replay names it the
    /// way Postgres would: `users_pkey`, `users_email_key`, `orders_user_id_fkey`).
    pub name: Option<String>,
    pub kind: ConstraintKind,
    pub columns: Vec<String>,
    /// `NOT VALID`: existing rows are not checked until `VALIDATE CONSTRAINT`.
    pub not_valid: bool,
    /// `ADD CONSTRAINT ... UNIQUE USING INDEX idx`: reuses an index built beforehand.
    pub using_index: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDef {
    /// `None` when the database generates the name.
    pub name: Option<String>,
    pub table: QualifiedName,
    /// Column names; an expression column is kept as its SQL text.
    pub columns: Vec<String>,
    pub unique: bool,
    pub concurrently: bool,
    pub if_not_exists: bool,
    /// A partial index (`WHERE ...`).
    pub partial: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackfillKind {
    Update,
    Delete,
    /// `INSERT ... SELECT`, or `INSERT ... VALUES` (seeding).
    Insert,
}

impl Change {
    /// The one definition of a backfill: DML (UPDATE, DELETE, or INSERT ... SELECT) that
    /// changes the rows of a table that `existed` before, other than the copy step of a
    /// table rebuild (`rebuild_copy`: the table takes part in a rebuild of the same
    /// migration). Seeding a new table, or `INSERT ... VALUES` of rows of its own, is not.
    pub fn is_backfill(
        &self,
        existed: impl Fn(&QualifiedName) -> bool,
        rebuild_copy: impl Fn(&QualifiedName) -> bool,
    ) -> bool {
        let Change::Backfill {
            table,
            kind,
            filtered,
            ..
        } = self
        else {
            return false;
        };
        let inserts = *kind == BackfillKind::Insert;
        let seeding = inserts && !filtered;
        existed(table) && !seeding && !(inserts && rebuild_copy(table))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MaintenanceKind {
    Vacuum { full: bool },
    Analyze,
    Cluster,
    Reindex { concurrently: bool },
    RefreshMaterializedView { concurrently: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransactionControl {
    Begin,
    Commit,
    Rollback,
}

/// MySQL online-DDL clauses (`ALGORITHM=...`, `LOCK=...`) attached to an `ALTER TABLE`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OnlineDdl {
    pub algorithm: Option<String>,
    pub lock: Option<String>,
}

/// One schema change. An `ALTER TABLE` with several actions lowers to several changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    CreateTable {
        table: QualifiedName,
        columns: Vec<ColumnDef>,
        /// Table-level and inline constraints, inline ones already lifted here.
        constraints: Vec<ConstraintDef>,
        if_not_exists: bool,
        /// `CREATE TABLE ... AS SELECT` (columns unknown unless listed).
        as_select: bool,
    },
    /// The columns of a table created from a query (follows its `CreateTable`).
    InferColumns {
        table: QualifiedName,
        columns: Vec<InferredColumn>,
    },
    DropTable {
        tables: Vec<QualifiedName>,
        if_exists: bool,
        cascade: bool,
    },
    RenameTable {
        from: QualifiedName,
        to: QualifiedName,
    },
    AddColumn {
        table: QualifiedName,
        column: ColumnDef,
        if_not_exists: bool,
    },
    DropColumn {
        table: QualifiedName,
        column: String,
        if_exists: bool,
    },
    RenameColumn {
        table: QualifiedName,
        from: String,
        to: String,
    },
    AlterColumnType {
        table: QualifiedName,
        column: String,
        data_type: String,
        /// `USING expr`, as written.
        using: Option<String>,
    },
    SetNotNull {
        table: QualifiedName,
        column: String,
    },
    DropNotNull {
        table: QualifiedName,
        column: String,
    },
    SetDefault {
        table: QualifiedName,
        column: String,
        default: DefaultExpr,
    },
    DropDefault {
        table: QualifiedName,
        column: String,
    },
    /// `ALTER COLUMN c ADD GENERATED {ALWAYS|BY DEFAULT} AS IDENTITY`: the (NOT NULL) column
    /// gets its values from a sequence from now on.
    AddIdentity {
        table: QualifiedName,
        column: String,
    },
    AddConstraint {
        table: QualifiedName,
        constraint: ConstraintDef,
    },
    ValidateConstraint {
        table: QualifiedName,
        name: String,
    },
    DropConstraint {
        table: QualifiedName,
        name: String,
        if_exists: bool,
    },
    RenameConstraint {
        table: QualifiedName,
        from: String,
        to: String,
    },
    CreateIndex(IndexDef),
    DropIndex {
        names: Vec<QualifiedName>,
        concurrently: bool,
        if_exists: bool,
    },
    RenameIndex {
        from: QualifiedName,
        to: String,
    },
    CreateView {
        name: QualifiedName,
        materialized: bool,
        or_replace: bool,
    },
    DropView {
        names: Vec<QualifiedName>,
        materialized: bool,
        if_exists: bool,
    },
    RenameView {
        from: QualifiedName,
        to: QualifiedName,
    },
    CreateEnum {
        name: QualifiedName,
        values: Vec<String>,
    },
    /// `ALTER TYPE ... ADD VALUE`; `position` is `Some((before, anchor))` for BEFORE/AFTER.
    AddEnumValue {
        name: QualifiedName,
        value: String,
        position: Option<(bool, String)>,
    },
    RenameEnumValue {
        name: QualifiedName,
        from: String,
        to: String,
    },
    /// `ALTER TYPE t RENAME TO u` (the type keeps its schema); columns of the type follow.
    RenameType {
        from: QualifiedName,
        to: QualifiedName,
    },
    /// `DROP TYPE`.
    DropType {
        names: Vec<QualifiedName>,
        if_exists: bool,
    },
    /// DML on a table: UPDATE, DELETE, INSERT. Whether it is a backfill (the table existed
    /// before the deploy) is the rules' call, since it depends on the deploy.
    Backfill {
        table: QualifiedName,
        kind: BackfillKind,
        /// The columns an UPDATE sets (empty for DELETE and INSERT).
        columns: Vec<String>,
        /// UPDATE/DELETE with a WHERE clause (a batch), or INSERT from a SELECT.
        filtered: bool,
    },
    /// `TRUNCATE t`: every row goes at once (not row by row, so not a backfill), under an
    /// ACCESS EXCLUSIVE lock held to the end of the transaction.
    Truncate {
        table: QualifiedName,
    },
    /// `CREATE [OR REPLACE] FUNCTION name(...)`: only what the schema's defaults need to know,
    /// whether calling it is volatile (Postgres's default unless it is declared `STABLE` or
    /// `IMMUTABLE`).
    CreateFunction {
        name: QualifiedName,
        volatile: bool,
    },
    /// `SET [LOCAL] name = value`, e.g. `lock_timeout`, `statement_timeout`.
    Session {
        setting: String,
        value: String,
        local: bool,
    },
    Maintenance {
        kind: MaintenanceKind,
        /// `None` for a database-wide command.
        table: Option<QualifiedName>,
    },
    Transaction(TransactionControl),
    /// MySQL `ALTER TABLE ... ALGORITHM=..., LOCK=...` attached to the statement's other changes.
    OnlineDdl {
        table: QualifiedName,
        options: OnlineDdl,
    },
    /// A statement that does not change the schema as rollsafe models it (`COMMENT ON`,
    /// `GRANT`, `CREATE EXTENSION`, `CREATE FUNCTION`, `ANALYZE`, ...). `what` names it.
    NoOp {
        what: String,
    },
    /// A statement whose effect rollsafe cannot see (a `DO` block, a function called for its
    /// side effects). Reported as `opaque-statement` so a reviewer knows.
    Opaque {
        what: String,
    },
}

impl Change {
    /// The table this change alters, if it alters exactly one.
    pub fn table(&self) -> Option<&QualifiedName> {
        match self {
            Change::CreateTable { table, .. }
            | Change::AddColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::RenameColumn { table, .. }
            | Change::AlterColumnType { table, .. }
            | Change::SetNotNull { table, .. }
            | Change::DropNotNull { table, .. }
            | Change::SetDefault { table, .. }
            | Change::DropDefault { table, .. }
            | Change::AddIdentity { table, .. }
            | Change::AddConstraint { table, .. }
            | Change::ValidateConstraint { table, .. }
            | Change::DropConstraint { table, .. }
            | Change::RenameConstraint { table, .. }
            | Change::Backfill { table, .. }
            | Change::Truncate { table }
            | Change::OnlineDdl { table, .. } => Some(table),
            Change::RenameTable { from, .. } => Some(from),
            Change::CreateIndex(index) => Some(&index.table),
            Change::Maintenance { table, .. } => table.as_ref(),
            _ => None,
        }
    }

    /// True for changes that alter the schema (everything but DML, session settings,
    /// transaction control, maintenance and no-ops).
    pub fn is_schema_change(&self) -> bool {
        !matches!(
            self,
            Change::Backfill { .. }
                | Change::Truncate { .. }
                | Change::CreateFunction { .. }
                | Change::Session { .. }
                | Change::Transaction(_)
                | Change::Maintenance { .. }
                | Change::NoOp { .. }
                | Change::OnlineDdl { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dml(kind: BackfillKind, filtered: bool) -> Change {
        Change::Backfill {
            table: QualifiedName::new("public", "users"),
            kind,
            columns: Vec::new(),
            filtered,
        }
    }

    #[test]
    fn a_backfill_changes_rows_of_a_table_that_existed() {
        let existed = |_: &QualifiedName| true;
        let no_rebuild = |_: &QualifiedName| false;
        for (kind, filtered) in [
            (BackfillKind::Update, false),
            (BackfillKind::Update, true),
            (BackfillKind::Delete, true),
            (BackfillKind::Insert, true),
        ] {
            assert!(dml(kind, filtered).is_backfill(existed, no_rebuild));
        }
    }

    #[test]
    fn seeding_values_and_rebuild_copies_are_not_backfills() {
        let existed = |_: &QualifiedName| true;
        let new_table = |_: &QualifiedName| false;
        let no_rebuild = |_: &QualifiedName| false;
        let rebuilt = |_: &QualifiedName| true;
        let values = dml(BackfillKind::Insert, false);
        let copy = dml(BackfillKind::Insert, true);
        assert!(!values.is_backfill(existed, no_rebuild));
        assert!(!copy.is_backfill(new_table, no_rebuild));
        assert!(!copy.is_backfill(existed, rebuilt));
        // A rebuild's copy step is an INSERT: an UPDATE of the rebuilt table still counts.
        assert!(dml(BackfillKind::Update, false).is_backfill(existed, rebuilt));
    }
}
