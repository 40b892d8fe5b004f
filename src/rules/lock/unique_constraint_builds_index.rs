//! `unique-constraint-builds-index`: `ADD CONSTRAINT ... UNIQUE` or `PRIMARY KEY` without
//! `USING INDEX` builds its index while holding an ACCESS EXCLUSIVE lock on the table.

use super::{holds_rows, is_postgres};
use crate::ir::{Change, ConstraintKind};
use crate::rules::{Context, Finding, Rule};

pub struct UniqueConstraintBuildsIndex;

const ID: &str = "unique-constraint-builds-index";

impl Rule for UniqueConstraintBuildsIndex {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        if !is_postgres(ctx) {
            return;
        }
        for change_ref in ctx.changes() {
            let Change::AddConstraint { table, constraint } = change_ref.change else {
                continue;
            };
            if constraint.using_index.is_some() || !holds_rows(ctx, &change_ref.at, table) {
                continue;
            }
            let what = match constraint.kind {
                ConstraintKind::Unique => "unique constraint",
                ConstraintKind::PrimaryKey => "primary key",
                // No way to attach a prebuilt index to an exclusion constraint: still true,
                // and worth a reviewer's eye.
                ConstraintKind::Exclusion => "exclusion constraint",
                ConstraintKind::Check { .. } | ConstraintKind::ForeignKey { .. } => continue,
            };
            let name = ctx.before.constraint_name(table, constraint);
            let message = format!(
                "adds {what} {name} on {table} without USING INDEX: Postgres builds its index \
                 while holding an ACCESS EXCLUSIVE lock, so every read and write of {table} \
                 (N-1's included) waits until the index is built"
            );
            let mut finding = change_ref.at.finding(ID, message);
            finding.object = Some(format!("{table}.{name}"));
            findings.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;
    use crate::ir::ConstraintDef;

    fn unique(using_index: Option<&str>) -> Change {
        Change::AddConstraint {
            table: users(),
            constraint: ConstraintDef {
                name: None,
                kind: ConstraintKind::Unique,
                columns: vec!["email".into()],
                not_valid: false,
                using_index: using_index.map(str::to_string),
            },
        }
    }

    #[test]
    fn fires_on_unique_and_primary_key_without_using_index() {
        let findings = Deploy::postgres()
            .wrapped(vec![vec![unique(None)]])
            .run(&UniqueConstraintBuildsIndex);
        assert_eq!(rules(&findings), [ID]);
        assert_eq!(
            findings[0].object.as_deref(),
            Some("public.users.users_email_key")
        );

        let primary_key = Deploy::postgres()
            .wrapped(vec![vec![add_constraint(
                orders(),
                "orders_pkey",
                ConstraintKind::PrimaryKey,
                false,
            )]])
            .run(&UniqueConstraintBuildsIndex);
        assert_eq!(rules(&primary_key), [ID]);
        assert!(primary_key[0].message.contains("primary key"));
    }

    #[test]
    fn using_a_concurrently_built_index_is_quiet() {
        let findings = Deploy::postgres()
            .autocommit(vec![
                vec![create_index(users(), "users_email_key", true)],
                vec![unique(Some("users_email_key"))],
            ])
            .run(&UniqueConstraintBuildsIndex);
        assert!(findings.is_empty());
    }

    #[test]
    fn a_new_table_and_other_constraints_are_exempt() {
        let findings = Deploy::postgres()
            .wrapped(vec![
                vec![create_table(invoices())],
                vec![add_constraint(
                    invoices(),
                    "invoices_pkey",
                    ConstraintKind::PrimaryKey,
                    false,
                )],
                vec![add_constraint(orders(), "fk", foreign_key(), false)],
                vec![add_constraint(orders(), "c", check("amount > 0"), false)],
            ])
            .run(&UniqueConstraintBuildsIndex);
        assert!(findings.is_empty());
    }
}
