//! Compares two catalogs: what a down migration must undo to invert its up.
//!
//! Only the schema counts: which migration created an object, which backfilled a column,
//! and the order of columns (a column re-added by a down comes last) are ignored.

use super::{Catalog, Column, Constraint, Index, Table};
use crate::ir::types::canonical_default;
use crate::ir::{ConstraintKind, QualifiedName};
use std::fmt;

/// One way two catalogs differ, read as "from `self` to `other`" of `Catalog::diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaDifference {
    TableAdded(QualifiedName),
    TableRemoved(QualifiedName),
    ColumnAdded {
        table: QualifiedName,
        column: String,
    },
    ColumnRemoved {
        table: QualifiedName,
        column: String,
    },
    ColumnTypeChanged {
        table: QualifiedName,
        column: String,
        from: String,
        to: String,
    },
    ColumnNullabilityChanged {
        table: QualifiedName,
        column: String,
        /// Nullable after the change.
        nullable: bool,
    },
    ColumnDefaultChanged {
        table: QualifiedName,
        column: String,
        from: Option<String>,
        to: Option<String>,
    },
    ConstraintAdded {
        table: QualifiedName,
        name: String,
    },
    ConstraintRemoved {
        table: QualifiedName,
        name: String,
    },
    /// Same name, another definition (kind, columns, expression or referenced table).
    ConstraintChanged {
        table: QualifiedName,
        name: String,
        from: String,
        to: String,
    },
    ConstraintValidatedChanged {
        table: QualifiedName,
        name: String,
        /// Validated after the change.
        validated: bool,
    },
    IndexAdded {
        table: QualifiedName,
        name: String,
    },
    IndexRemoved {
        table: QualifiedName,
        name: String,
    },
    /// Same name, other columns, uniqueness or partiality.
    IndexChanged {
        table: QualifiedName,
        name: String,
        from: String,
        to: String,
    },
    ViewAdded(QualifiedName),
    ViewRemoved(QualifiedName),
    /// A view became materialized or stopped being one.
    ViewMaterializedChanged {
        name: QualifiedName,
        materialized: bool,
    },
    EnumAdded(QualifiedName),
    EnumRemoved(QualifiedName),
    EnumValuesChanged {
        name: QualifiedName,
        from: Vec<String>,
        to: Vec<String>,
    },
}

impl Catalog {
    /// What changes from `self` to `other`: empty when a down migration restored the schema
    /// its up started from.
    pub fn diff(&self, other: &Catalog) -> Vec<SchemaDifference> {
        let mut differences = Vec::new();
        diff_tables(self, other, &mut differences);
        diff_views(self, other, &mut differences);
        diff_enums(self, other, &mut differences);
        differences
    }
}

fn diff_tables(old: &Catalog, new: &Catalog, out: &mut Vec<SchemaDifference>) {
    // In name order; tables the two catalogs still share are skipped unread.
    for difference in old.tables.differences(&new.tables) {
        let name = difference.key;
        match (difference.old, difference.new) {
            (Some(_), None) => out.push(SchemaDifference::TableRemoved(name.clone())),
            (None, Some(_)) => out.push(SchemaDifference::TableAdded(name.clone())),
            (Some(old_table), Some(new_table)) => diff_table(old_table, new_table, out),
            (None, None) => {}
        }
    }
}

fn diff_table(old: &Table, new: &Table, out: &mut Vec<SchemaDifference>) {
    let table = &new.name;
    for old_column in &old.columns {
        match new.column(&old_column.name) {
            None => out.push(SchemaDifference::ColumnRemoved {
                table: table.clone(),
                column: old_column.name.clone(),
            }),
            Some(new_column) => diff_column(table, old_column, new_column, out),
        }
    }
    for column in new.columns.iter().filter(|c| old.column(&c.name).is_none()) {
        out.push(SchemaDifference::ColumnAdded {
            table: table.clone(),
            column: column.name.clone(),
        });
    }
    diff_constraints(old, new, out);
    diff_indexes(old, new, out);
}

fn diff_column(table: &QualifiedName, old: &Column, new: &Column, out: &mut Vec<SchemaDifference>) {
    let column = || new.name.clone();
    if old.data_type != new.data_type {
        out.push(SchemaDifference::ColumnTypeChanged {
            table: table.clone(),
            column: column(),
            from: old.data_type.clone(),
            to: new.data_type.clone(),
        });
    }
    if old.nullable != new.nullable {
        out.push(SchemaDifference::ColumnNullabilityChanged {
            table: table.clone(),
            column: column(),
            nullable: new.nullable,
        });
    }
    let default_sql = |c: &Column| c.default.as_ref().map(|d| d.sql.clone());
    // Compared as the database would: `DEFAULT NULL` is no default, `'a'::text` on a text
    // column is `'a'`, `NOW()` is `now()`.
    let canonical = |c: &Column| {
        c.default
            .as_ref()
            .and_then(|d| canonical_default(&d.sql, &c.data_type))
    };
    if canonical(old) != canonical(new) {
        out.push(SchemaDifference::ColumnDefaultChanged {
            table: table.clone(),
            column: column(),
            from: default_sql(old),
            to: default_sql(new),
        });
    }
}

fn diff_constraints(old: &Table, new: &Table, out: &mut Vec<SchemaDifference>) {
    let table = &new.name;
    for old_constraint in &old.constraints {
        let name = old_constraint.name.clone();
        let Some(new_constraint) = new.constraint(&name) else {
            out.push(SchemaDifference::ConstraintRemoved {
                table: table.clone(),
                name,
            });
            continue;
        };
        let (from, to) = (
            describe_constraint(old_constraint),
            describe_constraint(new_constraint),
        );
        if from != to {
            out.push(SchemaDifference::ConstraintChanged {
                table: table.clone(),
                name,
                from,
                to,
            });
        } else if old_constraint.validated != new_constraint.validated {
            out.push(SchemaDifference::ConstraintValidatedChanged {
                table: table.clone(),
                name,
                validated: new_constraint.validated,
            });
        }
    }
    for constraint in new
        .constraints
        .iter()
        .filter(|c| old.constraint(&c.name).is_none())
    {
        out.push(SchemaDifference::ConstraintAdded {
            table: table.clone(),
            name: constraint.name.clone(),
        });
    }
}

fn diff_indexes(old: &Table, new: &Table, out: &mut Vec<SchemaDifference>) {
    let table = &new.name;
    for old_index in &old.indexes {
        let name = old_index.name.clone();
        let Some(new_index) = new.index(&name) else {
            out.push(SchemaDifference::IndexRemoved {
                table: table.clone(),
                name,
            });
            continue;
        };
        let (from, to) = (describe_index(old_index), describe_index(new_index));
        if from != to {
            out.push(SchemaDifference::IndexChanged {
                table: table.clone(),
                name,
                from,
                to,
            });
        }
    }
    for index in new.indexes.iter().filter(|i| old.index(&i.name).is_none()) {
        out.push(SchemaDifference::IndexAdded {
            table: table.clone(),
            name: index.name.clone(),
        });
    }
}

fn diff_views(old: &Catalog, new: &Catalog, out: &mut Vec<SchemaDifference>) {
    let differences = old.views.differences(&new.views);
    for difference in &differences {
        let name = difference.key;
        match (difference.old, difference.new) {
            (Some(_), None) => out.push(SchemaDifference::ViewRemoved(name.clone())),
            (Some(old_view), Some(new_view)) if new_view.materialized != old_view.materialized => {
                out.push(SchemaDifference::ViewMaterializedChanged {
                    name: name.clone(),
                    materialized: new_view.materialized,
                })
            }
            _ => {}
        }
    }
    for difference in differences.iter().filter(|d| d.old.is_none()) {
        out.push(SchemaDifference::ViewAdded(difference.key.clone()));
    }
}

fn diff_enums(old: &Catalog, new: &Catalog, out: &mut Vec<SchemaDifference>) {
    let differences = old.enums.differences(&new.enums);
    for difference in &differences {
        let name = difference.key;
        match (difference.old, difference.new) {
            (Some(_), None) => out.push(SchemaDifference::EnumRemoved(name.clone())),
            (Some(old_enum), Some(new_enum)) if new_enum.values != old_enum.values => {
                out.push(SchemaDifference::EnumValuesChanged {
                    name: name.clone(),
                    from: old_enum.values.clone(),
                    to: new_enum.values.clone(),
                })
            }
            _ => {}
        }
    }
    for difference in differences.iter().filter(|d| d.old.is_none()) {
        out.push(SchemaDifference::EnumAdded(difference.key.clone()));
    }
}

/// A constraint's definition in a few words: `unique (email)`, `check (price > 0)`,
/// `foreign key (user_id) references public.users (id)`.
fn describe_constraint(constraint: &Constraint) -> String {
    let columns = constraint.columns.join(", ");
    match &constraint.kind {
        ConstraintKind::PrimaryKey => format!("primary key ({columns})"),
        ConstraintKind::Unique => format!("unique ({columns})"),
        ConstraintKind::Exclusion => format!("exclusion ({columns})"),
        ConstraintKind::Check { expr } => format!("check ({expr})"),
        ConstraintKind::ForeignKey {
            references,
            ref_columns,
        } => format!(
            "foreign key ({columns}) references {references} ({})",
            ref_columns.join(", ")
        ),
    }
}

fn describe_index(index: &Index) -> String {
    let unique = if index.unique { "unique " } else { "" };
    let partial = if index.partial { " partial" } else { "" };
    format!("{unique}({}){partial}", index.columns.join(", "))
}

fn describe_nullability(nullable: bool) -> &'static str {
    if nullable {
        "nullable"
    } else {
        "not null"
    }
}

fn describe_default(default: &Option<String>) -> &str {
    default.as_deref().unwrap_or("none")
}

fn describe_validated(validated: bool) -> &'static str {
    if validated {
        "validated"
    } else {
        "not valid"
    }
}

fn describe_view(materialized: bool) -> &'static str {
    if materialized {
        "materialized view"
    } else {
        "view"
    }
}

impl fmt::Display for SchemaDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SchemaDifference::*;
        match self {
            TableAdded(name) => write!(f, "table {name} added"),
            TableRemoved(name) => write!(f, "table {name} removed"),
            ColumnAdded { table, column } => write!(f, "column {table}.{column} added"),
            ColumnRemoved { table, column } => write!(f, "column {table}.{column} removed"),
            ColumnTypeChanged {
                table,
                column,
                from,
                to,
            } => write!(f, "column {table}.{column}: type {from} → {to}"),
            ColumnNullabilityChanged {
                table,
                column,
                nullable,
            } => write!(
                f,
                "column {table}.{column}: {} → {}",
                describe_nullability(!nullable),
                describe_nullability(*nullable)
            ),
            ColumnDefaultChanged {
                table,
                column,
                from,
                to,
            } => write!(
                f,
                "column {table}.{column}: default {} → {}",
                describe_default(from),
                describe_default(to)
            ),
            ConstraintAdded { table, name } => write!(f, "constraint {name} on {table} added"),
            ConstraintRemoved { table, name } => {
                write!(f, "constraint {name} on {table} removed")
            }
            ConstraintChanged {
                table,
                name,
                from,
                to,
            } => write!(f, "constraint {name} on {table}: {from} → {to}"),
            ConstraintValidatedChanged {
                table,
                name,
                validated,
            } => write!(
                f,
                "constraint {name} on {table}: {} → {}",
                describe_validated(!validated),
                describe_validated(*validated)
            ),
            IndexAdded { table, name } => write!(f, "index {name} on {table} added"),
            IndexRemoved { table, name } => write!(f, "index {name} on {table} removed"),
            IndexChanged {
                table,
                name,
                from,
                to,
            } => write!(f, "index {name} on {table}: {from} → {to}"),
            ViewAdded(name) => write!(f, "view {name} added"),
            ViewRemoved(name) => write!(f, "view {name} removed"),
            ViewMaterializedChanged { name, materialized } => write!(
                f,
                "view {name}: {} → {}",
                describe_view(!materialized),
                describe_view(*materialized)
            ),
            EnumAdded(name) => write!(f, "enum {name} added"),
            EnumRemoved(name) => write!(f, "enum {name} removed"),
            EnumValuesChanged { name, from, to } => write!(
                f,
                "enum {name}: values [{}] → [{}]",
                from.join(", "),
                to.join(", ")
            ),
        }
    }
}
