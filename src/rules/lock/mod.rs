//! Lock rules: online safety. A migration that holds a strong lock on a busy table for the
//! length of a scan, a rewrite or an index build stalls every query of the running
//! application (N-1 and N alike) behind it. These rules only judge tables that hold data
//! before the deploy: a table created in the same deploy is empty and nobody else uses it yet.

mod add_column_rewrites_table;
mod blocking_maintenance;
mod check_constraint_validates;
mod column_type_rewrite;
mod concurrently_in_transaction;
mod create_index_not_concurrently;
mod drop_index_not_concurrently;
mod foreign_key_validates;
mod missing_lock_timeout;
mod mysql_copy_algorithm;
mod set_not_null_scan;
mod unique_constraint_builds_index;

pub use add_column_rewrites_table::AddColumnRewritesTable;
pub use blocking_maintenance::BlockingMaintenance;
pub use check_constraint_validates::CheckConstraintValidates;
pub use column_type_rewrite::ColumnTypeRewrite;
pub use concurrently_in_transaction::ConcurrentlyInTransaction;
pub use create_index_not_concurrently::CreateIndexNotConcurrently;
pub use drop_index_not_concurrently::DropIndexNotConcurrently;
pub use foreign_key_validates::ForeignKeyValidates;
pub use missing_lock_timeout::MissingLockTimeout;
pub use mysql_copy_algorithm::MysqlCopyAlgorithm;
pub use set_not_null_scan::SetNotNullScan;
pub use unique_constraint_builds_index::UniqueConstraintBuildsIndex;

use super::{Context, StatementRef};
use crate::ir::{Change, ConstraintDef, ConstraintKind, QualifiedName};

/// True for the dialects whose locking the Postgres lock rules describe.
fn is_postgres(ctx: &Context<'_>) -> bool {
    ctx.dialect.has_postgres_locks()
}

/// True when locking `table` matters: it existed before the deploy (maybe under the name
/// the deploy renames it from), so it holds data and the running application queries it.
fn is_existing_table(ctx: &Context<'_>, table: &QualifiedName) -> bool {
    ctx.known_to_n1(table)
        || ctx
            .renamed_from(table)
            .is_some_and(|from| ctx.known_to_n1(from))
}

/// True when `table`, as the statement at `at` finds it, holds N-1's rows: it existed before
/// the deploy, and nothing earlier in the same transaction emptied it (`TRUNCATE`) or
/// replaced it (created anew after a drop or a rename away). Building, scanning or rewriting
/// a new or empty table costs nothing, and its lock is held already.
fn holds_rows(ctx: &Context<'_>, at: &StatementRef<'_>, table: &QualifiedName) -> bool {
    is_existing_table(ctx, table)
        && !ctx
            .in_same_transaction(at, false)
            .any(|earlier| match earlier.change {
                Change::Truncate { table: t } | Change::CreateTable { table: t, .. } => t == table,
                _ => false,
            })
}

/// The table owning index `index` in N-1's schema, when that table existed before the
/// deploy. An index the base schema does not know (created in this deploy, or outside the
/// migrations) gives `None`.
fn existing_index_table<'a>(ctx: &Context<'a>, index: &QualifiedName) -> Option<&'a QualifiedName> {
    let (table, _) = ctx.before.index_owner(index)?;
    is_existing_table(ctx, &table.name).then_some(&table.name)
}

/// The type of `table.column` just before `at` runs: N-1's type, as changed by the deploy's
/// earlier changes (a column added earlier in the deploy has the type it was added with).
fn column_type_before(
    ctx: &Context<'_>,
    at: &Change,
    table: &QualifiedName,
    column: &str,
) -> Option<String> {
    let mut data_type = ctx
        .before
        .column(table, column)
        .map(|c| c.data_type.clone());
    for change_ref in ctx.changes() {
        if std::ptr::eq(change_ref.change, at) {
            break;
        }
        match change_ref.change {
            Change::AddColumn {
                table: changed,
                column: added,
                ..
            } if changed == table && added.name == column => {
                data_type = Some(added.data_type.clone());
            }
            Change::AlterColumnType {
                table: changed,
                column: altered,
                data_type: new_type,
                ..
            } if changed == table && altered == column => {
                data_type = Some(new_type.clone());
            }
            _ => {}
        }
    }
    data_type
}

/// A constraint add that makes Postgres check every existing row while it holds the add's
/// lock: added without `NOT VALID`, or validated later in the same transaction.
struct ValidatingAdd<'a> {
    /// The add, or the VALIDATE when `in_add_transaction`.
    at: StatementRef<'a>,
    table: &'a QualifiedName,
    constraint: &'a ConstraintDef,
    name: String,
    /// A `NOT VALID` add whose `VALIDATE CONSTRAINT` runs in the same transaction.
    in_add_transaction: bool,
}

/// The constraint adds of the kind `is_kind` accepts, on existing tables, that validate
/// existing rows under the add's lock (Postgres only).
fn validating_adds<'a>(
    ctx: &Context<'a>,
    is_kind: fn(&ConstraintKind) -> bool,
) -> Vec<ValidatingAdd<'a>> {
    let mut found = Vec::new();
    if !is_postgres(ctx) {
        return found;
    }
    let mut not_valid_adds: Vec<ValidatingAdd<'a>> = Vec::new();
    for change_ref in ctx.changes() {
        match change_ref.change {
            Change::AddConstraint { table, constraint }
                if is_kind(&constraint.kind) && holds_rows(ctx, &change_ref.at, table) =>
            {
                let add = ValidatingAdd {
                    at: change_ref.at,
                    table,
                    constraint,
                    name: ctx.before.constraint_name(table, constraint),
                    in_add_transaction: false,
                };
                if constraint.not_valid {
                    not_valid_adds.push(add);
                } else {
                    found.push(add);
                }
            }
            Change::ValidateConstraint { table, name } => {
                let add = not_valid_adds.iter().find(|add| {
                    add.table == table
                        && add.name == *name
                        && add.at.same_transaction(&change_ref.at)
                });
                if let Some(add) = add {
                    found.push(ValidatingAdd {
                        at: change_ref.at,
                        table,
                        constraint: add.constraint,
                        name: name.clone(),
                        in_add_transaction: true,
                    });
                }
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
// Shared by every lock rule's tests; each uses only some of the builders.
#[allow(dead_code)]
pub(super) mod fixture {
    //! Builds a `Context` from IR values, so the lock rules can be tested without the SQL
    //! parser and the schema replay.

    use crate::config::Settings;
    use crate::dialect::Dialect;
    use crate::ir::{
        Change, ColumnDef, ConstraintDef, ConstraintKind, DefaultExpr, Generated, IndexDef,
        MaintenanceKind, OnlineDdl, QualifiedName, TransactionControl,
    };
    use crate::layout::{Migration, MigrationKind, SqlPart, TransactionMode, Version};
    use crate::project::{MigrationStatus, ParsedMigration};
    use crate::rules::{Context, Finding, Rule};
    use crate::schema::{Catalog, Column, Constraint, Index, Table};
    use crate::sql::{SqlFile, Statement, Understanding};

    pub fn users() -> QualifiedName {
        QualifiedName::new("public", "users")
    }

    pub fn orders() -> QualifiedName {
        QualifiedName::new("public", "orders")
    }

    /// A table that no migration before the deploy creates.
    pub fn invoices() -> QualifiedName {
        QualifiedName::new("public", "invoices")
    }

    /// N-1's schema plus the deploy's migrations.
    pub struct Deploy {
        dialect: Dialect,
        settings: Settings,
        before: Catalog,
        /// Tables that exist only after the deploy.
        created: Vec<QualifiedName>,
        migrations: Vec<ParsedMigration>,
    }

    impl Deploy {
        /// `users (id bigint, email text, name varchar(100))` and
        /// `orders (id bigint, user_id bigint, amount integer)`, on Postgres.
        pub fn postgres() -> Deploy {
            Deploy::on(Dialect::Postgres)
        }

        pub fn on(dialect: Dialect) -> Deploy {
            let mut before = Catalog::new(dialect);
            for (name, columns) in [
                (
                    users(),
                    [
                        ("id", "bigint"),
                        ("email", "text"),
                        ("name", "character varying(100)"),
                    ],
                ),
                (
                    orders(),
                    [
                        ("id", "bigint"),
                        ("user_id", "bigint"),
                        ("amount", "integer"),
                    ],
                ),
            ] {
                let table = Table {
                    name: name.clone(),
                    columns: columns
                        .iter()
                        .map(|(column, data_type)| Column {
                            name: column.to_string(),
                            data_type: data_type.to_string(),
                            nullable: *column != "id",
                            default: None,
                            generated: Generated::No,
                            created_by: "001".into(),
                            backfilled_by: Vec::new(),
                        })
                        .collect(),
                    constraints: Vec::new(),
                    indexes: Vec::new(),
                    created_by: "001".into(),
                };
                before.tables.insert(name, table);
            }
            Deploy {
                dialect,
                settings: Settings::default(),
                before,
                created: Vec::new(),
                migrations: Vec::new(),
            }
        }

        pub fn pg_version(mut self, version: u32) -> Deploy {
            self.settings.pg_version = version;
            self
        }

        pub fn lock_timeout_set_by_runner(mut self) -> Deploy {
            self.settings.lock_timeout_set_by_runner = true;
            self
        }

        /// Gives N-1's `table` a CHECK constraint.
        pub fn with_check(
            mut self,
            table: &QualifiedName,
            name: &str,
            expr: &str,
            validated: bool,
        ) -> Deploy {
            self.table_mut(table).constraints.push(Constraint {
                name: name.into(),
                kind: ConstraintKind::Check { expr: expr.into() },
                columns: Vec::new(),
                validated,
                created_by: "001".into(),
            });
            self
        }

        /// Gives N-1's `table` an index.
        pub fn with_index(mut self, table: &QualifiedName, name: &str, column: &str) -> Deploy {
            self.table_mut(table).indexes.push(Index {
                name: name.into(),
                columns: vec![column.into()],
                unique: false,
                partial: false,
                created_by: "001".into(),
            });
            self
        }

        /// Sets a column of N-1's `table` NOT NULL.
        pub fn with_not_null(mut self, table: &QualifiedName, column: &str) -> Deploy {
            let table = self.table_mut(table);
            if let Some(column) = table.columns.iter_mut().find(|c| c.name == column) {
                column.nullable = false;
            }
            self
        }

        /// Makes `table` exist in the schema after the deploy (the deploy creates it).
        pub fn with_after_table(mut self, table: &QualifiedName) -> Deploy {
            self.created.push(table.clone());
            self
        }

        fn table_mut(&mut self, table: &QualifiedName) -> &mut Table {
            self.before.tables.get_mut(table).expect("fixture table")
        }

        /// Adds a deploy migration the tool wraps in a transaction, one statement per entry.
        pub fn wrapped(self, statements: Vec<Vec<Change>>) -> Deploy {
            self.migration(TransactionMode::Wrapped, statements)
        }

        /// Adds a deploy migration that runs each statement on its own.
        pub fn autocommit(self, statements: Vec<Vec<Change>>) -> Deploy {
            self.migration(TransactionMode::None, statements)
        }

        pub fn migration(mut self, mode: TransactionMode, statements: Vec<Vec<Change>>) -> Deploy {
            let id = format!("{:03}", self.migrations.len() + 2);
            let path = format!("{id}_deploy.sql");
            let statements = statements
                .into_iter()
                .enumerate()
                .map(|(index, changes)| Statement {
                    span: index * 100..index * 100 + 10,
                    understanding: Understanding::Parsed,
                    changes,
                    allows: Vec::new(),
                })
                .collect::<Vec<_>>();
            let end = statements.len() * 100;
            self.migrations.push(ParsedMigration {
                migration: Migration {
                    id: id.clone(),
                    version: Version::parse(&id),
                    name: "deploy".into(),
                    kind: MigrationKind::Versioned,
                    up: Some(SqlPart {
                        path: path.clone(),
                        range: 0..end,
                    }),
                    down: None,
                    paths: vec![path],
                    transaction: mode,
                },
                up: SqlFile {
                    statements,
                    file_allows: Vec::new(),
                },
                down: None,
                status: MigrationStatus::New,
            });
            self
        }

        /// Runs `rule` on the deploy.
        pub fn run(&self, rule: &dyn Rule) -> Vec<Finding> {
            let mut after = self.before.clone();
            for name in &self.created {
                let table = Table {
                    name: name.clone(),
                    columns: Vec::new(),
                    constraints: Vec::new(),
                    indexes: Vec::new(),
                    created_by: "002".into(),
                };
                after.tables.insert(name.clone(), table);
            }
            let ctx = Context {
                dialect: self.dialect,
                settings: &self.settings,
                deploy: &self.migrations,
                before: &self.before,
                after: &after,
                retired: &[],
                retire_declared: &[],
                history: None,
                usage: None,
                releases: &[],
                audit: false,
                cache: Default::default(),
            };
            let mut findings = Vec::new();
            rule.check(&ctx, &mut findings);
            findings
        }
    }

    pub fn create_table(table: QualifiedName) -> Change {
        Change::CreateTable {
            table,
            columns: vec![column("id", "bigint")],
            constraints: Vec::new(),
            if_not_exists: false,
            as_select: false,
        }
    }

    pub fn column(name: &str, data_type: &str) -> ColumnDef {
        ColumnDef {
            name: name.into(),
            data_type: data_type.into(),
            nullable: true,
            default: None,
            generated: Generated::No,
        }
    }

    pub fn with_default(mut column: ColumnDef, sql: &str, volatile: bool) -> ColumnDef {
        column.default = Some(DefaultExpr {
            sql: sql.into(),
            volatile,
        });
        column
    }

    pub fn add_column(table: QualifiedName, column: ColumnDef) -> Change {
        Change::AddColumn {
            table,
            column,
            if_not_exists: false,
        }
    }

    pub fn create_index(table: QualifiedName, name: &str, concurrently: bool) -> Change {
        Change::CreateIndex(IndexDef {
            name: Some(name.into()),
            table,
            columns: vec!["email".into()],
            unique: false,
            concurrently,
            if_not_exists: false,
            partial: false,
        })
    }

    pub fn add_constraint(
        table: QualifiedName,
        name: &str,
        kind: ConstraintKind,
        not_valid: bool,
    ) -> Change {
        Change::AddConstraint {
            table,
            constraint: ConstraintDef {
                name: Some(name.into()),
                kind,
                columns: vec!["user_id".into()],
                not_valid,
                using_index: None,
            },
        }
    }

    pub fn foreign_key() -> ConstraintKind {
        ConstraintKind::ForeignKey {
            references: users(),
            ref_columns: vec!["id".into()],
        }
    }

    pub fn check(expr: &str) -> ConstraintKind {
        ConstraintKind::Check { expr: expr.into() }
    }

    pub fn validate(table: QualifiedName, name: &str) -> Change {
        Change::ValidateConstraint {
            table,
            name: name.into(),
        }
    }

    pub fn set_lock_timeout(local: bool) -> Change {
        session("lock_timeout", "'5s'", local)
    }

    pub fn session(setting: &str, value: &str, local: bool) -> Change {
        Change::Session {
            setting: setting.into(),
            value: value.into(),
            local,
        }
    }

    pub fn drop_index(name: &str, concurrently: bool) -> Change {
        Change::DropIndex {
            names: vec![QualifiedName::new("public", name)],
            concurrently,
            if_exists: false,
        }
    }

    pub fn maintenance(kind: MaintenanceKind, table: Option<QualifiedName>) -> Change {
        Change::Maintenance { kind, table }
    }

    pub fn alter_type(
        table: QualifiedName,
        column: &str,
        data_type: &str,
        using: Option<&str>,
    ) -> Change {
        Change::AlterColumnType {
            table,
            column: column.into(),
            data_type: data_type.into(),
            using: using.map(str::to_string),
        }
    }

    pub fn set_not_null(table: QualifiedName, column: &str) -> Change {
        Change::SetNotNull {
            table,
            column: column.into(),
        }
    }

    pub fn online_ddl(table: QualifiedName, algorithm: &str) -> Change {
        Change::OnlineDdl {
            table,
            options: OnlineDdl {
                algorithm: Some(algorithm.into()),
                lock: None,
            },
        }
    }

    pub fn begin() -> Change {
        Change::Transaction(TransactionControl::Begin)
    }

    pub fn commit() -> Change {
        Change::Transaction(TransactionControl::Commit)
    }

    /// The ids of the rules that fired, one per finding.
    pub fn rules(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|finding| finding.rule).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::*;
    use super::*;

    #[test]
    fn a_table_renamed_in_the_deploy_still_holds_data() {
        let findings = Deploy::postgres()
            .autocommit(vec![
                vec![Change::RenameTable {
                    from: users(),
                    to: QualifiedName::new("public", "accounts"),
                }],
                vec![create_index(
                    QualifiedName::new("public", "accounts"),
                    "accounts_email_idx",
                    false,
                )],
            ])
            .run(&CreateIndexNotConcurrently);
        assert_eq!(rules(&findings), ["create-index-not-concurrently"]);
    }
}
