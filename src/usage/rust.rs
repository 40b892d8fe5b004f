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
    let candidates: Vec<(&str, &str)> = texts
        .iter()
        .filter(|(path, text)| {
            path.ends_with(".rs")
                && !claimed.contains(*path)
                && !input.selection.is_migration(path)
                && input.selection.is_code(path)
                // Most files name no table module, model derive or query macro.
                && prefilter.is_match(text)
        })
        .copied()
        .collect();
    // Parsing is most of the stage's time: files on all cores, merged in order.
    let results = crate::parallel::map(&candidates, 8, |&(path, text)| {
        let result = read_file(schemas, &prefilter, path, text);
        proc_macro2::extra::invalidate_current_thread_spans();
        result
    });
    for ((path, text), result) in candidates.into_iter().zip(results) {
        let (found, queries) = match result {
            Ok(read) => read,
            Err(message) => {
                usage.warnings.push(message);
                usage.broken_file(Some(text));
                continue;
            }
        };
        usage.parsed.insert(path.to_string());
        let had_diesel = !found.is_empty();
        for found in found {
            record(found, schemas, path, usage);
        }
        let has_queries = !queries.is_empty();
        for query in queries {
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

/// What one file says: the top-level items the prefilter selects are parsed (the whole file
/// when a glob import brings column names into scope, or when the items cannot be told
/// apart); an error names the file and line.
fn read_file(
    schemas: &DieselSchemas,
    prefilter: &regex::Regex,
    path: &str,
    text: &str,
) -> Result<(Vec<Found>, Vec<Query>), String> {
    let mut visitor = RustVisitor {
        schemas,
        path,
        line_base: 0,
        contexts: Vec::new(),
        glob_tables: Vec::new(),
        found: Vec::new(),
        queries: Vec::new(),
    };
    let chunks = match top_level_items(text) {
        Some(items) => {
            let selected: Vec<_> = items
                .into_iter()
                .filter(|r| prefilter.is_match(&text[r.clone()]))
                .collect();
            if selected.iter().any(|r| text[r.clone()].contains("::*")) {
                std::iter::once(0..text.len()).collect()
            } else {
                selected
            }
        }
        None => std::iter::once(0..text.len()).collect(),
    };
    for chunk in chunks {
        let base = text[..chunk.start].matches('\n').count();
        let file = match syn::parse_file(&text[chunk.clone()]) {
            Ok(file) => file,
            Err(err) if chunk.len() < text.len() => {
                // The item splitter misjudged: parse the whole file instead.
                let _ = err;
                return read_whole(visitor, text);
            }
            Err(err) => return Err(parse_error(path, &err, base)),
        };
        visitor.line_base = base;
        visitor.visit_file(&file);
    }
    Ok((visitor.found, visitor.queries))
}

fn read_whole(
    mut visitor: RustVisitor<'_>,
    text: &str,
) -> Result<(Vec<Found>, Vec<Query>), String> {
    visitor.found.clear();
    visitor.queries.clear();
    visitor.glob_tables.clear();
    visitor.line_base = 0;
    let file = syn::parse_file(text).map_err(|err| parse_error(visitor.path, &err, 0))?;
    visitor.visit_file(&file);
    Ok((visitor.found, visitor.queries))
}

fn parse_error(path: &str, err: &syn::Error, base: usize) -> String {
    format!(
        "{path}:{}: does not parse as Rust ({err}); the names in it count as used",
        base + err.span().start().line
    )
}

/// The byte ranges of a Rust file's top-level items (each with its attributes and doc
/// comments), found by matching brackets outside comments, strings and character
/// literals; `None` when the brackets do not balance.
fn top_level_items(text: &str) -> Option<Vec<std::ops::Range<usize>>> {
    let b = text.as_bytes();
    let mut items = Vec::new();
    let (mut start, mut depth, mut i) = (0, 0i32, 0);
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(b.len(), |n| i + n);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut nested = 0;
                while i < b.len() {
                    if b[i..].starts_with(b"/*") {
                        nested += 1;
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        nested -= 1;
                        i += 2;
                        if nested == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b'r' if (i == 0 || !is_ident_byte(b[i - 1]) || b[i - 1] == b'b')
                && matches!(b.get(i + 1), Some(b'"') | Some(b'#')) =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if b.get(i + 1 + hashes) == Some(&b'"') {
                    let close = format!("\"{}", "#".repeat(hashes));
                    let body = i + 2 + hashes;
                    i = text[body..].find(&close).map(|n| body + n + close.len())?;
                    continue;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' => {
                // A character literal (`'a'`, `'\n'`, `'é'`) or a lifetime (`'a`).
                let rest = &text[i + 1..];
                if rest.starts_with('\\') {
                    i = rest[2..].find('\'').map(|n| i + 3 + n)?;
                } else if let Some(c) = rest.chars().next() {
                    if rest[c.len_utf8()..].starts_with('\'') {
                        i += 1 + c.len_utf8();
                    }
                }
            }
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
                if depth == 0 && b[i] == b'}' {
                    items.push(start..i + 1);
                    start = i + 1;
                }
            }
            b';' if depth == 0 => {
                items.push(start..i + 1);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    (depth == 0).then_some(items)
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// One search for what makes a Rust file worth parsing: a table module path
/// (`users::`), a Diesel derive or attribute, a query macro or `sql_query`.
fn prefilter(schemas: &DieselSchemas, sqlx: bool) -> regex::Regex {
    // Literals only, so the search is one SIMD multi-literal scan; a false hit
    // (`other_users::`) only costs a parse.
    let mut words: Vec<String> = schemas
        .tables
        .keys()
        .map(|t| regex::escape(&format!("{t}::")))
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
        words.extend(QUERY_MACROS.iter().map(|m| regex::escape(&format!("{m}!"))));
    }
    if words.is_empty() {
        words.push("$^".to_string());
    }
    regex::RegexBuilder::new(&words.join("|"))
        .unicode(false)
        .build()
        .expect("escaped names form a valid regex")
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
    /// Lines before the parsed item, added to every line its spans give.
    line_base: usize,
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
    fn line(&self, span: proc_macro2::Span) -> usize {
        self.line_base + span.start().line
    }

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
            let line = self.line(ident.span());
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
                line: self.line(item.ident.span()),
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
                line: self.line(lit.span()),
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
                let line = self.line(item.use_token.span);
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
            let line = self.line(first.ident.span());
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
            self.insert_site(&call.receiver, before, self.line(call.method.span()));
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
                    line: self.line(lit.span()),
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
    }
}

#[cfg(test)]
mod tests {
    use super::top_level_items;

    #[test]
    fn items_are_cut_at_top_level_braces_and_semicolons_only() {
        let text = "use a::b;\n// a } comment\n#[derive(X)]\nstruct S { a: [u8; 3] }\nfn f<'a>(x: &'a str) -> char { let s = \"}\"; let r = r#\"{\"#; '}' }\nconst C: char = '\\'';\n";
        let items: Vec<&str> = top_level_items(text)
            .unwrap()
            .into_iter()
            .map(|r| text[r].trim())
            .collect();
        assert_eq!(items.len(), 4, "{items:?}");
        assert_eq!(items[0], "use a::b;");
        assert!(items[1].starts_with("// a } comment\n#[derive(X)]\nstruct S"));
        assert!(items[2].starts_with("fn f<'a>") && items[2].ends_with("'}' }"));
        assert_eq!(items[3], "const C: char = '\\'';");
        assert_eq!(top_level_items("fn f() { {"), None);
    }
}
