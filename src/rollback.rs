//! Down migrations: does running a migration's down after its up give back the schema before
//! the up, and what data does the up destroy that no down can bring back?
//!
//! The rollback rules (`missing-down`, `down-not-inverse`, `irreversible-up`) and the report's
//! down verdicts all read `analyze_downs`, so they never disagree.

use crate::ir::{types, BackfillKind, Change};
use crate::project::{replay, ParsedMigration};
use crate::schema::Catalog;

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
}

/// What one migration's down does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownAnalysis {
    /// Index of the migration in the deploy.
    pub index: usize,
    pub verdict: DownVerdict,
    /// How the schema after up-then-down differs from the schema before up.
    pub differences: Vec<String>,
    /// What the up destroys, one line each (with the statement's index in the up file).
    pub losses: Vec<(usize, String)>,
}

impl DownAnalysis {
    pub fn notes(&self) -> Vec<String> {
        self.differences
            .iter()
            .cloned()
            .chain(self.losses.iter().map(|(_, loss)| loss.clone()))
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

/// The data an up migration destroys: columns and tables that existed before it, dropped;
/// columns narrowed to a type that cannot hold every old value; rows deleted.
fn losses(before: &Catalog, migration: &ParsedMigration) -> Vec<(usize, String)> {
    let mut losses = Vec::new();
    for (index, statement) in migration.up.statements.iter().enumerate() {
        for change in &statement.changes {
            if let Some(loss) = loss(before, change) {
                losses.push((index, loss));
            }
        }
    }
    losses
}

fn loss(before: &Catalog, change: &Change) -> Option<String> {
    match change {
        Change::DropTable { tables, .. } => {
            let existing: Vec<String> = tables
                .iter()
                .filter(|t| before.table(t).is_some())
                .map(ToString::to_string)
                .collect();
            (!existing.is_empty())
                .then(|| format!("drops table {} and its rows", existing.join(", ")))
        }
        Change::DropColumn { table, column, .. } => before
            .column(table, column)
            .map(|_| format!("drops column {table}.{column} and its values")),
        Change::AlterColumnType {
            table,
            column,
            data_type,
            ..
        } => {
            let old = before.column(table, column)?;
            (!types::is_compatible_widening(&old.data_type, data_type)).then(|| {
                format!(
                    "changes {table}.{column} from {} to {data_type}: values may be cut or converted",
                    old.data_type
                )
            })
        }
        Change::Backfill {
            table,
            kind: BackfillKind::Delete,
            ..
        } if before.table(table).is_some() => Some(format!("deletes rows from {table}")),
        _ => None,
    }
}
