//! Table rebuilds: a migration that creates a new copy of a table, copies the rows and gives
//! the copy the old table's name alters that table; it does not drop one table and create
//! another. The one recogniser that both the schema replay (which keeps the old table's
//! origins) and the rules (which judge the rebuild as an alteration) read.

use super::{BackfillKind, Change, ColumnDef, QualifiedName};
use crate::dialect::Dialect;
use std::collections::BTreeSet;

/// A table rebuilt inside one migration: a new table is created, the rows are copied, and the
/// new table takes the old one's name. Three spellings are recognised:
/// - create `temp`, copy into `temp`, drop `table`, rename `temp` to `table` (SQLite's
///   documented recipe);
/// - rename `table` to `temp`, create `table`, copy into `table`, the old copy dropped or
///   kept;
/// - create `temp`, copy into `temp`, rename `table` aside and `temp` to `table` (the swap of
///   MySQL's `RENAME TABLE a TO a_old, a_new TO a`), the old copy dropped or kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuild {
    /// The name N-1 knows, which the table has again once the migration is done.
    pub table: QualifiedName,
    /// The names the copies have during the rebuild.
    pub temps: Vec<QualifiedName>,
    /// Index (in the migration's up statements) of the CREATE TABLE of the new copy.
    pub create_statement: usize,
    /// The columns of the new copy.
    pub columns: Vec<ColumnDef>,
}

impl Rebuild {
    /// True when `name` is one of the tables of the rebuild.
    pub fn involves(&self, name: &QualifiedName) -> bool {
        *name == self.table || self.temps.contains(name)
    }
}

/// Every table rebuild among `changes` (each with the index of its statement, which
/// `Rebuild::create_statement` reports), in the order the renames that finish them come.
pub fn find(changes: &[(usize, &Change)], dialect: Dialect) -> Vec<Rebuild> {
    // Every rebuild creates a table: most migrations create none, or none that is renamed.
    let created_names: BTreeSet<&QualifiedName> = changes
        .iter()
        .filter_map(|(_, change)| match change {
            Change::CreateTable { table, .. } => Some(table),
            _ => None,
        })
        .collect();
    let mut found = Vec::new();
    for (position, (_, change)) in changes.iter().enumerate() {
        let Change::RenameTable { from, to } = change else {
            continue;
        };
        let to = &rename_target(dialect, from, to);
        if !created_names.contains(from) {
            continue;
        }
        let (earlier, later) = (&changes[..position], &changes[position + 1..]);
        // create temp, copy into temp, drop table (or rename it aside), rename temp to table
        if let Some((create_statement, columns)) = created(earlier, from) {
            let mut temps = vec![from.clone()];
            let old_copy_gone = dropped(earlier, to) || {
                let aside = renamed_aside(earlier, to, dialect);
                temps.extend(aside.clone());
                aside.is_some()
            };
            if copied_into(earlier, from) && old_copy_gone {
                found.push(Rebuild {
                    table: to.clone(),
                    temps,
                    create_statement,
                    columns,
                });
                continue;
            }
        }
        // rename table to temp, create table, copy into table (drop temp, or keep it)
        if let Some((create_statement, columns)) = created(later, from) {
            if copied_into(later, from) {
                found.push(Rebuild {
                    table: from.clone(),
                    temps: vec![to.clone()],
                    create_statement,
                    columns,
                });
            }
        }
    }
    found
}

fn created(changes: &[(usize, &Change)], name: &QualifiedName) -> Option<(usize, Vec<ColumnDef>)> {
    changes.iter().find_map(|(index, change)| match change {
        Change::CreateTable { table, columns, .. } if table == name => {
            Some((*index, columns.clone()))
        }
        _ => None,
    })
}

fn copied_into(changes: &[(usize, &Change)], name: &QualifiedName) -> bool {
    changes.iter().any(|(_, change)| {
        matches!(change, Change::Backfill { table, kind: BackfillKind::Insert, .. } if table == name)
    })
}

/// The name `table` was renamed to, if it was.
fn renamed_aside(
    changes: &[(usize, &Change)],
    table: &QualifiedName,
    dialect: Dialect,
) -> Option<QualifiedName> {
    changes.iter().find_map(|(_, change)| match change {
        Change::RenameTable { from, to } if from == table => Some(rename_target(dialect, from, to)),
        _ => None,
    })
}

fn dropped(changes: &[(usize, &Change)], name: &QualifiedName) -> bool {
    changes.iter().any(
        |(_, change)| matches!(change, Change::DropTable { tables, .. } if tables.contains(name)),
    )
}

/// The name a `RENAME TO` gives: Postgres's takes a bare name and keeps the schema; only
/// MySQL's `RENAME TABLE a.t TO b.t` moves a table between schemas.
pub fn rename_target(dialect: Dialect, from: &QualifiedName, to: &QualifiedName) -> QualifiedName {
    if dialect == Dialect::Mysql && !to.schema.is_empty() {
        to.clone()
    } else {
        QualifiedName::new(from.schema.clone(), to.name.clone())
    }
}
