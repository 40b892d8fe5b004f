//! What a query (SELECT, INSERT, UPDATE, DELETE) reads and writes: the tables it names, with
//! their aliases, and the columns it reads, inserts and updates. The usage stage resolves
//! these names against N-1's schema; this module only knows the query's text.

use super::{fold, parse, qualify, split};
use crate::dialect::Dialect;
use crate::ir::QualifiedName;
use sqlparser::ast::{
    AssignmentTarget, Expr, FromTable, Ident, ObjectName, ObjectNamePart, OnConflictAction,
    OnInsert, Query, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement as Ast,
    TableFactor, TableObject, TableWithJoins, Visit, Visitor,
};
use std::collections::BTreeSet;
use std::ops::{ControlFlow, Range};

/// How a query touches a table or column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessKind {
    Read,
    Insert,
    Update,
    Delete,
}

/// A table the query names, with its alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationRef {
    pub name: QualifiedName,
    pub alias: Option<String>,
    pub kind: AccessKind,
    /// 1-based line in the query text.
    pub line: usize,
}

/// A column the query names; `qualifier` is the alias or table name before the dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRef {
    pub qualifier: Option<String>,
    pub name: String,
    pub kind: AccessKind,
    pub line: usize,
}

/// Every column of the relation called `qualifier` (its alias or name): `*`, `t.*`, or an
/// INSERT without a column list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllColumns {
    pub qualifier: String,
    pub kind: AccessKind,
    pub line: usize,
}

/// What one query names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryAccess {
    pub relations: Vec<RelationRef>,
    pub columns: Vec<ColumnRef>,
    pub all_columns: Vec<AllColumns>,
    /// Names the query defines itself (CTEs): a relation of that name is not a table.
    pub ctes: BTreeSet<String>,
}

impl QueryAccess {
    /// The table a qualifier (an alias or a table's own name) stands for, unless it names a
    /// CTE or a subquery.
    pub fn resolve(&self, qualifier: &str) -> Option<&QualifiedName> {
        self.relations
            .iter()
            .find(|r| r.alias.as_deref() == Some(qualifier))
            .or_else(|| {
                self.relations
                    .iter()
                    .find(|r| r.alias.is_none() && r.name.name == qualifier)
            })
            .map(|r| &r.name)
    }
}

/// What the query `sql` (one statement) names, or the parser's message.
pub fn query_access(sql: &str, dialect: Dialect) -> Result<QueryAccess, String> {
    let ast = parse::parse_one(sql, dialect)?;
    let mut collector = Collector {
        dialect,
        access: QueryAccess::default(),
    };
    collector.statement(&ast);
    let _ = ast.visit(&mut collector);
    let ctes = collector.access.ctes.clone();
    // A CTE is the query's own relation, not a table of the schema.
    collector
        .access
        .relations
        .retain(|r| !(r.name.schema == dialect.default_schema() && ctes.contains(&r.name.name)));
    Ok(collector.access)
}

/// Each statement of a query file (sqlc's `-- name:` files, plain `.sql` query files), with
/// its byte span and what it names (or the parser's message).
pub fn file_access(
    text: &str,
    dialect: Dialect,
) -> Vec<(Range<usize>, Result<QueryAccess, String>)> {
    split::split(text, 0..text.len(), dialect)
        .pieces
        .into_iter()
        .map(|piece| {
            let access = query_access(&text[piece.span.clone()], dialect);
            (piece.span, access)
        })
        .collect()
}

struct Collector {
    dialect: Dialect,
    access: QueryAccess,
}

impl Collector {
    fn ident(&self, id: &Ident) -> String {
        fold(&id.value, id.quote_style.is_some(), self.dialect)
    }

    fn parts(&self, name: &ObjectName) -> Vec<String> {
        name.0
            .iter()
            .map(|part| match part {
                ObjectNamePart::Identifier(id) => self.ident(id),
                ObjectNamePart::Function(f) => f.name.value.to_lowercase(),
            })
            .collect()
    }

    fn line_of(name: &ObjectName) -> usize {
        match name.0.last() {
            Some(ObjectNamePart::Identifier(id)) => id.span.start.line.max(1) as usize,
            _ => 1,
        }
    }

    fn relation(&mut self, name: &ObjectName, alias: Option<&Ident>, kind: AccessKind) {
        let parts = self.parts(name);
        let alias = alias.map(|a| self.ident(a));
        self.access.relations.push(RelationRef {
            name: qualify(parts, self.dialect),
            alias,
            kind,
            line: Self::line_of(name),
        });
    }

    /// A column named by an `ObjectName` (INSERT column lists, SET targets).
    fn named_column(&mut self, name: &ObjectName, kind: AccessKind) {
        let mut parts = self.parts(name);
        let Some(column) = parts.pop() else { return };
        self.access.columns.push(ColumnRef {
            qualifier: parts.pop(),
            name: column,
            kind,
            line: Self::line_of(name),
        });
    }

    /// The writes of a DML statement; reads are found by the visitor.
    fn statement(&mut self, ast: &Ast) {
        match ast {
            Ast::Insert(insert) => {
                let TableObject::TableName(table) = &insert.table else {
                    return;
                };
                let alias = insert.table_alias.as_ref().map(|a| &a.alias);
                self.relation(table, alias, AccessKind::Insert);
                let qualifier = self.parts(table).pop().unwrap_or_default();
                if insert.columns.is_empty() && insert.assignments.is_empty() {
                    self.access.all_columns.push(AllColumns {
                        qualifier,
                        kind: AccessKind::Insert,
                        line: Self::line_of(table),
                    });
                }
                for column in &insert.columns {
                    self.named_column(column, AccessKind::Insert);
                }
                for assignment in &insert.assignments {
                    self.assignment_target(&assignment.target, AccessKind::Insert);
                }
                let on_conflict = match &insert.on {
                    Some(OnInsert::OnConflict(conflict)) => match &conflict.action {
                        OnConflictAction::DoUpdate(update) => update.assignments.as_slice(),
                        OnConflictAction::DoNothing => &[],
                    },
                    Some(OnInsert::DuplicateKeyUpdate(assignments)) => assignments.as_slice(),
                    _ => &[],
                };
                for assignment in on_conflict {
                    self.assignment_target(&assignment.target, AccessKind::Update);
                }
                self.returning(insert.returning.as_deref(), table);
            }
            Ast::Update(update) => {
                if let TableFactor::Table { name, alias, .. } = &update.table.relation {
                    self.relation(name, alias.as_ref().map(|a| &a.name), AccessKind::Update);
                }
                for assignment in &update.assignments {
                    self.assignment_target(&assignment.target, AccessKind::Update);
                }
                if let TableFactor::Table { name, .. } = &update.table.relation {
                    self.returning(update.returning.as_deref(), name);
                }
            }
            Ast::Delete(delete) => {
                let from = match &delete.from {
                    FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from) => from,
                };
                for table in from {
                    if let TableFactor::Table { name, alias, .. } = &table.relation {
                        self.relation(name, alias.as_ref().map(|a| &a.name), AccessKind::Delete);
                        self.returning(delete.returning.as_deref(), name);
                    }
                }
            }
            _ => {}
        }
    }

    fn assignment_target(&mut self, target: &AssignmentTarget, kind: AccessKind) {
        match target {
            AssignmentTarget::ColumnName(name) => self.named_column(name, kind),
            AssignmentTarget::Tuple(names) => {
                for name in names {
                    self.named_column(name, kind);
                }
            }
        }
    }

    fn returning(&mut self, items: Option<&[SelectItem]>, table: &ObjectName) {
        let qualifier = self.parts(table).pop().unwrap_or_default();
        for item in items.unwrap_or_default() {
            if matches!(item, SelectItem::Wildcard(_)) {
                self.access.all_columns.push(AllColumns {
                    qualifier: qualifier.clone(),
                    kind: AccessKind::Read,
                    line: Self::line_of(table),
                });
            }
        }
    }

    /// `*` and `t.*` in the select lists of a query body.
    fn wildcards(&mut self, body: &SetExpr) {
        match body {
            SetExpr::Select(select) => {
                for item in &select.projection {
                    match item {
                        SelectItem::Wildcard(options) => {
                            let line = options.wildcard_token.0.span.start.line.max(1) as usize;
                            for qualifier in self.relation_names(&select.from) {
                                self.access.all_columns.push(AllColumns {
                                    qualifier,
                                    kind: AccessKind::Read,
                                    line,
                                });
                            }
                        }
                        SelectItem::QualifiedWildcard(
                            SelectItemQualifiedWildcardKind::ObjectName(name),
                            _,
                        ) => {
                            let qualifier = self.parts(name).pop().unwrap_or_default();
                            self.access.all_columns.push(AllColumns {
                                qualifier,
                                kind: AccessKind::Read,
                                line: Self::line_of(name),
                            });
                        }
                        _ => {}
                    }
                }
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.wildcards(left);
                self.wildcards(right);
            }
            _ => {}
        }
    }

    /// The alias (or name) of every table in a FROM clause, joins included.
    fn relation_names(&self, from: &[TableWithJoins]) -> Vec<String> {
        let factors = from
            .iter()
            .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)));
        factors
            .filter_map(|factor| match factor {
                TableFactor::Table { name, alias, .. } => Some(match alias {
                    Some(alias) => self.ident(&alias.name),
                    None => self.parts(name).pop().unwrap_or_default(),
                }),
                _ => None,
            })
            .collect()
    }
}

impl Visitor for Collector {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let name = self.ident(&cte.alias.name);
                self.access.ctes.insert(name);
            }
        }
        self.wildcards(&query.body);
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, alias, .. } = factor {
            // The target of an UPDATE or DELETE is already recorded as written.
            let qualified = qualify(self.parts(name), self.dialect);
            let already = self.access.relations.iter().any(|r| {
                r.kind != AccessKind::Read && r.name == qualified && r.line == Self::line_of(name)
            });
            if !already {
                self.relation(name, alias.as_ref().map(|a| &a.name), AccessKind::Read);
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Identifier(id) => self.access.columns.push(ColumnRef {
                qualifier: None,
                name: self.ident(id),
                kind: AccessKind::Read,
                line: id.span.start.line.max(1) as usize,
            }),
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let column = &parts[parts.len() - 1];
                let qualifier = &parts[parts.len() - 2];
                self.access.columns.push(ColumnRef {
                    qualifier: Some(self.ident(qualifier)),
                    name: self.ident(column),
                    kind: AccessKind::Read,
                    line: column.span.start.line.max(1) as usize,
                });
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(sql: &str) -> QueryAccess {
        query_access(sql, Dialect::Postgres).unwrap()
    }

    fn columns(access: &QueryAccess, kind: AccessKind) -> Vec<(String, String)> {
        access
            .columns
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| {
                let table = match &c.qualifier {
                    Some(q) => access
                        .resolve(q)
                        .map(|t| t.name.clone())
                        .unwrap_or_default(),
                    None => String::new(),
                };
                (table, c.name.clone())
            })
            .collect()
    }

    #[test]
    fn aliases_and_joins_resolve_to_their_tables() {
        let a = access(
            "SELECT u.email, o.total\nFROM users u\nJOIN orders AS o ON o.user_id = u.id\nWHERE u.active",
        );
        let tables: Vec<_> = a.relations.iter().map(|r| r.name.name.as_str()).collect();
        assert_eq!(tables, ["users", "orders"]);
        let read = columns(&a, AccessKind::Read);
        for expected in [
            ("users", "email"),
            ("orders", "total"),
            ("orders", "user_id"),
            ("users", "id"),
            ("users", "active"),
        ] {
            assert!(
                read.contains(&(expected.0.into(), expected.1.into())),
                "{expected:?} in {read:?}"
            );
        }
        let active = a.columns.iter().find(|c| c.name == "active").unwrap();
        assert_eq!(active.line, 4);
    }

    #[test]
    fn a_cte_is_not_a_table_and_its_body_is_read() {
        let a = access(
            "WITH recent AS (SELECT id, email FROM users WHERE created_at > now())\nSELECT * FROM recent",
        );
        let tables: Vec<_> = a.relations.iter().map(|r| r.name.name.as_str()).collect();
        assert_eq!(tables, ["users"]);
        assert!(a.ctes.contains("recent"));
        // `*` is over the CTE, which resolves to no table.
        assert_eq!(a.all_columns.len(), 1);
        assert_eq!(a.resolve(&a.all_columns[0].qualifier), None);
    }

    #[test]
    fn star_covers_each_relation_of_its_from_clause() {
        let a = access("SELECT *\nFROM users JOIN orders o ON o.user_id = users.id");
        let qualifiers: Vec<_> = a.all_columns.iter().map(|c| c.qualifier.as_str()).collect();
        assert_eq!(qualifiers, ["users", "o"]);
        assert_eq!(a.resolve("o").unwrap().name, "orders");
        assert_eq!(a.all_columns[0].line, 1);
    }

    #[test]
    fn insert_select_inserts_into_the_target_and_reads_the_source() {
        let a = access("INSERT INTO archive (id, email)\nSELECT id, email FROM users");
        let inserted = columns(&a, AccessKind::Insert);
        assert_eq!(
            inserted,
            [
                (String::new(), "id".to_string()),
                (String::new(), "email".to_string())
            ]
        );
        assert_eq!(a.relations[0].kind, AccessKind::Insert);
        assert_eq!(a.relations[0].name.name, "archive");
        assert!(a
            .relations
            .iter()
            .any(|r| r.name.name == "users" && r.kind == AccessKind::Read));
    }

    #[test]
    fn insert_without_a_column_list_inserts_every_column() {
        let a = access("INSERT INTO users VALUES ($1, $2)");
        assert_eq!(a.all_columns.len(), 1);
        assert_eq!(a.all_columns[0].kind, AccessKind::Insert);
        assert_eq!(a.all_columns[0].qualifier, "users");
    }

    #[test]
    fn update_sets_are_updates_and_where_columns_are_reads() {
        let a = access("UPDATE users SET name = $1, email = lower($2) WHERE id = $3");
        let updated: Vec<_> = a
            .columns
            .iter()
            .filter(|c| c.kind == AccessKind::Update)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(updated, ["name", "email"]);
        assert!(a
            .columns
            .iter()
            .any(|c| c.name == "id" && c.kind == AccessKind::Read));
        assert_eq!(a.relations.len(), 1);
        assert_eq!(a.relations[0].kind, AccessKind::Update);
    }

    #[test]
    fn a_query_that_does_not_parse_is_an_error() {
        assert!(query_access("SELEC email FROM users", Dialect::Postgres).is_err());
    }

    #[test]
    fn a_file_of_queries_is_split_with_spans() {
        let text = "-- name: GetUser :one\nSELECT id FROM users WHERE id = $1;\n\n-- name: Bad :exec\nSELEC 1;\n";
        let queries = file_access(text, Dialect::Postgres);
        assert_eq!(queries.len(), 2);
        assert!(text[queries[0].0.clone()].starts_with("SELECT id"));
        assert!(queries[0].1.is_ok());
        assert!(queries[1].1.is_err());
    }
}
