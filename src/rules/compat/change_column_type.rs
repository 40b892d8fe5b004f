//! `change-column-type`: changing the type of a column N-1 reads and writes, unless the new
//! type is a compatible widening (`varchar(50)` → `varchar(100)` or `text`, `int` →
//! `bigint`) that every N-1 value and query still fits.

use super::change_enum::{new_enum_values, old_enum_values};
use super::{column_object, judge_on_usage, n1_uses_column, swapped_in};
use crate::ir::{Change, QualifiedName};
use crate::rollback::keeps_values;
use crate::rules::{Context, Finding, Rule, StatementRef};

pub struct ChangeColumnType;

impl Rule for ChangeColumnType {
    fn id(&self) -> &'static str {
        "change-column-type"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        for change in ctx.changes() {
            match change.change {
                Change::AlterColumnType {
                    table,
                    column,
                    data_type,
                    ..
                } => self.judge(ctx, &change.at, table, column, data_type, findings),
                // A column swapped for one of another type under its name changes type.
                Change::RenameColumn { table, from, to } => {
                    if let Some(new) = swapped_in(&change.at, table, from, to) {
                        self.judge(ctx, &change.at, table, to, &new.data_type, findings);
                    }
                }
                _ => {}
            }
        }
        // A rebuild whose new copy declares a column with another type changes it too.
        let rebuilds = ctx.rebuilds();
        for (at, rebuild) in rebuilds.sites() {
            for new in &rebuild.columns {
                self.judge(
                    ctx,
                    &at,
                    &rebuild.table,
                    &new.name,
                    &new.data_type,
                    findings,
                );
            }
        }
    }
}

impl ChangeColumnType {
    fn judge(
        &self,
        ctx: &Context<'_>,
        at: &StatementRef<'_>,
        table: &QualifiedName,
        column: &str,
        new_type: &str,
        findings: &mut Vec<Finding>,
    ) {
        let Some(old) = ctx.before.column(table, column) else {
            return;
        };
        if !n1_uses_column(ctx, table, column)
            || keeps_values(ctx.before, &old.data_type, new_type)
            || is_enum_change(ctx, &old.data_type, new_type)
        {
            return;
        }
        let object = column_object(table, column);
        let message = format!(
            "changes the type of {object} from {} to {new_type}; N-1 still reads and writes it \
             as {}, so its values may no longer fit or parse",
            old.data_type, old.data_type
        );
        let mut finding = at.finding(self.id(), message);
        finding.object = Some(object);
        judge_on_usage(ctx, &mut finding, table, Some(column), true);
        findings.push(finding);
    }
}

/// An enum moved to another enum is `change-enum`'s call (quiet when values are only added).
fn is_enum_change(ctx: &Context<'_>, old: &str, new: &str) -> bool {
    old_enum_values(ctx, old).is_some() && new_enum_values(ctx, new).is_some()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn alter_type(table: &str, column: &str, data_type: &str) -> crate::sql::Statement {
        stmt(vec![Change::AlterColumnType {
            table: qn(table),
            column: column.to_string(),
            data_type: data_type.to_string(),
            using: None,
        }])
    }

    fn base() -> Deploy {
        Deploy::new().table("users", &[col("id", "bigint"), col("age", "integer")])
    }

    #[test]
    fn fires_on_an_incompatible_change() {
        let findings = base()
            .migration(vec![alter_type("users", "age", "text")])
            .findings(&ChangeColumnType);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("from integer to text"));
    }

    #[test]
    fn quiet_on_a_compatible_widening() {
        let deploy = base().migration(vec![
            alter_type("users", "age", "integer"),
            alter_type("users", "age", "bigint"),
        ]);
        assert!(deploy.findings(&ChangeColumnType).is_empty());
    }

    #[test]
    fn a_rebuild_that_retypes_a_column_changes_it() {
        let deploy = base().migration(vec![
            create_table("new_users", &[col("id", "bigint"), col("age", "text")]),
            insert_select("new_users"),
            drop_table("users"),
            rename_table("new_users", "users"),
        ]);
        let findings = deploy.findings(&ChangeColumnType);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].span,
            30..60,
            "points at the new copy's CREATE TABLE"
        );
    }

    #[test]
    fn quiet_on_a_column_added_in_the_deploy_or_retired() {
        let deploy = base().retired("users.age").migration(vec![
            add_column("users", col("score", "integer")),
            alter_type("users", "score", "numeric"),
            alter_type("users", "age", "text"),
        ]);
        assert!(deploy.findings(&ChangeColumnType).is_empty());
    }
}
