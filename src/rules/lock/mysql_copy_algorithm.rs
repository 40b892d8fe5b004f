//! `mysql-copy-algorithm`: an `ALTER TABLE` that MySQL runs with `ALGORITHM=COPY` builds a
//! copy of the table and blocks writes to it for the whole copy. That happens when asked
//! for, and silently for some operations (changing a column's type, adding a stored
//! generated column, a foreign key while `foreign_key_checks` is on, dropping the primary
//! key) unless `ALGORITHM=INPLACE` or `INSTANT` makes MySQL refuse instead.

use super::{column_type_before, holds_rows};
use crate::ir::types::canonical_type;
use crate::ir::{Change, ConstraintKind, Generated, QualifiedName};
use crate::project::ParsedMigration;
use crate::rules::{Context, Finding, Rule, StatementRef};

pub struct MysqlCopyAlgorithm;

const ID: &str = "mysql-copy-algorithm";

impl Rule for MysqlCopyAlgorithm {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        if !ctx.dialect.has_online_ddl_algorithms() {
            return;
        }
        for at in ctx.statements() {
            let changes = &at.statement.changes;
            let Some(table) = changes.iter().find_map(Change::table) else {
                continue;
            };
            if !holds_rows(ctx, &at, table) {
                continue;
            }
            let reason = match requested_algorithm(changes).as_deref() {
                Some("INPLACE" | "INSTANT") => continue,
                Some("COPY") => "asks for ALGORITHM=COPY".to_string(),
                _ => match forced_copy(ctx, &at) {
                    Some(reason) => reason,
                    None => continue,
                },
            };
            let message = format!(
                "{reason}, so MySQL rebuilds {table} as a copy and blocks every write to it \
                 (N-1's included) until the copy ends"
            );
            let mut finding = at.finding(ID, message);
            finding.object = Some(table.to_string());
            findings.push(finding);
        }
    }
}

/// The `ALGORITHM=` clause of the statement, upper-cased.
fn requested_algorithm(changes: &[Change]) -> Option<String> {
    changes.iter().find_map(|change| match change {
        Change::OnlineDdl { options, .. } => {
            options.algorithm.as_deref().map(str::to_ascii_uppercase)
        }
        _ => None,
    })
}

/// Why MySQL falls back to copying the table for this statement, if it does.
fn forced_copy(ctx: &Context<'_>, at: &StatementRef<'_>) -> Option<String> {
    at.statement.changes.iter().find_map(|change| match change {
        Change::AlterColumnType {
            table,
            column,
            data_type,
            ..
        } => {
            let old_type = column_type_before(ctx, change, table, column)?;
            (!same_storage(&old_type, data_type))
                .then(|| format!("changes {table}.{column} from {old_type} to {data_type}"))
        }
        Change::AddColumn { table, column, .. } if column.generated == Generated::Stored => Some(
            format!("adds stored generated column {table}.{}", column.name),
        ),
        Change::AddConstraint { constraint, .. }
            if matches!(constraint.kind, ConstraintKind::ForeignKey { .. })
                && !foreign_key_checks_off(at) =>
        {
            Some("adds a foreign key while foreign_key_checks is on".to_string())
        }
        Change::DropConstraint { table, name, .. }
            if is_primary_key(ctx, table, name) && !adds_primary_key(&at.statement.changes) =>
        {
            Some("drops the primary key without adding another".to_string())
        }
        _ => None,
    })
}

/// True when MySQL keeps the column's storage: the same type, or a `VARCHAR` that grows
/// without crossing the 255-byte boundary of its length prefix (63 characters in utf8mb4).
fn same_storage(old: &str, new: &str) -> bool {
    let (old, new) = (canonical_type(old), canonical_type(new));
    if old == new {
        return true;
    }
    match (varchar_length(&old), varchar_length(&new)) {
        (Some(n), Some(m)) => m >= n && (m <= 63 || n > 63),
        _ => false,
    }
}

fn varchar_length(canonical: &str) -> Option<u32> {
    canonical
        .strip_prefix("character varying(")?
        .strip_suffix(')')?
        .parse()
        .ok()
}

/// True for MySQL's `DROP PRIMARY KEY` (the constraint is named `PRIMARY`) or a
/// constraint N-1's schema knows as the primary key.
fn is_primary_key(ctx: &Context<'_>, table: &QualifiedName, name: &str) -> bool {
    name.eq_ignore_ascii_case("PRIMARY")
        || ctx
            .before
            .table(table)
            .and_then(|found| found.constraint(name))
            .is_some_and(|constraint| constraint.kind == ConstraintKind::PrimaryKey)
}

fn adds_primary_key(changes: &[Change]) -> bool {
    changes.iter().any(|change| {
        matches!(change, Change::AddConstraint { constraint, .. }
            if constraint.kind == ConstraintKind::PrimaryKey)
    })
}

/// True when `SET foreign_key_checks = 0` ran earlier in the same migration (MySQL then
/// adds a foreign key in place).
fn foreign_key_checks_off(at: &StatementRef<'_>) -> bool {
    let migration: &ParsedMigration = at.migration;
    let mut off = false;
    for change in migration.up.statements[..at.index]
        .iter()
        .flat_map(|statement| &statement.changes)
    {
        if let Change::Session { setting, value, .. } = change {
            let setting = setting.trim_start_matches("@@").to_ascii_lowercase();
            if setting.trim_start_matches("session.") == "foreign_key_checks" {
                off = matches!(
                    value.trim().to_ascii_lowercase().as_str(),
                    "0" | "off" | "false"
                );
            }
        }
    }
    off
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;
    use crate::dialect::Dialect;

    fn mysql(statements: Vec<Vec<Change>>) -> Vec<Finding> {
        Deploy::on(Dialect::Mysql)
            .wrapped(statements)
            .run(&MysqlCopyAlgorithm)
    }

    #[test]
    fn an_explicit_copy_fires() {
        let findings = mysql(vec![vec![
            add_column(orders(), column("note", "text")),
            online_ddl(orders(), "COPY"),
        ]]);
        assert_eq!(rules(&findings), [ID]);
        assert!(findings[0].message.contains("ALGORITHM=COPY"));
        assert_eq!(findings[0].object.as_deref(), Some("public.orders"));
    }

    #[test]
    fn a_type_change_without_inplace_fires() {
        let findings = mysql(vec![vec![alter_type(orders(), "amount", "bigint", None)]]);
        assert_eq!(rules(&findings), [ID]);
        assert!(findings[0].message.contains("from integer to bigint"));
    }

    #[test]
    fn inplace_or_instant_makes_mysql_refuse_instead_of_copying() {
        for algorithm in ["INPLACE", "instant"] {
            let findings = mysql(vec![vec![
                alter_type(orders(), "amount", "bigint", None),
                online_ddl(orders(), algorithm),
            ]]);
            assert!(findings.is_empty(), "{algorithm}");
        }
    }

    #[test]
    fn online_operations_are_quiet() {
        let findings = mysql(vec![
            vec![add_column(orders(), column("note", "text"))],
            vec![alter_type(users(), "name", "character varying(200)", None)],
            vec![session("foreign_key_checks", "0", false)],
            vec![add_constraint(orders(), "fk", foreign_key(), false)],
        ]);
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn silent_copies_fire() {
        let mut stored = column("total", "integer");
        stored.generated = Generated::Stored;
        let findings = mysql(vec![
            vec![add_column(orders(), stored)],
            vec![add_constraint(orders(), "fk", foreign_key(), false)],
            vec![alter_type(users(), "name", "character varying(50)", None)],
        ]);
        assert_eq!(rules(&findings), [ID, ID, ID]);
    }

    #[test]
    fn postgres_and_new_tables_are_quiet() {
        let postgres = Deploy::postgres()
            .wrapped(vec![vec![alter_type(orders(), "amount", "bigint", None)]])
            .run(&MysqlCopyAlgorithm);
        assert!(postgres.is_empty());
        let new_table = mysql(vec![
            vec![create_table(invoices())],
            vec![
                add_column(invoices(), column("n", "integer")),
                online_ddl(invoices(), "COPY"),
            ],
        ]);
        assert!(new_table.is_empty());
    }
}
