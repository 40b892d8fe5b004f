//! Applies changes to a catalog, in order.
//!
//! The replay models Postgres: generated names follow its rules, a primary key makes its
//! columns NOT NULL, a unique or primary key constraint brings its index, dropping a column
//! drops what depends on it. Where Postgres would raise an error (a duplicate name, an
//! unknown object), the replay leaves the catalog as it was: it is a model, and a model
//! that stops on the first surprise is no use for the rest of the history.

use super::{Catalog, Column, Constraint, EnumType, Index, Table, View};
use crate::dialect::Dialect;
use crate::ir::naming::{
    generated_name, identifiers_in, mentions_column, nextval, rename_identifier, serial_default,
    truncate_identifier, NameFor,
};
use crate::ir::rebuild;
use crate::ir::types::{canonical_default, canonical_type, is_serial};
use crate::ir::{
    BackfillKind, Change, ColumnDef, ConstraintDef, ConstraintKind, DefaultExpr, Generated,
    IndexDef, InferredColumn, QualifiedName,
};

impl Catalog {
    /// Applies one change made by migration `migration_id`. Changes to objects the catalog
    /// does not know (created outside the migrations, or by an unparsed statement) are
    /// ignored: the replay is a model, not a database, and must not stop on them.
    pub fn apply(&mut self, change: &Change, migration_id: &str) {
        match change {
            Change::CreateTable {
                table,
                columns,
                constraints,
                if_not_exists,
                ..
            } => self.create_table(table, columns, constraints, *if_not_exists, migration_id),
            Change::DropTable { tables, .. } => {
                for table in tables {
                    self.drop_table(table);
                }
            }
            Change::RenameTable { from, to } | Change::RenameView { from, to } => {
                self.rename_relation(from, to)
            }
            Change::AddColumn { table, column, .. } => self.add_column(table, column, migration_id),
            Change::DropColumn { table, column, .. } => self.drop_column(table, column),
            Change::RenameColumn { table, from, to } => self.rename_column(table, from, to),
            Change::AlterColumnType {
                table,
                column,
                data_type,
                ..
            } => self.update_column(table, column, |c| c.data_type = canonical_type(data_type)),
            Change::SetNotNull { table, column } => {
                self.update_column(table, column, |c| c.nullable = false)
            }
            Change::DropNotNull { table, column } => {
                self.update_column(table, column, |c| c.nullable = true)
            }
            Change::SetDefault {
                table,
                column,
                default,
            } => self.update_column(table, column, |c| {
                c.default = Some(default.clone()).filter(|d| !is_null_default(d, &c.data_type))
            }),
            Change::DropDefault { table, column } => {
                self.update_column(table, column, |c| c.default = None)
            }
            Change::AddConstraint { table, constraint } => {
                self.add_constraint(table, constraint, migration_id)
            }
            Change::ValidateConstraint { table, name } => self.validate_constraint(table, name),
            Change::DropConstraint { table, name, .. } => self.drop_constraint(table, name),
            Change::RenameConstraint { table, from, to } => self.rename_constraint(table, from, to),
            Change::CreateIndex(index) => self.create_index(index, migration_id),
            Change::DropIndex { names, .. } => {
                for name in names {
                    self.drop_index(name);
                }
            }
            Change::RenameIndex { from, to } => self.rename_index(from, to),
            Change::CreateView {
                name, materialized, ..
            } => self.create_view(name, *materialized, migration_id),
            Change::DropView { names, .. } => {
                for name in names {
                    self.views.remove(name);
                }
            }
            Change::CreateEnum { name, values } => self.create_enum(name, values, migration_id),
            Change::AddEnumValue {
                name,
                value,
                position,
            } => self.add_enum_value(name, value, position.as_ref()),
            Change::RenameEnumValue { name, from, to } => self.rename_enum_value(name, from, to),
            Change::RenameType { from, to } => self.rename_type(from, to),
            Change::InferColumns { table, columns } => {
                self.infer_columns(table, columns, migration_id)
            }
            Change::CreateFunction { name, volatile } => {
                self.functions.insert(name.clone(), *volatile);
            }
            Change::AddIdentity { table, column } => self.update_column(table, column, |c| {
                c.generated = Generated::Identity;
                c.nullable = false;
            }),
            Change::DropType { names, .. } => {
                for name in names {
                    self.enums.remove(name);
                }
            }
            Change::Backfill {
                table,
                kind: BackfillKind::Update,
                columns,
                ..
            } => self.record_backfill(table, columns, migration_id),
            // An extension creates objects of its own (PostGIS's spatial_ref_sys).
            Change::NoOp { what } if what == "CREATE EXTENSION" => self.blind_spots += 1,
            Change::Backfill { .. }
            | Change::Truncate { .. }
            | Change::Session { .. }
            | Change::Maintenance { .. }
            | Change::Transaction(_)
            | Change::OnlineDdl { .. }
            | Change::NoOp { .. } => {}
            Change::Opaque { .. } => self.blind_spots += 1,
        }
    }

    /// Applies all of one migration's changes, in order. Prefer it to `apply` one change at
    /// a time: it recognises a table rebuild (`ir::rebuild`) as an alteration of the old
    /// table, which keeps its origin and its columns' origins and backfills.
    pub fn apply_migration(&mut self, changes: &[Change], migration_id: &str) {
        let indexed: Vec<(usize, &Change)> = changes.iter().enumerate().collect();
        let rebuilt: Vec<Table> = rebuild::find(&indexed, self.dialect)
            .iter()
            .filter_map(|rebuild| self.tables.get(&rebuild.table).cloned())
            .collect();
        for change in changes {
            self.apply(change, migration_id);
        }
        for old in rebuilt {
            if let Some(new) = self.tables.get_mut(&old.name) {
                inherit_origins(new, &old);
            }
        }
    }

    // ---- tables ----

    /// Without `IF NOT EXISTS`, a table of the same name is replaced: Postgres would have
    /// failed, so the earlier table most likely went away in a statement we could not see.
    fn create_table(
        &mut self,
        name: &QualifiedName,
        columns: &[ColumnDef],
        constraints: &[ConstraintDef],
        if_not_exists: bool,
        migration_id: &str,
    ) {
        if if_not_exists && self.has_relation(name) {
            return;
        }
        let table = Table {
            name: name.clone(),
            columns: columns
                .iter()
                .map(|def| self.new_column(name, def, migration_id))
                .collect(),
            constraints: Vec::new(),
            indexes: Vec::new(),
            created_by: migration_id.to_string(),
        };
        self.tables.insert(name.clone(), table);
        for constraint in without_duplicate_keys(constraints) {
            self.add_constraint(name, &constraint, migration_id);
        }
        // A self-reference written before the primary key it points at.
        if let Some(table) = self.tables.get(name) {
            let resolved: Vec<ConstraintKind> = table
                .constraints
                .iter()
                .map(|c| self.resolved_kind(&c.kind))
                .collect();
            if let Some(table) = self.tables.get_mut(name) {
                for (constraint, kind) in table.constraints.iter_mut().zip(resolved) {
                    constraint.kind = kind;
                }
            }
        }
    }

    /// In Postgres, foreign keys pointing at the dropped table go with it, as with
    /// `CASCADE` (without it, Postgres would have refused, so they must already be gone).
    /// SQLite and MySQL (with checks off) leave them dangling, which a table rebuild relies
    /// on.
    fn drop_table(&mut self, name: &QualifiedName) {
        if self.tables.remove(name).is_some() && self.dialect == Dialect::Postgres {
            self.drop_foreign_keys_where(|references, _| references == name);
        }
    }

    /// Renames a table or a view. A table keeps its columns, constraints, indexes (whose
    /// names Postgres does not change) and origin; foreign keys elsewhere follow it.
    fn rename_relation(&mut self, from: &QualifiedName, to: &QualifiedName) {
        let to = self.rename_target(from, to);
        if let Some(mut table) = self.tables.remove(from) {
            table.name = to.clone();
            self.tables.insert(to.clone(), table);
            self.retarget_foreign_keys(from, &to);
        } else if let Some(mut view) = self.views.remove(from) {
            view.name = to.clone();
            self.views.insert(to, view);
        }
    }

    fn rename_target(&self, from: &QualifiedName, to: &QualifiedName) -> QualifiedName {
        rebuild::rename_target(self.dialect, from, to)
    }

    fn retarget_foreign_keys(&mut self, from: &QualifiedName, to: &QualifiedName) {
        self.edit_foreign_keys(from, |references, _| *references = to.clone());
    }

    // ---- columns ----

    fn add_column(&mut self, table: &QualifiedName, def: &ColumnDef, migration_id: &str) {
        let column = self.new_column(table, def, migration_id);
        if let Some(table) = self.tables.get_mut(table) {
            if table.column(&column.name).is_none() {
                table.columns.push(column);
            }
        }
    }

    /// A column as Postgres stores it: serial and identity columns are NOT NULL, and a
    /// serial gets the `nextval` default of its sequence, whose name Postgres numbers when
    /// a relation already has it (a serial cannot have another default).
    fn new_column(&self, table: &QualifiedName, def: &ColumnDef, migration_id: &str) -> Column {
        let generated = match def.generated {
            Generated::No if is_serial(&def.data_type) => Generated::Serial,
            generated => generated,
        };
        let generates_values = matches!(generated, Generated::Serial | Generated::Identity);
        let default = match generated {
            Generated::Serial if self.dialect == Dialect::Postgres => Some(serial_default(
                table,
                &def.name,
                self.dialect.default_schema(),
                |n| {
                    self.relation_name_taken(&table.schema, n)
                        || self.sequence_taken(&table.schema, n)
                },
            )),
            _ => def
                .default
                .clone()
                .filter(|d| !is_null_default(d, &def.data_type)),
        };
        Column {
            name: def.name.clone(),
            data_type: canonical_type(&def.data_type),
            nullable: def.nullable && !generates_values,
            default,
            generated,
            created_by: migration_id.to_string(),
            backfilled_by: Vec::new(),
        }
    }

    /// Drops the column with the indexes and constraints that use it, and the foreign keys
    /// elsewhere that reference it, as Postgres does (the last with `CASCADE`).
    fn drop_column(&mut self, table_name: &QualifiedName, column: &str) {
        let Some(table) = self.tables.get_mut(table_name) else {
            return;
        };
        if table.column(column).is_none() {
            return;
        }
        table.columns.retain(|c| c.name != column);
        table
            .constraints
            .retain(|constraint| !constraint_uses(constraint, column));
        table
            .indexes
            .retain(|index| !index.columns.iter().any(|c| mentions_column(c, column)));
        self.drop_foreign_keys_where(|references, ref_columns| {
            references == table_name && ref_columns.iter().any(|c| c == column)
        });
    }

    /// Renames the column everywhere it is named: constraints, indexes, check expressions,
    /// and foreign keys that reference it.
    fn rename_column(&mut self, table_name: &QualifiedName, from: &str, to: &str) {
        let Some(table) = self.tables.get_mut(table_name) else {
            return;
        };
        if table.column(to).is_some() {
            return;
        }
        let Some(column) = table.columns.iter_mut().find(|c| c.name == from) else {
            return;
        };
        column.name = to.to_string();
        for constraint in &mut table.constraints {
            rename_in_all(&mut constraint.columns, from, to);
            if let ConstraintKind::Check { expr } = &mut constraint.kind {
                *expr = rename_identifier(expr, from, to);
            }
        }
        for index in &mut table.indexes {
            rename_in_all(&mut index.columns, from, to);
        }
        self.edit_foreign_keys(table_name, |_, ref_columns| {
            rename_in_all(ref_columns, from, to)
        });
    }

    fn update_column(
        &mut self,
        table: &QualifiedName,
        column: &str,
        update: impl FnOnce(&mut Column),
    ) {
        let found = self
            .tables
            .get_mut(table)
            .and_then(|t| t.columns.iter_mut().find(|c| c.name == column));
        if let Some(column) = found {
            update(column);
        }
    }

    fn record_backfill(&mut self, table: &QualifiedName, columns: &[String], migration_id: &str) {
        for column in columns {
            self.update_column(table, column, |c| {
                if !c.backfilled_by.iter().any(|id| id == migration_id) {
                    c.backfilled_by.push(migration_id.to_string());
                }
            });
        }
    }

    // ---- constraints ----

    fn add_constraint(
        &mut self,
        table_name: &QualifiedName,
        def: &ConstraintDef,
        migration_id: &str,
    ) {
        let Some(table) = self.tables.get(table_name) else {
            return;
        };
        let columns = constraint_columns(table, def);
        let kind = self.resolved_kind(&def.kind);
        let name = self.constraint_name(table_name, def);
        if table.constraint(&name).is_some() {
            return;
        }
        let Some(table) = self.tables.get_mut(table_name) else {
            return;
        };
        if def.kind == ConstraintKind::PrimaryKey {
            for column in table
                .columns
                .iter_mut()
                .filter(|c| columns.contains(&c.name))
            {
                column.nullable = false;
            }
        }
        if builds_index(&def.kind) {
            let unique = def.kind != ConstraintKind::Exclusion;
            attach_index(
                table,
                &name,
                &columns,
                unique,
                def.using_index.as_deref(),
                migration_id,
            );
        }
        table.constraints.push(Constraint {
            name,
            kind,
            columns,
            validated: !def.not_valid,
            created_by: migration_id.to_string(),
        });
    }

    /// A foreign key written without the referenced columns (`REFERENCES users`) references
    /// the primary key's columns, which Postgres records.
    fn resolved_kind(&self, kind: &ConstraintKind) -> ConstraintKind {
        let ConstraintKind::ForeignKey {
            references,
            ref_columns,
        } = kind
        else {
            return kind.clone();
        };
        let primary_key = self
            .tables
            .get(references)
            .and_then(|target| {
                target
                    .constraints
                    .iter()
                    .find(|c| c.kind == ConstraintKind::PrimaryKey)
            })
            .map(|pk| pk.columns.clone());
        match primary_key {
            Some(columns) if ref_columns.is_empty() => ConstraintKind::ForeignKey {
                references: references.clone(),
                ref_columns: columns,
            },
            _ => kind.clone(),
        }
    }

    /// The name adding `def` to `table` gives the constraint: as written (cut to 63 bytes),
    /// the reused index's (`USING INDEX`), or the one Postgres generates.
    pub fn constraint_name(&self, table: &QualifiedName, def: &ConstraintDef) -> String {
        match (&def.name, &def.using_index) {
            (Some(name), _) => truncate_identifier(name),
            (None, Some(index)) => index.clone(),
            (None, None) => {
                let columns = match self.tables.get(table) {
                    Some(known) => constraint_columns(known, def),
                    None => def.columns.clone(),
                };
                self.generated_constraint_name(table, &def.kind, &columns)
            }
        }
    }

    /// The name Postgres gives a constraint written without one, numbered when taken: an
    /// index-backed one's name is its index's, unique among the schema's relations and
    /// constraints; the others', among the schema's constraints.
    fn generated_constraint_name(
        &self,
        table: &QualifiedName,
        kind: &ConstraintKind,
        columns: &[String],
    ) -> String {
        let schema = &table.schema;
        generated_name(&table.name, NameFor::Constraint(kind), columns, |n| {
            self.constraint_name_taken(schema, n)
                || (builds_index(kind) && self.relation_name_taken(schema, n))
        })
    }

    fn validate_constraint(&mut self, table: &QualifiedName, name: &str) {
        if let Some(constraint) = self.constraint_mut(table, name) {
            constraint.validated = true;
        }
    }

    /// A unique, primary key or exclusion constraint takes its index with it, and in
    /// Postgres the foreign keys that reference its columns (they depend on the index;
    /// without `CASCADE` the drop would have failed, so they must be gone).
    fn drop_constraint(&mut self, table_name: &QualifiedName, name: &str) {
        let Some(table) = self.tables.get_mut(table_name) else {
            return;
        };
        let Some(at) = table.constraints.iter().position(|c| c.name == name) else {
            return;
        };
        let constraint = table.constraints.remove(at);
        if builds_index(&constraint.kind) {
            table.indexes.retain(|index| index.name != name);
            if self.dialect == Dialect::Postgres {
                let mut key = constraint.columns;
                key.sort();
                self.drop_foreign_keys_where(|references, ref_columns| {
                    let mut columns = ref_columns.to_vec();
                    columns.sort();
                    references == table_name && columns == key
                });
            }
        }
    }

    /// The constraint's index is renamed with it, as Postgres does.
    fn rename_constraint(&mut self, table_name: &QualifiedName, from: &str, to: &str) {
        let Some(table) = self.tables.get_mut(table_name) else {
            return;
        };
        if table.constraint(to).is_some() {
            return;
        }
        let Some(constraint) = table.constraints.iter_mut().find(|c| c.name == from) else {
            return;
        };
        constraint.name = to.to_string();
        if builds_index(&constraint.kind) {
            if let Some(index) = table.indexes.iter_mut().find(|i| i.name == from) {
                index.name = to.to_string();
            }
        }
    }

    fn constraint_mut(&mut self, table: &QualifiedName, name: &str) -> Option<&mut Constraint> {
        self.tables
            .get_mut(table)?
            .constraints
            .iter_mut()
            .find(|c| c.name == name)
    }

    /// Applies `edit` to the referenced table and columns of every foreign key that
    /// references `target`, in every table.
    fn edit_foreign_keys(
        &mut self,
        target: &QualifiedName,
        mut edit: impl FnMut(&mut QualifiedName, &mut Vec<String>),
    ) {
        let references_target = |constraint: &Constraint| matches!(&constraint.kind, ConstraintKind::ForeignKey { references, .. } if references == target);
        self.tables.edit_where(
            |table| table.constraints.iter().any(references_target),
            |table| {
                for constraint in &mut table.constraints {
                    if let ConstraintKind::ForeignKey {
                        references,
                        ref_columns,
                    } = &mut constraint.kind
                    {
                        if references == target {
                            edit(references, ref_columns);
                        }
                    }
                }
            },
        );
    }

    /// Drops every foreign key whose referenced table and columns match.
    fn drop_foreign_keys_where(&mut self, matches: impl Fn(&QualifiedName, &[String]) -> bool) {
        let is_match = |constraint: &Constraint| match &constraint.kind {
            ConstraintKind::ForeignKey {
                references,
                ref_columns,
            } => matches(references, ref_columns),
            _ => false,
        };
        self.tables.edit_where(
            |table| table.constraints.iter().any(is_match),
            |table| table.constraints.retain(|constraint| !is_match(constraint)),
        );
    }

    // ---- indexes ----

    /// An unnamed index is `<table>_<columns>_idx` (unique or not), numbered when taken. A
    /// name already taken leaves the catalog unchanged (`IF NOT EXISTS`, or an error).
    fn create_index(&mut self, def: &IndexDef, migration_id: &str) {
        if !self.tables.contains_key(&def.table) {
            return;
        }
        let schema = &def.table.schema;
        let name = match &def.name {
            Some(name) => truncate_identifier(name),
            None => generated_name(&def.table.name, NameFor::Index, &def.columns, |n| {
                self.relation_name_taken(schema, n)
            }),
        };
        if self.relation_name_taken(schema, &name) {
            return;
        }
        if let Some(table) = self.tables.get_mut(&def.table) {
            table.indexes.push(Index {
                name,
                columns: def.columns.clone(),
                unique: def.unique,
                partial: def.partial,
                created_by: migration_id.to_string(),
            });
        }
    }

    /// Postgres refuses to drop an index that backs a constraint (drop the constraint
    /// instead), so such a drop changes nothing.
    fn drop_index(&mut self, name: &QualifiedName) {
        let Some(table) = self.index_owner_mut(name) else {
            return;
        };
        if table.constraints.iter().any(|c| backs(c, &name.name)) {
            return;
        }
        table.indexes.retain(|index| index.name != name.name);
    }

    /// Renaming an index that backs a constraint renames the constraint too.
    fn rename_index(&mut self, from: &QualifiedName, to: &str) {
        if self.relation_name_taken(&from.schema, to) {
            return;
        }
        let Some(table) = self.index_owner_mut(from) else {
            return;
        };
        for index in table.indexes.iter_mut().filter(|i| i.name == from.name) {
            index.name = to.to_string();
        }
        for constraint in table.constraints.iter_mut() {
            if backs(constraint, &from.name) {
                constraint.name = to.to_string();
            }
        }
    }

    fn index_owner_mut(&mut self, index: &QualifiedName) -> Option<&mut Table> {
        let owner = self.tables.index_owner(&index.schema, &index.name)?.clone();
        self.tables.get_mut(&owner)
    }

    /// A serial's sequence outlives a rename of its table (`users_id_seq` stays with
    /// `users_old`): the sequences in use are the ones serial defaults name.
    fn sequence_taken(&self, schema: &str, name: &str) -> bool {
        let sql = nextval(schema, name, self.dialect.default_schema());
        self.tables
            .values()
            .filter(|table| table.name.schema == schema)
            .flat_map(|table| &table.columns)
            .filter_map(|column| column.default.as_ref())
            .any(|default| default.sql == sql)
    }

    /// Postgres picks generated constraint names unique within the schema.
    fn constraint_name_taken(&self, schema: &str, name: &str) -> bool {
        self.tables.has_constraint_named(schema, name)
    }

    // ---- views and enums ----

    /// `CREATE OR REPLACE VIEW` over an existing view keeps it (and its origin).
    fn create_view(&mut self, name: &QualifiedName, materialized: bool, migration_id: &str) {
        if self.has_relation(name) {
            return;
        }
        let view = View {
            name: name.clone(),
            materialized,
            created_by: migration_id.to_string(),
        };
        self.views.insert(name.clone(), view);
    }

    fn create_enum(&mut self, name: &QualifiedName, values: &[String], migration_id: &str) {
        if !self.enums.contains_key(name) {
            let enum_type = EnumType {
                name: name.clone(),
                values: values.to_vec(),
                created_by: migration_id.to_string(),
            };
            self.enums.insert(name.clone(), enum_type);
        }
    }

    /// Adds at the end, or next to the anchor; an unknown anchor changes nothing.
    fn add_enum_value(
        &mut self,
        name: &QualifiedName,
        value: &str,
        position: Option<&(bool, String)>,
    ) {
        let Some(enum_type) = self.enums.get_mut(name) else {
            return;
        };
        if enum_type.values.iter().any(|v| v == value) {
            return;
        }
        let at =
            match position {
                None => Some(enum_type.values.len()),
                Some((before, anchor)) => enum_type
                    .values
                    .iter()
                    .position(|v| v == anchor)
                    .map(|at| if *before { at } else { at + 1 }),
            };
        if let Some(at) = at {
            enum_type.values.insert(at, value.to_string());
        }
    }

    /// The columns of a table made by `CREATE TABLE ... AS SELECT`: a `*` brings the source
    /// table's columns, a column reference its column's type, a cast its type; all are
    /// nullable and without default, as Postgres makes them. A column whose type cannot be
    /// told leaves the table incomplete, counted as a blind spot.
    fn infer_columns(
        &mut self,
        table: &QualifiedName,
        columns: &[InferredColumn],
        migration_id: &str,
    ) {
        let mut resolved: Vec<(String, String)> = Vec::new();
        for inferred in columns {
            let source = inferred.table.as_ref().and_then(|t| self.tables.get(t));
            match (&inferred.name, source) {
                (None, Some(source)) => resolved.extend(
                    source
                        .columns
                        .iter()
                        .map(|c| (c.name.clone(), c.data_type.clone())),
                ),
                (Some(name), source) => {
                    let from_source = source
                        .zip(inferred.column.as_deref())
                        .and_then(|(t, c)| t.column(c))
                        .map(|c| c.data_type.clone());
                    match inferred.data_type.clone().or(from_source) {
                        Some(data_type) => resolved.push((name.clone(), data_type)),
                        None => self.blind_spots += 1,
                    }
                }
                (None, None) => self.blind_spots += 1,
            }
        }
        let Some(target) = self.tables.get_mut(table) else {
            return;
        };
        for (name, data_type) in resolved {
            if target.column(&name).is_some() {
                continue;
            }
            target.columns.push(Column {
                name,
                data_type,
                nullable: true,
                default: None,
                generated: Generated::No,
                created_by: migration_id.to_string(),
                backfilled_by: Vec::new(),
            });
        }
    }

    /// Renames an enum type; the columns of that type (and arrays of it) follow, spelled as
    /// `format_type` prints the new name.
    fn rename_type(&mut self, from: &QualifiedName, to: &QualifiedName) {
        if !self.enums.contains_key(from) || self.enums.contains_key(to) {
            return;
        }
        let quote = |part: &str| format!("\"{}\"", part.replace('"', "\"\""));
        let spelled = if to.schema == self.dialect.default_schema() {
            canonical_type(&quote(&to.name))
        } else {
            canonical_type(&format!("{}.{}", quote(&to.schema), quote(&to.name)))
        };
        let typed: Vec<(QualifiedName, String)> = self
            .tables
            .values()
            .flat_map(|table| {
                table
                    .columns
                    .iter()
                    .filter(|column| {
                        self.enum_type(&column.data_type)
                            .is_some_and(|found| found.name == *from)
                    })
                    .map(|column| (table.name.clone(), column.name.clone()))
            })
            .collect();
        if let Some(mut enum_type) = self.enums.remove(from) {
            enum_type.name = to.clone();
            self.enums.insert(to.clone(), enum_type);
        }
        for (table, column) in typed {
            if let Some(table) = self.tables.get_mut(&table) {
                if let Some(column) = table.columns.iter_mut().find(|c| c.name == column) {
                    let array = if column.data_type.ends_with("[]") {
                        "[]"
                    } else {
                        ""
                    };
                    column.data_type = format!("{spelled}{array}");
                }
            }
        }
    }

    fn rename_enum_value(&mut self, name: &QualifiedName, from: &str, to: &str) {
        let Some(enum_type) = self.enums.get_mut(name) else {
            return;
        };
        if enum_type.values.iter().any(|v| v == to) {
            return;
        }
        for value in enum_type.values.iter_mut().filter(|v| *v == from) {
            *value = to.to_string();
        }
    }
}

/// After a rebuild, the new table is the old one altered: it keeps the old table's origin,
/// and the columns, constraints and indexes that match old ones (by name for columns, by
/// definition for the others, whose generated names follow the temporary table's) keep
/// theirs.
fn inherit_origins(new: &mut Table, old: &Table) {
    new.created_by = old.created_by.clone();
    for column in &mut new.columns {
        if let Some(old_column) = old.column(&column.name) {
            column.created_by = old_column.created_by.clone();
            let backfills = std::mem::take(&mut column.backfilled_by);
            column.backfilled_by = old_column.backfilled_by.clone();
            for id in backfills {
                if !column.backfilled_by.contains(&id) {
                    column.backfilled_by.push(id);
                }
            }
        }
    }
    for constraint in &mut new.constraints {
        let same = |c: &&Constraint| c.kind == constraint.kind && c.columns == constraint.columns;
        if let Some(old_constraint) = old.constraints.iter().find(same) {
            constraint.created_by = old_constraint.created_by.clone();
        }
    }
    for index in &mut new.indexes {
        let same = |i: &&Index| i.columns == index.columns && i.unique == index.unique;
        if let Some(old_index) = old.indexes.iter().find(same) {
            index.created_by = old_index.created_by.clone();
        }
    }
}

/// `DEFAULT NULL` (or `NULL` cast to the column's type): Postgres stores no default.
fn is_null_default(default: &DefaultExpr, column_type: &str) -> bool {
    canonical_default(&default.sql, column_type).is_none()
}

/// The constraint's columns: as given; else the reused index's; else, for a check, the
/// table's columns its expression mentions (what Postgres records in `conkey`).
fn constraint_columns(table: &Table, def: &ConstraintDef) -> Vec<String> {
    if !def.columns.is_empty() {
        return def.columns.clone();
    }
    if let Some(index) = def
        .using_index
        .as_deref()
        .and_then(|name| table.index(name))
    {
        return index.columns.clone();
    }
    let ConstraintKind::Check { expr } = &def.kind else {
        return Vec::new();
    };
    let mut columns: Vec<String> = Vec::new();
    for name in identifiers_in(expr) {
        if table.column(&name).is_some() && !columns.contains(&name) {
            columns.push(name);
        }
    }
    columns
}

/// The constraints of one `CREATE TABLE` as Postgres keeps them: a unique constraint on the
/// primary key's columns (`id ... PRIMARY KEY UNIQUE`), or on the columns of an earlier
/// unique one, is dropped, its name going to the kept one when that has none.
fn without_duplicate_keys(constraints: &[ConstraintDef]) -> Vec<ConstraintDef> {
    let is_key = |def: &ConstraintDef| {
        matches!(
            def.kind,
            ConstraintKind::PrimaryKey | ConstraintKind::Unique
        ) && def.using_index.is_none()
            && !def.columns.is_empty()
    };
    // The primary key is kept in preference to an equal unique constraint.
    let primary = constraints
        .iter()
        .position(|def| def.kind == ConstraintKind::PrimaryKey && is_key(def));
    let mut kept = constraints.to_vec();
    let mut dropped = vec![false; constraints.len()];
    for (at, def) in constraints.iter().enumerate() {
        if !is_key(def) || Some(at) == primary {
            continue;
        }
        let same = |other: usize| {
            other != at
                && !dropped[other]
                && is_key(&constraints[other])
                && constraints[other].columns == def.columns
        };
        let survivor = primary
            .filter(|&pk| same(pk))
            .or_else(|| (0..at).find(|&other| same(other)));
        if let Some(survivor) = survivor {
            dropped[at] = true;
            if kept[survivor].name.is_none() {
                kept[survivor].name = def.name.clone();
            }
        }
    }
    kept.into_iter()
        .zip(dropped)
        .filter(|(_, dropped)| !dropped)
        .map(|(def, _)| def)
        .collect()
}

/// Primary keys, unique and exclusion constraints are enforced by an index of their name.
fn builds_index(kind: &ConstraintKind) -> bool {
    matches!(
        kind,
        ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion
    )
}

/// True when `constraint` is enforced by the index `index`.
fn backs(constraint: &Constraint, index: &str) -> bool {
    builds_index(&constraint.kind) && constraint.name == index
}

/// Gives the constraint its index: the one named by `USING INDEX`, renamed to the
/// constraint's name as Postgres does, or a new one.
fn attach_index(
    table: &mut Table,
    name: &str,
    columns: &[String],
    unique: bool,
    using_index: Option<&str>,
    migration_id: &str,
) {
    let reused = using_index.and_then(|using| table.indexes.iter_mut().find(|i| i.name == using));
    match reused {
        Some(index) => {
            index.name = name.to_string();
            index.unique |= unique;
        }
        None => table.indexes.push(Index {
            name: name.to_string(),
            columns: columns.to_vec(),
            unique,
            partial: false,
            created_by: migration_id.to_string(),
        }),
    }
}

fn constraint_uses(constraint: &Constraint, column: &str) -> bool {
    let in_expression = match &constraint.kind {
        ConstraintKind::Check { expr } => mentions_column(expr, column),
        _ => false,
    };
    in_expression || constraint.columns.iter().any(|c| c == column)
}

fn rename_in_all(columns: &mut [String], from: &str, to: &str) {
    for column in columns {
        *column = rename_identifier(column, from, to);
    }
}

#[cfg(test)]
#[path = "replay_tests.rs"]
mod tests;
