//! A small builder for rule unit tests: a base catalog built by hand, a deploy of IR
//! statements, retire declarations. Shared by the compat, discipline and meta tests of this
//! worktree; it does not depend on the SQL parser or the schema replay.

use crate::config::{Retire, Settings};
use crate::dialect::Dialect;
use crate::ir::{
    BackfillKind, Change, ColumnDef, ConstraintDef, ConstraintKind, DefaultExpr, Generated,
    QualifiedName,
};
use crate::layout::{Migration, MigrationKind, SqlPart, TransactionMode, Version};
use crate::project::{MigrationStatus, ParsedMigration};
use crate::rules::{Context, Finding, Rule};
use crate::schema::{Catalog, Column, Constraint, Table};
use crate::sql::{Allow, SqlFile, Statement, Understanding};

pub fn qn(name: &str) -> QualifiedName {
    QualifiedName::new("public", name)
}

/// A nullable column without a default.
pub fn col(name: &str, data_type: &str) -> ColumnDef {
    ColumnDef {
        name: name.to_string(),
        data_type: data_type.to_string(),
        nullable: true,
        default: None,
        generated: Generated::No,
    }
}

pub fn not_null(mut column: ColumnDef) -> ColumnDef {
    column.nullable = false;
    column
}

pub fn with_default(mut column: ColumnDef, sql: &str) -> ColumnDef {
    column.default = Some(DefaultExpr {
        sql: sql.to_string(),
        volatile: false,
    });
    column
}

/// A parsed statement holding `changes`.
pub fn stmt(changes: Vec<Change>) -> Statement {
    Statement {
        span: 0..0,
        understanding: Understanding::Parsed,
        changes,
        allows: Vec::new(),
    }
}

pub fn create_table(name: &str, columns: &[ColumnDef]) -> Statement {
    stmt(vec![Change::CreateTable {
        table: qn(name),
        columns: columns.to_vec(),
        constraints: Vec::new(),
        if_not_exists: false,
        as_select: false,
    }])
}

pub fn drop_table(name: &str) -> Statement {
    stmt(vec![Change::DropTable {
        tables: vec![qn(name)],
        if_exists: false,
        cascade: false,
    }])
}

pub fn rename_table(from: &str, to: &str) -> Statement {
    stmt(vec![Change::RenameTable {
        from: qn(from),
        to: qn(to),
    }])
}

pub fn add_column(table: &str, column: ColumnDef) -> Statement {
    stmt(vec![Change::AddColumn {
        table: qn(table),
        column,
        if_not_exists: false,
    }])
}

pub fn drop_column(table: &str, column: &str) -> Statement {
    stmt(vec![Change::DropColumn {
        table: qn(table),
        column: column.to_string(),
        if_exists: false,
    }])
}

pub fn set_not_null(table: &str, column: &str) -> Statement {
    stmt(vec![Change::SetNotNull {
        table: qn(table),
        column: column.to_string(),
    }])
}

/// `INSERT INTO table SELECT ...`.
pub fn insert_select(table: &str) -> Statement {
    backfill(table, BackfillKind::Insert, &[], true)
}

/// `UPDATE table SET columns... [WHERE ...]`.
pub fn update(table: &str, columns: &[&str], filtered: bool) -> Statement {
    backfill(table, BackfillKind::Update, columns, filtered)
}

pub fn backfill(table: &str, kind: BackfillKind, columns: &[&str], filtered: bool) -> Statement {
    stmt(vec![Change::Backfill {
        table: qn(table),
        kind,
        columns: columns.iter().map(|c| c.to_string()).collect(),
        filtered,
    }])
}

pub fn allow(rules: &[&str], reason: Option<&str>, file_wide: bool) -> Allow {
    Allow {
        rules: rules.iter().map(|r| r.to_string()).collect(),
        reason: reason.map(str::to_string),
        span: 3..20,
        file_wide,
    }
}

/// A validated `CHECK (expr)` constraint.
pub fn check(name: &str, expr: &str) -> Constraint {
    Constraint {
        name: name.to_string(),
        kind: ConstraintKind::Check {
            expr: expr.to_string(),
        },
        columns: Vec::new(),
        validated: true,
        created_by: "000".to_string(),
    }
}

pub fn constraint_def(kind: ConstraintKind, columns: &[&str], not_valid: bool) -> ConstraintDef {
    ConstraintDef {
        name: None,
        kind,
        columns: columns.iter().map(|c| c.to_string()).collect(),
        not_valid,
        using_index: None,
    }
}

pub fn add_constraint(table: &str, constraint: ConstraintDef) -> Statement {
    stmt(vec![Change::AddConstraint {
        table: qn(table),
        constraint,
    }])
}

pub fn unique_index(table: &str, columns: &[&str]) -> Statement {
    stmt(vec![Change::CreateIndex(crate::ir::IndexDef {
        name: Some(format!("{table}_{}_key", columns.join("_"))),
        table: qn(table),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        unique: true,
        concurrently: true,
        if_not_exists: false,
        partial: false,
    })])
}

/// One deploy under test. Tables given to `table` exist before the deploy (N-1 knows them);
/// `after` starts as a copy of `before` and is adjusted by hand where a rule reads it.
pub struct Deploy {
    pub before: Catalog,
    pub after: Catalog,
    pub migrations: Vec<ParsedMigration>,
    pub retired: Vec<Retire>,
    pub declared: Vec<Retire>,
    pub settings: Settings,
}

impl Deploy {
    pub fn new() -> Self {
        Deploy {
            before: Catalog::new(Dialect::Postgres),
            after: Catalog::new(Dialect::Postgres),
            migrations: Vec::new(),
            retired: Vec::new(),
            declared: Vec::new(),
            settings: Settings::default(),
        }
    }

    /// A table N-1 knows, in both `before` and `after`.
    pub fn table(mut self, name: &str, columns: &[ColumnDef]) -> Self {
        let table = Table {
            name: qn(name),
            columns: columns.iter().map(column_of).collect(),
            constraints: Vec::new(),
            indexes: Vec::new(),
            created_by: "000".to_string(),
        };
        self.before.tables.insert(qn(name), table.clone());
        self.after.tables.insert(qn(name), table);
        self
    }

    /// Edits a table of the base catalog (and the same table after the deploy).
    pub fn edit_table(mut self, name: &str, edit: impl Fn(&mut Table)) -> Self {
        for catalog in [&mut self.before, &mut self.after] {
            edit(catalog.tables.get_mut(&qn(name)).expect("table exists"));
        }
        self
    }

    /// Edits the catalog after the deploy only.
    pub fn edit_after(mut self, edit: impl FnOnce(&mut Catalog)) -> Self {
        edit(&mut self.after);
        self
    }

    /// A migration of the deploy (ids `101`, `102`, ...), running in a transaction.
    pub fn migration(self, statements: Vec<Statement>) -> Self {
        self.migration_with(statements, Vec::new())
    }

    pub fn migration_with(mut self, statements: Vec<Statement>, file_allows: Vec<Allow>) -> Self {
        let id = format!("{}", 101 + self.migrations.len());
        let path = format!("{id}_deploy.sql");
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(index, mut statement)| {
                statement.span = index * 100 + 30..index * 100 + 60;
                statement
            })
            .collect();
        self.migrations.push(ParsedMigration {
            migration: Migration {
                id: id.clone(),
                version: Version::parse(&id),
                name: "deploy".to_string(),
                kind: MigrationKind::Versioned,
                up: Some(SqlPart {
                    path: path.clone(),
                    range: 0..10_000,
                }),
                down: None,
                paths: vec![path],
                transaction: TransactionMode::Wrapped,
            },
            up: SqlFile {
                statements,
                file_allows,
            },
            down: None,
            status: MigrationStatus::New,
        });
        self
    }

    /// A retire entry shipped in the base revision.
    pub fn retired(mut self, object: &str) -> Self {
        self.retired.push(retire(object));
        self.declared.push(retire(object));
        self
    }

    /// A retire entry new at the head.
    pub fn retired_at_head(mut self, object: &str) -> Self {
        self.declared.push(retire(object));
        self
    }

    pub fn context(&self) -> Context<'_> {
        Context {
            dialect: Dialect::Postgres,
            settings: &self.settings,
            deploy: &self.migrations,
            before: &self.before,
            after: &self.after,
            retired: &self.retired,
            retire_declared: &self.declared,
            history: None,
            usage: None,
            releases: &[],
            audit: false,
            cache: Default::default(),
        }
    }

    pub fn findings(&self, rule: &dyn Rule) -> Vec<Finding> {
        let mut findings = Vec::new();
        rule.check(&self.context(), &mut findings);
        for finding in &findings {
            assert_eq!(finding.rule, rule.id());
        }
        findings
    }
}

fn retire(object: &str) -> Retire {
    Retire {
        object: object.to_string(),
        reason: "no longer used".to_string(),
        span: 0..0,
    }
}

pub fn column_of(def: &ColumnDef) -> Column {
    Column {
        name: def.name.clone(),
        data_type: def.data_type.clone(),
        nullable: def.nullable,
        default: def.default.clone(),
        generated: def.generated,
        created_by: "000".to_string(),
        backfilled_by: Vec::new(),
    }
}
