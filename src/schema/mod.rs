//! The schema model: a catalog of tables, columns, constraints, indexes, views and enum
//! types, built by replaying changes in order. Every object remembers the migration that
//! created it, so rules can tell what N-1 knows from what the deploy brings.

pub mod diff;
#[cfg(test)]
mod fixtures;
pub mod map;
pub mod render;
pub mod replay;

pub use diff::SchemaDifference;

use crate::dialect::Dialect;
use crate::ir::{ConstraintKind, DefaultExpr, Generated, QualifiedName};
pub use map::SharedMap;

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
/// (copy on write, see `SharedMap`). Rules compare the catalog before and after every
/// deploy, and `--all` keeps one per migration: cloning a catalog copies a pointer, a write
/// copies one chunk of the map, and `diff` skips what two catalogs share.
///
/// The map also indexes index and constraint names per schema, so name lookups (is a
/// relation name taken, which table owns an index) do not scan every table. The indexes
/// follow every write: `insert` and `remove` update them, and a table handed out by
/// `get_mut` is re-indexed at the next write (until then, lookups read it directly).
#[derive(Debug, Clone, Default)]
pub struct TableMap {
    tables: SharedMap<QualifiedName, Table>,
    /// (schema, index name), hashed (`name_key`), to the tables that have an index of that
    /// name (or, rarely, of another name with the same hash: lookups check the table).
    index_names: SharedMap<u64, Owners>,
    /// The same for constraint names.
    constraint_names: SharedMap<u64, Owners>,
    /// The table last handed out by `get_mut`, with its names as they were then: the name
    /// indexes do not know its changes yet.
    pending: Option<Box<(QualifiedName, TableNames)>>,
}

/// Table names in name order (usually one).
type Owners = Vec<QualifiedName>;

/// A table's index and constraint names, as `name_key`s: hashing them is cheaper than
/// copying them on every `get_mut`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct TableNames {
    indexes: Vec<u64>,
    constraints: Vec<u64>,
}

impl TableNames {
    fn of(schema: &str, table: &Table) -> TableNames {
        TableNames {
            indexes: table
                .indexes
                .iter()
                .map(|i| name_key(schema, &i.name))
                .collect(),
            constraints: (table.constraints.iter())
                .map(|c| name_key(schema, &c.name))
                .collect(),
        }
    }
}

/// A 64-bit FNV-1a hash of a schema and a name.
fn name_key(schema: &str, name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in schema.bytes().chain([0]).chain(name.bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

impl PartialEq for TableMap {
    fn eq(&self, other: &Self) -> bool {
        self.tables == other.tables
    }
}

impl Eq for TableMap {}

impl TableMap {
    pub fn get(&self, name: &QualifiedName) -> Option<&Table> {
        self.tables.get(name)
    }

    /// The table, made this catalog's own first if another copy shares it.
    pub fn get_mut(&mut self, name: &QualifiedName) -> Option<&mut Table> {
        self.reindex_pending();
        let names = TableNames::of(&name.schema, self.tables.get(name)?);
        self.pending = Some(Box::new((name.clone(), names)));
        self.tables.get_mut(name)
    }

    pub fn insert(&mut self, name: QualifiedName, table: Table) {
        self.reindex_pending();
        let names = TableNames::of(&name.schema, &table);
        if let Some(old) = self.tables.insert(name.clone(), table) {
            let old = TableNames::of(&name.schema, &old);
            self.reindex(&name, &old, &TableNames::default());
        }
        self.reindex(&name, &TableNames::default(), &names);
    }

    pub fn remove(&mut self, name: &QualifiedName) -> Option<Table> {
        self.reindex_pending();
        let table = self.tables.remove(name)?;
        let names = TableNames::of(&name.schema, &table);
        self.reindex(name, &names, &TableNames::default());
        Some(table)
    }

    pub fn contains_key(&self, name: &QualifiedName) -> bool {
        self.tables.contains_key(name)
    }

    pub fn keys(&self) -> impl Iterator<Item = &QualifiedName> + Clone {
        self.tables.keys()
    }

    pub fn values(&self) -> impl Iterator<Item = &Table> {
        self.tables.values()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&QualifiedName, &Table)> {
        self.tables.iter()
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
        self.tables.ptr_eq(&other.tables)
    }

    /// The tables that differ between `self` and `new`, in name order; tables both still
    /// share are skipped without comparing their columns.
    pub fn differences<'a>(
        &'a self,
        new: &'a TableMap,
    ) -> Vec<map::Difference<'a, QualifiedName, Table>> {
        self.tables.differences(&new.tables)
    }

    /// The first table, in name order, in `schema` with an index named `index`.
    pub fn index_owner(&self, schema: &str, index: &str) -> Option<&QualifiedName> {
        self.first_owner(&self.index_names, schema, index, |t| {
            t.index(index).is_some()
        })
    }

    /// True when a table in `schema` has a constraint named `constraint`.
    pub fn has_constraint_named(&self, schema: &str, constraint: &str) -> bool {
        self.first_owner(&self.constraint_names, schema, constraint, |t| {
            t.constraint(constraint).is_some()
        })
        .is_some()
    }

    fn first_owner<'a>(
        &'a self,
        owners: &'a SharedMap<u64, Owners>,
        schema: &str,
        name: &str,
        has: impl Fn(&Table) -> bool,
    ) -> Option<&'a QualifiedName> {
        let pending = self.pending.as_deref().map(|(table, _)| table);
        let indexed = owners.get(&name_key(schema, name)).and_then(|tables| {
            tables.iter().find(|t| {
                Some(*t) != pending && t.schema == schema && self.tables.get(t).is_some_and(&has)
            })
        });
        // The pending table's names may have changed since it was indexed: ask it.
        let pending = pending
            .filter(|table| table.schema == schema)
            .filter(|table| self.tables.get(table).is_some_and(&has));
        match (indexed, pending) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Brings the name indexes up to date with the table last handed out by `get_mut`.
    fn reindex_pending(&mut self) {
        if let Some(pending) = self.pending.take() {
            let (name, before) = *pending;
            let now = (self.tables.get(&name))
                .map(|table| TableNames::of(&name.schema, table))
                .unwrap_or_default();
            if now != before {
                self.reindex(&name, &before, &now);
            }
        }
    }

    /// Moves `table` from the owners of its `before` names to those of its `after` names.
    fn reindex(&mut self, table: &QualifiedName, before: &TableNames, after: &TableNames) {
        let pairs = [
            (&mut self.index_names, &before.indexes, &after.indexes),
            (
                &mut self.constraint_names,
                &before.constraints,
                &after.constraints,
            ),
        ];
        for (owners, before, after) in pairs {
            for gone in before.iter().filter(|n| !after.contains(n)) {
                if let Some(tables) = owners.get_mut(gone) {
                    tables.retain(|t| t != table);
                    if tables.is_empty() {
                        owners.remove(gone);
                    }
                }
            }
            for &key in after.iter().filter(|n| !before.contains(n)) {
                match owners.get_mut(&key) {
                    Some(tables) => {
                        if let Err(at) = tables.binary_search(table) {
                            tables.insert(at, table.clone());
                        }
                    }
                    None => {
                        owners.insert(key, vec![table.clone()]);
                    }
                }
            }
        }
    }
}

/// The replayed schema at one point in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    pub dialect: Dialect,
    pub tables: TableMap,
    /// Shared between catalog copies until one of them changes (see `SharedMap`).
    pub views: SharedMap<QualifiedName, View>,
    pub enums: SharedMap<QualifiedName, EnumType>,
    /// Functions the migrations created, with whether calling them is volatile (a default
    /// that calls a volatile function is evaluated for every row).
    pub functions: SharedMap<QualifiedName, bool>,
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
            views: SharedMap::default(),
            enums: SharedMap::default(),
            functions: SharedMap::default(),
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
        let owner = self.tables.index_owner(&index.schema, &index.name)?;
        let table = self.tables.get(owner)?;
        Some((table, table.index(&index.name)?))
    }

    /// True when `name` is taken in `schema`'s namespace of relations, which tables, views
    /// and indexes share in Postgres.
    pub fn relation_name_taken(&self, schema: &str, name: &str) -> bool {
        let relation = QualifiedName::new(schema, name);
        self.tables.contains_key(&relation)
            || self.views.contains_key(&relation)
            || self.tables.index_owner(schema, name).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(schema: &str, name: &str) -> Table {
        Table {
            name: QualifiedName::new(schema, name),
            columns: Vec::new(),
            constraints: Vec::new(),
            indexes: Vec::new(),
            created_by: "1".into(),
        }
    }

    fn index(name: &str) -> Index {
        Index {
            name: name.into(),
            columns: vec!["a".into()],
            unique: false,
            partial: false,
            created_by: "1".into(),
        }
    }

    /// What the name indexes answer, computed by scanning every table.
    fn scanned_owner<'a>(map: &'a TableMap, schema: &str, name: &str) -> Option<&'a QualifiedName> {
        map.iter()
            .filter(|(key, table)| key.schema == schema && table.index(name).is_some())
            .map(|(key, _)| key)
            .next()
    }

    /// Random writes through every path (insert, remove, get_mut, copies written apart)
    /// never leave the name indexes disagreeing with a scan of the tables.
    #[test]
    fn name_lookups_agree_with_a_scan_after_any_writes() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |bound: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % bound
        };
        let mut maps = vec![TableMap::default()];
        for _ in 0..1_500 {
            let which = next(maps.len() as u64) as usize;
            let schema = ["public", "app"][next(2) as usize];
            let name = QualifiedName::new(schema, format!("t{}", next(12)));
            let idx = format!("i{}", next(10));
            let map = &mut maps[which];
            match next(7) {
                0 => map.insert(name.clone(), table(schema, &name.name)),
                1 => {
                    map.remove(&name);
                }
                2 | 3 => {
                    if let Some(t) = map.get_mut(&name) {
                        t.indexes.push(index(&idx));
                    }
                }
                4 => {
                    if let Some(t) = map.get_mut(&name) {
                        t.indexes.retain(|i| i.name != idx);
                        t.constraints.push(Constraint {
                            name: idx.clone(),
                            kind: ConstraintKind::Unique,
                            columns: Vec::new(),
                            validated: true,
                            created_by: "1".into(),
                        });
                    }
                }
                5 => {
                    if let Some(t) = map.get_mut(&name) {
                        for i in &mut t.indexes {
                            i.name = format!("{}x", i.name);
                        }
                        t.constraints.clear();
                    }
                }
                _ => {
                    let copy = map.clone();
                    maps.push(copy);
                }
            }
            for map in &maps {
                for schema in ["public", "app"] {
                    for i in 0..10 {
                        for name in [format!("i{i}"), format!("i{i}x")] {
                            assert_eq!(
                                map.index_owner(schema, &name),
                                scanned_owner(map, schema, &name)
                            );
                            let scanned = map.iter().any(|(key, t)| {
                                key.schema == schema && t.constraint(&name).is_some()
                            });
                            assert_eq!(map.has_constraint_named(schema, &name), scanned);
                        }
                    }
                }
            }
            if maps.len() > 6 {
                maps.remove(0);
            }
        }
    }
}
