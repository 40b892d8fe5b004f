//! `add-required-column`: a column on an existing table that is NOT NULL without a default.
//! N-1's INSERTs do not name the column, so they fail with a not-null violation.
//!
//! The column may become required in one statement (`ADD COLUMN ... NOT NULL`) or over the
//! deploy (added nullable, then `SET NOT NULL` or `DROP DEFAULT`): both leave N-1 unable to
//! insert, so the later steps are judged on the column as the deploy leaves it.

use super::{column_object, judge_writes, n1_uses_table, Breaks};
use crate::ir::{Change, ColumnDef, Generated, QualifiedName};
use crate::rules::{Context, Finding, Rule, StatementRef};
use std::collections::BTreeSet;

pub struct AddRequiredColumn;

impl Rule for AddRequiredColumn {
    fn id(&self) -> &'static str {
        "add-required-column"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let mut reported = BTreeSet::new();
        for change in ctx.changes() {
            let Some((table, column)) = made_required(ctx, change.change) else {
                continue;
            };
            if n1_uses_table(ctx, table) && reported.insert(column_object(table, column)) {
                findings.push(self.finding(ctx, &change.at, table, column));
            }
        }
        // A rebuild whose new copy has a required column N-1 does not know adds it.
        let rebuilds = ctx.rebuilds();
        for (at, rebuild) in rebuilds.sites() {
            let table = &rebuild.table;
            for new in rebuild.columns.iter().filter(|c| is_required(c)) {
                if n1_uses_table(ctx, table) && !ctx.column_known_to_n1(table, &new.name) {
                    findings.push(self.finding(ctx, &at, table, &new.name));
                }
            }
        }
    }
}

impl AddRequiredColumn {
    fn finding(
        &self,
        ctx: &Context<'_>,
        at: &StatementRef<'_>,
        table: &QualifiedName,
        column: &str,
    ) -> Finding {
        let object = column_object(table, column);
        let message = format!(
            "makes {object} NOT NULL without a default; N-1's INSERTs into {table} do not set \
             {column} and fail with a not-null violation"
        );
        let mut finding = at.finding(self.id(), message);
        finding.object = Some(object);
        judge_writes(ctx, &mut finding, table, &[column], Breaks::Omitting);
        finding
    }
}

/// The column this change leaves required, when it is one N-1 does not know.
fn made_required<'c>(
    ctx: &Context<'_>,
    change: &'c Change,
) -> Option<(&'c QualifiedName, &'c str)> {
    match change {
        Change::AddColumn { table, column, .. } if is_required(column) => {
            Some((table, column.name.as_str()))
        }
        Change::SetNotNull { table, column } | Change::DropDefault { table, column }
            if !ctx.column_known_to_n1(table, column) && ends_required(ctx, table, column) =>
        {
            Some((table, column.as_str()))
        }
        _ => None,
    }
}

/// NOT NULL, no default, and no generated value: an INSERT must name it.
fn is_required(column: &ColumnDef) -> bool {
    !column.nullable && column.default.is_none() && column.generated == Generated::No
}

fn ends_required(ctx: &Context<'_>, table: &QualifiedName, column: &str) -> bool {
    ctx.after
        .column(table, column)
        .is_some_and(|c| !c.nullable && c.default.is_none() && c.generated == Generated::No)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn base() -> Deploy {
        Deploy::new().table("users", &[col("id", "bigint")])
    }

    #[test]
    fn fires_on_not_null_without_default() {
        let findings = base()
            .migration(vec![add_column(
                "users",
                not_null(col("tenant_id", "bigint")),
            )])
            .findings(&AddRequiredColumn);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].object.as_deref(),
            Some("public.users.tenant_id")
        );
    }

    #[test]
    fn quiet_with_a_default_nullable_or_generated() {
        let mut identity = not_null(col("seq", "bigint"));
        identity.generated = Generated::Identity;
        let deploy = base().migration(vec![
            add_column(
                "users",
                with_default(not_null(col("active", "boolean")), "true"),
            ),
            add_column("users", col("nickname", "text")),
            add_column("users", identity),
        ]);
        assert!(deploy.findings(&AddRequiredColumn).is_empty());
    }

    #[test]
    fn a_rebuild_with_a_new_required_column_adds_it() {
        let deploy = base().migration(vec![
            rename_table("users", "users_old"),
            create_table(
                "users",
                &[col("id", "bigint"), not_null(col("tenant_id", "bigint"))],
            ),
            insert_select("users"),
            drop_table("users_old"),
        ]);
        let findings = deploy.findings(&AddRequiredColumn);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].object.as_deref(),
            Some("public.users.tenant_id")
        );
    }

    #[test]
    fn quiet_on_a_table_created_in_the_deploy() {
        let deploy = base().migration(vec![
            create_table("teams", &[col("id", "bigint")]),
            add_column("teams", not_null(col("name", "text"))),
        ]);
        assert!(deploy.findings(&AddRequiredColumn).is_empty());
    }

    #[test]
    fn fires_once_when_a_new_column_is_made_not_null_later_in_the_deploy() {
        let deploy = base()
            .migration(vec![
                add_column("users", col("tenant_id", "bigint")),
                update("users", &["tenant_id"], false),
                set_not_null("users", "tenant_id"),
                set_not_null("users", "tenant_id"),
            ])
            .edit_after(|after| {
                let users = after.tables.get_mut(&qn("users")).unwrap();
                users
                    .columns
                    .push(column_of(&not_null(col("tenant_id", "bigint"))));
            });
        let findings = deploy.findings(&AddRequiredColumn);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].span,
            230..260,
            "points at the first SET NOT NULL"
        );
    }
}
