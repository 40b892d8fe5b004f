//! Down migrations: does running a migration's down after its up give back the schema before
//! the up, and what data does the up destroy that no down can bring back?
//!
//! The rollback rules (`missing-down`, `down-not-inverse`, `irreversible-up`) and the report's
//! down verdicts all read `analyze_downs`, so they never disagree.

use crate::ir::{types, BackfillKind, Change, QualifiedName};
use crate::project::{replay, ParsedMigration};
use crate::schema::Catalog;
use crate::sql::{SqlFile, Statement, Understanding};

/// What happens to a migration's down script when it is run after its up.
#[derive(Debug, Clone, Copy, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DownVerdict {
    /// Replaying up then down gives back the schema before up, and up destroys no data.
    Inverse,
    /// The schema comes back, but up destroyed data (a dropped column) that down cannot.
    Lossy,
    /// The schema after up then down differs from the one before up.
    NotInverse,
    /// No down script, and up changes the schema.
    Missing,
    /// No down script, and none is needed (up changes no schema).
    NoneNeeded,
    /// The down holds a statement rollsafe cannot see into (a `DO` block, one it could not
    /// parse): whether it undoes the up is for a reviewer to tell.
    CannotTell,
}

/// What one migration's down does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownAnalysis {
    /// Index of the migration in the deploy.
    pub index: usize,
    pub verdict: DownVerdict,
    /// How the schema after up-then-down differs from the schema before up.
    pub differences: Vec<String>,
    /// What the up destroys.
    pub losses: Vec<Loss>,
}

/// Data an up statement destroys that no down can bring back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loss {
    /// The statement's index in the up file.
    pub statement: usize,
    pub table: QualifiedName,
    /// The column, when only a column's values are lost.
    pub column: Option<String>,
    /// What is lost, as a phrase (`drops column public.users.name and its values`).
    pub what: String,
}

impl DownAnalysis {
    pub fn notes(&self) -> Vec<String> {
        self.differences
            .iter()
            .cloned()
            .chain(self.losses.iter().map(|loss| loss.what.clone()))
            .collect()
    }
}

/// Replays each migration of the deploy on top of `before` (and the deploy's earlier
/// migrations), then its down, and compares. `after` is the schema after the whole deploy,
/// which saves replaying the last migration's up.
pub fn analyze_downs(
    before: &Catalog,
    after: &Catalog,
    deploy: &[ParsedMigration],
) -> Vec<DownAnalysis> {
    let mut current = before.clone();
    let mut analyses = Vec::with_capacity(deploy.len());
    for (index, migration) in deploy.iter().enumerate() {
        let before_up = current.clone();
        if index + 1 == deploy.len() {
            current = after.clone();
        } else {
            replay(&mut current, migration);
        }
        let losses = losses(&before_up, migration);
        let (verdict, differences) = match &migration.down {
            None if needs_down(migration) => (DownVerdict::Missing, Vec::new()),
            None => (DownVerdict::NoneNeeded, Vec::new()),
            Some(down) if !down_is_readable(down) => (DownVerdict::CannotTell, Vec::new()),
            Some(down) => {
                let mut reverted = current.clone();
                let changes: Vec<Change> = down
                    .statements
                    .iter()
                    .flat_map(|s| s.changes.iter().cloned())
                    .collect();
                reverted.apply_migration(&changes, &migration.migration.id);
                let differences: Vec<String> = before_up
                    .diff(&reverted)
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                let verdict = if !differences.is_empty() {
                    DownVerdict::NotInverse
                } else if !losses.is_empty() {
                    DownVerdict::Lossy
                } else {
                    DownVerdict::Inverse
                };
                (verdict, differences)
            }
        };
        analyses.push(DownAnalysis {
            index,
            verdict,
            differences,
            losses,
        });
    }
    analyses
}

/// True when rollsafe can see everything the down does: no statement it could not parse,
/// none it keeps as opaque.
fn down_is_readable(down: &SqlFile) -> bool {
    down.statements.iter().all(|statement| {
        !matches!(statement.understanding, Understanding::Unparsed { .. })
            && !statement
                .changes
                .iter()
                .any(|change| matches!(change, Change::Opaque { .. }))
    })
}

/// True when the up changes the schema in a way a down could undo. Validating a
/// constraint has no inverse in SQL, so it needs none.
fn needs_down(migration: &ParsedMigration) -> bool {
    migration
        .up
        .statements
        .iter()
        .flat_map(|s| &s.changes)
        .any(|change| {
            change.is_schema_change() && !matches!(change, Change::ValidateConstraint { .. })
        })
}

/// The data an up migration destroys: columns and tables that existed before it, dropped
/// (unless the same transaction creates the table again with every column it had); columns
/// changed to a type that cannot hold every old value; rows deleted.
fn losses(before: &Catalog, migration: &ParsedMigration) -> Vec<Loss> {
    let mut losses = Vec::new();
    let statements = &migration.up.statements;
    for (index, statement) in statements.iter().enumerate() {
        for change in &statement.changes {
            losses.extend(
                loss(before, change, &statements[index + 1..])
                    .into_iter()
                    .map(|(table, column, what)| Loss {
                        statement: index,
                        table,
                        column,
                        what,
                    }),
            );
        }
    }
    losses
}

type LossOf = (QualifiedName, Option<String>, String);

fn loss(before: &Catalog, change: &Change, later: &[Statement]) -> Vec<LossOf> {
    match change {
        Change::DropTable { tables, .. } => tables
            .iter()
            .filter(|t| {
                let later_changes = later.iter().flat_map(|s| &s.changes);
                before.table(t).is_some() && !recreated_whole(before, t, later_changes)
            })
            .map(|t| (t.clone(), None, format!("drops table {t} and its rows")))
            .collect(),
        Change::DropColumn { table, column, .. } => before
            .column(table, column)
            .map(|_| {
                let what = format!("drops column {table}.{column} and its values");
                (table.clone(), Some(column.clone()), what)
            })
            .into_iter()
            .collect(),
        Change::AlterColumnType {
            table,
            column,
            data_type,
            ..
        } => before
            .column(table, column)
            .filter(|old| !keeps_values(before, &old.data_type, data_type))
            .map(|old| {
                let what = format!(
                    "changes {table}.{column} from {} to {data_type}: values may be cut or converted",
                    old.data_type
                );
                (table.clone(), Some(column.clone()), what)
            })
            .into_iter()
            .collect(),
        Change::Backfill {
            table,
            kind: BackfillKind::Delete,
            ..
        } if before.table(table).is_some() => {
            vec![(table.clone(), None, format!("deletes rows from {table}"))]
        }
        Change::Truncate { table } if before.table(table).is_some() => {
            vec![(table.clone(), None, format!("empties {table}"))]
        }
        _ => Vec::new(),
    }
}

/// `types::keeps_values`, plus an enum moved to a text type: its labels are text.
pub fn keeps_values(before: &Catalog, old: &str, new: &str) -> bool {
    let to_text = matches!(
        types::canonical_type(new).as_str(),
        "text" | "character varying"
    );
    types::keeps_values(old, new, before.dialect) || (to_text && before.enum_type(old).is_some())
}

/// True when a later statement creates `table` again with every column it had (a table
/// rebuilt by drop and create): the structure N-1 knows comes back.
pub fn recreated_whole<'c>(
    before: &Catalog,
    table: &QualifiedName,
    later: impl Iterator<Item = &'c Change>,
) -> bool {
    let Some(old) = before.table(table) else {
        return false;
    };
    // The new table's column names: declared, or read from the query it is made from.
    let mut recreated = false;
    let mut names: Vec<String> = Vec::new();
    for change in later {
        match change {
            Change::CreateTable {
                table: t, columns, ..
            } if t == table => {
                recreated = true;
                names.extend(columns.iter().map(|c| c.name.clone()));
            }
            Change::InferColumns { table: t, columns } if t == table && recreated => {
                for inferred in columns {
                    match (&inferred.name, &inferred.table) {
                        (Some(name), _) => names.push(name.clone()),
                        (None, Some(source)) => names.extend(
                            before
                                .table(source)
                                .into_iter()
                                .flat_map(|s| s.columns.iter().map(|c| c.name.clone())),
                        ),
                        (None, None) => {}
                    }
                }
            }
            _ => {}
        }
    }
    recreated
        && old
            .columns
            .iter()
            .all(|column| names.contains(&column.name))
}
