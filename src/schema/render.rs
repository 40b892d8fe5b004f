//! Renders a catalog as the design's Schema JSON or as `CREATE` statements.

use super::{Catalog, Column, Constraint, EnumType, Index, Table, View};
use crate::dialect::Dialect;
use crate::ir::naming::{quote_ident_with, quote_literal};
use crate::ir::{ConstraintKind, Generated, QualifiedName};
use serde::Serialize;

/// The design's Schema JSON (schema_version 1).
pub fn to_json(catalog: &Catalog) -> serde_json::Value {
    serde_json::to_value(SchemaJson::new(catalog)).unwrap_or_default()
}

/// The Schema JSON as pretty-printed text, with its fields in the design's order
/// (`serde_json::Value` would sort them).
pub fn to_json_string(catalog: &Catalog) -> String {
    serde_json::to_string_pretty(&SchemaJson::new(catalog)).unwrap_or_default()
}

/// The catalog as `CREATE` statements, in a stable order: enum types first (columns use
/// them), then each table followed by its indexes, then views. Indexes that back a
/// constraint are not repeated: the constraint creates them.
pub fn to_sql(catalog: &Catalog) -> String {
    let sql = SqlWriter::new(catalog.dialect);
    let mut statements: Vec<String> = Vec::new();
    statements.extend(catalog.enums.values().map(|e| sql.create_enum(e)));
    for table in catalog.tables.values() {
        statements.push(sql.create_table(table));
        statements.extend(
            table
                .indexes
                .iter()
                .filter(|index| table.constraint(&index.name).is_none())
                .map(|index| sql.create_index(&table.name, index)),
        );
    }
    statements.extend(catalog.views.values().map(|v| sql.create_view(v)));
    let mut text = statements.join("\n\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text
}

// ---- JSON ----

#[derive(Serialize)]
struct SchemaJson<'a> {
    schema_version: u32,
    tables: Vec<TableJson<'a>>,
    views: Vec<ViewJson<'a>>,
    enums: Vec<EnumJson<'a>>,
}

impl<'a> SchemaJson<'a> {
    fn new(catalog: &'a Catalog) -> Self {
        SchemaJson {
            schema_version: 1,
            tables: catalog.tables.values().map(TableJson::new).collect(),
            views: catalog.views.values().map(ViewJson::new).collect(),
            enums: catalog.enums.values().map(EnumJson::new).collect(),
        }
    }
}

#[derive(Serialize)]
struct TableJson<'a> {
    schema: &'a str,
    name: &'a str,
    columns: Vec<ColumnJson<'a>>,
    constraints: Vec<ConstraintJson<'a>>,
    indexes: Vec<IndexJson<'a>>,
}

impl<'a> TableJson<'a> {
    fn new(table: &'a Table) -> Self {
        TableJson {
            schema: &table.name.schema,
            name: &table.name.name,
            columns: table.columns.iter().map(ColumnJson::new).collect(),
            constraints: table.constraints.iter().map(ConstraintJson::new).collect(),
            indexes: table.indexes.iter().map(IndexJson::new).collect(),
        }
    }
}

#[derive(Serialize)]
struct ColumnJson<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    data_type: &'a str,
    nullable: bool,
    default: Option<&'a str>,
}

impl<'a> ColumnJson<'a> {
    fn new(column: &'a Column) -> Self {
        ColumnJson {
            name: &column.name,
            data_type: &column.data_type,
            nullable: column.nullable,
            default: column.default.as_ref().map(|d| d.sql.as_str()),
        }
    }
}

/// Beyond the design's fields: `expression` for a check, `references` for a foreign key.
#[derive(Serialize)]
struct ConstraintJson<'a> {
    name: &'a str,
    kind: &'static str,
    columns: &'a [String],
    validated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    expression: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    references: Option<ReferenceJson<'a>>,
}

#[derive(Serialize)]
struct ReferenceJson<'a> {
    schema: &'a str,
    name: &'a str,
    columns: &'a [String],
}

impl<'a> ConstraintJson<'a> {
    fn new(constraint: &'a Constraint) -> Self {
        let (expression, references) = match &constraint.kind {
            ConstraintKind::Check { expr } => (Some(expr.as_str()), None),
            ConstraintKind::ForeignKey {
                references,
                ref_columns,
            } => {
                let reference = ReferenceJson {
                    schema: &references.schema,
                    name: &references.name,
                    columns: ref_columns,
                };
                (None, Some(reference))
            }
            _ => (None, None),
        };
        ConstraintJson {
            name: &constraint.name,
            kind: constraint.kind.json_name(),
            columns: &constraint.columns,
            validated: constraint.validated,
            expression,
            references,
        }
    }
}

#[derive(Serialize)]
struct IndexJson<'a> {
    name: &'a str,
    columns: &'a [String],
    unique: bool,
    partial: bool,
}

impl<'a> IndexJson<'a> {
    fn new(index: &'a Index) -> Self {
        IndexJson {
            name: &index.name,
            columns: &index.columns,
            unique: index.unique,
            partial: index.partial,
        }
    }
}

#[derive(Serialize)]
struct ViewJson<'a> {
    schema: &'a str,
    name: &'a str,
    materialized: bool,
}

impl<'a> ViewJson<'a> {
    fn new(view: &'a View) -> Self {
        ViewJson {
            schema: &view.name.schema,
            name: &view.name.name,
            materialized: view.materialized,
        }
    }
}

#[derive(Serialize)]
struct EnumJson<'a> {
    schema: &'a str,
    name: &'a str,
    values: &'a [String],
}

impl<'a> EnumJson<'a> {
    fn new(enum_type: &'a EnumType) -> Self {
        EnumJson {
            schema: &enum_type.name.schema,
            name: &enum_type.name.name,
            values: &enum_type.values,
        }
    }
}

// ---- SQL ----

/// Writes statements with the dialect's identifier quotes (backticks for MySQL).
struct SqlWriter {
    quote: char,
}

/// One line inside `CREATE TABLE (...)`, with an optional trailing comment.
struct TableItem {
    sql: String,
    comment: Option<&'static str>,
}

impl SqlWriter {
    fn new(dialect: Dialect) -> Self {
        let quote = dialect.identifier_quote();
        SqlWriter { quote }
    }

    fn ident(&self, name: &str) -> String {
        quote_ident_with(name, self.quote)
    }

    fn qualified(&self, name: &QualifiedName) -> String {
        if name.schema.is_empty() {
            self.ident(&name.name)
        } else {
            format!("{}.{}", self.ident(&name.schema), self.ident(&name.name))
        }
    }

    fn column_list(&self, columns: &[String]) -> String {
        let names: Vec<String> = columns.iter().map(|c| self.ident(c)).collect();
        names.join(", ")
    }

    fn create_enum(&self, enum_type: &EnumType) -> String {
        let values: Vec<String> = enum_type.values.iter().map(|v| quote_literal(v)).collect();
        format!(
            "CREATE TYPE {} AS ENUM ({});",
            self.qualified(&enum_type.name),
            values.join(", ")
        )
    }

    fn create_table(&self, table: &Table) -> String {
        let items: Vec<TableItem> = table
            .columns
            .iter()
            .map(|c| self.column(c))
            .chain(table.constraints.iter().map(|c| self.constraint(c)))
            .collect();
        let mut sql = format!("CREATE TABLE {} (", self.qualified(&table.name));
        for (at, item) in items.iter().enumerate() {
            sql.push_str("\n    ");
            sql.push_str(&item.sql);
            if at + 1 < items.len() {
                sql.push(',');
            }
            if let Some(comment) = item.comment {
                sql.push_str(" -- ");
                sql.push_str(comment);
            }
        }
        sql.push_str("\n);");
        sql
    }

    fn column(&self, column: &Column) -> TableItem {
        let mut sql = format!("{} {}", self.ident(&column.name), column.data_type);
        if !column.nullable {
            sql.push_str(" NOT NULL");
        }
        if let Some(default) = &column.default {
            sql.push_str(" DEFAULT ");
            sql.push_str(&default.sql);
        }
        let comment = match column.generated {
            Generated::Identity => Some("identity"),
            Generated::Stored => Some("generated, stored: expression not modelled"),
            Generated::Virtual => Some("generated, virtual: expression not modelled"),
            Generated::No | Generated::Serial => None,
        };
        TableItem { sql, comment }
    }

    fn constraint(&self, constraint: &Constraint) -> TableItem {
        let columns = self.column_list(&constraint.columns);
        let mut comment = None;
        let body = match &constraint.kind {
            ConstraintKind::PrimaryKey => format!("PRIMARY KEY ({columns})"),
            ConstraintKind::Unique => format!("UNIQUE ({columns})"),
            ConstraintKind::Check { expr } => format!("CHECK {}", parenthesised(expr)),
            ConstraintKind::ForeignKey {
                references,
                ref_columns,
            } => self.foreign_key(&columns, references, ref_columns),
            ConstraintKind::Exclusion => {
                comment = Some("operators not modelled");
                format!("EXCLUDE ({columns})")
            }
        };
        let not_valid = if constraint.validated {
            ""
        } else {
            " NOT VALID"
        };
        let sql = format!(
            "CONSTRAINT {} {body}{not_valid}",
            self.ident(&constraint.name)
        );
        TableItem { sql, comment }
    }

    fn foreign_key(
        &self,
        columns: &str,
        references: &QualifiedName,
        ref_columns: &[String],
    ) -> String {
        let mut sql = format!(
            "FOREIGN KEY ({columns}) REFERENCES {}",
            self.qualified(references)
        );
        if !ref_columns.is_empty() {
            sql.push_str(&format!(" ({})", self.column_list(ref_columns)));
        }
        sql
    }

    fn create_index(&self, table: &QualifiedName, index: &Index) -> String {
        let unique = if index.unique { "UNIQUE " } else { "" };
        let columns: Vec<String> = index.columns.iter().map(|c| self.index_column(c)).collect();
        let mut sql = format!(
            "CREATE {unique}INDEX {} ON {} ({});",
            self.ident(&index.name),
            self.qualified(table),
            columns.join(", ")
        );
        if index.partial {
            sql.push_str(" -- partial: WHERE clause not modelled");
        }
        sql
    }

    /// A column is quoted like any identifier; an expression is kept as written, in
    /// parentheses unless it is a function call.
    fn index_column(&self, column: &str) -> String {
        let is_name = column
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
        if is_name {
            self.ident(column)
        } else if is_function_call(column) {
            column.to_string()
        } else {
            parenthesised(column)
        }
    }

    fn create_view(&self, view: &View) -> String {
        let kind = if view.materialized {
            "MATERIALIZED VIEW"
        } else {
            "VIEW"
        };
        format!(
            "CREATE {kind} {} AS\n    -- view body not modelled\n;",
            self.qualified(&view.name)
        )
    }
}

/// `(expr)`, without doubling parentheses that already enclose the whole expression.
fn parenthesised(expr: &str) -> String {
    let expr = expr.trim();
    if encloses_whole(expr) {
        expr.to_string()
    } else {
        format!("({expr})")
    }
}

/// `lower(email)`: a name, then parentheses that run to the end.
fn is_function_call(expr: &str) -> bool {
    let Some(open) = expr.find('(') else {
        return false;
    };
    let name = &expr[..open];
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && encloses_whole(&expr[open..])
}

/// True when `text` starts with `(` whose matching `)` is its last character (quotes
/// aware).
fn encloses_whole(text: &str) -> bool {
    if !text.starts_with('(') || !text.ends_with(')') {
        return false;
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (at, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return at == text.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Change;
    use crate::schema::fixtures::*;

    fn shop() -> Catalog {
        let mut catalog = replay(&shop_changes());
        let mut index = index("users", None, &["lower(email)"]);
        index.unique = true;
        index.partial = true;
        catalog.apply_migration(
            &[
                Change::CreateIndex(index),
                Change::CreateView {
                    name: name("paid_orders"),
                    materialized: true,
                    or_replace: false,
                },
                Change::CreateEnum {
                    name: name("mood"),
                    values: strings(&["it's fine", "ok"]),
                },
                create_table("user", vec![required("order", "int")], vec![]),
            ],
            "002",
        );
        catalog
    }

    #[test]
    fn shop_schema_as_json() {
        insta::assert_snapshot!(to_json_string(&shop()));
    }

    #[test]
    fn shop_schema_as_sql() {
        insta::assert_snapshot!(to_sql(&shop()));
    }

    #[test]
    fn json_value_and_string_agree() {
        let catalog = shop();
        let reparsed: serde_json::Value = serde_json::from_str(&to_json_string(&catalog)).unwrap();
        assert_eq!(reparsed, to_json(&catalog));
    }

    #[test]
    fn empty_catalog() {
        let catalog = Catalog::new(Dialect::Postgres);
        assert_eq!(to_sql(&catalog), "");
        assert_eq!(
            to_json(&catalog),
            serde_json::json!({"schema_version": 1, "tables": [], "views": [], "enums": []})
        );
    }

    #[test]
    fn parentheses() {
        assert_eq!(parenthesised("price > 0"), "(price > 0)");
        assert_eq!(parenthesised("(price > 0)"), "(price > 0)");
        assert_eq!(parenthesised("(a) > (b)"), "((a) > (b))");
        assert_eq!(parenthesised("(a = ')')"), "(a = ')')");
        assert!(is_function_call("lower(email)"));
        assert!(!is_function_call("lower(a) || b"));
    }
}
