//! `unbatched-backfill`: an UPDATE or DELETE without WHERE on a table that existed before the
//! deploy. One statement over every row is one long transaction: it locks each row it
//! touches until the end, blocks N-1's writes to them, and bloats the table.

use super::as_backfill;
use crate::ir::BackfillKind;
use crate::rules::{Context, Finding, Rule};

pub struct UnbatchedBackfill;

impl Rule for UnbatchedBackfill {
    fn id(&self) -> &'static str {
        "unbatched-backfill"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let rebuilds = ctx.rebuilds();
        for change in ctx.changes() {
            let Some(found) = as_backfill(ctx, &rebuilds, &change) else {
                continue;
            };
            if found.filtered || found.kind == BackfillKind::Insert {
                continue;
            }
            let message = format!(
                "{} {} without a WHERE clause, in one statement: it holds a lock on every row it \
                 touches until it ends, so N-1's writes to them wait, and a failure redoes it \
                 all",
                found.verb(),
                found.table
            );
            let mut finding = change.at.finding(self.id(), message);
            finding.object = Some(found.table.to_string());
            findings.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::compat::testing::*;
    use super::*;

    fn base() -> Deploy {
        Deploy::new().table("users", &[col("id", "bigint"), col("email", "text")])
    }

    #[test]
    fn fires_on_update_and_delete_without_where() {
        let findings = base()
            .migration(vec![
                update("users", &["email"], false),
                backfill("users", BackfillKind::Delete, &[], false),
            ])
            .findings(&UnbatchedBackfill);
        assert_eq!(findings.len(), 2);
        assert!(findings[0]
            .message
            .starts_with("updates public.users without a WHERE"));
        assert!(findings[1]
            .message
            .starts_with("deletes from public.users without"));
    }

    #[test]
    fn quiet_on_batches_copies_and_new_tables() {
        let deploy = base().migration(vec![
            update("users", &["email"], true),
            insert_select("users"),
            create_table("teams", &[col("id", "bigint")]),
            update("teams", &["id"], false),
        ]);
        assert!(deploy.findings(&UnbatchedBackfill).is_empty());
    }
}
