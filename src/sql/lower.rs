//! Lowers sqlparser's AST to the change IR. This is the one module that knows the AST, so a
//! sqlparser upgrade touches only this file.

use super::{qualify, volatility};
use crate::dialect::Dialect;
use crate::ir::types::canonical_type;
use crate::ir::{
    BackfillKind, Change, ColumnDef, ConstraintDef, ConstraintKind, DefaultExpr, Generated,
    IndexDef, MaintenanceKind, OnlineDdl, QualifiedName, TransactionControl,
};
use sqlparser::ast::{
    self, AlterColumnOperation, AlterIndexOperation, AlterTableOperation,
    AlterTypeAddValuePosition, AlterTypeOperation, AlterViewOperation, ColumnOption,
    ContextModifier, Expr, FromTable, GeneratedExpressionMode, Ident, IndexColumn, ObjectName,
    ObjectNamePart, ObjectType, RenameTableNameKind, SetExpr, Statement as Ast, TableConstraint,
    TableFactor, TableObject, UserDefinedTypeRepresentation,
};

/// Lowers one parsed statement. Never empty: what rollsafe does not model is a `NoOp` (known
/// to leave the schema alone) or an `Opaque` change.
pub fn lower(statement: &Ast, dialect: Dialect) -> Vec<Change> {
    Lowerer { dialect }.statement(statement)
}

struct Lowerer {
    dialect: Dialect,
}

fn noop(what: &str) -> Vec<Change> {
    vec![Change::NoOp { what: what.into() }]
}

fn opaque(what: impl Into<String>) -> Vec<Change> {
    vec![Change::Opaque { what: what.into() }]
}

/// An identifier as the database stores it: unquoted names fold to lower case.
fn ident(id: &Ident) -> String {
    super::fold(&id.value, id.quote_style.is_some())
}

impl Lowerer {
    fn statement(&self, statement: &Ast) -> Vec<Change> {
        match statement {
            Ast::CreateTable(create) => self.create_table(create),
            Ast::AlterTable(alter) => self.alter_table(alter),
            Ast::CreateIndex(index) => vec![Change::CreateIndex(self.create_index(index))],
            Ast::Drop {
                object_type,
                if_exists,
                names,
                cascade,
                ..
            } => self.drop(*object_type, *if_exists, names, *cascade),
            Ast::CreateView(view) => vec![Change::CreateView {
                name: self.name(&view.name),
                materialized: view.materialized,
                or_replace: view.or_replace || view.or_alter,
            }],
            Ast::AlterView(view) => self.alter_view(view),
            Ast::RenameTable(renames) => renames
                .iter()
                .map(|r| Change::RenameTable {
                    from: self.name(&r.old_name),
                    to: self.name(&r.new_name),
                })
                .collect(),
            Ast::AlterIndex { name, operation } => match operation {
                AlterIndexOperation::RenameIndex { index_name } => vec![Change::RenameIndex {
                    from: self.name(name),
                    to: self.name(index_name).name,
                }],
            },
            Ast::CreateType {
                name,
                representation,
            } => self.create_type(name, representation.as_ref()),
            Ast::AlterType(alter) => self.alter_type(alter),
            Ast::Insert(insert) => self.insert(insert),
            Ast::Update(update) => self.update(update),
            Ast::Delete(delete) => self.delete(delete),
            Ast::Truncate(truncate) => truncate
                .table_names
                .iter()
                .map(|t| self.backfill(&t.name, BackfillKind::Delete, vec![], false))
                .collect(),
            Ast::Set(set) => self.set(set),
            Ast::StartTransaction { .. } => vec![Change::Transaction(TransactionControl::Begin)],
            Ast::Commit { .. } => vec![Change::Transaction(TransactionControl::Commit)],
            Ast::Rollback {
                savepoint: None, ..
            } => vec![Change::Transaction(TransactionControl::Rollback)],
            Ast::Rollback { .. } => noop("ROLLBACK TO SAVEPOINT"),
            Ast::Savepoint { .. } => noop("SAVEPOINT"),
            Ast::ReleaseSavepoint { .. } => noop("RELEASE SAVEPOINT"),
            Ast::Query(query) => self.query(query),
            Ast::Analyze(analyze) => vec![Change::Maintenance {
                kind: MaintenanceKind::Analyze,
                table: analyze.table_name.as_ref().map(|t| self.name(t)),
            }],
            Ast::Vacuum(vacuum) => vec![Change::Maintenance {
                kind: MaintenanceKind::Vacuum { full: vacuum.full },
                table: vacuum.table_name.as_ref().map(|t| self.name(t)),
            }],
            Ast::RefreshMaterializedView(refresh) => vec![Change::Maintenance {
                kind: MaintenanceKind::RefreshMaterializedView {
                    concurrently: refresh.concurrently,
                },
                table: Some(self.name(&refresh.name)),
            }],
            Ast::CreateVirtualTable { name, .. } => vec![Change::CreateTable {
                table: self.name(name),
                columns: vec![],
                constraints: vec![],
                if_not_exists: true,
                as_select: true,
            }],
            Ast::Call(_) | Ast::Execute { .. } => opaque("CALL"),
            Ast::Copy { .. } => opaque("COPY"),
            other => self.unmodelled(other),
        }
    }

    /// Statements that leave the tables alone (a `NoOp`), or whose effect we cannot see.
    fn unmodelled(&self, statement: &Ast) -> Vec<Change> {
        let what = match statement {
            Ast::Comment { .. } => "COMMENT ON",
            Ast::Grant(_) | Ast::GrantRole(_) | Ast::Deny(_) => "GRANT",
            Ast::Revoke(_) | Ast::RevokeRole(_) => "REVOKE",
            Ast::AlterDefaultPrivileges(_) => "ALTER DEFAULT PRIVILEGES",
            Ast::CreateExtension(_) => "CREATE EXTENSION",
            Ast::DropExtension(_) => "DROP EXTENSION",
            Ast::CreateSchema { .. } => "CREATE SCHEMA",
            Ast::AlterSchema(_) => "ALTER SCHEMA",
            Ast::CreateDatabase { .. } => "CREATE DATABASE",
            Ast::CreateSequence { .. } => "CREATE SEQUENCE",
            Ast::CreateFunction(_) => "CREATE FUNCTION",
            Ast::AlterFunction(_) => "ALTER FUNCTION",
            Ast::DropFunction(_) => "DROP FUNCTION",
            Ast::CreateProcedure { .. } => "CREATE PROCEDURE",
            Ast::DropProcedure { .. } => "DROP PROCEDURE",
            Ast::CreateTrigger(_) => "CREATE TRIGGER",
            Ast::AlterTrigger(_) => "ALTER TRIGGER",
            Ast::DropTrigger(_) => "DROP TRIGGER",
            Ast::CreatePolicy(_) => "CREATE POLICY",
            Ast::AlterPolicy(_) => "ALTER POLICY",
            Ast::DropPolicy(_) => "DROP POLICY",
            Ast::CreateRole(_) | Ast::CreateUser(_) => "CREATE ROLE",
            Ast::AlterRole { .. } | Ast::AlterUser(_) => "ALTER ROLE",
            Ast::CreateDomain(_) => "CREATE DOMAIN",
            Ast::DropDomain(_) => "DROP DOMAIN",
            Ast::CreateCollation(_) | Ast::AlterCollation(_) => "COLLATION",
            Ast::CreateRule(_) | Ast::DropRule(_) => "RULE",
            Ast::CreateAggregate(_) => "CREATE AGGREGATE",
            Ast::CreateOperator(_)
            | Ast::CreateOperatorFamily(_)
            | Ast::CreateOperatorClass(_)
            | Ast::AlterOperator(_)
            | Ast::AlterOperatorFamily(_)
            | Ast::AlterOperatorClass(_)
            | Ast::DropOperator(_)
            | Ast::DropOperatorFamily(_)
            | Ast::DropOperatorClass(_) => "OPERATOR",
            Ast::CreateTextSearch(_) | Ast::AlterTextSearch(_) => "TEXT SEARCH",
            Ast::CreateServer(_) | Ast::CreateForeignDataWrapper(_) | Ast::CreateUserMapping(_) => {
                "FOREIGN DATA WRAPPER"
            }
            Ast::Pragma { .. } => "PRAGMA",
            Ast::Use(_) => "USE",
            Ast::Lock(_) | Ast::LockTables { .. } | Ast::UnlockTables => "LOCK",
            Ast::Discard { .. } => "DISCARD",
            Ast::Reset(_) => "RESET",
            Ast::LISTEN { .. } | Ast::UNLISTEN { .. } | Ast::NOTIFY { .. } => "NOTIFY",
            Ast::Explain { .. } | Ast::ExplainTable { .. } => "EXPLAIN",
            Ast::Declare { .. } | Ast::Fetch { .. } | Ast::Close { .. } => "CURSOR",
            Ast::Prepare { .. } | Ast::Deallocate { .. } => "PREPARE",
            other => return opaque(leading_words(&other.to_string(), 3)),
        };
        noop(what)
    }

    fn name(&self, name: &ObjectName) -> QualifiedName {
        let parts = name
            .0
            .iter()
            .map(|part| match part {
                ObjectNamePart::Identifier(id) => ident(id),
                ObjectNamePart::Function(f) => f.name.value.to_lowercase(),
            })
            .collect();
        qualify(parts, self.dialect)
    }

    /// A name in the schema of `table` (an index or constraint named by an `ALTER TABLE`).
    fn sibling(&self, table: &QualifiedName, id: &Ident) -> QualifiedName {
        QualifiedName::new(table.schema.clone(), ident(id))
    }

    // ---- CREATE TABLE -------------------------------------------------------------------

    fn create_table(&self, create: &ast::CreateTable) -> Vec<Change> {
        if create.temporary {
            return noop("CREATE TEMPORARY TABLE");
        }
        let table = self.name(&create.name);
        let mut columns = Vec::new();
        let mut constraints = Vec::new();
        let mut indexes = Vec::new();
        for column in &create.columns {
            let (def, inline) = self.column(&table, column);
            columns.push(def);
            constraints.extend(inline);
        }
        for constraint in &create.constraints {
            match self.table_constraint(&table, constraint) {
                Lifted::Constraint(c) => constraints.push(c),
                Lifted::Index(i) => indexes.push(Change::CreateIndex(i)),
            }
        }
        // A primary key's columns are NOT NULL, wherever the key is declared.
        for pk in constraints
            .iter()
            .filter(|c| c.kind == ConstraintKind::PrimaryKey)
        {
            for column in columns.iter_mut().filter(|c| pk.columns.contains(&c.name)) {
                column.nullable = false;
            }
        }
        let derived = create.query.is_some()
            || create.like.is_some()
            || create.partition_of.is_some()
            || create.clone.is_some();
        let mut changes = vec![Change::CreateTable {
            table,
            columns,
            constraints,
            if_not_exists: create.if_not_exists,
            as_select: derived,
        }];
        changes.extend(indexes);
        changes
    }

    /// A column definition and the constraints written inline on it.
    fn column(
        &self,
        table: &QualifiedName,
        column: &ast::ColumnDef,
    ) -> (ColumnDef, Vec<ConstraintDef>) {
        let name = ident(&column.name);
        let raw_type = column.data_type.to_string();
        let mut def = ColumnDef {
            name: name.clone(),
            data_type: canonical_type(&raw_type),
            nullable: true,
            default: None,
            generated: Generated::No,
        };
        if let Some(base) = serial_base_type(&raw_type) {
            def.data_type = canonical_type(base);
            def.nullable = false;
            def.generated = Generated::Serial;
            def.default = Some(DefaultExpr {
                sql: format!("nextval('{}_{}_seq'::regclass)", table.name, name),
                volatile: true,
            });
        }
        let mut constraints = Vec::new();
        for option in &column.options {
            let constraint_name = option.name.as_ref().map(ident);
            self.column_option(&mut def, &option.option, constraint_name, &mut constraints);
        }
        (def, constraints)
    }

    fn column_option(
        &self,
        def: &mut ColumnDef,
        option: &ColumnOption,
        constraint_name: Option<String>,
        constraints: &mut Vec<ConstraintDef>,
    ) {
        let column = vec![def.name.clone()];
        let mut lift = |name: Option<&Ident>, kind: ConstraintKind| {
            constraints.push(ConstraintDef {
                name: name.map(ident).or_else(|| constraint_name.clone()),
                kind,
                columns: column.clone(),
                not_valid: false,
                using_index: None,
            })
        };
        match option {
            ColumnOption::Null => def.nullable = true,
            ColumnOption::NotNull => def.nullable = false,
            ColumnOption::Default(expr) => def.default = Some(default_expr(expr)),
            ColumnOption::PrimaryKey(pk) => {
                def.nullable = false;
                lift(pk.name.as_ref(), ConstraintKind::PrimaryKey);
            }
            ColumnOption::Unique(unique) => lift(unique.name.as_ref(), ConstraintKind::Unique),
            ColumnOption::ForeignKey(fk) => lift(
                fk.name.as_ref(),
                ConstraintKind::ForeignKey {
                    references: self.name(&fk.foreign_table),
                    ref_columns: fk.referred_columns.iter().map(ident).collect(),
                },
            ),
            ColumnOption::Check(check) => lift(
                check.name.as_ref(),
                ConstraintKind::Check {
                    expr: check.expr.to_string(),
                },
            ),
            ColumnOption::Generated {
                generation_expr: Some(_),
                generation_expr_mode,
                ..
            } => {
                def.generated = match generation_expr_mode {
                    Some(GeneratedExpressionMode::Virtual) => Generated::Virtual,
                    _ => Generated::Stored,
                }
            }
            ColumnOption::Generated { .. } | ColumnOption::Identity(_) => {
                def.generated = Generated::Identity;
                def.nullable = false;
            }
            ColumnOption::DialectSpecific(tokens) if is_auto_increment(tokens) => {
                def.generated = Generated::Identity;
            }
            _ => {}
        }
    }

    fn table_constraint(&self, table: &QualifiedName, constraint: &TableConstraint) -> Lifted {
        let def = |name: &Option<Ident>, kind, columns| ConstraintDef {
            name: name.as_ref().map(ident),
            kind,
            columns,
            not_valid: false,
            using_index: None,
        };
        let using = |c: &ast::ConstraintUsingIndex, kind| ConstraintDef {
            using_index: Some(ident(&c.index_name)),
            ..def(&c.name, kind, vec![])
        };
        let index = |name: Option<&Ident>, columns: &[IndexColumn], unique| IndexDef {
            name: name.map(ident),
            table: table.clone(),
            columns: index_columns(columns),
            unique,
            concurrently: false,
            if_not_exists: false,
            partial: false,
        };
        Lifted::Constraint(match constraint {
            TableConstraint::Unique(u) => {
                def(&u.name, ConstraintKind::Unique, index_columns(&u.columns))
            }
            TableConstraint::PrimaryKey(pk) => def(
                &pk.name,
                ConstraintKind::PrimaryKey,
                index_columns(&pk.columns),
            ),
            TableConstraint::ForeignKey(fk) => def(
                &fk.name,
                ConstraintKind::ForeignKey {
                    references: self.name(&fk.foreign_table),
                    ref_columns: fk.referred_columns.iter().map(ident).collect(),
                },
                fk.columns.iter().map(ident).collect(),
            ),
            TableConstraint::Check(check) => def(
                &check.name,
                ConstraintKind::Check {
                    expr: check.expr.to_string(),
                },
                vec![],
            ),
            TableConstraint::Exclude(exclude) => {
                def(&exclude.name, ConstraintKind::Exclusion, vec![])
            }
            TableConstraint::PrimaryKeyUsingIndex(c) => using(c, ConstraintKind::PrimaryKey),
            TableConstraint::UniqueUsingIndex(c) => using(c, ConstraintKind::Unique),
            TableConstraint::Index(i) => {
                return Lifted::Index(index(i.name.as_ref(), &i.columns, false))
            }
            TableConstraint::FulltextOrSpatial(i) => {
                return Lifted::Index(index(i.opt_index_name.as_ref(), &i.columns, false))
            }
        })
    }

    // ---- ALTER TABLE --------------------------------------------------------------------

    fn alter_table(&self, alter: &ast::AlterTable) -> Vec<Change> {
        let table = self.name(&alter.name);
        let mut changes = Vec::new();
        let mut online = OnlineDdl::default();
        for operation in &alter.operations {
            match operation {
                AlterTableOperation::Algorithm { algorithm, .. } => {
                    online.algorithm = Some(algorithm.to_string());
                }
                AlterTableOperation::Lock { lock, .. } => online.lock = Some(lock.to_string()),
                _ => changes.extend(self.alter_table_operation(&table, operation)),
            }
        }
        if online != OnlineDdl::default() {
            changes.push(Change::OnlineDdl {
                table,
                options: online,
            });
        }
        if changes.is_empty() {
            changes = noop("ALTER TABLE");
        }
        changes
    }

    fn alter_table_operation(
        &self,
        table: &QualifiedName,
        operation: &AlterTableOperation,
    ) -> Vec<Change> {
        use AlterTableOperation as Op;
        let table = table.clone();
        match operation {
            Op::AddConstraint {
                constraint,
                not_valid,
            } => match self.table_constraint(&table, constraint) {
                Lifted::Constraint(mut constraint) => {
                    constraint.not_valid = *not_valid;
                    vec![Change::AddConstraint { table, constraint }]
                }
                Lifted::Index(index) => vec![Change::CreateIndex(index)],
            },
            Op::AddColumn {
                if_not_exists,
                column_def,
                ..
            } => {
                let (column, inline) = self.column(&table, column_def);
                let mut changes = vec![Change::AddColumn {
                    table: table.clone(),
                    column,
                    if_not_exists: *if_not_exists,
                }];
                changes.extend(inline.into_iter().map(|constraint| Change::AddConstraint {
                    table: table.clone(),
                    constraint,
                }));
                changes
            }
            Op::DropColumn {
                column_names,
                if_exists,
                ..
            } => column_names
                .iter()
                .map(|column| Change::DropColumn {
                    table: table.clone(),
                    column: ident(column),
                    if_exists: *if_exists,
                })
                .collect(),
            Op::DropConstraint {
                if_exists, name, ..
            } => vec![Change::DropConstraint {
                table,
                name: ident(name),
                if_exists: *if_exists,
            }],
            Op::DropForeignKey { name, .. } => vec![Change::DropConstraint {
                table,
                name: ident(name),
                if_exists: false,
            }],
            Op::DropPrimaryKey { .. } => {
                let name = match self.dialect {
                    Dialect::Mysql => "PRIMARY".to_string(),
                    _ => format!("{}_pkey", table.name),
                };
                vec![Change::DropConstraint {
                    table,
                    name,
                    if_exists: false,
                }]
            }
            Op::DropIndex { name } => vec![Change::DropIndex {
                names: vec![self.sibling(&table, name)],
                concurrently: false,
                if_exists: false,
            }],
            Op::RenameColumn {
                old_column_name,
                new_column_name,
            } => vec![Change::RenameColumn {
                table,
                from: ident(old_column_name),
                to: ident(new_column_name),
            }],
            Op::RenameTable { table_name } => {
                let new_name = match table_name {
                    RenameTableNameKind::As(name) | RenameTableNameKind::To(name) => name,
                };
                let mut to = self.name(new_name);
                if new_name.0.len() == 1 {
                    // Postgres keeps the table in its schema.
                    to.schema = table.schema.clone();
                }
                vec![Change::RenameTable { from: table, to }]
            }
            Op::RenameConstraint { old_name, new_name } => vec![Change::RenameConstraint {
                table,
                from: ident(old_name),
                to: ident(new_name),
            }],
            Op::ChangeColumn {
                old_name,
                new_name,
                data_type,
                options,
                ..
            } => self.redefine_column(&table, old_name, new_name, data_type, options),
            Op::ModifyColumn {
                col_name,
                data_type,
                options,
                ..
            } => self.redefine_column(&table, col_name, col_name, data_type, options),
            Op::AlterColumn { column_name, op } => self.alter_column(table, ident(column_name), op),
            Op::ValidateConstraint { name } => vec![Change::ValidateConstraint {
                table,
                name: ident(name),
            }],
            Op::OwnerTo { .. } => noop("ALTER TABLE OWNER TO"),
            Op::EnableRowLevelSecurity
            | Op::DisableRowLevelSecurity
            | Op::ForceRowLevelSecurity
            | Op::NoForceRowLevelSecurity => noop("ALTER TABLE ROW LEVEL SECURITY"),
            Op::EnableTrigger { .. }
            | Op::DisableTrigger { .. }
            | Op::EnableAlwaysTrigger { .. }
            | Op::EnableReplicaTrigger { .. }
            | Op::EnableRule { .. }
            | Op::DisableRule { .. }
            | Op::EnableAlwaysRule { .. }
            | Op::EnableReplicaRule { .. } => noop("ALTER TABLE ENABLE/DISABLE TRIGGER"),
            Op::ReplicaIdentity { .. } => noop("ALTER TABLE REPLICA IDENTITY"),
            Op::SetOptionsParens { .. } | Op::ResetOptions { .. } | Op::SetTblProperties { .. } => {
                noop("ALTER TABLE SET (storage parameters)")
            }
            Op::AutoIncrement { .. } => noop("ALTER TABLE AUTO_INCREMENT"),
            other => opaque(format!(
                "ALTER TABLE {}",
                leading_words(&other.to_string(), 2)
            )),
        }
    }

    fn alter_column(
        &self,
        table: QualifiedName,
        column: String,
        op: &AlterColumnOperation,
    ) -> Vec<Change> {
        let change = match op {
            AlterColumnOperation::SetNotNull => Change::SetNotNull { table, column },
            AlterColumnOperation::DropNotNull => Change::DropNotNull { table, column },
            AlterColumnOperation::SetDefault { value } => Change::SetDefault {
                table,
                column,
                default: default_expr(value),
            },
            AlterColumnOperation::DropDefault => Change::DropDefault { table, column },
            AlterColumnOperation::SetDataType {
                data_type, using, ..
            } => Change::AlterColumnType {
                table,
                column,
                data_type: canonical_type(&data_type.to_string()),
                using: using.as_ref().map(ToString::to_string),
            },
            AlterColumnOperation::AddGenerated { .. } => {
                return opaque("ALTER COLUMN ADD GENERATED AS IDENTITY")
            }
            AlterColumnOperation::GenericOptions { .. } => return noop("ALTER COLUMN OPTIONS"),
        };
        vec![change]
    }

    /// MySQL `CHANGE`/`MODIFY COLUMN` restates the whole definition: a rename, the type, and
    /// the nullability it implies.
    fn redefine_column(
        &self,
        table: &QualifiedName,
        old_name: &Ident,
        new_name: &Ident,
        data_type: &ast::DataType,
        options: &[ColumnOption],
    ) -> Vec<Change> {
        let (from, to) = (ident(old_name), ident(new_name));
        let mut changes = Vec::new();
        if from != to {
            changes.push(Change::RenameColumn {
                table: table.clone(),
                from,
                to: to.clone(),
            });
        }
        changes.push(Change::AlterColumnType {
            table: table.clone(),
            column: to.clone(),
            data_type: canonical_type(&data_type.to_string()),
            using: None,
        });
        let not_null = options
            .iter()
            .any(|o| matches!(o, ColumnOption::NotNull | ColumnOption::PrimaryKey(_)));
        let (table, column) = (table.clone(), to);
        changes.push(if not_null {
            Change::SetNotNull {
                table: table.clone(),
                column: column.clone(),
            }
        } else {
            Change::DropNotNull {
                table: table.clone(),
                column: column.clone(),
            }
        });
        if let Some(expr) = options.iter().find_map(|o| match o {
            ColumnOption::Default(expr) => Some(expr),
            _ => None,
        }) {
            changes.push(Change::SetDefault {
                table,
                column,
                default: default_expr(expr),
            });
        }
        changes
    }

    // ---- indexes, drops, views, types ---------------------------------------------------

    fn create_index(&self, index: &ast::CreateIndex) -> IndexDef {
        let table = self.name(&index.table_name);
        IndexDef {
            name: index.name.as_ref().map(|n| self.name(n).name),
            table,
            columns: index_columns(&index.columns),
            unique: index.unique,
            concurrently: index.concurrently,
            if_not_exists: index.if_not_exists,
            partial: index.predicate.is_some(),
        }
    }

    fn drop(
        &self,
        object_type: ObjectType,
        if_exists: bool,
        names: &[ObjectName],
        cascade: bool,
    ) -> Vec<Change> {
        let names: Vec<QualifiedName> = names.iter().map(|n| self.name(n)).collect();
        let change = match object_type {
            ObjectType::Table => Change::DropTable {
                tables: names,
                if_exists,
                cascade,
            },
            ObjectType::View | ObjectType::MaterializedView => Change::DropView {
                names,
                materialized: object_type == ObjectType::MaterializedView,
                if_exists,
            },
            ObjectType::Index => Change::DropIndex {
                names,
                concurrently: false,
                if_exists,
            },
            ObjectType::Type => Change::DropType { names, if_exists },
            // Dropping a schema with its contents is more than we model.
            ObjectType::Schema if cascade => return opaque("DROP SCHEMA CASCADE"),
            other => return noop(&format!("DROP {}", other.to_string().to_uppercase())),
        };
        vec![change]
    }

    fn alter_view(&self, view: &ast::AlterView) -> Vec<Change> {
        let name = self.name(&view.name);
        match &view.operation {
            AlterViewOperation::As { .. } => vec![Change::CreateView {
                name,
                materialized: view.materialized,
                or_replace: true,
            }],
            AlterViewOperation::RenameTo { new_name } => {
                let mut to = self.name(new_name);
                if new_name.0.len() == 1 {
                    to.schema = name.schema.clone();
                }
                vec![Change::RenameView { from: name, to }]
            }
            AlterViewOperation::OwnerTo(_) => noop("ALTER VIEW OWNER TO"),
            AlterViewOperation::SetOptions { .. } | AlterViewOperation::ResetOptions { .. } => {
                noop("ALTER VIEW SET")
            }
            _ => opaque("ALTER VIEW"),
        }
    }

    fn create_type(
        &self,
        name: &ObjectName,
        representation: Option<&UserDefinedTypeRepresentation>,
    ) -> Vec<Change> {
        match representation {
            Some(UserDefinedTypeRepresentation::Enum { labels }) => vec![Change::CreateEnum {
                name: self.name(name),
                values: labels.iter().map(|l| l.value.clone()).collect(),
            }],
            _ => noop("CREATE TYPE"),
        }
    }

    fn alter_type(&self, alter: &ast::AlterType) -> Vec<Change> {
        let name = self.name(&alter.name);
        match &alter.operation {
            AlterTypeOperation::AddValue(add) => vec![Change::AddEnumValue {
                name,
                value: add.value.value.clone(),
                position: add.position.as_ref().map(|p| match p {
                    AlterTypeAddValuePosition::Before(anchor) => (true, anchor.value.clone()),
                    AlterTypeAddValuePosition::After(anchor) => (false, anchor.value.clone()),
                }),
            }],
            AlterTypeOperation::RenameValue(rename) => vec![Change::RenameEnumValue {
                name,
                from: rename.from.value.clone(),
                to: rename.to.value.clone(),
            }],
            AlterTypeOperation::Rename(_) => opaque("ALTER TYPE RENAME TO"),
        }
    }

    // ---- DML, session, queries ----------------------------------------------------------

    fn backfill(
        &self,
        table: &ObjectName,
        kind: BackfillKind,
        columns: Vec<String>,
        filtered: bool,
    ) -> Change {
        Change::Backfill {
            table: self.name(table),
            kind,
            columns,
            filtered,
        }
    }

    fn insert(&self, insert: &ast::Insert) -> Vec<Change> {
        let TableObject::TableName(table) = &insert.table else {
            return opaque("INSERT INTO a table function");
        };
        let from_select = insert
            .source
            .as_ref()
            .is_some_and(|q| !matches!(q.body.as_ref(), SetExpr::Values(_)));
        vec![self.backfill(table, BackfillKind::Insert, vec![], from_select)]
    }

    fn update(&self, update: &ast::Update) -> Vec<Change> {
        let TableFactor::Table { name, .. } = &update.table.relation else {
            return opaque("UPDATE of a derived table");
        };
        let columns = update
            .assignments
            .iter()
            .flat_map(|a| match &a.target {
                ast::AssignmentTarget::ColumnName(c) => vec![c],
                ast::AssignmentTarget::Tuple(cs) => cs.iter().collect(),
            })
            .filter_map(|c| c.0.last().and_then(ObjectNamePart::as_ident).map(ident))
            .collect();
        let filtered = update.selection.is_some() || update.limit.is_some();
        vec![self.backfill(name, BackfillKind::Update, columns, filtered)]
    }

    fn delete(&self, delete: &ast::Delete) -> Vec<Change> {
        let filtered = delete.selection.is_some() || delete.limit.is_some();
        let from = match &delete.from {
            FromTable::WithFromKeyword(tables) | FromTable::WithoutKeyword(tables) => tables,
        };
        let targets: Vec<&ObjectName> = if delete.tables.is_empty() {
            from.iter()
                .filter_map(|t| match &t.relation {
                    TableFactor::Table { name, .. } => Some(name),
                    _ => None,
                })
                .collect()
        } else {
            delete.tables.iter().collect()
        };
        if targets.is_empty() {
            return opaque("DELETE");
        }
        targets
            .into_iter()
            .map(|t| self.backfill(t, BackfillKind::Delete, vec![], filtered))
            .collect()
    }

    fn set(&self, set: &ast::Set) -> Vec<Change> {
        let session = |setting: String, value: String, local| Change::Session {
            setting: setting.to_lowercase(),
            value,
            local,
        };
        match set {
            ast::Set::SingleAssignment {
                scope,
                variable,
                values,
                ..
            } => vec![session(
                variable.to_string(),
                values
                    .iter()
                    .map(setting_value)
                    .collect::<Vec<_>>()
                    .join(", "),
                *scope == Some(ContextModifier::Local),
            )],
            ast::Set::MultipleAssignments { assignments } => assignments
                .iter()
                .map(|a| {
                    session(
                        a.name.to_string(),
                        setting_value(&a.value),
                        a.scope == Some(ContextModifier::Local),
                    )
                })
                .collect(),
            ast::Set::SetTimeZone { local, value } => {
                vec![session("timezone".into(), setting_value(value), *local)]
            }
            ast::Set::SetRole { role_name, .. } => vec![session(
                "role".into(),
                role_name
                    .as_ref()
                    .map_or("NONE".into(), |r| r.value.clone()),
                false,
            )],
            ast::Set::SetNames { charset_name, .. } => {
                vec![session("names".into(), charset_name.value.clone(), false)]
            }
            _ => noop("SET"),
        }
    }

    fn query(&self, query: &ast::Query) -> Vec<Change> {
        if let SetExpr::Insert(statement)
        | SetExpr::Update(statement)
        | SetExpr::Delete(statement) = query.body.as_ref()
        {
            return self.statement(statement);
        }
        let sql = query.to_string();
        match volatility::side_effect_call(&sql) {
            Some(function) => opaque(format!("SELECT {function}(...)")),
            None => noop("SELECT"),
        }
    }
}

enum Lifted {
    Constraint(ConstraintDef),
    Index(IndexDef),
}

fn index_columns(columns: &[IndexColumn]) -> Vec<String> {
    columns
        .iter()
        .map(|c| expr_column(&c.column.expr))
        .collect()
}

/// A plain column reference folds like any identifier; an expression keeps its SQL text.
fn expr_column(expr: &Expr) -> String {
    match expr {
        Expr::Identifier(id) => ident(id),
        Expr::CompoundIdentifier(parts) => parts.last().map(ident).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn default_expr(expr: &Expr) -> DefaultExpr {
    let sql = expr.to_string();
    DefaultExpr {
        volatile: volatility::is_volatile(&sql),
        sql,
    }
}

/// `SET lock_timeout = '5s'` gives `5s`, not `'5s'`.
fn setting_value(expr: &Expr) -> String {
    match expr {
        Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        Expr::Identifier(id) => id.value.clone(),
        other => other.to_string(),
    }
}

fn serial_base_type(raw_type: &str) -> Option<&'static str> {
    match raw_type.to_ascii_lowercase().as_str() {
        "serial" | "serial4" => Some("integer"),
        "bigserial" | "serial8" => Some("bigint"),
        "smallserial" | "serial2" => Some("smallint"),
        _ => None,
    }
}

fn is_auto_increment(tokens: &[sqlparser::tokenizer::Token]) -> bool {
    tokens.iter().any(|t| {
        let text = t.to_string();
        text.eq_ignore_ascii_case("AUTO_INCREMENT") || text.eq_ignore_ascii_case("AUTOINCREMENT")
    })
}

/// The first `n` words of a statement's text, to name what it is.
fn leading_words(sql: &str, n: usize) -> String {
    sql.split_whitespace()
        .take(n)
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}
