//! Compat rules: changes that break N-1, the previous release still running during the
//! rollout (and again after an image-only rollback, which keeps the new schema).
//!
//! Every compat rule fires only for objects N-1 knows (they exist in `ctx.before`) and that
//! no shipped `[[retire]]` covers. The helpers here hold that shared judgement, and the
//! recognition of a table rebuild (SQLite's create-copy-drop-rename), which is an alteration
//! of the table and not a drop and a rename. The discipline rules use it too: a rebuild's
//! copy step is not a backfill.

pub mod add_check_constraint;
pub mod add_foreign_key;
pub mod add_required_column;
pub mod add_unique_constraint;
pub mod change_column_type;
pub mod change_enum;
pub mod drop_column;
pub mod drop_default;
pub mod drop_not_null;
pub mod drop_table;
pub mod drop_view;
pub mod rename_column;
pub mod rename_table;
pub mod set_not_null;

pub use add_check_constraint::AddCheckConstraint;
pub use add_foreign_key::AddForeignKey;
pub use add_required_column::AddRequiredColumn;
pub use add_unique_constraint::AddUniqueConstraint;
pub use change_column_type::ChangeColumnType;
pub use change_enum::ChangeEnum;
pub use drop_column::DropColumn;
pub use drop_default::DropDefault;
pub use drop_not_null::DropNotNull;
pub use drop_table::DropTable;
pub use drop_view::DropView;
pub use rename_column::RenameColumn;
pub use rename_table::RenameTable;
pub use set_not_null::SetNotNull;

#[cfg(test)]
pub(crate) mod testing;

use super::Context;
use crate::dialect::Dialect;
use crate::ir::{Change, ColumnDef, ConstraintDef, ConstraintKind, QualifiedName};
use crate::project::ParsedMigration;
use crate::rules::StatementRef;
use std::collections::BTreeSet;

/// True when N-1 still uses the table: it existed before the deploy and no shipped
/// `[[retire]]` covers it.
pub(crate) fn n1_uses_table(ctx: &Context<'_>, table: &QualifiedName) -> bool {
    ctx.known_to_n1(table) && !ctx.is_retired(table, None)
}

/// True when N-1 still uses the column: it existed before the deploy and no shipped
/// `[[retire]]` covers it (or its table).
pub(crate) fn n1_uses_column(ctx: &Context<'_>, table: &QualifiedName, column: &str) -> bool {
    ctx.column_known_to_n1(table, column) && !ctx.is_retired(table, Some(column))
}

/// The sentence added to a message when the object is retired only at the head: the
/// retirement must ship in a release before the drop can.
pub(crate) fn retire_hint(
    ctx: &Context<'_>,
    table: &QualifiedName,
    column: Option<&str>,
) -> &'static str {
    if ctx.is_retired_only_at_head(table, column) {
        "; its [[retire]] entry is new in this change: ship the retirement in a release \
         first, then drop it in a later deploy"
    } else {
        ""
    }
}

/// The error N-1 gets for a column that is gone, as the database words it.
pub(crate) fn no_such_column(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "column does not exist",
        Dialect::Mysql => "Unknown column",
        Dialect::Sqlite => "no such column",
    }
}

/// The error N-1 gets for a table or view that is gone, as the database words it.
pub(crate) fn no_such_relation(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "relation does not exist",
        Dialect::Mysql => "Table doesn't exist",
        Dialect::Sqlite => "no such table",
    }
}

/// True when a new constraint or unique index on `columns` of `table` restricts what N-1
/// writes: the table is N-1's and none of the columns is one the deploy adds (N-1 leaves a
/// new column NULL, which passes checks, foreign keys and unique indexes).
pub(crate) fn restricts_n1_writes(
    ctx: &Context<'_>,
    added: &BTreeSet<(QualifiedName, String)>,
    table: &QualifiedName,
    columns: &[String],
) -> bool {
    n1_uses_table(ctx, table)
        && !columns
            .iter()
            .any(|column| added.contains(&(table.clone(), column.clone())))
}

/// True when the constraint added at `at` only puts back one N-1 already had: earlier in the
/// same transaction (which N-1 never sees half done) a constraint of the same kind on the
/// same columns was dropped, under the same name when the new one names itself. Its lock
/// cost is still the lock rules' concern.
pub(crate) fn readds_dropped_constraint(
    ctx: &Context<'_>,
    at: &StatementRef<'_>,
    table: &QualifiedName,
    added: &ConstraintDef,
) -> bool {
    ctx.in_same_transaction(at, false)
        .any(|earlier| match earlier.change {
            Change::DropConstraint { table: t, name, .. } if t == table => ctx
                .before
                .table(table)
                .and_then(|old| old.constraint(name))
                .is_some_and(|old| {
                    // A CHECK's columns are read from its expression by the replay.
                    let is_check = matches!(added.kind, ConstraintKind::Check { .. });
                    same_kind(&old.kind, &added.kind)
                        && (is_check || old.columns == added.columns)
                        && added.name.as_deref().is_none_or(|new| new == name)
                }),
            _ => false,
        })
}

/// Constraint kinds compared as the database would: a CHECK expression's spacing and case
/// do not matter.
fn same_kind(old: &ConstraintKind, new: &ConstraintKind) -> bool {
    match (old, new) {
        (ConstraintKind::Check { expr: a }, ConstraintKind::Check { expr: b }) => {
            let folded = |expr: &str| -> String {
                expr.chars()
                    .filter(|c| !c.is_whitespace())
                    .flat_map(char::to_lowercase)
                    .collect()
            };
            folded(a) == folded(b)
        }
        _ => old == new,
    }
}

/// The object a constraint finding names: `public.users.users_email_key`, or the table when
/// the constraint has no name yet.
pub(crate) fn constraint_object(table: &QualifiedName, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{table}.{name}"),
        None => table.to_string(),
    }
}

/// `public.users.email`.
pub(crate) fn column_object(table: &QualifiedName, column: &str) -> String {
    format!("{table}.{column}")
}

/// A column replaced inside one migration: a new column is added (and usually filled from
/// the old one), the old column is dropped, and the new one is renamed to the old name. N-1
/// keeps finding a column of that name, so it is an alteration of the column, not a drop.
///
/// Returns the new column's definition when the rename at `at` (of `from` to `to` on
/// `table`) completes such a swap.
pub(crate) fn swapped_in<'a>(
    at: &StatementRef<'a>,
    table: &QualifiedName,
    from: &str,
    to: &str,
) -> Option<&'a ColumnDef> {
    let earlier = at.migration.up.statements[..=at.index]
        .iter()
        .flat_map(|statement| &statement.changes);
    let mut added = None;
    let mut dropped = false;
    for change in earlier {
        match change {
            Change::AddColumn {
                table: t, column, ..
            } if t == table && column.name == from => added = Some(column),
            Change::DropColumn {
                table: t, column, ..
            } if t == table && column == to => dropped = true,
            _ => {}
        }
    }
    added.filter(|_| dropped)
}

/// The columns swapped out in the deploy (each with its migration): later in the same
/// migration, a column it adds takes the dropped column's name.
pub(crate) fn swapped_out_columns<'a>(
    ctx: &Context<'a>,
) -> Vec<(&'a ParsedMigration, &'a QualifiedName, &'a str)> {
    ctx.changes()
        .filter_map(|change| match change.change {
            Change::RenameColumn { table, from, to }
                if swapped_in(&change.at, table, from, to).is_some() =>
            {
                Some((change.at.migration, table, to.as_str()))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::rules::rebuilds_in;

    #[test]
    fn recognises_create_copy_drop_rename() {
        let deploy = Deploy::new()
            .table("users", &[col("id", "bigint")])
            .migration(vec![
                create_table("new_users", &[col("id", "bigint")]),
                insert_select("new_users"),
                drop_table("users"),
                rename_table("new_users", "users"),
            ]);
        let rebuilds = rebuilds_in(&deploy.migrations[0], Dialect::Postgres);
        assert_eq!(rebuilds.len(), 1);
        assert_eq!(rebuilds[0].table, qn("users"));
        assert_eq!(rebuilds[0].temps, vec![qn("new_users")]);
        assert_eq!(rebuilds[0].create_statement, 0);
    }

    #[test]
    fn recognises_rename_create_copy_drop() {
        let deploy = Deploy::new()
            .table("users", &[col("id", "bigint")])
            .migration(vec![
                rename_table("users", "users_old"),
                create_table("users", &[col("id", "bigint")]),
                insert_select("users"),
                drop_table("users_old"),
            ]);
        let rebuilds = rebuilds_in(&deploy.migrations[0], Dialect::Postgres);
        assert_eq!(rebuilds.len(), 1);
        assert_eq!(rebuilds[0].table, qn("users"));
        assert_eq!(rebuilds[0].create_statement, 1);
    }

    #[test]
    fn recognises_a_swap_that_keeps_the_old_copy() {
        let deploy = Deploy::new()
            .table("users", &[col("id", "bigint")])
            .migration(vec![
                create_table("users_new", &[col("id", "bigint")]),
                insert_select("users_new"),
                stmt(vec![
                    Change::RenameTable {
                        from: qn("users"),
                        to: qn("users_old"),
                    },
                    Change::RenameTable {
                        from: qn("users_new"),
                        to: qn("users"),
                    },
                ]),
            ]);
        let rebuilds = rebuilds_in(&deploy.migrations[0], Dialect::Postgres);
        assert_eq!(rebuilds.len(), 1);
        assert_eq!(rebuilds[0].table, qn("users"));
        assert!(rebuilds[0].involves(&qn("users_old")));
        assert!(rebuilds[0].involves(&qn("users_new")));
    }

    #[test]
    fn recognises_rename_create_copy_keeping_the_old_copy() {
        let deploy = Deploy::new()
            .table("users", &[col("id", "bigint")])
            .migration(vec![
                rename_table("users", "users_v1"),
                create_table("users", &[col("id", "bigint")]),
                insert_select("users"),
            ]);
        assert_eq!(
            rebuilds_in(&deploy.migrations[0], Dialect::Postgres).len(),
            1
        );
    }

    #[test]
    fn a_swap_without_copying_the_rows_is_not_a_rebuild() {
        let deploy = Deploy::new()
            .table("users", &[col("id", "bigint")])
            .migration(vec![
                create_table("new_users", &[col("id", "bigint")]),
                drop_table("users"),
                rename_table("new_users", "users"),
            ]);
        assert!(rebuilds_in(&deploy.migrations[0], Dialect::Postgres).is_empty());
    }
}
