//! The schema model: a catalog of tables, columns, constraints, indexes, views and enum
//! types, built by replaying changes in order. Every object remembers the migration that
//! created it, so rules can tell what N-1 knows from what the deploy brings.

pub mod diff;
#[cfg(test)]
mod fixtures;
pub mod naming;
pub mod render;
pub mod replay;

pub use diff::SchemaDifference;

use crate::dialect::Dialect;
use crate::ir::{ConstraintKind, DefaultExpr, Generated, QualifiedName};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// Canonical type (`ir::types::canonical_type`).
    pub data_type: String,
    pub nullable: bool,
    pub default: Option<DefaultExpr>,
    pub generated: Generated,
    /// Id of the migration that added the column.
    pub created_by: String,
    /// Ids of the migrations that wrote to the column with a backfill (UPDATE ... SET col).
    pub backfilled_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub name: String,
    pub kind: ConstraintKind,
    pub columns: Vec<String>,
    /// False while a `NOT VALID` constraint awaits `VALIDATE CONSTRAINT`.
    pub validated: bool,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    pub partial: bool,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: QualifiedName,
    pub columns: Vec<Column>,
    pub constraints: Vec<Constraint>,
    pub indexes: Vec<Index>,
    pub created_by: String,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    pub fn constraint(&self, name: &str) -> Option<&Constraint> {
        self.constraints.iter().find(|c| c.name == name)
    }

    pub fn index(&self, name: &str) -> Option<&Index> {
        self.indexes.iter().find(|index| index.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub name: QualifiedName,
    pub materialized: bool,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumType {
    pub name: QualifiedName,
    pub values: Vec<String>,
    pub created_by: String,
}

/// The replayed schema at one point in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    pub dialect: Dialect,
    pub tables: BTreeMap<QualifiedName, Table>,
    pub views: BTreeMap<QualifiedName, View>,
    pub enums: BTreeMap<QualifiedName, EnumType>,
}

impl Catalog {
    pub fn new(dialect: Dialect) -> Self {
        Catalog {
            dialect,
            tables: BTreeMap::new(),
            views: BTreeMap::new(),
            enums: BTreeMap::new(),
        }
    }

    pub fn table(&self, name: &QualifiedName) -> Option<&Table> {
        self.tables.get(name)
    }

    pub fn column(&self, table: &QualifiedName, column: &str) -> Option<&Column> {
        self.table(table).and_then(|t| t.column(column))
    }

    /// True when a table or view of this name exists (rules that care about "a relation
    /// N-1 knows" use this).
    pub fn has_relation(&self, name: &QualifiedName) -> bool {
        self.tables.contains_key(name) || self.views.contains_key(name)
    }

    /// The enum a column type names, if any: `order_status` (in the dialect's default
    /// schema), `billing.state`, or an array of either (`order_status[]`). Takes the
    /// canonical spelling (`Column::data_type`).
    pub fn enum_type(&self, data_type: &str) -> Option<&EnumType> {
        let name = data_type.trim_end_matches("[]");
        let unquote = |part: &str| part.trim_matches('"').replace("\"\"", "\"");
        let qualified = match name.split_once('.') {
            Some((schema, name)) if !name.contains('.') => {
                QualifiedName::new(unquote(schema), unquote(name))
            }
            _ => QualifiedName::new(self.dialect.default_schema(), unquote(name)),
        };
        self.enums.get(&qualified)
    }

    /// The table owning index `name` (index names are unique per schema in Postgres).
    pub fn index_owner(&self, index: &QualifiedName) -> Option<(&Table, &Index)> {
        self.tables
            .values()
            .filter(|table| table.name.schema == index.schema)
            .find_map(|table| table.index(&index.name).map(|found| (table, found)))
    }
}
