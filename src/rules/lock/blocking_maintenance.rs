//! `blocking-maintenance`: `VACUUM FULL` and `CLUSTER` rewrite the table under an ACCESS
//! EXCLUSIVE lock; a plain `REINDEX` blocks writes to the table and reads that use the
//! index. None of them belongs in a deploy.

use super::is_postgres;
use crate::ir::{Change, MaintenanceKind, QualifiedName};
use crate::rules::{Context, Finding, Rule};

pub struct BlockingMaintenance;

const ID: &str = "blocking-maintenance";

impl Rule for BlockingMaintenance {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        if !is_postgres(ctx) {
            return;
        }
        for change_ref in ctx.changes() {
            let Change::Maintenance { kind, table } = change_ref.change else {
                continue;
            };
            let Some((command, effect)) = blocking_effect(*kind) else {
                continue;
            };
            if table
                .as_ref()
                .is_some_and(|name| created_in_deploy(ctx, name))
            {
                continue;
            }
            // The IR names no table for a database-wide command, nor for `REINDEX INDEX` or
            // `REINDEX SCHEMA`.
            let target = table.as_ref().map_or_else(
                || "(no single table named: an index, a schema or the database)".to_string(),
                |table| format!("of {table}"),
            );
            let message = format!(
                "{command} {target} {effect}: the application's queries (N-1's included) \
                 wait until it ends"
            );
            let mut finding = change_ref.at.finding(ID, message);
            finding.object = table.as_ref().map(ToString::to_string);
            findings.push(finding);
        }
    }
}

/// The command's name and what it blocks, when it blocks the application.
fn blocking_effect(kind: MaintenanceKind) -> Option<(&'static str, &'static str)> {
    const REWRITE: &str =
        "rewrites the table under an ACCESS EXCLUSIVE lock, blocking its reads and writes";
    match kind {
        MaintenanceKind::Vacuum { full: true } => Some(("VACUUM FULL", REWRITE)),
        MaintenanceKind::Cluster => Some(("CLUSTER", REWRITE)),
        MaintenanceKind::Reindex {
            concurrently: false,
        } => Some((
            "REINDEX",
            "rebuilds indexes while blocking writes to their table and reads that use them",
        )),
        _ => None,
    }
}

/// True when `name` (a table, or an index for `REINDEX INDEX`) did not exist before the
/// deploy but does after it: the deploy created it, so nobody else uses it yet.
fn created_in_deploy(ctx: &Context<'_>, name: &QualifiedName) -> bool {
    let existed = ctx.before.has_relation(name) || ctx.before.index_owner(name).is_some();
    let exists = ctx.after.has_relation(name) || ctx.after.index_owner(name).is_some();
    !existed && exists
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;

    fn run(kind: MaintenanceKind, table: Option<QualifiedName>) -> Vec<Finding> {
        Deploy::postgres()
            .autocommit(vec![vec![maintenance(kind, table)]])
            .run(&BlockingMaintenance)
    }

    #[test]
    fn vacuum_full_cluster_and_plain_reindex_fire() {
        for kind in [
            MaintenanceKind::Vacuum { full: true },
            MaintenanceKind::Cluster,
            MaintenanceKind::Reindex {
                concurrently: false,
            },
        ] {
            let findings = run(kind, Some(users()));
            assert_eq!(rules(&findings), [ID], "{kind:?}");
            assert_eq!(findings[0].object.as_deref(), Some("public.users"));
        }
        let whole_database = run(MaintenanceKind::Vacuum { full: true }, None);
        assert!(whole_database[0].message.contains("the database"));
    }

    #[test]
    fn online_maintenance_is_quiet() {
        for kind in [
            MaintenanceKind::Vacuum { full: false },
            MaintenanceKind::Analyze,
            MaintenanceKind::Reindex { concurrently: true },
        ] {
            assert!(run(kind, Some(users())).is_empty(), "{kind:?}");
        }
    }

    #[test]
    fn a_table_created_in_the_deploy_is_exempt() {
        let findings = Deploy::postgres()
            .with_after_table(&invoices())
            .autocommit(vec![
                vec![create_table(invoices())],
                vec![maintenance(MaintenanceKind::Cluster, Some(invoices()))],
            ])
            .run(&BlockingMaintenance);
        assert!(findings.is_empty());
    }
}
