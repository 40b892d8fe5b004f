//! The schema model: a catalog of tables, columns, constraints, indexes, views and enum
//! types, built by replaying changes in order. Every object remembers the migration that
//! created it, so rules can tell what N-1 knows from what the deploy brings.

pub mod diff;
#[cfg(test)]
mod fixtures;
pub mod render;
pub mod replay;

pub use diff::SchemaDifference;

use crate::dialect::Dialect;
use crate::ir::{ConstraintKind, DefaultExpr, Generated, QualifiedName};
use std::collections::BTreeMap;
use std::sync::Arc;

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

/// Tables by name, shared between catalog copies until one of them changes a table
/// (copy on write). Rules compare the catalog before and after every deploy, and `--all`
/// keeps one per migration: cloning a catalog copies pointers, not columns, and `diff` skips
/// the tables two catalogs still share.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableMap {
    tables: Arc<BTreeMap<QualifiedName, Arc<Table>>>,
}

impl TableMap {
    pub fn get(&self, name: &QualifiedName) -> Option<&Table> {
        self.tables.get(name).map(Arc::as_ref)
    }

    /// The table, made this catalog's own first if another copy shares it.
    pub fn get_mut(&mut self, name: &QualifiedName) -> Option<&mut Table> {
        Arc::make_mut(&mut self.tables)
            .get_mut(name)
            .map(Arc::make_mut)
    }

    pub fn insert(&mut self, name: QualifiedName, table: Table) {
        Arc::make_mut(&mut self.tables).insert(name, Arc::new(table));
    }

    pub fn remove(&mut self, name: &QualifiedName) -> Option<Table> {
        Arc::make_mut(&mut self.tables)
            .remove(name)
            .map(Arc::unwrap_or_clone)
    }

    pub fn contains_key(&self, name: &QualifiedName) -> bool {
        self.tables.contains_key(name)
    }

    pub fn keys(&self) -> impl Iterator<Item = &QualifiedName> + Clone {
        self.tables.keys()
    }

    pub fn values(&self) -> impl Iterator<Item = &Table> {
        self.tables.values().map(Arc::as_ref)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&QualifiedName, &Table)> {
        self.tables
            .iter()
            .map(|(name, table)| (name, table.as_ref()))
    }

    pub fn len(&self) -> usize {
        self.tables.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Applies `edit` to every table `needs_edit` selects, copying only those.
    pub fn edit_where(
        &mut self,
        needs_edit: impl Fn(&Table) -> bool,
        mut edit: impl FnMut(&mut Table),
    ) {
        let selected: Vec<QualifiedName> = self
            .iter()
            .filter(|(_, table)| needs_edit(table))
            .map(|(name, _)| name.clone())
            .collect();
        for name in selected {
            if let Some(table) = self.get_mut(&name) {
                edit(table);
            }
        }
    }

    /// True when both maps are the very same map (neither changed since a copy).
    pub fn is_same(&self, other: &TableMap) -> bool {
        Arc::ptr_eq(&self.tables, &other.tables)
    }

    /// The tables in name order with their shared handles, so a comparison can tell a
    /// table two catalogs still share (`Arc::ptr_eq`) without comparing its columns.
    pub fn shared(&self) -> impl Iterator<Item = (&QualifiedName, &Arc<Table>)> {
        self.tables.iter()
    }
}

/// The replayed schema at one point in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    pub dialect: Dialect,
    pub tables: TableMap,
    /// Shared between catalog copies until one of them changes (see `TableMap`).
    pub views: Arc<BTreeMap<QualifiedName, View>>,
    pub enums: Arc<BTreeMap<QualifiedName, EnumType>>,
    /// How many statements so far the replay could not see into (opaque or unparsed ones, an
    /// extension's objects): what they made may be missing here, so a name this catalog
    /// lacks is not proof that the database lacks it.
    pub blind_spots: usize,
}

impl Catalog {
    pub fn new(dialect: Dialect) -> Self {
        Catalog {
            dialect,
            tables: TableMap::default(),
            views: Arc::default(),
            enums: Arc::default(),
            blind_spots: 0,
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
