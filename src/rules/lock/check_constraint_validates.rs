//! `check-constraint-validates`: adding a CHECK constraint checks every existing row while
//! holding an ACCESS EXCLUSIVE lock, so reads and writes of the table stop until the scan
//! ends.

use super::validating_adds;
use crate::ir::ConstraintKind;
use crate::rules::{Context, Finding, Rule};

pub struct CheckConstraintValidates;

const ID: &str = "check-constraint-validates";

impl Rule for CheckConstraintValidates {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let is_check = |kind: &ConstraintKind| matches!(kind, ConstraintKind::Check { .. });
        for add in validating_adds(ctx, is_check) {
            let (table, name) = (add.table, &add.name);
            let what = if add.in_add_transaction {
                format!(
                    "validates check constraint {name} in the same transaction as its NOT VALID add"
                )
            } else {
                format!("adds check constraint {name} without NOT VALID")
            };
            let message = format!(
                "{what} on {table}: Postgres checks every row while holding an ACCESS \
                 EXCLUSIVE lock, so every read and write of {table} (N-1's included) waits \
                 until the scan ends"
            );
            let mut finding = add.at.finding(ID, message);
            finding.object = Some(format!("{table}.{name}"));
            findings.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;

    const CHECK: &str = "orders_amount_positive";

    fn add(not_valid: bool) -> crate::ir::Change {
        add_constraint(orders(), CHECK, check("amount > 0"), not_valid)
    }

    #[test]
    fn fires_on_a_validating_add_to_an_existing_table() {
        let findings = Deploy::postgres()
            .wrapped(vec![vec![add(false)]])
            .run(&CheckConstraintValidates);
        assert_eq!(rules(&findings), [ID]);
        assert_eq!(
            findings[0].object.as_deref(),
            Some("public.orders.orders_amount_positive")
        );
    }

    #[test]
    fn not_valid_then_validate_apart_is_quiet() {
        let findings = Deploy::postgres()
            .autocommit(vec![vec![add(true)], vec![validate(orders(), CHECK)]])
            .run(&CheckConstraintValidates);
        assert!(findings.is_empty());
    }

    #[test]
    fn validate_in_the_same_transaction_fires() {
        let findings = Deploy::postgres()
            .wrapped(vec![vec![add(true)], vec![validate(orders(), CHECK)]])
            .run(&CheckConstraintValidates);
        assert_eq!(rules(&findings), [ID]);
        assert!(findings[0].message.contains("same transaction"));
    }

    #[test]
    fn a_new_table_is_exempt() {
        let findings = Deploy::postgres()
            .wrapped(vec![
                vec![create_table(invoices())],
                vec![add_constraint(invoices(), CHECK, check("id > 0"), false)],
            ])
            .run(&CheckConstraintValidates);
        assert!(findings.is_empty());
    }

    #[test]
    fn foreign_keys_are_not_its_business() {
        let findings = Deploy::postgres()
            .wrapped(vec![vec![add_constraint(
                orders(),
                "fk",
                foreign_key(),
                false,
            )]])
            .run(&CheckConstraintValidates);
        assert!(findings.is_empty());
    }
}
