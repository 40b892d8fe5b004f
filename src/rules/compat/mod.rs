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

use super::{Context, Finding, Severity};
use crate::ir::{Change, ColumnDef, ConstraintDef, ConstraintKind, QualifiedName};
use crate::project::ParsedMigration;
use crate::rules::StatementRef;
use crate::usage::{self, Judgement};
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

/// Evidence cited on one finding, at most (the JSON report lists them; text shows the first).
const MAX_EVIDENCE: usize = 20;

/// Judges a compat finding on what N-1's code uses (when the usage stage ran). Where the
/// code names the object, the finding cites it and keeps its severity. Where complete
/// evidence shows N-1 no longer names it, the finding becomes info and says what was
/// checked: an automatic retirement. `may_retire` is false where the object's name alone
/// cannot tell (an enum type N-1 writes through its columns): evidence is then only cited.
pub(crate) fn judge_on_usage(
    ctx: &Context<'_>,
    finding: &mut Finding,
    table: &QualifiedName,
    column: Option<&str>,
    may_retire: bool,
) {
    let Some(usage) = ctx.usage else {
        return;
    };
    match usage.judge(table, column) {
        Judgement::Used(mut evidence) => {
            let cited = usage::cite(table, column, &evidence);
            finding.message = format!("{}; {cited}", finding.message);
            evidence.truncate(MAX_EVIDENCE);
            finding.evidence = evidence;
        }
        Judgement::Unreferenced(summary) if may_retire => {
            // The message's first clause says what the statement does.
            let action = finding
                .message
                .split([';', ','])
                .next()
                .unwrap_or_default()
                .to_string();
            finding.severity = Some(Severity::Info);
            finding.message = format!("{action}; {summary} (an automatic retirement)");
        }
        Judgement::Unreferenced(_) | Judgement::Unknown => {}
    }
}

/// Which of N-1's writes a new restriction breaks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breaks {
    /// INSERTs that leave the column out (a required column, NOT NULL).
    Omitting,
    /// INSERTs and UPDATEs that write the column (a CHECK on it).
    Writing,
}

/// Judges a restriction on what N-1 writes on its usage evidence: the N-1 statements it
/// breaks are cited; when N-1's code provably sends none (every source covers the table
/// and no other mention of it is found), the finding becomes info.
pub(crate) fn judge_writes(
    ctx: &Context<'_>,
    finding: &mut Finding,
    table: &QualifiedName,
    columns: &[&str],
    breaks: Breaks,
) {
    let Some(usage) = ctx.usage else {
        return;
    };
    let (inserts, complete) = usage.inserts_into(table);
    let mut breaking: Vec<usage::Evidence> = inserts
        .iter()
        .filter(|site| match (&site.columns, breaks) {
            // An INSERT without a column list gives N-1's columns only.
            (None, Breaks::Omitting) => columns.iter().any(|c| !ctx.column_known_to_n1(table, c)),
            (None, Breaks::Writing) => true,
            (Some(named), Breaks::Omitting) => columns.iter().any(|c| !named.contains(*c)),
            (Some(named), Breaks::Writing) => columns.iter().any(|c| named.contains(*c)),
        })
        .map(|site| site.evidence.clone())
        .collect();
    if breaks == Breaks::Writing {
        if let Some(found) = usage.tables.get(table) {
            for column in columns {
                breaking.extend(
                    found
                        .columns
                        .get(*column)
                        .into_iter()
                        .flatten()
                        .filter(|e| e.access == usage::Access::Update)
                        .cloned(),
                );
            }
        }
    }
    breaking.sort();
    breaking.dedup();
    let what = match breaks {
        Breaks::Omitting => format!("inserts into {} without {}", table.name, columns.join(", ")),
        Breaks::Writing => format!("writes {}.{}", table.name, columns.join(", ")),
    };
    if let Some(first) = breaking.first() {
        let more = match breaking.len() - 1 {
            0 => String::new(),
            n => format!("; {n} more"),
        };
        finding.message = format!(
            "{}; N-1 {what}: {}:{} at {}{more}",
            finding.message, first.path, first.line, first.rev
        );
        breaking.truncate(MAX_EVIDENCE);
        finding.evidence = breaking;
    } else if complete {
        let action = finding
            .message
            .split([';', ','])
            .next()
            .unwrap_or_default()
            .to_string();
        finding.severity = Some(Severity::Info);
        finding.message = format!(
            "{action}, and no N-1 statement {what}, so N-1 is not affected: {}",
            usage.checked()
        );
    }
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
    use crate::dialect::Dialect;
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
