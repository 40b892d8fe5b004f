//! `drop-not-null`: making a NOT NULL column N-1 reads nullable. The new release may write
//! NULLs, and N-1, which assumes a value, crashes or misbehaves on them.

use super::{column_object, n1_uses_column};
use crate::ir::Change;
use crate::rules::{Context, Finding, Rule};

pub struct DropNotNull;

impl Rule for DropNotNull {
    fn id(&self) -> &'static str {
        "drop-not-null"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        for change in ctx.changes() {
            let Change::DropNotNull { table, column } = change.change else {
                continue;
            };
            let was_not_null = ctx
                .before
                .column(table, column)
                .is_some_and(|c| !c.nullable);
            if !was_not_null || !n1_uses_column(ctx, table, column) {
                continue;
            }
            let object = column_object(table, column);
            let message = format!(
                "makes {object} nullable; N-1 reads it assuming a value and may fail on the \
                 NULLs the new release writes"
            );
            let mut finding = change.at.finding(self.id(), message);
            finding.object = Some(object);
            findings.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn drop_not_null(table: &str, column: &str) -> crate::sql::Statement {
        stmt(vec![Change::DropNotNull {
            table: qn(table),
            column: column.to_string(),
        }])
    }

    #[test]
    fn fires_on_a_not_null_column_n1_reads() {
        let deploy = Deploy::new()
            .table(
                "users",
                &[col("id", "bigint"), not_null(col("email", "text"))],
            )
            .migration(vec![drop_not_null("users", "email")]);
        let findings = deploy.findings(&DropNotNull);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].object.as_deref(), Some("public.users.email"));
    }

    #[test]
    fn quiet_when_already_nullable_new_or_retired() {
        let deploy = Deploy::new()
            .table(
                "users",
                &[col("bio", "text"), not_null(col("legacy", "text"))],
            )
            .retired("users.legacy")
            .migration(vec![
                drop_not_null("users", "bio"),
                add_column("users", not_null(col("tz", "text"))),
                drop_not_null("users", "tz"),
                drop_not_null("users", "legacy"),
            ]);
        assert!(deploy.findings(&DropNotNull).is_empty());
    }
}
