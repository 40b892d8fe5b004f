//! `rename-table`: renaming a table (or view) N-1 still queries by its old name.
//!
//! Quiet when the deploy leaves a view under the old name (Postgres and MySQL make a simple
//! view updatable, so N-1 keeps reading and writing through it), and for a table rebuild.

use super::{judge_on_usage, n1_uses_table};
use crate::dialect::Dialect;
use crate::ir::{Change, QualifiedName};
use crate::rules::Rebuilds;
use crate::rules::{ChangeRef, Context, Finding, Rule};
use std::collections::BTreeSet;

pub struct RenameTable;

impl Rule for RenameTable {
    fn id(&self) -> &'static str {
        "rename-table"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let rebuilds = ctx.rebuilds();
        let shims = view_shims(ctx);
        for change in ctx.changes() {
            let (from, to, kind) = match change.change {
                Change::RenameTable { from, to } => (from, to, "table"),
                Change::RenameView { from, to } => (from, to, "view"),
                _ => continue,
            };
            if n1_uses_table(ctx, from)
                && !is_rebuild_step(&rebuilds, &change, from, to)
                && !shims.contains(from)
            {
                findings.push(self.finding(&change, from, to, kind, ctx));
            }
        }
    }
}

impl RenameTable {
    fn finding(
        &self,
        change: &ChangeRef<'_>,
        from: &QualifiedName,
        to: &QualifiedName,
        kind: &str,
        ctx: &Context<'_>,
    ) -> Finding {
        let message = format!(
            "renames {kind} {from} to {to}; N-1 still queries {from} and fails with \
             \"{}\"",
            ctx.dialect.missing_relation_error()
        );
        let mut finding = change.at.finding(self.id(), message);
        finding.object = Some(from.to_string());
        judge_on_usage(ctx, &mut finding, from, None, true);
        finding
    }
}

/// The plain views the deploy creates: one under a renamed table's old name keeps N-1's
/// queries working. Not in SQLite, whose views are read-only.
fn view_shims<'a>(ctx: &Context<'a>) -> BTreeSet<&'a QualifiedName> {
    if ctx.dialect == Dialect::Sqlite {
        return BTreeSet::new();
    }
    ctx.changes()
        .filter_map(|change| match change.change {
            Change::CreateView {
                name,
                materialized: false,
                ..
            } => Some(name),
            _ => None,
        })
        .collect()
}

/// Renaming the old copy aside while the table is rebuilt is part of an alteration.
fn is_rebuild_step(
    rebuilds: &Rebuilds<'_, '_>,
    change: &ChangeRef<'_>,
    from: &QualifiedName,
    to: &QualifiedName,
) -> bool {
    let migration = change.at.migration;
    rebuilds.is_rebuilt(migration, from) && rebuilds.is_rebuilt(migration, to)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn base() -> Deploy {
        Deploy::new().table("users", &[col("id", "bigint")])
    }

    #[test]
    fn fires_on_a_table_n1_knows() {
        let findings = base()
            .migration(vec![rename_table("users", "accounts")])
            .findings(&RenameTable);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].object.as_deref(), Some("public.users"));
        assert!(findings[0]
            .message
            .contains("public.users to public.accounts"));
    }

    #[test]
    fn quiet_on_a_table_created_in_the_deploy() {
        let deploy = base().migration(vec![
            create_table("draft", &[col("id", "bigint")]),
            rename_table("draft", "accounts"),
        ]);
        assert!(deploy.findings(&RenameTable).is_empty());
    }

    #[test]
    fn quiet_when_a_view_keeps_the_old_name_answering() {
        let view = stmt(vec![Change::CreateView {
            name: qn("users"),
            materialized: false,
            or_replace: false,
        }]);
        let deploy = base().migration(vec![rename_table("users", "accounts"), view]);
        assert!(deploy.findings(&RenameTable).is_empty());
    }

    #[test]
    fn quiet_when_retired() {
        let deploy = base()
            .retired("users")
            .migration(vec![rename_table("users", "users_archive")]);
        assert!(deploy.findings(&RenameTable).is_empty());
    }

    #[test]
    fn quiet_on_a_rebuild_that_renames_the_old_copy_aside() {
        let deploy = base().migration(vec![
            rename_table("users", "users_old"),
            create_table("users", &[col("id", "bigint")]),
            insert_select("users"),
            drop_table("users_old"),
        ]);
        assert!(deploy.findings(&RenameTable).is_empty());
    }
}
