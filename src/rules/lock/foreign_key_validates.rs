//! `foreign-key-validates`: adding a foreign key checks every existing row while holding a
//! SHARE ROW EXCLUSIVE lock on both tables, so writes to both stop until the scan ends.

use super::{validating_adds, ValidatingAdd};
use crate::ir::{Change, ConstraintKind, Generated};
use crate::rules::{Context, Finding, Rule};

pub struct ForeignKeyValidates;

const ID: &str = "foreign-key-validates";

impl Rule for ForeignKeyValidates {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let is_foreign_key =
            |kind: &ConstraintKind| matches!(kind, ConstraintKind::ForeignKey { .. });
        for add in validating_adds(ctx, is_foreign_key) {
            let ConstraintKind::ForeignKey { references, .. } = &add.constraint.kind else {
                continue;
            };
            if every_value_null(&add) {
                continue;
            }
            let (table, name) = (add.table, &add.name);
            let what = if add.in_add_transaction {
                format!("validates foreign key {name} in the same transaction as its NOT VALID add")
            } else {
                format!("adds foreign key {name} without NOT VALID")
            };
            let message = format!(
                "{what} on {table}: Postgres checks every row against {references} while \
                 holding a SHARE ROW EXCLUSIVE lock on both tables, so every write to {table} \
                 and {references} (N-1's included) waits until the scan ends"
            );
            let mut finding = add.at.finding(ID, message);
            finding.object = Some(format!("{table}.{name}"));
            findings.push(finding);
        }
    }
}

/// True when the foreign key's columns are added by the same statement without a default
/// (`ADD COLUMN user_id bigint REFERENCES users`): every value is NULL, so Postgres has no
/// row to check and does not scan.
fn every_value_null(add: &ValidatingAdd<'_>) -> bool {
    let added_null = |name: &String| {
        add.at.statement.changes.iter().any(|change| match change {
            Change::AddColumn { table, column, .. } => {
                table == add.table
                    && column.name == *name
                    && column.default.is_none()
                    && column.generated == Generated::No
            }
            _ => false,
        })
    };
    !add.in_add_transaction && add.constraint.columns.iter().all(added_null)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;

    const FK: &str = "orders_user_id_fkey";

    #[test]
    fn fires_on_a_validating_add_to_an_existing_table() {
        let findings = Deploy::postgres()
            .wrapped(vec![vec![add_constraint(
                orders(),
                FK,
                foreign_key(),
                false,
            )]])
            .run(&ForeignKeyValidates);
        assert_eq!(rules(&findings), [ID]);
        assert_eq!(
            findings[0].object.as_deref(),
            Some("public.orders.orders_user_id_fkey")
        );
        assert!(
            findings[0].message.contains("public.users"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn not_valid_then_validate_in_another_transaction_is_quiet() {
        let in_autocommit = Deploy::postgres()
            .autocommit(vec![
                vec![add_constraint(orders(), FK, foreign_key(), true)],
                vec![validate(orders(), FK)],
            ])
            .run(&ForeignKeyValidates);
        assert!(in_autocommit.is_empty());

        let in_two_migrations = Deploy::postgres()
            .wrapped(vec![vec![add_constraint(
                orders(),
                FK,
                foreign_key(),
                true,
            )]])
            .wrapped(vec![vec![validate(orders(), FK)]])
            .run(&ForeignKeyValidates);
        assert!(in_two_migrations.is_empty());

        let split_by_commit = Deploy::postgres()
            .autocommit(vec![
                vec![begin()],
                vec![add_constraint(orders(), FK, foreign_key(), true)],
                vec![commit()],
                vec![validate(orders(), FK)],
            ])
            .run(&ForeignKeyValidates);
        assert!(split_by_commit.is_empty());
    }

    #[test]
    fn validate_in_the_same_transaction_fires_at_the_validate() {
        let wrapped = Deploy::postgres()
            .wrapped(vec![
                vec![add_constraint(orders(), FK, foreign_key(), true)],
                vec![validate(orders(), FK)],
            ])
            .run(&ForeignKeyValidates);
        assert_eq!(rules(&wrapped), [ID]);
        assert_eq!(wrapped[0].span, 100..110, "points at the VALIDATE");
        assert!(wrapped[0].message.contains("same transaction"));

        let explicit = Deploy::postgres()
            .autocommit(vec![
                vec![begin()],
                vec![add_constraint(orders(), FK, foreign_key(), true)],
                vec![validate(orders(), FK)],
                vec![commit()],
            ])
            .run(&ForeignKeyValidates);
        assert_eq!(rules(&explicit), [ID]);
    }

    #[test]
    fn a_new_table_and_other_dialects_are_exempt() {
        let new_table = Deploy::postgres()
            .wrapped(vec![
                vec![create_table(invoices())],
                vec![add_constraint(invoices(), FK, foreign_key(), false)],
            ])
            .run(&ForeignKeyValidates);
        assert!(new_table.is_empty());

        let sqlite = Deploy::on(crate::dialect::Dialect::Sqlite)
            .wrapped(vec![vec![add_constraint(
                orders(),
                FK,
                foreign_key(),
                false,
            )]])
            .run(&ForeignKeyValidates);
        assert!(sqlite.is_empty());
    }

    #[test]
    fn check_constraints_are_not_its_business() {
        let findings = Deploy::postgres()
            .wrapped(vec![vec![add_constraint(
                orders(),
                "c",
                check("amount > 0"),
                false,
            )]])
            .run(&ForeignKeyValidates);
        assert!(findings.is_empty());
    }
}
