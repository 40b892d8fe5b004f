//! `add-foreign-key`: a foreign key on a table N-1 writes. N-1's INSERTs and UPDATEs that
//! point at a missing row now fail (and, by default, so do its DELETEs of referenced rows).
//! `NOT VALID` skips only the existing rows: new rows are checked at once.

use super::{constraint_object, readds_dropped_constraint, restricts_n1_writes};
use crate::ir::{Change, ConstraintKind};
use crate::rules::{Context, Finding, Rule};

pub struct AddForeignKey;

impl Rule for AddForeignKey {
    fn id(&self) -> &'static str {
        "add-foreign-key"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let added = ctx.added_columns();
        for change in ctx.changes() {
            let Change::AddConstraint { table, constraint } = change.change else {
                continue;
            };
            let ConstraintKind::ForeignKey { references, .. } = &constraint.kind else {
                continue;
            };
            if !restricts_n1_writes(ctx, added, table, &constraint.columns)
                || readds_dropped_constraint(ctx, &change.at, table, constraint)
            {
                continue;
            }
            let message = format!(
                "adds a foreign key from {table} ({}) to {references}; N-1's writes that \
                 reference a missing row, and its deletes of referenced rows, fail from now on \
                 (NOT VALID skips only the existing rows)",
                constraint.columns.join(", ")
            );
            let mut finding = change.at.finding(self.id(), message);
            finding.object = Some(constraint_object(table, constraint.name.as_deref()));
            findings.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn to_users(column: &str, not_valid: bool) -> crate::ir::ConstraintDef {
        let kind = ConstraintKind::ForeignKey {
            references: qn("users"),
            ref_columns: vec!["id".to_string()],
        };
        constraint_def(kind, &[column], not_valid)
    }

    fn base() -> Deploy {
        Deploy::new()
            .table("users", &[col("id", "bigint")])
            .table("orders", &[col("id", "bigint"), col("user_id", "bigint")])
    }

    #[test]
    fn fires_even_with_not_valid() {
        for not_valid in [false, true] {
            let findings = base()
                .migration(vec![add_constraint(
                    "orders",
                    to_users("user_id", not_valid),
                )])
                .findings(&AddForeignKey);
            assert_eq!(findings.len(), 1, "not_valid: {not_valid}");
            assert!(findings[0]
                .message
                .contains("public.orders (user_id) to public.users"));
        }
    }

    #[test]
    fn quiet_from_a_new_table_or_on_a_column_the_deploy_adds() {
        let deploy = base().migration(vec![
            create_table("invoices", &[col("user_id", "bigint")]),
            add_constraint("invoices", to_users("user_id", false)),
            add_column("orders", col("buyer_id", "bigint")),
            add_constraint("orders", to_users("buyer_id", true)),
        ]);
        assert!(deploy.findings(&AddForeignKey).is_empty());
    }
}
