//! `column-type-rewrite`: `ALTER COLUMN ... TYPE` to a type that is not binary-compatible
//! rewrites the whole table and rebuilds its indexes under an ACCESS EXCLUSIVE lock.

use super::{column_type_before, holds_rows, is_postgres};
use crate::ir::types::{canonical_type, is_binary_compatible};
use crate::ir::Change;
use crate::rules::{Context, Finding, Rule};

pub struct ColumnTypeRewrite;

const ID: &str = "column-type-rewrite";

impl Rule for ColumnTypeRewrite {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        if !is_postgres(ctx) {
            return;
        }
        for change_ref in ctx.changes() {
            let Change::AlterColumnType {
                table,
                column,
                data_type,
                using,
            } = change_ref.change
            else {
                continue;
            };
            if !holds_rows(ctx, &change_ref.at, table) {
                continue;
            }
            // Without the old type we cannot tell; stay quiet rather than guess.
            let Some(old_type) = column_type_before(ctx, change_ref.change, table, column) else {
                continue;
            };
            let converts = using
                .as_deref()
                .is_some_and(|using| !is_plain_column(using, column));
            if is_binary_compatible(&old_type, data_type) && !converts {
                continue;
            }
            let object = format!("{table}.{column}");
            let timestamp_to_tz = canonical_type(&old_type) == "timestamp without time zone"
                && canonical_type(data_type) == "timestamp with time zone";
            let message = if timestamp_to_tz && !converts {
                // Postgres 12+ skips the rewrite when the session's TimeZone is UTC: the
                // stored values are then already the instants it means.
                format!(
                    "changes {object} from {old_type} to {data_type}: from Postgres 12 this \
                     skips the table rewrite only when the migration's session runs with \
                     TimeZone = 'UTC'; otherwise Postgres rewrites all of {table} under an \
                     ACCESS EXCLUSIVE lock, and every read and write of it (N-1's included) \
                     waits until the rewrite ends"
                )
            } else {
                format!(
                    "changes {object} from {old_type} to {data_type}, which is not \
                 binary-compatible: Postgres rewrites all of {table} and rebuilds its indexes \
                 while holding an ACCESS EXCLUSIVE lock, so every read and write of it (N-1's \
                 included) waits until the rewrite ends"
                )
            };
            let mut finding = change_ref.at.finding(ID, message);
            finding.object = Some(object);
            findings.push(finding);
        }
    }
}

/// True when a `USING` expression only reads the column, maybe with a cast
/// (`email`, `email::text`): Postgres then needs no rewrite for a binary-compatible type.
fn is_plain_column(using: &str, column: &str) -> bool {
    let folded = using.trim().to_ascii_lowercase();
    let value = folded.split("::").next().unwrap_or_default().trim();
    value == column || value.trim_matches('"') == column
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;

    fn run(changes: Vec<Vec<Change>>) -> Vec<Finding> {
        Deploy::postgres().wrapped(changes).run(&ColumnTypeRewrite)
    }

    #[test]
    fn fires_on_a_rewriting_type_change() {
        let findings = run(vec![vec![alter_type(orders(), "amount", "bigint", None)]]);
        assert_eq!(rules(&findings), [ID]);
        assert_eq!(findings[0].object.as_deref(), Some("public.orders.amount"));
        assert!(findings[0].message.contains("from integer to bigint"));
    }

    #[test]
    fn binary_compatible_changes_are_quiet() {
        let widen = run(vec![vec![alter_type(
            users(),
            "name",
            "character varying(200)",
            None,
        )]]);
        assert!(widen.is_empty());
        let to_text = run(vec![vec![alter_type(
            users(),
            "name",
            "text",
            Some("name::text"),
        )]]);
        assert!(to_text.is_empty());
    }

    #[test]
    fn a_converting_using_rewrites_even_a_compatible_type() {
        let findings = run(vec![vec![alter_type(
            users(),
            "name",
            "text",
            Some("upper(name)"),
        )]]);
        assert_eq!(rules(&findings), [ID]);
    }

    #[test]
    fn follows_types_changed_earlier_in_the_deploy() {
        let findings = run(vec![
            vec![add_column(
                users(),
                column("nickname", "character varying(10)"),
            )],
            vec![alter_type(
                users(),
                "nickname",
                "integer",
                Some("nickname::integer"),
            )],
        ]);
        assert_eq!(rules(&findings), [ID]);
        assert!(findings[0].message.contains("character varying(10)"));
    }

    #[test]
    fn a_new_table_is_exempt() {
        let findings = run(vec![
            vec![create_table(invoices())],
            vec![alter_type(invoices(), "id", "integer", None)],
        ]);
        assert!(findings.is_empty());
    }
}
