//! `drop-default`: dropping the default of a column N-1 relies on. N-1's INSERTs that omit
//! the column fail when it is NOT NULL as the deploy leaves it (an error), or silently store
//! NULL instead of the default when it is nullable (a warning).

use super::{column_object, n1_uses_column};
use crate::ir::{Change, QualifiedName};
use crate::rules::{Context, Finding, Rule, Severity, StatementRef};

pub struct DropDefault;

impl Rule for DropDefault {
    fn id(&self) -> &'static str {
        "drop-default"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        for change in ctx.changes() {
            let Change::DropDefault { table, column } = change.change else {
                continue;
            };
            let Some(old) = ctx.before.column(table, column) else {
                continue;
            };
            let Some(default) = &old.default else {
                continue;
            };
            if !n1_uses_column(ctx, table, column) || set_again(ctx, &change.at, table, column) {
                continue;
            }
            let object = column_object(table, column);
            let mut finding = if ends_not_null(ctx, table, column, old.nullable) {
                change.at.finding(
                    self.id(),
                    format!(
                        "drops the default ({}) of NOT NULL column {object}; N-1's INSERTs \
                         that omit {column} fail with a not-null violation",
                        default.sql
                    ),
                )
            } else {
                let mut finding = change.at.finding(
                    self.id(),
                    format!(
                        "drops the default ({}) of {object}; N-1's INSERTs that omit {column} \
                         now store NULL instead",
                        default.sql
                    ),
                );
                finding.severity = Some(Severity::Warning);
                finding
            };
            finding.object = Some(object);
            findings.push(finding);
        }
    }
}

/// True when the same transaction sets a default on the column again after dropping it: N-1
/// never sees the column without one (the new default is judged on its own, if at all).
fn set_again(
    ctx: &Context<'_>,
    at: &StatementRef<'_>,
    table: &QualifiedName,
    column: &str,
) -> bool {
    ctx.in_same_transaction(at, true).any(|later| {
        matches!(later.change, Change::SetDefault { table: t, column: c, .. } if t == table && c == column)
    })
}

/// NOT NULL as the deploy leaves it (what N-1 inserts into); when the replay lost the
/// column, as it was before.
fn ends_not_null(
    ctx: &Context<'_>,
    table: &QualifiedName,
    column: &str,
    nullable_before: bool,
) -> bool {
    match ctx.after.column(table, column) {
        Some(after) => !after.nullable,
        None => !nullable_before,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn drop_default(table: &str, column: &str) -> crate::sql::Statement {
        stmt(vec![Change::DropDefault {
            table: qn(table),
            column: column.to_string(),
        }])
    }

    fn base() -> Deploy {
        Deploy::new().table(
            "users",
            &[
                col("id", "bigint"),
                with_default(not_null(col("active", "boolean")), "true"),
                with_default(col("locale", "text"), "'en'"),
                col("bio", "text"),
            ],
        )
    }

    #[test]
    fn an_error_on_a_not_null_column() {
        let findings = base()
            .migration(vec![drop_default("users", "active")])
            .findings(&DropDefault);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, None, "the rule's default: error");
        assert!(findings[0].message.contains("not-null violation"));
    }

    #[test]
    fn a_warning_on_a_nullable_column() {
        let findings = base()
            .migration(vec![drop_default("users", "locale")])
            .findings(&DropDefault);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Some(Severity::Warning));
    }

    #[test]
    fn a_warning_when_the_deploy_also_drops_not_null() {
        let deploy = base()
            .migration(vec![drop_default("users", "active")])
            .edit_after(|after| {
                let users = after.tables.get_mut(&qn("users")).unwrap();
                users.columns[1].nullable = true;
            });
        let findings = deploy.findings(&DropDefault);
        assert_eq!(findings[0].severity, Some(Severity::Warning));
    }

    #[test]
    fn quiet_without_a_default_on_a_new_column_or_when_retired() {
        let deploy = base().retired("users.locale").migration(vec![
            drop_default("users", "bio"),
            add_column("users", with_default(col("tz", "text"), "'UTC'")),
            drop_default("users", "tz"),
            drop_default("users", "locale"),
        ]);
        assert!(deploy.findings(&DropDefault).is_empty());
    }
}
