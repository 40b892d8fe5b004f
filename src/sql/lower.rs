//! Lowers sqlparser's AST to the change IR. This is the one module that knows the AST, so a
//! sqlparser upgrade touches only this file.

use super::{qualify, volatility};
use crate::dialect::Dialect;
use crate::ir::naming::{generated_name, serial_default, NameFor};
use crate::ir::types::{canonical_type, serial_base_type};
use crate::ir::{
    BackfillKind, Change, ColumnDef, ConstraintDef, ConstraintKind, DefaultExpr, Generated,
    IndexDef, InferredColumn, MaintenanceKind, OnlineDdl, QualifiedName, TransactionControl,
};
use sqlparser::ast::{
    self, AlterColumnOperation, AlterIndexOperation, AlterTableOperation,
    AlterTypeAddValuePosition, AlterTypeOperation, AlterViewOperation, ColumnOption,
    ContextModifier, Expr, FromTable, GeneratedExpressionMode, Ident, IndexColumn, ObjectName,
    ObjectNamePart, ObjectType, RenameTableNameKind, SetExpr, Statement as Ast, TableConstraint,
    TableFactor, TableObject, UserDefinedTypeRepresentation,
};

/// What a name in a query's FROM stands for.
enum Source {
    Table(QualifiedName),
    Derived(Vec<InferredColumn>),
}

impl Source {
    /// What `*` brings from it.
    fn all(&self) -> Vec<InferredColumn> {
        match self {
            Source::Table(table) => vec![InferredColumn {
                name: None,
                table: Some(table.clone()),
                column: None,
                data_type: None,
            }],
            Source::Derived(columns) => columns.clone(),
        }
    }
}

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
                .map(|t| Change::Truncate {
                    table: self.name(&t.name),
                })
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
            Ast::Call(_) => opaque("CALL"),
            Ast::Execute { .. } => opaque("EXECUTE"),
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
            Ast::Prepare { .. } => "PREPARE",
            Ast::Deallocate { .. } => "DEALLOCATE",
            other => return opaque(leading_words(&other.to_string(), 3)),
        };
        noop(what)
    }

    /// An identifier as the database matches it (see `fold`).
    fn ident(&self, id: &Ident) -> String {
        super::fold(&id.value, id.quote_style.is_some(), self.dialect)
    }

    fn name(&self, name: &ObjectName) -> QualifiedName {
        let parts = name
            .0
            .iter()
            .map(|part| match part {
                ObjectNamePart::Identifier(id) => self.ident(id),
                ObjectNamePart::Function(f) => f.name.value.to_lowercase(),
            })
            .collect();
        qualify(parts, self.dialect)
    }

    /// A name in the schema of `table` (an index or constraint named by an `ALTER TABLE`).
    fn sibling(&self, table: &QualifiedName, id: &Ident) -> QualifiedName {
        QualifiedName::new(table.schema.clone(), self.ident(id))
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
        let inferred = match &create.query {
            Some(query) if columns.is_empty() => self.query_columns(query),
            _ => None,
        };
        let mut changes = vec![Change::CreateTable {
            table: table.clone(),
            columns,
            constraints,
            if_not_exists: create.if_not_exists,
            as_select: derived,
        }];
        if let Some(columns) = inferred {
            changes.push(Change::InferColumns { table, columns });
        }
        changes.extend(indexes);
        changes
    }

    /// The output columns of a query: the first branch of a UNION, through subqueries.
    fn query_columns(&self, query: &ast::Query) -> Option<Vec<InferredColumn>> {
        let mut body = query.body.as_ref();
        loop {
            match body {
                SetExpr::Select(select) => return self.select_columns(select),
                SetExpr::Query(inner) => body = inner.body.as_ref(),
                SetExpr::SetOperation { left, .. } => body = left.as_ref(),
                _ => return None,
            }
        }
    }

    fn select_columns(&self, select: &ast::Select) -> Option<Vec<InferredColumn>> {
        // What each name in FROM stands for: a table, or a subquery's columns.
        let mut sources: Vec<(String, Source)> = Vec::new();
        for from in &select.from {
            let relations =
                std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation));
            for relation in relations {
                match relation {
                    TableFactor::Table { name, alias, .. } => {
                        let table = self.name(name);
                        let key = alias
                            .as_ref()
                            .map_or_else(|| table.name.clone(), |a| self.ident(&a.name));
                        sources.push((key, Source::Table(table)));
                    }
                    TableFactor::Derived {
                        subquery,
                        alias: Some(alias),
                        ..
                    } => {
                        let columns = self.query_columns(subquery)?;
                        sources.push((self.ident(&alias.name), Source::Derived(columns)));
                    }
                    _ => return None,
                }
            }
        }
        let mut columns = Vec::new();
        for item in &select.projection {
            match item {
                ast::SelectItem::Wildcard(_) => {
                    for (_, source) in &sources {
                        columns.extend(source.all());
                    }
                }
                ast::SelectItem::QualifiedWildcard(
                    ast::SelectItemQualifiedWildcardKind::ObjectName(name),
                    _,
                ) => {
                    let key = self.ident(&name.0.last()?.as_ident()?.clone());
                    let (_, source) = sources.iter().find(|(k, _)| *k == key)?;
                    columns.extend(source.all());
                }
                ast::SelectItem::UnnamedExpr(expr) => {
                    columns.push(self.output_column(expr, None, &sources)?);
                }
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    let name = self.ident(alias);
                    columns.push(self.output_column(expr, Some(name), &sources)?);
                }
                _ => return None,
            }
        }
        Some(columns)
    }

    /// One select-list expression as an output column. An expression that is neither a
    /// column nor a cast needs an alias, and its type is left for the replay to call
    /// unknown.
    fn output_column(
        &self,
        expr: &Expr,
        alias: Option<String>,
        sources: &[(String, Source)],
    ) -> Option<InferredColumn> {
        let (qualifier, column) = match expr {
            Expr::Nested(inner) => return self.output_column(inner, alias, sources),
            Expr::Cast {
                expr: inner,
                data_type,
                ..
            } => {
                let mut found =
                    self.output_column(inner, alias.clone(), sources)
                        .or_else(|| {
                            alias.clone().map(|name| InferredColumn {
                                name: Some(name),
                                table: None,
                                column: None,
                                data_type: None,
                            })
                        })?;
                found.data_type = Some(canonical_type(&data_type.to_string()));
                return Some(found);
            }
            Expr::Identifier(id) => (None, self.ident(id)),
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => (
                Some(self.ident(&parts[parts.len() - 2])),
                self.ident(&parts[parts.len() - 1]),
            ),
            _ => {
                return alias.map(|name| InferredColumn {
                    name: Some(name),
                    table: None,
                    column: None,
                    data_type: None,
                })
            }
        };
        let source = match &qualifier {
            Some(key) => sources.iter().find(|(k, _)| k == key).map(|(_, s)| s),
            None if sources.len() == 1 => Some(&sources[0].1),
            None => None,
        };
        let name = alias.unwrap_or_else(|| column.clone());
        Some(match source {
            Some(Source::Table(table)) => InferredColumn {
                name: Some(name),
                table: Some(table.clone()),
                column: Some(column),
                data_type: None,
            },
            Some(Source::Derived(inner)) => {
                let found = inner.iter().find(|c| c.name.as_deref() == Some(&column))?;
                InferredColumn {
                    name: Some(name),
                    ..found.clone()
                }
            }
            None => InferredColumn {
                name: Some(name),
                table: None,
                column: Some(column),
                data_type: None,
            },
        })
    }

    /// A column definition and the constraints written inline on it.
    fn column(
        &self,
        table: &QualifiedName,
        column: &ast::ColumnDef,
    ) -> (ColumnDef, Vec<ConstraintDef>) {
        let name = self.ident(&column.name);
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
            // The replay renames the sequence if a relation already has its name.
            def.default = Some(serial_default(
                table,
                &name,
                self.dialect.default_schema(),
                |_| false,
            ));
        }
        let mut constraints = Vec::new();
        for option in &column.options {
            let constraint_name = option.name.as_ref().map(|i| self.ident(i));
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
                name: name
                    .map(|i| self.ident(i))
                    .or_else(|| constraint_name.clone()),
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
                    ref_columns: fk.referred_columns.iter().map(|i| self.ident(i)).collect(),
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
                // Without `STORED`, MySQL and SQLite compute the column on read.
                def.generated = match generation_expr_mode {
                    Some(GeneratedExpressionMode::Stored) => Generated::Stored,
                    _ => Generated::Virtual,
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
            name: name.as_ref().map(|i| self.ident(i)),
            kind,
            columns,
            not_valid: false,
            using_index: None,
        };
        let using = |c: &ast::ConstraintUsingIndex, kind| ConstraintDef {
            using_index: Some(self.ident(&c.index_name)),
            ..def(&c.name, kind, vec![])
        };
        let index = |name: Option<&Ident>, columns: &[IndexColumn], unique| IndexDef {
            name: name.map(|i| self.ident(i)),
            table: table.clone(),
            columns: self.index_columns(columns),
            unique,
            concurrently: false,
            if_not_exists: false,
            partial: false,
        };
        Lifted::Constraint(match constraint {
            // MySQL names a unique key either way: `CONSTRAINT c UNIQUE` or `UNIQUE KEY c`.
            TableConstraint::Unique(u) => def(
                &u.name.clone().or_else(|| u.index_name.clone()),
                ConstraintKind::Unique,
                self.index_columns(&u.columns),
            ),
            TableConstraint::PrimaryKey(pk) => def(
                &pk.name,
                ConstraintKind::PrimaryKey,
                self.index_columns(&pk.columns),
            ),
            TableConstraint::ForeignKey(fk) => def(
                &fk.name,
                ConstraintKind::ForeignKey {
                    references: self.name(&fk.foreign_table),
                    ref_columns: fk.referred_columns.iter().map(|i| self.ident(i)).collect(),
                },
                fk.columns.iter().map(|i| self.ident(i)).collect(),
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
                    column: self.ident(column),
                    if_exists: *if_exists,
                })
                .collect(),
            Op::DropConstraint {
                if_exists, name, ..
            } => vec![Change::DropConstraint {
                table,
                name: self.ident(name),
                if_exists: *if_exists,
            }],
            Op::DropForeignKey { name, .. } => vec![Change::DropConstraint {
                table,
                name: self.ident(name),
                if_exists: false,
            }],
            Op::DropPrimaryKey { .. } => {
                let name = match self.dialect {
                    Dialect::Mysql => "PRIMARY".to_string(),
                    _ => generated_name(
                        &table.name,
                        NameFor::Constraint(&ConstraintKind::PrimaryKey),
                        &[] as &[&str],
                        |_| false,
                    ),
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
                from: self.ident(old_column_name),
                to: self.ident(new_column_name),
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
                from: self.ident(old_name),
                to: self.ident(new_name),
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
            Op::AlterColumn { column_name, op } => {
                self.alter_column(table, self.ident(column_name), op)
            }
            Op::ValidateConstraint { name } => vec![Change::ValidateConstraint {
                table,
                name: self.ident(name),
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
            AlterColumnOperation::AddGenerated { .. } => Change::AddIdentity { table, column },
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
        let (from, to) = (self.ident(old_name), self.ident(new_name));
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
            columns: self.index_columns(&index.columns),
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
            AlterTypeOperation::Rename(rename) => vec![Change::RenameType {
                to: QualifiedName::new(name.schema.clone(), self.ident(&rename.new_name)),
                from: name,
            }],
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
            .filter_map(|c| {
                c.0.last()
                    .and_then(ObjectNamePart::as_ident)
                    .map(|i| self.ident(i))
            })
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

impl Lowerer {
    fn index_columns(&self, columns: &[IndexColumn]) -> Vec<String> {
        columns
            .iter()
            .map(|c| self.expr_column(&c.column.expr))
            .collect()
    }

    /// A plain column reference folds like any identifier; an expression keeps its SQL text.
    /// A collation (`email COLLATE "C"`) is an option of the index column, not part of it,
    /// as in Postgres's catalog.
    fn expr_column(&self, expr: &Expr) -> String {
        match expr {
            Expr::Collate { expr, .. } => self.expr_column(expr),
            Expr::Identifier(id) => self.ident(id),
            Expr::CompoundIdentifier(parts) => {
                parts.last().map(|i| self.ident(i)).unwrap_or_default()
            }
            other => other.to_string(),
        }
    }
}

enum Lifted {
    Constraint(ConstraintDef),
    Index(IndexDef),
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

fn is_auto_increment(tokens: &[sqlparser::tokenizer::Token]) -> bool {
    tokens.iter().any(|t| {
        let text = t.to_string();
        text.eq_ignore_ascii_case("AUTO_INCREMENT") || text.eq_ignore_ascii_case("AUTOINCREMENT")
    })
}

/// The leading keywords (at most `n`) of a statement as sqlparser prints it, to name what it
/// is: sqlparser prints keywords in upper case, so the first other word ends them.
fn leading_words(sql: &str, n: usize) -> String {
    let keywords: Vec<&str> = sql
        .split_whitespace()
        .take(n)
        .take_while(|w| w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    match keywords.is_empty() {
        true => sql
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_uppercase(),
        false => keywords.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::types::canonical_type as ty;

    fn lower_sql(sql: &str, dialect: Dialect) -> Vec<Change> {
        let ast =
            super::super::parse::parse_one(sql, dialect).unwrap_or_else(|e| panic!("{sql}: {e}"));
        lower(&ast, dialect)
    }

    fn pg(sql: &str) -> Vec<Change> {
        lower_sql(sql, Dialect::Postgres)
    }

    fn public(name: &str) -> QualifiedName {
        QualifiedName::new("public", name)
    }

    fn column(name: &str, data_type: &str, nullable: bool) -> ColumnDef {
        ColumnDef {
            name: name.into(),
            data_type: ty(data_type),
            nullable,
            default: None,
            generated: Generated::No,
        }
    }

    fn constraint(kind: ConstraintKind, columns: &[&str]) -> ConstraintDef {
        ConstraintDef {
            name: None,
            kind,
            columns: columns.iter().map(|c| c.to_string()).collect(),
            not_valid: false,
            using_index: None,
        }
    }

    fn default(sql: &str, volatile: bool) -> Option<DefaultExpr> {
        Some(DefaultExpr {
            sql: sql.into(),
            volatile,
        })
    }

    #[test]
    fn create_table_lifts_inline_constraints() {
        let changes = pg("CREATE TABLE IF NOT EXISTS Users (
            id serial PRIMARY KEY,
            email varchar(255) NOT NULL UNIQUE,
            org_id bigint CONSTRAINT users_org_fk REFERENCES orgs (id),
            \"Score\" int DEFAULT 0 CHECK (\"Score\" >= 0),
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT two UNIQUE (email, org_id))");
        let users = public("users");
        let mut id = column("id", "integer", false);
        id.generated = Generated::Serial;
        id.default = default("nextval('users_id_seq'::regclass)", true);
        let mut score = column("Score", "int", true);
        score.default = default("0", false);
        let mut created = column("created_at", "timestamptz", false);
        created.default = default("now()", false);
        let mut fk = constraint(
            ConstraintKind::ForeignKey {
                references: public("orgs"),
                ref_columns: vec!["id".into()],
            },
            &["org_id"],
        );
        fk.name = Some("users_org_fk".into());
        let mut two = constraint(ConstraintKind::Unique, &["email", "org_id"]);
        two.name = Some("two".into());
        assert_eq!(
            changes,
            vec![Change::CreateTable {
                table: users,
                columns: vec![
                    id,
                    column("email", "varchar(255)", false),
                    column("org_id", "bigint", true),
                    score,
                    created
                ],
                constraints: vec![
                    constraint(ConstraintKind::PrimaryKey, &["id"]),
                    constraint(ConstraintKind::Unique, &["email"]),
                    fk,
                    constraint(
                        ConstraintKind::Check {
                            expr: "\"Score\" >= 0".into()
                        },
                        &["Score"]
                    ),
                    two,
                ],
                if_not_exists: true,
                as_select: false,
            }]
        );
    }

    #[test]
    fn table_primary_key_makes_columns_not_null() {
        let Change::CreateTable { columns, .. } =
            &pg("CREATE TABLE t (a int, b int, PRIMARY KEY (a, b))")[0]
        else {
            panic!()
        };
        assert!(columns.iter().all(|c| !c.nullable));
    }

    #[test]
    fn generated_columns() {
        let Change::CreateTable { columns, .. } = &pg("CREATE TABLE t (
            a bigint GENERATED BY DEFAULT AS IDENTITY,
            b int GENERATED ALWAYS AS (a * 2) STORED,
            c bigserial,
            d smallserial)")[0]
        else {
            panic!()
        };
        let generated: Vec<_> = columns.iter().map(|c| c.generated).collect();
        assert_eq!(
            generated,
            [
                Generated::Identity,
                Generated::Stored,
                Generated::Serial,
                Generated::Serial
            ]
        );
        assert_eq!(columns[2].data_type, ty("bigint"));
        assert_eq!(columns[3].data_type, ty("smallint"));
        let Change::CreateTable { columns, .. } = &lower_sql(
            "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY)",
            Dialect::Mysql,
        )[0] else {
            panic!()
        };
        assert_eq!(columns[0].generated, Generated::Identity);
        let Change::CreateTable { columns, .. } = &lower_sql(
            "CREATE TABLE t (a INT, b INT AS (a + 1), c INT AS (a + 2) STORED)",
            Dialect::Mysql,
        )[0] else {
            panic!()
        };
        assert_eq!(columns[1].generated, Generated::Virtual);
        assert_eq!(columns[2].generated, Generated::Stored);
    }

    #[test]
    fn create_table_as_select() {
        let changes = pg("CREATE TABLE s.copy AS SELECT * FROM orig");
        assert!(matches!(
            &changes[0],
            Change::CreateTable { table, as_select: true, .. } if *table == QualifiedName::new("s", "copy")
        ));
    }

    #[test]
    fn add_column_then_its_constraints() {
        let t = public("t");
        assert_eq!(
            pg("ALTER TABLE t ADD COLUMN IF NOT EXISTS u uuid DEFAULT gen_random_uuid() UNIQUE"),
            vec![
                Change::AddColumn {
                    table: t.clone(),
                    column: ColumnDef {
                        default: default("gen_random_uuid()", true),
                        ..column("u", "uuid", true)
                    },
                    if_not_exists: true,
                },
                Change::AddConstraint {
                    table: t,
                    constraint: constraint(ConstraintKind::Unique, &["u"]),
                },
            ]
        );
    }

    #[test]
    fn each_alter_table_action_is_a_change() {
        let t = public("t");
        let c = |name: &str| name.to_string();
        assert_eq!(
            pg(
                "ALTER TABLE t DROP COLUMN IF EXISTS a, ALTER COLUMN b SET NOT NULL,
                ALTER COLUMN c DROP NOT NULL, ALTER COLUMN d SET DEFAULT random(),
                ALTER COLUMN e DROP DEFAULT, ALTER COLUMN f TYPE bigint USING f::bigint,
                RENAME COLUMN g TO h"
            ),
            vec![
                Change::DropColumn {
                    table: t.clone(),
                    column: c("a"),
                    if_exists: true
                },
                Change::SetNotNull {
                    table: t.clone(),
                    column: c("b")
                },
                Change::DropNotNull {
                    table: t.clone(),
                    column: c("c")
                },
                Change::SetDefault {
                    table: t.clone(),
                    column: c("d"),
                    default: DefaultExpr {
                        sql: "random()".into(),
                        volatile: true
                    }
                },
                Change::DropDefault {
                    table: t.clone(),
                    column: c("e")
                },
                Change::AlterColumnType {
                    table: t.clone(),
                    column: c("f"),
                    data_type: ty("bigint"),
                    using: Some("f::BIGINT".into())
                },
                Change::RenameColumn {
                    table: t,
                    from: c("g"),
                    to: c("h")
                },
            ]
        );
    }

    #[test]
    fn constraints_not_valid_validate_using_index() {
        let t = public("t");
        let mut fk = constraint(
            ConstraintKind::ForeignKey {
                references: public("u"),
                ref_columns: vec!["id".into()],
            },
            &["u_id"],
        );
        fk.name = Some("t_u_fk".into());
        fk.not_valid = true;
        assert_eq!(
            pg("ALTER TABLE t ADD CONSTRAINT t_u_fk FOREIGN KEY (u_id) REFERENCES u (id) NOT VALID"),
            vec![Change::AddConstraint {
                table: t.clone(),
                constraint: fk
            }]
        );
        assert_eq!(
            pg("ALTER TABLE t VALIDATE CONSTRAINT t_u_fk"),
            vec![Change::ValidateConstraint {
                table: t.clone(),
                name: "t_u_fk".into()
            }]
        );
        let mut unique = constraint(ConstraintKind::Unique, &[]);
        unique.name = Some("t_email_key".into());
        unique.using_index = Some("t_email_idx".into());
        assert_eq!(
            pg("ALTER TABLE t ADD CONSTRAINT t_email_key UNIQUE USING INDEX t_email_idx"),
            vec![Change::AddConstraint {
                table: t.clone(),
                constraint: unique
            }]
        );
        assert_eq!(
            pg("ALTER TABLE t DROP CONSTRAINT IF EXISTS x, RENAME CONSTRAINT y TO z"),
            vec![
                Change::DropConstraint {
                    table: t.clone(),
                    name: "x".into(),
                    if_exists: true
                },
                Change::RenameConstraint {
                    table: t,
                    from: "y".into(),
                    to: "z".into()
                }
            ]
        );
    }

    #[test]
    fn renames() {
        assert_eq!(
            pg("ALTER TABLE app.a RENAME TO b"),
            vec![Change::RenameTable {
                from: QualifiedName::new("app", "a"),
                to: QualifiedName::new("app", "b"),
            }]
        );
        assert_eq!(
            pg("ALTER INDEX a_idx RENAME TO b_idx"),
            vec![Change::RenameIndex {
                from: public("a_idx"),
                to: "b_idx".into(),
            }]
        );
    }

    #[test]
    fn indexes() {
        assert_eq!(
            pg("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_a_idx ON t (a, lower(b)) WHERE a > 0"),
            vec![Change::CreateIndex(IndexDef {
                name: Some("t_a_idx".into()),
                table: public("t"),
                columns: vec!["a".into(), "lower(b)".into()],
                unique: true,
                concurrently: true,
                if_not_exists: true,
                partial: true,
            })]
        );
        assert!(
            matches!(&pg("CREATE INDEX ON t (a)")[0], Change::CreateIndex(i) if i.name.is_none())
        );
        assert!(
            matches!(&pg("CREATE INDEX i ON t (a, B COLLATE \"C\", lower(c) COLLATE \"C\")")[0],
                Change::CreateIndex(i) if i.columns == ["a", "b", "lower(c)"]),
            "a collation is an option of the index column"
        );
        assert_eq!(
            pg("DROP INDEX IF EXISTS a_idx, s.b_idx CASCADE"),
            vec![Change::DropIndex {
                names: vec![public("a_idx"), QualifiedName::new("s", "b_idx")],
                concurrently: false,
                if_exists: true,
            }]
        );
    }

    #[test]
    fn drops() {
        assert_eq!(
            pg("DROP TABLE IF EXISTS a, b CASCADE"),
            vec![Change::DropTable {
                tables: vec![public("a"), public("b")],
                if_exists: true,
                cascade: true,
            }]
        );
        assert_eq!(
            pg("DROP MATERIALIZED VIEW mv"),
            vec![Change::DropView {
                names: vec![public("mv")],
                materialized: true,
                if_exists: false,
            }]
        );
        assert_eq!(
            pg("DROP TYPE IF EXISTS mood"),
            vec![Change::DropType {
                names: vec![public("mood")],
                if_exists: true,
            }]
        );
    }

    #[test]
    fn views() {
        assert_eq!(
            pg("CREATE OR REPLACE VIEW v AS SELECT 1"),
            vec![Change::CreateView {
                name: public("v"),
                materialized: false,
                or_replace: true,
            }]
        );
        assert_eq!(
            pg("CREATE MATERIALIZED VIEW mv AS SELECT 1"),
            vec![Change::CreateView {
                name: public("mv"),
                materialized: true,
                or_replace: false,
            }]
        );
        assert_eq!(
            pg("REFRESH MATERIALIZED VIEW CONCURRENTLY mv"),
            vec![Change::Maintenance {
                kind: MaintenanceKind::RefreshMaterializedView { concurrently: true },
                table: Some(public("mv")),
            }]
        );
    }

    #[test]
    fn enums() {
        let mood = public("mood");
        assert_eq!(
            pg("CREATE TYPE mood AS ENUM ('sad', 'ok')"),
            vec![Change::CreateEnum {
                name: mood.clone(),
                values: vec!["sad".into(), "ok".into()],
            }]
        );
        assert_eq!(
            pg("ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok'"),
            vec![Change::AddEnumValue {
                name: mood.clone(),
                value: "meh".into(),
                position: Some((true, "ok".into())),
            }]
        );
        assert_eq!(
            pg("ALTER TYPE mood RENAME VALUE 'ok' TO 'fine'"),
            vec![Change::RenameEnumValue {
                name: mood,
                from: "ok".into(),
                to: "fine".into(),
            }]
        );
    }

    #[test]
    fn dml_is_backfill() {
        let t = public("t");
        assert_eq!(
            pg("UPDATE t SET a = 1, b = b + 1 WHERE id < 1000"),
            vec![Change::Backfill {
                table: t.clone(),
                kind: BackfillKind::Update,
                columns: vec!["a".into(), "b".into()],
                filtered: true,
            }]
        );
        assert_eq!(
            pg("DELETE FROM t"),
            vec![Change::Backfill {
                table: t.clone(),
                kind: BackfillKind::Delete,
                columns: vec![],
                filtered: false,
            }]
        );
        assert_eq!(
            pg("INSERT INTO t (a) SELECT a FROM u"),
            vec![Change::Backfill {
                table: t.clone(),
                kind: BackfillKind::Insert,
                columns: vec![],
                filtered: true,
            }]
        );
        assert_eq!(
            pg("INSERT INTO t (a) VALUES (1)"),
            vec![Change::Backfill {
                table: t,
                kind: BackfillKind::Insert,
                columns: vec![],
                filtered: false,
            }]
        );
    }

    #[test]
    fn session_and_transactions() {
        assert_eq!(
            pg("SET LOCAL lock_timeout = '5s'"),
            vec![Change::Session {
                setting: "lock_timeout".into(),
                value: "5s".into(),
                local: true,
            }]
        );
        assert_eq!(
            pg("SET statement_timeout TO 0"),
            vec![Change::Session {
                setting: "statement_timeout".into(),
                value: "0".into(),
                local: false,
            }]
        );
        for (sql, control) in [
            ("BEGIN", TransactionControl::Begin),
            ("START TRANSACTION", TransactionControl::Begin),
            ("COMMIT", TransactionControl::Commit),
            ("END", TransactionControl::Commit),
            ("ROLLBACK", TransactionControl::Rollback),
        ] {
            assert_eq!(pg(sql), vec![Change::Transaction(control)], "{sql}");
        }
    }

    #[test]
    fn noops_and_opaque() {
        for sql in [
            "COMMENT ON TABLE t IS 'x'",
            "GRANT SELECT ON t TO app",
            "REVOKE ALL ON t FROM app",
            "CREATE EXTENSION IF NOT EXISTS pgcrypto",
            "CREATE SCHEMA app",
            "CREATE SEQUENCE s",
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql",
            "CREATE TRIGGER trg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f()",
            "CREATE POLICY p ON t USING (true)",
            "ALTER TABLE t OWNER TO app",
            "ALTER TABLE t ENABLE ROW LEVEL SECURITY",
            "SELECT count(*) FROM t",
        ] {
            assert!(
                matches!(pg(sql).as_slice(), [Change::NoOp { .. }]),
                "{sql}: {:?}",
                pg(sql)
            );
        }
        assert_eq!(
            pg("SELECT setval('t_id_seq', 10)"),
            vec![Change::Opaque {
                what: "SELECT setval(...)".into()
            }]
        );
    }

    #[test]
    fn mysql_modify_change_and_online_ddl() {
        let t = QualifiedName::new("", "t");
        assert_eq!(
            lower_sql(
                "ALTER TABLE t CHANGE COLUMN a b VARCHAR(20) NOT NULL, MODIFY c INT, ALGORITHM=INPLACE, LOCK=NONE",
                Dialect::Mysql
            ),
            vec![
                Change::RenameColumn {
                    table: t.clone(),
                    from: "a".into(),
                    to: "b".into()
                },
                Change::AlterColumnType {
                    table: t.clone(),
                    column: "b".into(),
                    data_type: ty("VARCHAR(20)"),
                    using: None
                },
                Change::SetNotNull {
                    table: t.clone(),
                    column: "b".into()
                },
                Change::AlterColumnType {
                    table: t.clone(),
                    column: "c".into(),
                    data_type: ty("INT"),
                    using: None
                },
                Change::DropNotNull {
                    table: t.clone(),
                    column: "c".into()
                },
                Change::OnlineDdl {
                    table: t,
                    options: OnlineDdl {
                        algorithm: Some("INPLACE".into()),
                        lock: Some("NONE".into())
                    }
                },
            ]
        );
    }

    #[test]
    fn mysql_unique_key_name() {
        let changes = lower_sql("ALTER TABLE t ADD UNIQUE KEY uk_a (a)", Dialect::Mysql);
        assert!(matches!(
            &changes[0],
            Change::AddConstraint { constraint, .. } if constraint.name.as_deref() == Some("uk_a")
        ));
    }

    #[test]
    fn create_table_as_select_names_its_columns_and_their_sources() {
        let changes = pg("CREATE TABLE c AS SELECT a.id, a.name AS label, n::bigint FROM a");
        let Some(Change::InferColumns { table, columns }) = changes.get(1) else {
            panic!("{changes:?}");
        };
        assert_eq!(*table, QualifiedName::new("public", "c"));
        let named: Vec<(Option<&str>, Option<&str>, Option<&str>)> = columns
            .iter()
            .map(|c| {
                (
                    c.name.as_deref(),
                    c.column.as_deref(),
                    c.data_type.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            named,
            [
                (Some("id"), Some("id"), None),
                (Some("label"), Some("name"), None),
                (Some("n"), Some("n"), Some("bigint")),
            ]
        );
        // An expression without a name cannot be a column rollsafe names: no inference.
        assert_eq!(pg("CREATE TABLE d AS SELECT count(*) FROM a").len(), 1);
    }

    #[test]
    fn type_renames_and_identity_columns_are_modelled() {
        assert_eq!(
            pg("ALTER TYPE \"Role\" RENAME TO \"Role_old\""),
            vec![Change::RenameType {
                from: QualifiedName::new("public", "Role"),
                to: QualifiedName::new("public", "Role_old"),
            }]
        );
        assert_eq!(
            pg("ALTER TABLE t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY"),
            vec![Change::AddIdentity {
                table: QualifiedName::new("public", "t"),
                column: "id".into(),
            }]
        );
    }

    #[test]
    fn unmodelled_alter_table_actions_are_opaque() {
        assert_eq!(
            pg("ALTER TABLE t INHERIT parent"),
            vec![Change::Opaque {
                what: "ALTER TABLE INHERIT".into()
            }]
        );
    }

    #[test]
    fn mysql_add_index() {
        assert_eq!(
            lower_sql("ALTER TABLE t ADD INDEX idx_a (a)", Dialect::Mysql),
            vec![Change::CreateIndex(IndexDef {
                name: Some("idx_a".into()),
                table: QualifiedName::new("", "t"),
                columns: vec!["a".into()],
                unique: false,
                concurrently: false,
                if_not_exists: false,
                partial: false,
            })]
        );
    }

    #[test]
    fn serial_in_another_schema() {
        let Change::CreateTable { columns, .. } = &pg("CREATE TABLE app.t (id serial)")[0] else {
            panic!()
        };
        assert_eq!(
            columns[0].default.as_ref().map(|d| d.sql.as_str()),
            Some("nextval('app.t_id_seq'::regclass)")
        );
    }

    #[test]
    fn mysql_and_sqlite_names_ignore_case() {
        assert!(matches!(
            &lower_sql("ALTER TABLE `Users` DROP COLUMN `Email`", Dialect::Mysql)[0],
            Change::DropColumn { table, column, .. }
                if *table == QualifiedName::new("", "users") && column == "email"
        ));
        assert!(matches!(
            &lower_sql("DROP TABLE \"Users\"", Dialect::Sqlite)[0],
            Change::DropTable { tables, .. } if tables[0] == QualifiedName::new("main", "users")
        ));
    }

    #[test]
    fn sqlite_names_get_main() {
        assert!(matches!(
            &lower_sql("DROP TABLE t", Dialect::Sqlite)[0],
            Change::DropTable { tables, .. } if tables[0] == QualifiedName::new("main", "t")
        ));
    }
}
