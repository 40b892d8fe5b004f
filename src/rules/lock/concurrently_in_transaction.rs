//! `concurrently-in-transaction`: Postgres refuses `CREATE INDEX CONCURRENTLY`,
//! `DROP INDEX CONCURRENTLY` and `REINDEX CONCURRENTLY` inside a transaction block, so the
//! migration fails at deploy time. This holds for every table, new ones included.

use super::is_postgres;
use crate::ir::{Change, MaintenanceKind, QualifiedName};
use crate::layout::TransactionMode;
use crate::rules::{Context, Finding, Rule, StatementRef};

pub struct ConcurrentlyInTransaction;

const ID: &str = "concurrently-in-transaction";

impl Rule for ConcurrentlyInTransaction {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        if !is_postgres(ctx) {
            return;
        }
        for change_ref in ctx.changes() {
            if !change_ref.at.in_transaction {
                continue;
            }
            let Some((command, object)) = concurrent_command(change_ref.change) else {
                continue;
            };
            let message = format!(
                "{command} runs inside a transaction ({}): Postgres refuses it with \"cannot \
                 run inside a transaction block\" and the migration fails",
                why_in_transaction(&change_ref.at)
            );
            let mut finding = change_ref.at.finding(ID, message);
            finding.object = object;
            findings.push(finding);
        }
    }
}

/// The statement's command and object, when it is one Postgres runs only outside a
/// transaction.
fn concurrent_command(change: &Change) -> Option<(String, Option<String>)> {
    match change {
        Change::CreateIndex(index) if index.concurrently => {
            let table = &index.table;
            let (command, object) = match &index.name {
                Some(name) => {
                    let qualified = QualifiedName::new(&table.schema, name);
                    (
                        format!("CREATE INDEX CONCURRENTLY {qualified} on {table}"),
                        qualified.to_string(),
                    )
                }
                None => (
                    format!("CREATE INDEX CONCURRENTLY on {table}"),
                    table.to_string(),
                ),
            };
            Some((command, Some(object)))
        }
        Change::DropIndex {
            names,
            concurrently: true,
            ..
        } => {
            let names: Vec<String> = names.iter().map(ToString::to_string).collect();
            Some((
                format!("DROP INDEX CONCURRENTLY {}", names.join(", ")),
                names.first().cloned(),
            ))
        }
        Change::Maintenance {
            kind: MaintenanceKind::Reindex { concurrently: true },
            table,
        } => {
            let target = table.as_ref().map(ToString::to_string);
            let command = match &target {
                Some(target) => format!("REINDEX CONCURRENTLY of {target}"),
                None => "REINDEX CONCURRENTLY".to_string(),
            };
            Some((command, target))
        }
        _ => None,
    }
}

/// Why the statement is inside a transaction: the tool's wrapping or an explicit BEGIN.
fn why_in_transaction(at: &StatementRef<'_>) -> &'static str {
    let migration = &at.migration.migration;
    let statement_count = at.migration.up.statements.len();
    match migration.transaction {
        TransactionMode::Wrapped => "the migration tool wraps this migration in a transaction",
        TransactionMode::ImplicitMultiStatement
            if migration.transaction.in_transaction(statement_count) =>
        {
            "the tool sends the file as one multi-statement query, which Postgres runs as one \
             transaction"
        }
        _ => "after an explicit BEGIN",
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;

    #[test]
    fn fires_when_the_tool_wraps_the_migration() {
        let findings = Deploy::postgres()
            .wrapped(vec![vec![create_index(users(), "users_email_idx", true)]])
            .run(&ConcurrentlyInTransaction);
        assert_eq!(rules(&findings), [ID]);
        assert!(
            findings[0].message.contains("wraps"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn fires_after_an_explicit_begin_and_for_drop_and_reindex() {
        let findings = Deploy::postgres()
            .with_index(&users(), "users_email_idx", "email")
            .autocommit(vec![
                vec![begin()],
                vec![drop_index("users_email_idx", true)],
                vec![maintenance(
                    MaintenanceKind::Reindex { concurrently: true },
                    Some(users()),
                )],
                vec![commit()],
            ])
            .run(&ConcurrentlyInTransaction);
        assert_eq!(rules(&findings), [ID, ID]);
        assert!(findings[0].message.contains("explicit BEGIN"));
    }

    #[test]
    fn fires_even_for_a_table_created_in_the_deploy() {
        let findings = Deploy::postgres()
            .wrapped(vec![
                vec![create_table(invoices())],
                vec![create_index(invoices(), "invoices_email_idx", true)],
            ])
            .run(&ConcurrentlyInTransaction);
        assert_eq!(rules(&findings), [ID]);
    }

    #[test]
    fn outside_a_transaction_and_plain_commands_are_quiet() {
        let findings = Deploy::postgres()
            .autocommit(vec![
                vec![create_index(users(), "users_email_idx", true)],
                vec![begin()],
                vec![commit()],
                vec![Change::DropIndex {
                    names: vec![QualifiedName::new("public", "users_email_idx")],
                    concurrently: true,
                    if_exists: true,
                }],
            ])
            .wrapped(vec![vec![create_index(users(), "users_name_idx", false)]])
            .run(&ConcurrentlyInTransaction);
        assert!(findings.is_empty());
    }
}
