//! `drop-table`: dropping a table N-1 still queries.

use super::{judge_on_usage, n1_uses_table, retire_hint};
use crate::ir::Change;
use crate::rollback::recreated_whole;
use crate::rules::{Context, Finding, Rule};

pub struct DropTable;

impl Rule for DropTable {
    fn id(&self) -> &'static str {
        "drop-table"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let rebuilds = ctx.rebuilds();
        for change in ctx.changes() {
            let Change::DropTable { tables, .. } = change.change else {
                continue;
            };
            for table in tables {
                // A rebuild drops the old copy but the table lives on under its name.
                if !n1_uses_table(ctx, table) || rebuilds.is_rebuilt(change.at.migration, table) {
                    continue;
                }
                // Dropped and created again with every column it had, in one transaction:
                // N-1 never sees it missing.
                let later = ctx.in_same_transaction(&change.at, true);
                if recreated_whole(ctx.before, table, later.map(|later| later.change)) {
                    continue;
                }
                let message = format!(
                    "drops table {table}, which N-1 still reads and writes: its queries fail \
                     with \"{}\"{}",
                    ctx.dialect.missing_relation_error(),
                    retire_hint(ctx, table, None)
                );
                let mut finding = change.at.finding(self.id(), message);
                finding.object = Some(table.to_string());
                judge_on_usage(ctx, &mut finding, table, None, true);
                findings.push(finding);
            }
        }
    }
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
            .migration(vec![drop_table("users")])
            .findings(&DropTable);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].object.as_deref(), Some("public.users"));
        assert!(findings[0].message.contains("drops table public.users"));
    }

    #[test]
    fn quiet_on_a_table_created_in_the_deploy() {
        let deploy = base().migration(vec![
            create_table("scratch", &[col("id", "bigint")]),
            drop_table("scratch"),
        ]);
        assert!(deploy.findings(&DropTable).is_empty());
    }

    #[test]
    fn quiet_when_a_shipped_retire_covers_it() {
        let deploy = base().retired("users").migration(vec![drop_table("users")]);
        assert!(deploy.findings(&DropTable).is_empty());
    }

    #[test]
    fn retired_only_at_head_still_fires_and_says_to_ship_it_first() {
        let deploy = base()
            .retired_at_head("users")
            .migration(vec![drop_table("users")]);
        let findings = deploy.findings(&DropTable);
        assert_eq!(findings.len(), 1);
        assert!(findings[0]
            .message
            .contains("ship the retirement in a release first"));
    }

    #[test]
    fn quiet_on_a_table_rebuild() {
        let deploy = base().migration(vec![
            create_table("new_users", &[col("id", "bigint")]),
            insert_select("new_users"),
            drop_table("users"),
            rename_table("new_users", "users"),
        ]);
        assert!(deploy.findings(&DropTable).is_empty());
    }
}
