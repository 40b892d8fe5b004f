//! `add-unique-constraint`: a UNIQUE (or PRIMARY KEY) constraint, or a unique index, on
//! existing columns of a table N-1 writes. N-1 may insert duplicates (it never had to avoid
//! them), and those INSERTs now fail; building it also fails if duplicates exist already.

use super::{constraint_object, restricts_n1_writes};
use crate::ir::{Change, ConstraintKind, QualifiedName};
use crate::rules::{ChangeRef, Context, Finding, Rule};
use std::collections::BTreeSet;

pub struct AddUniqueConstraint;

impl Rule for AddUniqueConstraint {
    fn id(&self) -> &'static str {
        "add-unique-constraint"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let added = ctx.added_columns();
        for change in ctx.changes() {
            match change.change {
                Change::AddConstraint { table, constraint } => {
                    let what = match constraint.kind {
                        ConstraintKind::Unique => "a UNIQUE constraint",
                        ConstraintKind::PrimaryKey => "a PRIMARY KEY",
                        _ => continue,
                    };
                    // USING INDEX promotes a unique index built earlier: the index already
                    // restricted N-1's writes (and was reported when it was created).
                    if constraint.using_index.is_some()
                        || !new_restriction(ctx, added, table, &constraint.columns)
                    {
                        continue;
                    }
                    let object = constraint_object(table, constraint.name.as_deref());
                    findings.push(self.finding(&change, table, &constraint.columns, what, object));
                }
                Change::CreateIndex(index) if index.unique => {
                    // N-1 never writes a (materialized) view: its unique index is for
                    // `REFRESH ... CONCURRENTLY`, not a constraint N-1 can trip on.
                    if ctx.before.views.contains_key(&index.table)
                        || !new_restriction(ctx, added, &index.table, &index.columns)
                    {
                        continue;
                    }
                    let object = match &index.name {
                        Some(name) => QualifiedName::new(&index.table.schema, name).to_string(),
                        None => index.table.to_string(),
                    };
                    let what = "a unique index";
                    findings.push(self.finding(
                        &change,
                        &index.table,
                        &index.columns,
                        what,
                        object,
                    ));
                }
                _ => {}
            }
        }
    }
}

/// True when uniqueness on `columns` restricts N-1's writes and N-1's schema did not
/// already enforce it: a unique index or constraint on some of these columns (uniqueness of
/// a subset implies uniqueness of the whole) leaves N-1 nothing new to trip on.
fn new_restriction(
    ctx: &Context<'_>,
    added: &BTreeSet<(QualifiedName, String)>,
    table: &QualifiedName,
    columns: &[String],
) -> bool {
    restricts_n1_writes(ctx, added, table, columns) && !already_unique(ctx, table, columns)
}

fn already_unique(ctx: &Context<'_>, table: &QualifiedName, columns: &[String]) -> bool {
    let Some(existing) = ctx.before.table(table) else {
        return false;
    };
    let within =
        |subset: &[String]| !subset.is_empty() && subset.iter().all(|c| columns.contains(c));
    let by_index = existing
        .indexes
        .iter()
        .any(|index| index.unique && !index.partial && within(&index.columns));
    let by_constraint = existing.constraints.iter().any(|constraint| {
        matches!(
            constraint.kind,
            ConstraintKind::Unique | ConstraintKind::PrimaryKey
        ) && within(&constraint.columns)
    });
    by_index || by_constraint
}

impl AddUniqueConstraint {
    fn finding(
        &self,
        change: &ChangeRef<'_>,
        table: &QualifiedName,
        columns: &[String],
        what: &str,
        object: String,
    ) -> Finding {
        let message = format!(
            "adds {what} on {table} ({}); N-1 never had to avoid duplicates there, and its \
             INSERTs and UPDATEs that write one now fail",
            columns.join(", ")
        );
        let mut finding = change.at.finding(self.id(), message);
        finding.object = Some(object);
        finding
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn base() -> Deploy {
        Deploy::new().table("users", &[col("id", "bigint"), col("email", "text")])
    }

    #[test]
    fn fires_on_a_unique_constraint_and_a_unique_index() {
        let deploy = base().migration(vec![
            add_constraint(
                "users",
                constraint_def(ConstraintKind::Unique, &["email"], false),
            ),
            unique_index("users", &["email"]),
        ]);
        let findings = deploy.findings(&AddUniqueConstraint);
        assert_eq!(findings.len(), 2);
        assert!(findings[0]
            .message
            .contains("UNIQUE constraint on public.users (email)"));
        assert!(findings[1]
            .message
            .contains("unique index on public.users (email)"));
        assert_eq!(
            findings[1].object.as_deref(),
            Some("public.users_email_key")
        );
    }

    #[test]
    fn quiet_when_n1_already_had_uniqueness_on_those_columns() {
        let deploy = base()
            .edit_table("users", |users| {
                users.indexes.push(crate::schema::Index {
                    name: "users_email_idx".to_string(),
                    columns: vec!["email".to_string()],
                    unique: true,
                    partial: false,
                    created_by: "000".to_string(),
                });
            })
            .migration(vec![
                add_constraint(
                    "users",
                    constraint_def(ConstraintKind::Unique, &["email"], false),
                ),
                unique_index("users", &["id", "email"]),
            ]);
        assert!(deploy.findings(&AddUniqueConstraint).is_empty());
    }

    #[test]
    fn quiet_on_new_tables_new_columns_and_using_index() {
        let mut promoted = constraint_def(ConstraintKind::Unique, &[], false);
        promoted.using_index = Some("users_email_key".to_string());
        let deploy = base().migration(vec![
            create_table("teams", &[col("slug", "text")]),
            unique_index("teams", &["slug"]),
            add_column("users", col("handle", "text")),
            unique_index("users", &["handle"]),
            add_constraint("users", promoted),
        ]);
        assert!(deploy.findings(&AddUniqueConstraint).is_empty());
    }
}
