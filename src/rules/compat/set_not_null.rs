//! `set-not-null`: making a column N-1 knows NOT NULL. N-1 may still insert rows without it,
//! and rows it wrote since the last backfill make the statement itself fail.
//!
//! Quiet when the base schema shows the discipline already done: a backfill of the column
//! shipped in an earlier deploy, or a validated `CHECK (col IS NOT NULL)` exists.

use super::{column_object, judge_writes, n1_uses_column, swapped_in, Breaks};
use crate::ir::{Change, ConstraintKind, QualifiedName};
use crate::rules::{Context, Finding, Rule, StatementRef};
use crate::schema::Table;

pub struct SetNotNull;

impl Rule for SetNotNull {
    fn id(&self) -> &'static str {
        "set-not-null"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        for change in ctx.changes() {
            match change.change {
                Change::SetNotNull { table, column } => {
                    self.judge(ctx, &change.at, table, column, How::Alter, findings);
                }
                // A column swapped for a NOT NULL one under its name is set NOT NULL.
                Change::RenameColumn { table, from, to } => {
                    let swapped = swapped_in(&change.at, table, from, to);
                    if swapped.is_some_and(|new| !new.nullable) {
                        self.judge(ctx, &change.at, table, to, How::Swap, findings);
                    }
                }
                _ => {}
            }
        }
        // A rebuild whose new copy declares a nullable column NOT NULL sets it too.
        let rebuilds = ctx.rebuilds();
        for (at, rebuild) in rebuilds.sites() {
            for new in rebuild.columns.iter().filter(|c| !c.nullable) {
                self.judge(ctx, &at, &rebuild.table, &new.name, How::Rebuild, findings);
            }
        }
    }
}

impl SetNotNull {
    fn judge(
        &self,
        ctx: &Context<'_>,
        at: &StatementRef<'_>,
        table: &QualifiedName,
        column: &str,
        how: How,
        findings: &mut Vec<Finding>,
    ) {
        if !n1_uses_column(ctx, table, column)
            || discipline_done(ctx, table, column)
            || filled_by_default(ctx, table, column)
        {
            return;
        }
        let object = column_object(table, column);
        let message = format!(
            "{} while N-1 may still insert rows without it: those INSERTs fail, and NULLs \
             already in the column make this migration fail",
            how.describe(&object)
        );
        let mut finding = at.finding(self.id(), message);
        finding.object = Some(object);
        judge_writes(ctx, &mut finding, table, &[column], Breaks::Omitting);
        findings.push(finding);
    }
}

/// How the statement makes the column NOT NULL.
#[derive(Clone, Copy)]
enum How {
    Alter,
    Swap,
    Rebuild,
}

impl How {
    fn describe(self, object: &str) -> String {
        match self {
            How::Alter => format!("sets {object} NOT NULL"),
            How::Swap => format!("replaces {object} with a NOT NULL column of the same name"),
            How::Rebuild => format!("rebuilds the table with {object} NOT NULL"),
        }
    }
}

/// True when N-1's schema already shows the column is filled: it is NOT NULL already, a
/// backfill of it shipped, or a validated check enforces it.
fn discipline_done(ctx: &Context<'_>, table: &QualifiedName, column: &str) -> bool {
    let Some(before) = ctx.before.table(table) else {
        return false;
    };
    let Some(existing) = before.column(column) else {
        return false;
    };
    !existing.nullable || !existing.backfilled_by.is_empty() || has_not_null_check(before, column)
}

/// True when the column has a default as the deploy leaves it (set before, earlier in the
/// deploy, or in the same ALTER TABLE): N-1's INSERTs that omit it get the default, not a
/// NULL. Existing NULLs still make the statement fail, which `set-not-null-scan` and the
/// backfill discipline cover.
fn filled_by_default(ctx: &Context<'_>, table: &QualifiedName, column: &str) -> bool {
    ctx.after
        .column(table, column)
        .and_then(|column| column.default.as_ref())
        .is_some_and(|default| !default.sql.trim().eq_ignore_ascii_case("null"))
}

fn has_not_null_check(table: &Table, column: &str) -> bool {
    let wanted = format!("{}isnotnull", normalize(column));
    table.constraints.iter().any(|constraint| {
        constraint.validated
            && matches!(&constraint.kind, ConstraintKind::Check { expr } if normalize(expr) == wanted)
    })
}

/// Lower case without whitespace, parentheses or identifier quotes, so `("Email" IS NOT NULL)`
/// and `email is not null` compare equal.
fn normalize(sql: &str) -> String {
    sql.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"' | '`'))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn base() -> Deploy {
        Deploy::new().table("users", &[col("id", "bigint"), col("email", "text")])
    }

    #[test]
    fn fires_on_a_column_n1_knows() {
        let findings = base()
            .migration(vec![set_not_null("users", "email")])
            .findings(&SetNotNull);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].object.as_deref(), Some("public.users.email"));
    }

    #[test]
    fn quiet_after_a_shipped_backfill() {
        let deploy = base()
            .edit_table("users", |users| {
                users.columns[1].backfilled_by.push("007".to_string());
            })
            .migration(vec![set_not_null("users", "email")]);
        assert!(deploy.findings(&SetNotNull).is_empty());
    }

    #[test]
    fn quiet_with_a_validated_not_null_check() {
        let deploy = base()
            .edit_table("users", |users| {
                users
                    .constraints
                    .push(check("users_email_nn", "(\"email\" IS NOT NULL)"));
            })
            .migration(vec![set_not_null("users", "email")]);
        assert!(deploy.findings(&SetNotNull).is_empty());
    }

    #[test]
    fn fires_when_the_check_is_not_validated_or_about_another_column() {
        for (expr, validated) in [("email IS NOT NULL", false), ("id IS NOT NULL", true)] {
            let deploy = base()
                .edit_table("users", |users| {
                    let mut constraint = check("c", expr);
                    constraint.validated = validated;
                    users.constraints.push(constraint);
                })
                .migration(vec![set_not_null("users", "email")]);
            assert_eq!(deploy.findings(&SetNotNull).len(), 1, "{expr}");
        }
    }

    #[test]
    fn a_rebuild_declaring_the_column_not_null_sets_it() {
        let deploy = base().migration(vec![
            create_table(
                "new_users",
                &[col("id", "bigint"), not_null(col("email", "text"))],
            ),
            insert_select("new_users"),
            drop_table("users"),
            rename_table("new_users", "users"),
        ]);
        assert_eq!(deploy.findings(&SetNotNull).len(), 1);
    }

    #[test]
    fn a_column_swapped_for_a_not_null_one_is_set_not_null() {
        let deploy = base().migration(vec![
            add_column(
                "users",
                not_null(with_default(col("email_nn", "text"), "''")),
            ),
            update("users", &["email_nn"], true),
            drop_column("users", "email"),
            stmt(vec![Change::RenameColumn {
                table: qn("users"),
                from: "email_nn".to_string(),
                to: "email".to_string(),
            }]),
        ]);
        let findings = deploy.findings(&SetNotNull);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].span,
            330..360,
            "points at the rename that completes the swap"
        );
    }

    #[test]
    fn quiet_on_a_column_added_in_the_deploy() {
        let deploy = base().migration(vec![
            add_column("users", col("tenant_id", "bigint")),
            set_not_null("users", "tenant_id"),
        ]);
        assert!(deploy.findings(&SetNotNull).is_empty());
    }
}
