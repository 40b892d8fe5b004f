//! `enforce-before-backfill`: NOT NULL, a validated constraint or a unique index on a column
//! that the same deploy adds or backfills. N-1 does not write the new column (or keeps
//! writing old-style values), so enforcing the rule while it still runs breaks its writes,
//! and a backfill that missed rows fails the deploy half-way. This is about the deploy, not
//! statement order: enforcing in a later migration of the same deploy is just as early.

use super::as_backfill;
use crate::ir::{Change, ConstraintDef, ConstraintKind, Generated, QualifiedName};
use crate::rules::{ChangeRef, Context, Finding, Rule};
use std::collections::BTreeMap;

pub struct EnforceBeforeBackfill;

/// Columns of N-1's tables that the deploy adds or backfills.
type Fresh = BTreeMap<(QualifiedName, String), Touched>;

#[derive(Debug, Clone, Copy, Default)]
struct Touched {
    added: bool,
    backfilled: bool,
    /// Added with a sequence or identity: every row, N-1's included, gets its own value.
    fills_itself: bool,
    /// Added nullable without a default: every row holds NULL until a backfill.
    starts_null: bool,
}

/// A statement that makes the database enforce a rule on existing rows.
struct Enforcement<'c> {
    table: &'c QualifiedName,
    /// "sets NOT NULL", "validates constraint users_email_nn", ...
    what: String,
    columns: Vec<String>,
    /// A validating CHECK or foreign key checks the rows as they are: on a column the deploy
    /// only adds, they all hold NULL (or one default) and pass. It matters once backfilled.
    backfilled_only: bool,
    /// A unique index or constraint: NULLs never collide, so a column that only holds NULLs
    /// passes it.
    unique: bool,
}

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
            let Some(enforcement) = enforcement(ctx, change.change) else {
                continue;
            };
            let table = enforcement.table;
            let hit = enforcement.columns.iter().find_map(|column| {
                let touched = fresh.get(&(table.clone(), column.clone()))?;
                let untouched_since_added = touched.added && !touched.backfilled;
                if untouched_since_added
                    && (touched.fills_itself || (enforcement.unique && touched.starts_null))
                {
                    return None;
                }
                match (touched.added, touched.backfilled) {
                    (_, true) if enforcement.backfilled_only => Some((column, "backfills")),
                    _ if enforcement.backfilled_only => None,
                    (true, _) => Some((column, "adds")),
                    (false, _) => Some((column, "backfills")),
                }
            });
            if let Some((column, what)) = hit {
                findings.push(self.finding(&change, table, column, what, &enforcement.what));
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
        let consequence = if what == "adds" {
            "N-1 does not write the column yet, so the rows it writes during the rollout may \
             break the rule"
        } else {
            "N-1 may still write rows the backfill does not cover"
        };
        let message = format!(
            "{enforcement} on {object}, which this same deploy {what}: {consequence}, and any \
             row the backfill missed fails this statement; enforce it in a later deploy"
        );
        let mut finding = change.at.finding(self.id(), message);
        finding.object = Some(object);
        finding
    }
}

fn fresh_columns(ctx: &Context<'_>) -> Fresh {
    let rebuilds = ctx.rebuilds();
    let added = ctx.added_columns();
    let mut fresh: Fresh = Fresh::new();
    for change in ctx.changes() {
        let Change::AddColumn { table, column, .. } = change.change else {
            continue;
        };
        let key = (table.clone(), column.name.clone());
        if !added.contains(&key) {
            continue;
        }
        let fills_itself = matches!(column.generated, Generated::Serial | Generated::Identity)
            || column.default.as_ref().is_some_and(|d| {
                d.sql
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("nextval(")
            });
        let starts_null =
            column.nullable && column.default.is_none() && column.generated == Generated::No;
        fresh.insert(
            key,
            Touched {
                added: true,
                backfilled: false,
                fills_itself,
                starts_null,
            },
        );
    }
    for change in ctx.changes() {
        if let Some(backfill) = as_backfill(ctx, &rebuilds, &change) {
            for column in backfill.columns {
                let key = (backfill.table.clone(), column.clone());
                fresh.entry(key).or_default().backfilled = true;
            }
        }
    }
    fresh
}

/// What the change enforces, on which table and columns.
fn enforcement<'c>(ctx: &Context<'_>, change: &'c Change) -> Option<Enforcement<'c>> {
    let mut unique = false;
    let (table, what, columns, backfilled_only) = match change {
        Change::SetNotNull { table, column } => (
            table,
            "sets NOT NULL".to_string(),
            vec![column.clone()],
            false,
        ),
        Change::ValidateConstraint { table, name } => {
            let columns = constraint_columns(ctx, table, name);
            (
                table,
                format!("validates constraint {name}"),
                columns,
                false,
            )
        }
        Change::AddConstraint { table, constraint }
            if !constraint.not_valid && constraint.using_index.is_none() =>
        {
            let builds_unique_index = matches!(
                constraint.kind,
                ConstraintKind::Unique | ConstraintKind::PrimaryKey
            );
            // A primary key is also NOT NULL: NULLs do not pass it.
            unique = constraint.kind == ConstraintKind::Unique;
            let what = format!("adds a validated {}", kind_name(&constraint.kind));
            let columns = def_columns(ctx, table, constraint);
            (table, what, columns, !builds_unique_index)
        }
        Change::CreateIndex(index) if index.unique => {
            unique = true;
            (
                &index.table,
                "builds a unique index".to_string(),
                index.columns.clone(),
                false,
            )
        }
        _ => return None,
    };
    Some(Enforcement {
        table,
        what,
        columns,
        backfilled_only,
        unique,
    })
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
    fn a_validating_foreign_key_on_a_column_only_added_is_quiet() {
        let to_teams = ConstraintKind::ForeignKey {
            references: qn("teams"),
            ref_columns: vec!["id".to_string()],
        };
        let added_only = base().migration(vec![
            add_column("users", col("team_id", "bigint")),
            add_constraint(
                "users",
                constraint_def(to_teams.clone(), &["team_id"], false),
            ),
        ]);
        assert!(added_only.findings(&EnforceBeforeBackfill).is_empty());
        let backfilled = base().migration(vec![
            add_column("users", col("team_id", "bigint")),
            update("users", &["team_id"], true),
            add_constraint("users", constraint_def(to_teams, &["team_id"], false)),
        ]);
        let findings = backfilled.findings(&EnforceBeforeBackfill);
        assert_eq!(findings.len(), 1);
        assert!(findings[0]
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
