//! `rename-column`: renaming a column N-1 still reads and writes by its old name.

use super::{column_object, judge_on_usage, n1_uses_column};
use crate::ir::Change;
use crate::rules::{Context, Finding, Rule};

pub struct RenameColumn;

impl Rule for RenameColumn {
    fn id(&self) -> &'static str {
        "rename-column"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        for change in ctx.changes() {
            let Change::RenameColumn { table, from, to } = change.change else {
                continue;
            };
            if !n1_uses_column(ctx, table, from) {
                continue;
            }
            let object = column_object(table, from);
            let message = format!(
                "renames column {object} to {to}; N-1 still reads and writes {from} and fails \
                 with \"{}\"",
                ctx.dialect.missing_column_error()
            );
            let mut finding = change.at.finding(self.id(), message);
            finding.object = Some(object);
            judge_on_usage(ctx, &mut finding, table, Some(from), true);
            findings.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn rename(table: &str, from: &str, to: &str) -> crate::sql::Statement {
        stmt(vec![Change::RenameColumn {
            table: qn(table),
            from: from.to_string(),
            to: to.to_string(),
        }])
    }

    fn base() -> Deploy {
        Deploy::new().table("users", &[col("id", "bigint"), col("mail", "text")])
    }

    #[test]
    fn fires_on_a_column_n1_knows() {
        let findings = base()
            .migration(vec![rename("users", "mail", "email")])
            .findings(&RenameColumn);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].object.as_deref(), Some("public.users.mail"));
        assert!(findings[0].message.contains("to email"));
    }

    #[test]
    fn quiet_on_a_column_added_in_the_deploy() {
        let deploy = base().migration(vec![
            add_column("users", col("nick", "text")),
            rename("users", "nick", "nickname"),
        ]);
        assert!(deploy.findings(&RenameColumn).is_empty());
    }

    #[test]
    fn quiet_when_retired() {
        let deploy = base()
            .retired("users.mail")
            .migration(vec![rename("users", "mail", "mail_old")]);
        assert!(deploy.findings(&RenameColumn).is_empty());
    }
}
