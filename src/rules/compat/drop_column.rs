//! `drop-column`: dropping a column N-1 still selects or inserts, directly or by rebuilding
//! the table without it.

use super::{column_object, judge_on_usage, n1_uses_column, retire_hint, swapped_out_columns};
use crate::ir::rebuild::Rebuild;
use crate::ir::{Change, QualifiedName};
use crate::rules::{Context, Finding, Rule, StatementRef};

pub struct DropColumn;

impl Rule for DropColumn {
    fn id(&self) -> &'static str {
        "drop-column"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let swapped_out = swapped_out_columns(ctx);
        for change in ctx.changes() {
            if let Change::DropColumn { table, column, .. } = change.change {
                let swapped = swapped_out.iter().any(|&(migration, t, c)| {
                    std::ptr::eq(migration, change.at.migration) && t == table && c == column
                });
                if n1_uses_column(ctx, table, column) && !swapped {
                    let message = format!(
                        "drops column {}, which N-1 still selects and inserts: its queries fail \
                         with \"{}\"{}",
                        column_object(table, column),
                        ctx.dialect.missing_column_error(),
                        retire_hint(ctx, table, Some(column))
                    );
                    let mut finding = self.finding(&change.at, table, column, message);
                    judge_on_usage(ctx, &mut finding, table, Some(column), true);
                    findings.push(finding);
                }
            }
        }
        let rebuilds = ctx.rebuilds();
        for (at, rebuild) in rebuilds.sites() {
            self.check_rebuild(ctx, &at, rebuild, findings);
        }
    }
}

impl DropColumn {
    /// A rebuild whose new copy lacks a column N-1 uses drops that column.
    fn check_rebuild(
        &self,
        ctx: &Context<'_>,
        at: &StatementRef<'_>,
        rebuild: &Rebuild,
        findings: &mut Vec<Finding>,
    ) {
        let Some(old) = ctx.before.table(&rebuild.table) else {
            return;
        };
        let table = &rebuild.table;
        for column in &old.columns {
            let kept = rebuild.columns.iter().any(|c| c.name == column.name);
            if kept
                || !n1_uses_column(ctx, table, &column.name)
                || renamed_or_dropped(ctx, table, &column.name)
            {
                continue;
            }
            let message = format!(
                "rebuilds table {table} without column {}, which N-1 still selects and inserts: \
                 its queries fail with \"{}\"{}",
                column.name,
                ctx.dialect.missing_column_error(),
                retire_hint(ctx, table, Some(&column.name))
            );
            let mut finding = self.finding(at, table, &column.name, message);
            judge_on_usage(ctx, &mut finding, table, Some(&column.name), true);
            findings.push(finding);
        }
    }

    fn finding(
        &self,
        at: &StatementRef<'_>,
        table: &QualifiedName,
        column: &str,
        message: String,
    ) -> Finding {
        let mut finding = at.finding(self.id(), message);
        finding.object = Some(column_object(table, column));
        finding
    }
}

/// True when the deploy renames or drops the column by itself (reported there), so a rebuild
/// that lacks it does not drop it again.
fn renamed_or_dropped(ctx: &Context<'_>, table: &QualifiedName, column: &str) -> bool {
    ctx.changes().any(|change| match change.change {
        Change::RenameColumn { table: t, from, .. } => t == table && from == column,
        Change::DropColumn {
            table: t,
            column: c,
            ..
        } => t == table && c == column,
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn base() -> Deploy {
        Deploy::new().table(
            "users",
            &[
                col("id", "bigint"),
                col("email", "text"),
                col("legacy_email", "text"),
            ],
        )
    }

    #[test]
    fn fires_on_a_column_n1_knows() {
        let findings = base()
            .migration(vec![drop_column("users", "legacy_email")])
            .findings(&DropColumn);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].object.as_deref(),
            Some("public.users.legacy_email")
        );
        assert_eq!(findings[0].migration, "101");
    }

    #[test]
    fn quiet_on_a_column_added_in_the_deploy() {
        let deploy = base().migration(vec![
            add_column("users", col("tmp", "text")),
            drop_column("users", "tmp"),
        ]);
        assert!(deploy.findings(&DropColumn).is_empty());
    }

    #[test]
    fn quiet_when_a_shipped_retire_covers_the_column_or_its_table() {
        for object in ["users.legacy_email", "public.users.legacy_email", "users"] {
            let deploy = base()
                .retired(object)
                .migration(vec![drop_column("users", "legacy_email")]);
            assert!(deploy.findings(&DropColumn).is_empty(), "{object}");
        }
    }

    #[test]
    fn retired_only_at_head_still_fires() {
        let findings = base()
            .retired_at_head("users.legacy_email")
            .migration(vec![drop_column("users", "legacy_email")])
            .findings(&DropColumn);
        assert_eq!(findings.len(), 1);
        assert!(findings[0]
            .message
            .contains("ship the retirement in a release first"));
    }

    #[test]
    fn a_rebuild_without_the_column_drops_it() {
        let findings = base()
            .migration(vec![
                create_table("new_users", &[col("id", "bigint"), col("email", "text")]),
                insert_select("new_users"),
                drop_table("users"),
                rename_table("new_users", "users"),
            ])
            .findings(&DropColumn);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].object.as_deref(),
            Some("public.users.legacy_email")
        );
        assert!(findings[0].message.contains("rebuilds table public.users"));
    }

    #[test]
    fn a_column_swapped_for_a_new_one_under_its_name_is_not_dropped() {
        let rename = stmt(vec![Change::RenameColumn {
            table: qn("users"),
            from: "email_new".to_string(),
            to: "email".to_string(),
        }]);
        let deploy = base().migration(vec![
            add_column(
                "users",
                not_null(with_default(col("email_new", "text"), "''")),
            ),
            update("users", &["email_new"], true),
            drop_column("users", "email"),
            rename,
        ]);
        assert!(deploy.findings(&DropColumn).is_empty());
    }

    #[test]
    fn a_rebuild_after_renaming_the_column_does_not_drop_it_again() {
        let rename = stmt(vec![Change::RenameColumn {
            table: qn("users"),
            from: "legacy_email".to_string(),
            to: "old_email".to_string(),
        }]);
        let deploy = base().migration(vec![
            rename,
            create_table(
                "new_users",
                &[
                    col("id", "bigint"),
                    col("email", "text"),
                    col("old_email", "text"),
                ],
            ),
            insert_select("new_users"),
            drop_table("users"),
            rename_table("new_users", "users"),
        ]);
        assert!(deploy.findings(&DropColumn).is_empty());
    }

    #[test]
    fn a_rebuild_keeping_every_column_is_quiet() {
        let deploy = base().migration(vec![
            create_table(
                "new_users",
                &[
                    col("id", "bigint"),
                    col("email", "text"),
                    col("legacy_email", "text"),
                ],
            ),
            insert_select("new_users"),
            drop_table("users"),
            rename_table("new_users", "users"),
        ]);
        assert!(deploy.findings(&DropColumn).is_empty());
    }
}
