//! N-1's Rust code, parsed with `syn`: Diesel model structs (`Queryable`, `Selectable`,
//! `Insertable`, `AsChangeset` with their table and column names), Diesel DSL paths
//! (`users::email`, `users::table`), and the SQL of sqlx's `query!` macros and Diesel's
//! `sql_query`, resolved against N-1's schema.

use super::diesel::{DieselSchemas, DieselTable};
use super::queries::resolve_sql;
use super::{Access, Evidence, InsertSite, SourceKind, Usage, UsageInput};
use std::collections::BTreeSet;
use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::{Expr, Lit, Token};

/// sqlx's query macros whose first string literal is the query.
const QUERY_MACROS: &[&str] = &[
    "query",
    "query_as",
    "query_scalar",
    "query_unchecked",
    "query_as_unchecked",
    "query_scalar_unchecked",
];

/// Reads every Rust source file that is N-1's code (schema files excluded).
pub fn read(
    input: &UsageInput<'_>,
    texts: &[(&str, &str)],
    schemas: &DieselSchemas,
    usage: &mut Usage,
    claimed: &BTreeSet<String>,
) {
    let sqlx = input.config.sqlx != Some(false);
    if schemas.tables.is_empty() && !sqlx {
        return;
    }
    let prefilter = prefilter(schemas, sqlx);
    for &(path, text) in texts {
        if !path.ends_with(".rs")
            || claimed.contains(path)
            || input.selection.is_migration(path)
            || !input.selection.is_code(path)
        {
            continue;
        }
        // Most files name no table module, model derive or query macro: skip their parse.
        if !prefilter.is_match(text) {
            continue;
        }
        let file = match syn::parse_file(text) {
            Ok(file) => file,
            Err(err) => {
                usage.warnings.push(format!(
                    "{path}:{}: does not parse as Rust ({err}); the names in it count as used",
                    err.span().start().line
                ));
                usage.broken_file(Some(text));
                continue;
            }
        };
        usage.parsed.insert(path.to_string());
        let mut visitor = RustVisitor {
            schemas,
            path,
            contexts: Vec::new(),
            glob_tables: Vec::new(),
            found: Vec::new(),
            queries: Vec::new(),
        };
        visitor.visit_file(&file);
        let had_diesel = !visitor.found.is_empty();
        for found in visitor.found {
            record(found, schemas, path, usage);
        }
        let has_queries = !visitor.queries.is_empty();
        for query in visitor.queries {
            if query.source == SourceKind::Sqlx && !sqlx {
                continue;
            }
            resolve_sql(input, usage, path, query.line, &query.sql, query.source);
        }
        if had_diesel && !schemas.tables.is_empty() {
            usage.sources.push((SourceKind::Diesel, path.to_string()));
        }
        if has_queries && sqlx {
            usage.sources.push((SourceKind::Sqlx, path.to_string()));
        }
    }
}

/// One search for what makes a Rust file worth parsing: a table module path
/// (`users::`), a Diesel derive or attribute, a query macro or `sql_query`.
fn prefilter(schemas: &DieselSchemas, sqlx: bool) -> regex::Regex {
    let mut words: Vec<String> = schemas
        .tables
        .keys()
        .map(|t| format!(r"\b{}::", regex::escape(t)))
        .collect();
    if !schemas.tables.is_empty() {
        words.extend(
            [
                "Queryable",
                "Selectable",
                "Insertable",
                "AsChangeset",
                "table_name",
                "sql_query",
            ]
            .map(String::from),
        );
    }
    if sqlx {
        words.push(r"\bquery(?:_as|_scalar)?(?:_unchecked)?!".to_string());
    }
    if words.is_empty() {
        words.push("$^".to_string());
    }
    regex::Regex::new(&words.join("|")).expect("escaped names form a valid regex")
}

/// What a Rust file says about the Diesel schema.
enum Found {
    Column {
        table: String,
        column: String,
        access: Access,
        line: usize,
    },
    /// `users::table`; `all` when the query reads the table's default selection (no
    /// `.select(...)`), so every declared column is read.
    Table {
        table: String,
        access: Access,
        all: bool,
        line: usize,
    },
    /// An `Insertable` struct: an INSERT naming these columns.
    Insert {
        table: String,
        /// `None`: the columns are not written out here (`.values(&new_user)`): the
        /// `Insertable` struct's own site says which.
        columns: Option<Vec<String>>,
        line: usize,
    },
}

struct Query {
    sql: String,
    line: usize,
    source: SourceKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// Arguments of `.values(...)` / `.set(...)`.
    Write(Access),
    /// The table argument of `insert_into`, `update`, `delete`.
    Target(Access),
    /// A query chain with an explicit `.select(...)`.
    Selected,
}

struct RustVisitor<'a> {
    schemas: &'a DieselSchemas,
    path: &'a str,
    contexts: Vec<Ctx>,
    /// Tables whose columns are imported by a glob (`use schema::users::dsl::*`).
    glob_tables: Vec<String>,
    found: Vec<Found>,
    queries: Vec<Query>,
}

fn record(found: Found, schemas: &DieselSchemas, path: &str, usage: &mut Usage) {
    let evidence =
        |usage: &Usage, line, access| usage.evidence(path, line, SourceKind::Diesel, access);
    match found {
        Found::Column {
            table,
            column,
            access,
            line,
        } => {
            let Some(t) = schemas.tables.get(&table) else {
                return;
            };
            let Some(c) = t.column(&column) else { return };
            let e = evidence(usage, line, access);
            usage.add_column(&t.sql, &c.sql.clone(), e);
        }
        Found::Table {
            table,
            access,
            all,
            line,
        } => {
            let Some(t) = schemas.tables.get(&table) else {
                return;
            };
            let e = evidence(usage, line, access);
            usage.add_table(&t.sql, e.clone());
            if all {
                read_all(t, e, usage);
            }
        }
        Found::Insert {
            table,
            columns,
            line,
        } => {
            let Some(t) = schemas.tables.get(&table) else {
                return;
            };
            let columns = columns.map(|columns| {
                columns
                    .iter()
                    .filter_map(|c| t.column(c).map(|c| c.sql.clone()))
                    .collect()
            });
            let e = evidence(usage, line, Access::Insert);
            usage.inserts.push(InsertSite {
                table: t.sql.clone(),
                columns,
                evidence: e,
            });
        }
    }
}

/// The default selection reads every column `schema.rs` declares: cite the declaration
/// and the query.
fn read_all(table: &DieselTable, site: Evidence, usage: &mut Usage) {
    for column in &table.columns {
        let declared = usage.evidence(&table.path, column.line, SourceKind::Diesel, Access::Read);
        usage.add_column(&table.sql, &column.sql, declared);
        let at_site = Evidence {
            access: Access::Read,
            ..site.clone()
        };
        usage.add_column(&table.sql, &column.sql, at_site);
    }
}

impl RustVisitor<'_> {
    fn writing(&self) -> Option<Access> {
        self.contexts.iter().rev().find_map(|c| match c {
            Ctx::Write(access) => Some(*access),
            _ => None,
        })
    }

    fn target(&self) -> Option<Access> {
        match self.contexts.last() {
            Some(Ctx::Target(access)) => Some(*access),
            _ => None,
        }
    }

    fn selected(&self) -> bool {
        self.contexts.contains(&Ctx::Selected)
    }

    fn path_segments(&mut self, segments: &[String], line: usize) {
        for (i, segment) in segments.iter().enumerate() {
            let Some(table) = self.schemas.tables.get(segment) else {
                continue;
            };
            let next = segments.get(i + 1).map(String::as_str);
            let column = match next {
                Some("table") => {
                    let access = self.target().unwrap_or(Access::Read);
                    let all =
                        access == Access::Read && !self.selected() && self.writing().is_none();
                    self.found.push(Found::Table {
                        table: segment.clone(),
                        access,
                        all,
                        line,
                    });
                    return;
                }
                Some("all_columns") | Some("star") => {
                    self.found.push(Found::Table {
                        table: segment.clone(),
                        access: Access::Read,
                        all: true,
                        line,
                    });
                    return;
                }
                Some("dsl") | Some("columns") => segments.get(i + 2),
                Some(_) => segments.get(i + 1),
                None => None,
            };
            if let Some(column) = column.filter(|c| table.column(c).is_some()) {
                self.found.push(Found::Column {
                    table: segment.clone(),
                    column: column.clone(),
                    access: self.writing().unwrap_or(Access::Read),
                    line,
                });
                return;
            }
        }
        // A bare column name imported by `use ...::users::dsl::*`.
        if let [only] = segments {
            let tables: Vec<String> = self
                .glob_tables
                .iter()
                .filter(|t| {
                    self.schemas
                        .tables
                        .get(*t)
                        .is_some_and(|t| t.column(only).is_some())
                })
                .cloned()
                .collect();
            for table in tables {
                self.found.push(Found::Column {
                    table,
                    column: only.clone(),
                    access: self.writing().unwrap_or(Access::Read),
                    line,
                });
            }
            if only == "table" && self.glob_tables.len() == 1 {
                let table = self.glob_tables[0].clone();
                self.path_segments(&[table, "table".to_string()], line);
            }
        }
    }

    fn model_struct(&mut self, item: &syn::ItemStruct) {
        let mut derives = BTreeSet::new();
        let mut table = None;
        for attr in &item.attrs {
            if attr.path().is_ident("derive") {
                let _ = attr.parse_nested_meta(|meta| {
                    if let Some(last) = meta.path.segments.last() {
                        derives.insert(last.ident.to_string());
                    }
                    Ok(())
                });
            }
            if let Some(name) = table_name(attr) {
                table = Some(name);
            }
        }
        let reads =
            derives.contains("Selectable") || (derives.contains("Queryable") && table.is_some());
        let inserts = derives.contains("Insertable");
        let updates = derives.contains("AsChangeset");
        if !(reads || inserts || updates) {
            return;
        }
        // Diesel's default table name: the struct's name in snake case, plus `s`.
        let table = table.unwrap_or_else(|| format!("{}s", snake_case(&item.ident.to_string())));
        if !self.schemas.tables.contains_key(&table) {
            return;
        }
        let mut columns = Vec::new();
        for field in &item.fields {
            let Some(ident) = &field.ident else { continue };
            if field.attrs.iter().any(is_embed_or_skip) {
                continue;
            }
            let column = field
                .attrs
                .iter()
                .find_map(column_name)
                .unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_string());
            let line = ident.span().start().line;
            for (wanted, access) in [
                (reads, Access::Read),
                (inserts, Access::Insert),
                (updates, Access::Update),
            ] {
                if wanted {
                    self.found.push(Found::Column {
                        table: table.clone(),
                        column: column.clone(),
                        access,
                        line,
                    });
                }
            }
            columns.push(column);
        }
        if inserts {
            self.found.push(Found::Insert {
                table,
                columns: Some(columns),
                line: item.ident.span().start().line,
            });
        }
    }

    /// `insert_into(users::table).values(...)`: an INSERT into the chain's target, naming
    /// the columns its arguments name (found since `before`).
    fn insert_site(&mut self, receiver: &Expr, before: usize, line: usize) {
        let Some(table) = insert_target(receiver, self.schemas, &self.glob_tables) else {
            return;
        };
        let columns: Vec<String> = self.found[before..]
            .iter()
            .filter_map(|f| match f {
                Found::Column {
                    table: t,
                    column,
                    access: Access::Insert,
                    ..
                } if *t == table => Some(column.clone()),
                _ => None,
            })
            .collect();
        self.found.push(Found::Insert {
            table,
            columns: (!columns.is_empty()).then_some(columns),
            line,
        });
    }

    fn query_macro(&mut self, mac: &syn::Macro) {
        let Some(name) = mac.path.segments.last().map(|s| s.ident.to_string()) else {
            return;
        };
        if !QUERY_MACROS.contains(&name.as_str()) {
            return;
        }
        let Ok(args) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) else {
            return;
        };
        if let Some(lit) = args.iter().find_map(string_literal) {
            self.queries.push(Query {
                sql: lit.value(),
                line: lit.span().start().line,
                source: SourceKind::Sqlx,
            });
        }
    }
}

fn string_literal(expr: &Expr) -> Option<&syn::LitStr> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit),
        _ => None,
    }
}

/// `#[diesel(table_name = users)]`, `#[diesel(table_name = crate::schema::users)]` or the
/// older `#[table_name = "users"]`.
fn table_name(attr: &syn::Attribute) -> Option<String> {
    diesel_key(attr, "table_name")
}

/// `#[diesel(column_name = email)]` or `#[column_name = "email"]`.
fn column_name(attr: &syn::Attribute) -> Option<String> {
    diesel_key(attr, "column_name")
}

fn diesel_key(attr: &syn::Attribute, key: &str) -> Option<String> {
    if attr.path().is_ident(key) {
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) = &nv.value
            {
                return Some(s.value());
            }
        }
        return None;
    }
    if !attr.path().is_ident("diesel") {
        return None;
    }
    let mut found = None;
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident(key) {
            let value = meta.value()?;
            if let Ok(path) = value.parse::<syn::Path>() {
                found = path.segments.last().map(|s| s.ident.to_string());
            } else if let Ok(lit) = value.parse::<syn::LitStr>() {
                found = Some(lit.value());
            }
        } else if meta.input.peek(Token![=]) {
            let value = meta.value()?;
            let _: Expr = value.parse()?;
        } else if meta.input.peek(syn::token::Paren) {
            let _ = meta.parse_nested_meta(|_| Ok(()));
        }
        Ok(())
    });
    found.map(|name| name.trim_start_matches("r#").to_string())
}

fn is_embed_or_skip(attr: &syn::Attribute) -> bool {
    if !attr.path().is_ident("diesel") {
        return false;
    }
    let mut skip = false;
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("embed") || meta.path.is_ident("skip_insertion") {
            skip = true;
        } else if meta.input.peek(Token![=]) {
            let value = meta.value()?;
            let _: Expr = value.parse()?;
        }
        Ok(())
    });
    skip
}

fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The methods of a call chain (`a.b().c()`), outermost first, and its root expression.
fn chain_methods(mut expr: &Expr) -> Vec<String> {
    let mut methods = Vec::new();
    loop {
        expr = match expr {
            Expr::MethodCall(call) => {
                methods.push(call.method.to_string());
                &call.receiver
            }
            Expr::Try(e) => &e.expr,
            Expr::Await(e) => &e.base,
            Expr::Paren(e) => &e.expr,
            Expr::Reference(e) => &e.expr,
            _ => return methods,
        };
    }
}

/// The table of the `insert_into(...)` at the root of a call chain.
fn insert_target(expr: &Expr, schemas: &DieselSchemas, globs: &[String]) -> Option<String> {
    let mut expr = expr;
    loop {
        expr = match expr {
            Expr::MethodCall(call) => &call.receiver,
            Expr::Paren(e) => &e.expr,
            Expr::Call(call) => {
                let Expr::Path(func) = &*call.func else {
                    return None;
                };
                let name = func.path.segments.last()?.ident.to_string();
                if !matches!(
                    name.as_str(),
                    "insert_into" | "insert_or_ignore_into" | "replace_into"
                ) {
                    return None;
                }
                let Some(Expr::Path(arg)) = call.args.first() else {
                    return None;
                };
                let segments: Vec<String> = arg
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                return match segments.as_slice() {
                    [.., table, last] if last == "table" && schemas.tables.contains_key(table) => {
                        Some(table.clone())
                    }
                    [only] if only == "table" && globs.len() == 1 => Some(globs[0].clone()),
                    _ => None,
                };
            }
            _ => return None,
        };
    }
}

fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, bool)>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_paths(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), true)),
        syn::UseTree::Name(n) => {
            let mut path = prefix.clone();
            path.push(n.ident.to_string());
            out.push((path, false));
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            path.push(r.ident.to_string());
            out.push((path, false));
        }
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                use_paths(tree, prefix, out);
            }
        }
    }
}

impl<'ast> Visit<'ast> for RustVisitor<'_> {
    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        self.model_struct(item);
        syn::visit::visit_item_struct(self, item);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        use_paths(&item.tree, &mut Vec::new(), &mut paths);
        for (path, glob) in paths {
            // `users::dsl::*`, `users::columns::*`, `users::*`
            let table = match path.as_slice() {
                [.., t, m] if glob && (m == "dsl" || m == "columns") => Some(t),
                [.., t] if glob => Some(t),
                _ => None,
            };
            if let Some(table) = table.filter(|t| self.schemas.tables.contains_key(*t)) {
                self.glob_tables.push(table.clone());
            }
            if !glob {
                let line = item.use_token.span.start().line;
                let found = self.found.len();
                self.path_segments(&path, line);
                // An import is not a use of the table's default selection.
                for f in &mut self.found[found..] {
                    if let Found::Table { all, .. } = f {
                        *all = false;
                    }
                }
            }
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path
            .segments
            .iter()
            .map(|s| s.ident.to_string().trim_start_matches("r#").to_string())
            .collect();
        if let Some(first) = path.segments.first() {
            let line = first.ident.span().start().line;
            self.path_segments(&segments, line);
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let mut methods = chain_methods(&call.receiver);
        methods.push(call.method.to_string());
        let selects = methods
            .iter()
            .any(|m| matches!(m.as_str(), "select" | "count" | "execute"));
        if selects {
            self.contexts.push(Ctx::Selected);
        }
        self.visit_expr(&call.receiver);
        let write = match call.method.to_string().as_str() {
            "set" => Some(Access::Update),
            "values" => Some(Access::Insert),
            _ => None,
        };
        if let Some(access) = write {
            self.contexts.push(Ctx::Write(access));
        }
        let before = self.found.len();
        for arg in &call.args {
            self.visit_expr(arg);
        }
        if write.is_some() {
            self.contexts.pop();
        }
        if write == Some(Access::Insert) {
            self.insert_site(&call.receiver, before, call.method.span().start().line);
        }
        if selects {
            self.contexts.pop();
        }
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        let name = match &*call.func {
            Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        let target = match name.as_deref() {
            Some("insert_into" | "insert_or_ignore_into" | "replace_into") => Some(Access::Insert),
            Some("update") => Some(Access::Update),
            Some("delete") => Some(Access::Delete),
            _ => None,
        };
        if name.as_deref() == Some("sql_query") {
            if let Some(lit) = call.args.first().and_then(string_literal) {
                self.queries.push(Query {
                    sql: lit.value(),
                    line: lit.span().start().line,
                    source: SourceKind::Diesel,
                });
            }
        }
        self.visit_expr(&call.func);
        if let Some(access) = target {
            self.contexts.push(Ctx::Target(access));
        }
        for arg in &call.args {
            self.visit_expr(arg);
        }
        if target.is_some() {
            self.contexts.pop();
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.query_macro(mac);
        // Diesel DSL inside other macros (`vec![users::email]`) is still code.
        if let Ok(args) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
            for arg in &args {
                self.visit_expr(arg);
            }
        }
        let _ = self.path;
    }
}
