//! `enforce-before-backfill`: NOT NULL, a validated constraint or a unique index on a column
//! that the same deploy adds or backfills. N-1 does not write the new column (or keeps
//! writing old-style values), so enforcing the rule while it still runs breaks its writes,
//! and a backfill that missed rows fails the deploy half-way. This is about the deploy, not
//! statement order: enforcing in a later migration of the same deploy is just as early.

use super::as_backfill;
use crate::ir::{Change, ConstraintDef, ConstraintKind, QualifiedName};
use crate::rules::compat::{added_columns, Rebuilds};
use crate::rules::{ChangeRef, Context, Finding, Rule};
use std::collections::BTreeMap;

pub struct EnforceBeforeBackfill;

/// Columns of N-1's tables that the deploy adds or backfills, with what it does to them.
type Fresh = BTreeMap<(QualifiedName, String), &'static str>;

impl Rule for EnforceBeforeBackfill {
    fn id(&self) -> &'static str {
        "enforce-before-backfill"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let fresh = fresh_columns(ctx);
        if fresh.is_empty() {
            return;
        }
        for change in ctx.changes() {
            let Some((table, enforcement, columns)) = enforcement(ctx, change.change) else {
                continue;
            };
            let hit = columns.iter().find_map(|c| {
                fresh
                    .get(&(table.clone(), c.clone()))
                    .map(|what| (c, *what))
            });
            if let Some((column, what)) = hit {
                findings.push(self.finding(&change, table, column, what, &enforcement));
            }
        }
    }
}

impl EnforceBeforeBackfill {
    fn finding(
        &self,
        change: &ChangeRef<'_>,
        table: &QualifiedName,
        column: &str,
        what: &str,
        enforcement: &str,
    ) -> Finding {
        let object = format!("{table}.{column}");
        let message = format!(
            "{enforcement} on {object}, which this same deploy {what}: N-1 does not write it \
             the new way, so its writes fail, and rows the backfill missed fail the deploy; \
             enforce it in a later deploy"
        );
        let mut finding = change.at.finding(self.id(), message);
        finding.object = Some(object);
        finding
    }
}

fn fresh_columns(ctx: &Context<'_>) -> Fresh {
    let rebuilds = Rebuilds::of(ctx);
    let mut fresh: Fresh = added_columns(ctx)
        .into_iter()
        .map(|column| (column, "adds"))
        .collect();
    for change in ctx.changes() {
        if let Some(backfill) = as_backfill(ctx, &rebuilds, &change) {
            for column in backfill.columns {
                let key = (backfill.table.clone(), column.clone());
                fresh.entry(key).or_insert("backfills");
            }
        }
    }
    fresh
}

/// What the change enforces, on which table and columns.
fn enforcement<'c>(
    ctx: &Context<'_>,
    change: &'c Change,
) -> Option<(&'c QualifiedName, String, Vec<String>)> {
    match change {
        Change::SetNotNull { table, column } => {
            Some((table, "sets NOT NULL".to_string(), vec![column.clone()]))
        }
        Change::ValidateConstraint { table, name } => {
            let columns = constraint_columns(ctx, table, name);
            Some((table, format!("validates constraint {name}"), columns))
        }
        Change::AddConstraint { table, constraint }
            if !constraint.not_valid && constraint.using_index.is_none() =>
        {
            let columns = def_columns(ctx, table, constraint);
            Some((
                table,
                format!("adds a validated {}", kind_name(&constraint.kind)),
                columns,
            ))
        }
        Change::CreateIndex(index) if index.unique => Some((
            &index.table,
            "builds a unique index".to_string(),
            index.columns.clone(),
        )),
        _ => None,
    }
}

fn kind_name(kind: &ConstraintKind) -> &'static str {
    match kind {
        ConstraintKind::PrimaryKey => "primary key",
        ConstraintKind::Unique => "unique constraint",
        ConstraintKind::Check { .. } => "check constraint",
        ConstraintKind::ForeignKey { .. } => "foreign key",
        ConstraintKind::Exclusion => "exclusion constraint",
    }
}

/// The columns of a constraint being validated: as the deploy added it, else as the schema
/// records it.
fn constraint_columns(ctx: &Context<'_>, table: &QualifiedName, name: &str) -> Vec<String> {
    let added = ctx.changes().find_map(|change| match change.change {
        Change::AddConstraint {
            table: t,
            constraint,
        } if t == table && constraint.name.as_deref() == Some(name) => {
            Some(def_columns(ctx, table, constraint))
        }
        _ => None,
    });
    added
        .or_else(|| {
            [ctx.after, ctx.before]
                .iter()
                .find_map(|catalog| catalog.table(table)?.constraint(name))
                .map(|c| c.columns.clone())
        })
        .unwrap_or_default()
}

/// A constraint's columns; for a check without a column list, the table's columns its
/// expression names.
fn def_columns(
    ctx: &Context<'_>,
    table: &QualifiedName,
    constraint: &ConstraintDef,
) -> Vec<String> {
    if !constraint.columns.is_empty() {
        return constraint.columns.clone();
    }
    let ConstraintKind::Check { expr } = &constraint.kind else {
        return Vec::new();
    };
    let words: Vec<String> = expr
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map(str::to_lowercase)
        .collect();
    let Some(after) = ctx.after.table(table) else {
        return words;
    };
    after
        .columns
        .iter()
        .filter(|c| words.contains(&c.name.to_lowercase()))
        .map(|c| c.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::super::compat::testing::*;
    use super::*;

    fn base() -> Deploy {
        Deploy::new().table("users", &[col("id", "bigint"), col("email", "text")])
    }

    #[test]
    fn fires_on_not_null_after_adding_in_the_same_deploy() {
        let findings = base()
            .migration(vec![add_column("users", col("tenant_id", "bigint"))])
            .migration(vec![update("users", &["tenant_id"], true)])
            .migration(vec![set_not_null("users", "tenant_id")])
            .findings(&EnforceBeforeBackfill);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].migration, "103");
        assert!(findings[0]
            .message
            .starts_with("sets NOT NULL on public.users.tenant_id"));
        assert!(findings[0].message.contains("deploy adds"));
    }

    #[test]
    fn fires_on_validate_and_unique_index_of_a_backfilled_column() {
        let mut check_def = constraint_def(
            ConstraintKind::Check {
                expr: "email IS NOT NULL".to_string(),
            },
            &[],
            true,
        );
        check_def.name = Some("users_email_nn".to_string());
        let deploy = base().migration(vec![
            update("users", &["email"], true),
            add_constraint("users", check_def),
            stmt(vec![Change::ValidateConstraint {
                table: qn("users"),
                name: "users_email_nn".to_string(),
            }]),
            unique_index("users", &["email"]),
        ]);
        let findings = deploy.findings(&EnforceBeforeBackfill);
        assert_eq!(findings.len(), 2, "{findings:#?}");
        assert!(findings[0]
            .message
            .starts_with("validates constraint users_email_nn"));
        assert!(findings[1]
            .message
            .contains("which this same deploy backfills"));
    }

    #[test]
    fn quiet_when_the_column_was_backfilled_by_an_earlier_deploy() {
        let deploy = base().migration(vec![
            set_not_null("users", "email"),
            unique_index("users", &["email"]),
        ]);
        assert!(deploy.findings(&EnforceBeforeBackfill).is_empty());
    }

    #[test]
    fn quiet_on_a_table_created_in_the_deploy() {
        let deploy = base().migration(vec![
            create_table("teams", &[col("id", "bigint")]),
            add_column("teams", col("slug", "text")),
            update("teams", &["slug"], false),
            set_not_null("teams", "slug"),
        ]);
        assert!(deploy.findings(&EnforceBeforeBackfill).is_empty());
    }
}
