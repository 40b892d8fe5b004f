//! `set-not-null-scan`: `ALTER COLUMN ... SET NOT NULL` scans the whole table under an
//! ACCESS EXCLUSIVE lock to prove there are no nulls. From Postgres 12 a validated
//! `CHECK (col IS NOT NULL)` lets it skip the scan; before 12 it always scans.

use super::{holds_rows, is_postgres};
use crate::ir::{Change, ConstraintKind, QualifiedName};
use crate::rules::{ChangeRef, Context, Finding, Rule};
use std::collections::BTreeMap;

pub struct SetNotNullScan;

const ID: &str = "set-not-null-scan";

/// Postgres 12 uses a validated `CHECK (col IS NOT NULL)` to skip SET NOT NULL's scan.
const CHECK_SKIPS_SCAN_SINCE: u32 = 12;

impl Rule for SetNotNullScan {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        if !is_postgres(ctx) {
            return;
        }
        for change_ref in ctx.changes() {
            let Change::SetNotNull { table, column } = change_ref.change else {
                continue;
            };
            if !holds_rows(ctx, &change_ref.at, table) || already_not_null(ctx, table, column) {
                continue;
            }
            let pg_version = ctx.settings.pg_version;
            let advice = if pg_version < CHECK_SKIPS_SCAN_SINCE {
                format!(
                    "before Postgres 12 (pg_version = {pg_version}) it always scans; keep a \
                     validated CHECK ({column} IS NOT NULL) instead, or upgrade"
                )
            } else if has_validated_not_null_check(ctx, &change_ref, table, column) {
                continue;
            } else {
                format!(
                    "no validated CHECK ({column} IS NOT NULL) exists that would let Postgres \
                     skip the scan"
                )
            };
            let object = format!("{table}.{column}");
            let message = format!(
                "sets {object} NOT NULL: Postgres scans all of {table} for nulls while holding \
                 an ACCESS EXCLUSIVE lock, so every read and write of it (N-1's included) \
                 waits until the scan ends; {advice}"
            );
            let mut finding = change_ref.at.finding(ID, message);
            finding.object = Some(object);
            findings.push(finding);
        }
    }
}

/// True when N-1's column is already NOT NULL (SET NOT NULL is then a no-op).
fn already_not_null(ctx: &Context<'_>, table: &QualifiedName, column: &str) -> bool {
    ctx.before
        .column(table, column)
        .is_some_and(|found| !found.nullable)
}

/// True when, just before `at`, `table` has a validated CHECK that proves `column` is not
/// null: one in N-1's schema, or one the deploy added and validated earlier.
fn has_validated_not_null_check(
    ctx: &Context<'_>,
    at: &ChangeRef<'_>,
    table: &QualifiedName,
    column: &str,
) -> bool {
    // Check constraints of the table by name: (expression, validated).
    let mut checks: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for constraint in ctx.before.table(table).map_or(&[][..], |t| &t.constraints) {
        if let ConstraintKind::Check { expr } = &constraint.kind {
            checks.insert(
                constraint.name.clone(),
                (expr.clone(), constraint.validated),
            );
        }
    }
    for earlier in ctx.changes() {
        if std::ptr::eq(earlier.change, at.change) {
            break;
        }
        match earlier.change {
            Change::AddConstraint {
                table: changed,
                constraint,
            } if changed == table => {
                if let (ConstraintKind::Check { expr }, Some(name)) =
                    (&constraint.kind, &constraint.name)
                {
                    checks.insert(name.clone(), (expr.clone(), !constraint.not_valid));
                }
            }
            Change::ValidateConstraint {
                table: changed,
                name,
            } if changed == table => {
                if let Some((_, validated)) = checks.get_mut(name) {
                    *validated = true;
                }
            }
            Change::DropConstraint {
                table: changed,
                name,
                ..
            } if changed == table => {
                checks.remove(name);
            }
            _ => {}
        }
    }
    checks
        .values()
        .any(|(expr, validated)| *validated && proves_not_null(expr, column))
}

/// True when the check expression is `column IS NOT NULL`, alone or as one term of a
/// top-level AND (Postgres proves NOT NULL from either).
fn proves_not_null(expr: &str, column: &str) -> bool {
    top_level_and_terms(expr).iter().any(|term| {
        let words: Vec<String> = term.split_whitespace().map(fold_word).collect();
        words == [column, "is", "not", "null"]
    })
}

/// The terms of a top-level `AND`, each without enclosing parentheses.
fn top_level_and_terms(expr: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for word in strip_parens(expr)
        .replace('(', " ( ")
        .replace(')', " ) ")
        .split_whitespace()
    {
        match word {
            "(" => depth += 1,
            ")" => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 && word.eq_ignore_ascii_case("and") {
            terms.push(strip_parens(&current).to_string());
            current.clear();
        } else {
            current.push(' ');
            current.push_str(word);
        }
    }
    terms.push(strip_parens(&current).to_string());
    terms
}

/// Removes whitespace and parentheses that enclose the whole expression.
fn strip_parens(expr: &str) -> &str {
    let mut expr = expr.trim();
    while let Some(inner) = expr.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
        if !balanced(inner) {
            break;
        }
        expr = inner.trim();
    }
    expr
}

fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// Folds an identifier or keyword as Postgres does: `"Email"` keeps its case, `Email` reads
/// `email`.
fn fold_word(word: &str) -> String {
    match word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        Some(quoted) => quoted.to_string(),
        None => word.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;

    #[test]
    fn fires_without_a_validated_check() {
        let findings = Deploy::postgres()
            .wrapped(vec![vec![set_not_null(users(), "email")]])
            .run(&SetNotNullScan);
        assert_eq!(rules(&findings), [ID]);
        assert_eq!(findings[0].object.as_deref(), Some("public.users.email"));
    }

    #[test]
    fn a_validated_check_in_the_base_skips_the_scan_from_postgres_12() {
        let deploy = |version| {
            Deploy::postgres()
                .pg_version(version)
                .with_check(&users(), "users_email_nn", "(email IS NOT NULL)", true)
                .wrapped(vec![vec![set_not_null(users(), "email")]])
        };
        assert!(deploy(12).run(&SetNotNullScan).is_empty());
        let old = deploy(11).run(&SetNotNullScan);
        assert_eq!(rules(&old), [ID]);
        assert!(old[0].message.contains("before Postgres 12"));
    }

    #[test]
    fn a_check_not_yet_validated_does_not_count() {
        let findings = Deploy::postgres()
            .with_check(&users(), "users_email_nn", "email IS NOT NULL", false)
            .wrapped(vec![vec![set_not_null(users(), "email")]])
            .run(&SetNotNullScan);
        assert_eq!(rules(&findings), [ID]);
    }

    #[test]
    fn a_check_added_and_validated_earlier_in_the_deploy_counts() {
        let findings = Deploy::postgres()
            .autocommit(vec![
                vec![add_constraint(
                    users(),
                    "nn",
                    check("email IS NOT NULL"),
                    true,
                )],
                vec![validate(users(), "nn")],
                vec![set_not_null(users(), "email")],
            ])
            .run(&SetNotNullScan);
        assert!(findings.is_empty());

        let dropped_first = Deploy::postgres()
            .autocommit(vec![
                vec![add_constraint(
                    users(),
                    "nn",
                    check("email IS NOT NULL"),
                    false,
                )],
                vec![Change::DropConstraint {
                    table: users(),
                    name: "nn".into(),
                    if_exists: false,
                }],
                vec![set_not_null(users(), "email")],
            ])
            .run(&SetNotNullScan);
        assert_eq!(rules(&dropped_first), [ID]);
    }

    #[test]
    fn a_new_table_or_an_already_not_null_column_is_exempt() {
        let findings = Deploy::postgres()
            .with_not_null(&users(), "email")
            .wrapped(vec![
                vec![create_table(invoices())],
                vec![set_not_null(invoices(), "id")],
                vec![set_not_null(users(), "email")],
            ])
            .run(&SetNotNullScan);
        assert!(findings.is_empty());
    }

    #[test]
    fn reads_not_null_checks() {
        assert!(proves_not_null("email IS NOT NULL", "email"));
        assert!(proves_not_null("((Email is not null))", "email"));
        assert!(proves_not_null(
            "(amount > 0) AND (email IS NOT NULL)",
            "email"
        ));
        assert!(proves_not_null("\"Email\" IS NOT NULL", "Email"));
        assert!(!proves_not_null(
            "email IS NOT NULL OR name IS NOT NULL",
            "email"
        ));
        assert!(!proves_not_null("name IS NOT NULL", "email"));
        assert!(!proves_not_null("(a > 0) AND (b > 0)", "email"));
    }
}
