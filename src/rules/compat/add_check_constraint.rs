//! `add-check-constraint`: a CHECK on a table N-1 writes. N-1 does not know the rule, so its
//! writes that break it now fail. `NOT VALID` does not help: it skips the existing rows, but
//! new rows are checked at once.

use super::{
    constraint_object, judge_writes, readds_dropped_constraint, restricts_n1_writes, Breaks,
};
use crate::ir::{Change, ConstraintKind};
use crate::rules::{Context, Finding, Rule};

pub struct AddCheckConstraint;

impl Rule for AddCheckConstraint {
    fn id(&self) -> &'static str {
        "add-check-constraint"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let added = ctx.added_columns();
        for change in ctx.changes() {
            let Change::AddConstraint { table, constraint } = change.change else {
                continue;
            };
            let ConstraintKind::Check { expr } = &constraint.kind else {
                continue;
            };
            if !restricts_n1_writes(ctx, added, table, &constraint.columns)
                || readds_dropped_constraint(ctx, &change.at, table, constraint)
            {
                continue;
            }
            let message = format!(
                "adds CHECK ({expr}) to {table}; N-1 does not know the rule, and its INSERTs \
                 and UPDATEs that break it fail from now on (NOT VALID skips only the existing \
                 rows)"
            );
            let mut finding = change.at.finding(self.id(), message);
            finding.object = Some(constraint_object(table, constraint.name.as_deref()));
            // A CHECK whose columns are unknown cannot be judged on what N-1 writes.
            if !constraint.columns.is_empty() {
                let columns: Vec<&str> = constraint.columns.iter().map(String::as_str).collect();
                judge_writes(ctx, &mut finding, table, &columns, Breaks::Writing);
            }
            findings.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn positive(column: &str, not_valid: bool) -> crate::ir::ConstraintDef {
        let expr = format!("{column} > 0");
        constraint_def(ConstraintKind::Check { expr }, &[column], not_valid)
    }

    fn base() -> Deploy {
        Deploy::new().table("orders", &[col("id", "bigint"), col("amount", "numeric")])
    }

    #[test]
    fn fires_even_with_not_valid() {
        for not_valid in [false, true] {
            let findings = base()
                .migration(vec![add_constraint(
                    "orders",
                    positive("amount", not_valid),
                )])
                .findings(&AddCheckConstraint);
            assert_eq!(findings.len(), 1, "not_valid: {not_valid}");
            assert!(findings[0]
                .message
                .contains("CHECK (amount > 0) to public.orders"));
        }
    }

    #[test]
    fn quiet_on_a_new_table_or_a_column_the_deploy_adds() {
        let deploy = base().migration(vec![
            create_table("refunds", &[col("amount", "numeric")]),
            add_constraint("refunds", positive("amount", false)),
            add_column("orders", col("discount", "numeric")),
            add_constraint("orders", positive("discount", false)),
        ]);
        assert!(deploy.findings(&AddCheckConstraint).is_empty());
    }
}
