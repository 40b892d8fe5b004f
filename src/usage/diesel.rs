//! Diesel's `schema.rs`: the `table!` declarations say which tables and columns N-1's code
//! *can* name (and their database names, `#[sql_name]`). Declaration is not use: the Rust
//! code that maps or names them is read in `rust.rs`.

use super::{SourceKind, Usage, UsageInput};
use crate::ir::QualifiedName;
use proc_macro2::{Delimiter, TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};
use syn::visit::Visit;

/// A column of a `table!`: its Rust name, its database name and its line.
#[derive(Debug, Clone)]
pub struct DieselColumn {
    pub rust: String,
    pub sql: String,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct DieselTable {
    /// The module name code uses (`users::email`).
    pub rust: String,
    pub sql: QualifiedName,
    pub path: String,
    pub columns: Vec<DieselColumn>,
}

impl DieselTable {
    pub fn column(&self, rust: &str) -> Option<&DieselColumn> {
        self.columns.iter().find(|c| c.rust == rust)
    }
}

/// Every `table!` of the schema files, by the table's Rust name.
#[derive(Debug, Clone, Default)]
pub struct DieselSchemas {
    pub tables: BTreeMap<String, DieselTable>,
}

/// Finds and reads the schema files; returns their tables.
pub fn read(
    input: &UsageInput<'_>,
    texts: &[(&str, &str)],
    usage: &mut Usage,
    claimed: &mut BTreeSet<String>,
) -> DieselSchemas {
    let mut schemas = DieselSchemas::default();
    for path in schema_paths(input, texts, usage) {
        let Some(&(_, text)) = texts.iter().find(|(p, _)| *p == path) else {
            usage.warnings.push(format!(
                "{path}: the Diesel schema file is missing at {}; Diesel evidence is not used",
                input.rev
            ));
            usage.broken_file(None);
            continue;
        };
        claimed.insert(path.clone());
        match parse_schema(&path, text, input.dialect.default_schema()) {
            Ok(tables) => {
                usage.sources.push((SourceKind::Diesel, path.clone()));
                for table in tables {
                    schemas.tables.insert(table.rust.clone(), table);
                }
            }
            Err(message) => {
                usage.warnings.push(message);
                usage.broken_file(None);
            }
        }
    }
    schemas
}

/// The schema files: `[usage] diesel`, else each `diesel.toml`'s `[print_schema] file`
/// (relative to it), else every `src/schema.rs` that declares a table.
fn schema_paths(input: &UsageInput<'_>, texts: &[(&str, &str)], usage: &mut Usage) -> Vec<String> {
    if let Some(paths) = &input.config.diesel {
        return paths
            .iter()
            .map(|p| p.trim_start_matches("./").to_string())
            .collect();
    }
    let mut paths = Vec::new();
    for (path, text) in texts {
        if !(path.ends_with("diesel.toml")
            && (*path == "diesel.toml" || path.ends_with("/diesel.toml")))
        {
            continue;
        }
        let dir = path.strip_suffix("diesel.toml").unwrap_or_default();
        match toml::from_str::<toml::Value>(text) {
            Ok(value) => {
                let Some(print) = value.get("print_schema") else {
                    continue;
                };
                let mut files: Vec<&str> = print
                    .get("file")
                    .and_then(|f| f.as_str())
                    .into_iter()
                    .collect();
                // `[print_schema.<name>]` sections, one per schema file.
                if let Some(table) = print.as_table() {
                    files.extend(
                        table
                            .values()
                            .filter_map(|v| v.get("file").and_then(|f| f.as_str())),
                    );
                }
                paths.extend(
                    files
                        .into_iter()
                        .map(|f| format!("{dir}{}", f.trim_start_matches("./"))),
                );
            }
            Err(err) => usage
                .warnings
                .push(format!("{path}: does not parse as TOML: {}", err.message())),
        }
    }
    if paths.is_empty() {
        paths = texts
            .iter()
            .filter(|(p, t)| {
                (*p == "src/schema.rs" || p.ends_with("/src/schema.rs"))
                    && input.selection.is_code(p)
                    && t.contains("table!")
            })
            .map(|(p, _)| p.to_string())
            .collect();
    }
    paths.sort();
    paths.dedup();
    paths
}

/// The tables a schema file declares, or a message naming the file and line.
pub fn parse_schema(
    path: &str,
    text: &str,
    default_schema: &str,
) -> Result<Vec<DieselTable>, String> {
    let file = syn::parse_file(text).map_err(|err| {
        let line = err.span().start().line;
        format!("{path}:{line}: does not parse as Rust ({err}); Diesel evidence is not used")
    })?;
    let mut finder = TableMacros::default();
    finder.visit_file(&file);
    let mut tables = Vec::new();
    for tokens in finder.bodies {
        parse_tables(tokens, path, default_schema, &mut tables)?;
    }
    Ok(tables)
}

#[derive(Default)]
struct TableMacros {
    bodies: Vec<TokenStream>,
}

impl<'ast> Visit<'ast> for TableMacros {
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if mac.path.segments.last().is_some_and(|s| s.ident == "table") {
            self.bodies.push(mac.tokens.clone());
        }
    }
}

fn ident_name(ident: &proc_macro2::Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map(str::to_string).unwrap_or(name)
}

/// `#[sql_name = "..."]` among attributes; other attributes are skipped.
fn take_attributes(tokens: &[TokenTree], at: &mut usize) -> Option<String> {
    let mut sql_name = None;
    while let (Some(TokenTree::Punct(p)), Some(TokenTree::Group(g))) =
        (tokens.get(*at), tokens.get(*at + 1))
    {
        if p.as_char() != '#' || g.delimiter() != Delimiter::Bracket {
            break;
        }
        let inner: Vec<TokenTree> = g.stream().into_iter().collect();
        if let [TokenTree::Ident(key), TokenTree::Punct(eq), TokenTree::Literal(value)] =
            inner.as_slice()
        {
            if key == "sql_name" && eq.as_char() == '=' {
                sql_name = Some(value.to_string().trim_matches('"').to_string());
            }
        }
        *at += 2;
    }
    sql_name
}

fn parse_tables(
    stream: TokenStream,
    path: &str,
    default_schema: &str,
    tables: &mut Vec<DieselTable>,
) -> Result<(), String> {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut at = 0;
    let fail = |token: Option<&TokenTree>, what: &str| {
        let line = token.map_or(1, |t| t.span().start().line);
        format!(
            "{path}:{line}: unexpected tokens in `table!` ({what}); Diesel evidence is not used"
        )
    };
    while at < tokens.len() {
        // `use diesel::sql_types::*;` lines.
        if matches!(&tokens[at], TokenTree::Ident(i) if i == "use") {
            while at < tokens.len()
                && !matches!(&tokens[at], TokenTree::Punct(p) if p.as_char() == ';')
            {
                at += 1;
            }
            at += 1;
            continue;
        }
        let sql_name = take_attributes(&tokens, &mut at);
        let Some(TokenTree::Ident(first)) = tokens.get(at) else {
            return Err(fail(tokens.get(at), "expected a table name"));
        };
        let mut rust = ident_name(first);
        let mut schema = default_schema.to_string();
        at += 1;
        if let (Some(TokenTree::Punct(dot)), Some(TokenTree::Ident(name))) =
            (tokens.get(at), tokens.get(at + 1))
        {
            if dot.as_char() == '.' {
                schema = rust;
                rust = ident_name(name);
                at += 2;
            }
        }
        if matches!(tokens.get(at), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
        {
            at += 1;
        }
        let Some(TokenTree::Group(body)) = tokens.get(at) else {
            return Err(fail(tokens.get(at), "expected the column list"));
        };
        if body.delimiter() != Delimiter::Brace {
            return Err(fail(tokens.get(at), "expected `{`"));
        }
        at += 1;
        let columns = parse_columns(body.stream(), path)?;
        let sql = sql_name.unwrap_or_else(|| rust.clone());
        tables.push(DieselTable {
            rust,
            sql: QualifiedName::new(schema, sql),
            path: path.to_string(),
            columns,
        });
    }
    Ok(())
}

fn parse_columns(stream: TokenStream, path: &str) -> Result<Vec<DieselColumn>, String> {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut columns = Vec::new();
    let mut at = 0;
    while at < tokens.len() {
        let sql_name = take_attributes(&tokens, &mut at);
        let Some(TokenTree::Ident(name)) = tokens.get(at) else {
            let line = tokens.get(at).map_or(1, |t| t.span().start().line);
            return Err(format!(
                "{path}:{line}: unexpected tokens in a `table!` column list; Diesel evidence is \
                 not used"
            ));
        };
        let rust = ident_name(name);
        columns.push(DieselColumn {
            sql: sql_name.unwrap_or_else(|| rust.clone()),
            rust,
            line: name.span().start().line,
        });
        // Skip `-> Type<...>` up to the next top-level comma.
        while at < tokens.len() && !matches!(&tokens[at], TokenTree::Punct(p) if p.as_char() == ',')
        {
            at += 1;
        }
        at += 1;
    }
    Ok(columns)
}
