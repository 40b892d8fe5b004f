//! Queries N-1 sends (sqlx's offline data and macros, sqlc and plain query files, Diesel's
//! `sql_query`), each parsed with the SQL front end and resolved against N-1's schema:
//! `*` is every column the table has at that revision.

use super::{line_at, InsertSite, SourceKind, Usage, UsageInput};
use crate::ir::QualifiedName;
use crate::sql::access::{file_access, query_access, AccessKind, QueryAccess};
use std::collections::BTreeSet;

/// Resolves one query found at `path:line` (the line its text starts on).
pub fn resolve_sql(
    input: &UsageInput<'_>,
    usage: &mut Usage,
    path: &str,
    line: usize,
    sql: &str,
    source: SourceKind,
) {
    let sql = without_placeholders(sql);
    match query_access(&sql, input.dialect) {
        Ok(access) => resolve(input, usage, path, line, &access, source),
        Err(message) => {
            usage.warnings.push(format!(
                "{path}:{line}: query does not parse ({message}); the names in it count as used"
            ));
            usage.broken_file(Some(&sql));
        }
    }
}

/// sqlc's `sqlc.arg(name)`, `sqlc.narg(name)`, `sqlc.slice(name)` and `@name` parameters,
/// replaced by a placeholder of the same length so lines stay put.
fn without_placeholders(sql: &str) -> String {
    static PARAM: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let param = PARAM.get_or_init(|| {
        regex::Regex::new(r"sqlc\.(?:n?arg|slice)\([^)]*\)|@[A-Za-z_][A-Za-z0-9_]*")
            .expect("valid regex")
    });
    param
        .replace_all(sql, |caps: &regex::Captures<'_>| {
            let len = caps[0].len();
            format!("$1{}", " ".repeat(len.saturating_sub(2)))
        })
        .into_owned()
}

fn resolve(
    input: &UsageInput<'_>,
    usage: &mut Usage,
    path: &str,
    line: usize,
    access: &QueryAccess,
    source: SourceKind,
) {
    let catalog = input.catalog;
    let at = |l: usize| line + l - 1;
    let mut unknown = BTreeSet::new();
    for relation in &access.relations {
        if catalog.has_relation(&relation.name) {
            let e = usage.evidence(path, at(relation.line), source, relation.kind.into());
            usage.add_table(&relation.name, e);
        } else {
            unknown.insert(relation.name.to_string());
        }
    }
    for name in unknown {
        usage.warnings.push(format!(
            "{path}:{line}: the query names `{name}`, which N-1's schema at {} does not have",
            input.rev
        ));
    }
    let tables: Vec<&QualifiedName> = access
        .relations
        .iter()
        .filter(|r| catalog.has_relation(&r.name))
        .map(|r| &r.name)
        .collect();
    for column in &access.columns {
        let owners: Vec<&QualifiedName> = match &column.qualifier {
            Some(q) => access.resolve(q).into_iter().collect(),
            // An INSERT's column list and an UPDATE's SET name the written table.
            None if column.kind != AccessKind::Read => access
                .relations
                .iter()
                .filter(|r| r.kind == column.kind)
                .map(|r| &r.name)
                .collect(),
            None => tables.clone(),
        };
        for table in owners {
            if catalog.column(table, &column.name).is_some() {
                let e = usage.evidence(path, at(column.line), source, column.kind.into());
                usage.add_column(table, &column.name, e);
            }
        }
    }
    for all in &access.all_columns {
        let Some(table) = access.resolve(&all.qualifier) else {
            continue;
        };
        let Some(columns) = catalog.table(table).map(|t| t.columns.clone()) else {
            continue;
        };
        for column in columns {
            let e = usage.evidence(path, at(all.line), source, all.kind.into());
            usage.add_column(table, &column.name, e);
        }
    }
    for relation in access
        .relations
        .iter()
        .filter(|r| r.kind == AccessKind::Insert)
    {
        let every = access.all_columns.iter().any(|a| {
            a.kind == AccessKind::Insert && access.resolve(&a.qualifier) == Some(&relation.name)
        });
        let columns = (!every).then(|| {
            access
                .columns
                .iter()
                .filter(|c| c.kind == AccessKind::Insert)
                .map(|c| c.name.clone())
                .collect()
        });
        let evidence = usage.evidence(path, at(relation.line), source, super::Access::Insert);
        usage.inserts.push(InsertSite {
            table: relation.name.clone(),
            columns,
            evidence,
        });
    }
}

/// sqlx's offline data: `.sqlx/query-<hash>.json`, whose `query` field is the query text.
pub fn read_sqlx_data(
    input: &UsageInput<'_>,
    texts: &[(&str, &str)],
    usage: &mut Usage,
    claimed: &mut BTreeSet<String>,
) {
    if input.config.sqlx == Some(false) {
        return;
    }
    for &(path, text) in texts {
        let name = path.rsplit('/').next().unwrap_or(path);
        if !(path.contains(".sqlx/") && name.starts_with("query-") && name.ends_with(".json")) {
            continue;
        }
        claimed.insert(path.to_string());
        let query = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("query").and_then(|q| q.as_str()).map(str::to_string));
        let Some(query) = query else {
            usage.warnings.push(format!(
                "{path}:1: not sqlx query data (no `query` string); its names count as used"
            ));
            usage.broken_file(Some(text));
            continue;
        };
        usage.sources.push((SourceKind::Sqlx, path.to_string()));
        let line = text.find("\"query\"").map_or(1, |at| line_at(text, at));
        // The JSON string holds the query on one line: every name is cited at that line.
        let flat = query.replace('\n', " ");
        resolve_sql(input, usage, path, line, &flat, SourceKind::Sqlx);
    }
}

/// Plain query files named by `[usage] queries` globs.
pub fn read_query_files(
    input: &UsageInput<'_>,
    texts: &[(&str, &str)],
    usage: &mut Usage,
    claimed: &mut BTreeSet<String>,
) {
    let globs = &input.selection.queries;
    if globs.is_empty() {
        return;
    }
    for glob in globs {
        if !texts.iter().any(|(p, _)| glob.matches(p)) {
            usage.warnings.push(format!(
                "[usage] queries: `{}` matches no file at {}",
                glob.pattern, input.rev
            ));
        }
    }
    for &(path, text) in texts {
        if globs.iter().any(|g| g.matches(path)) {
            read_query_file(input, usage, path, text, SourceKind::Queries);
            claimed.insert(path.to_string());
        }
    }
}

/// Every statement of a query file.
pub fn read_query_file(
    input: &UsageInput<'_>,
    usage: &mut Usage,
    path: &str,
    text: &str,
    source: SourceKind,
) {
    usage.sources.push((source, path.to_string()));
    let cleaned = without_placeholders(text);
    for (span, access) in file_access(&cleaned, input.dialect) {
        let line = line_at(&cleaned, span.start);
        match access {
            Ok(access) => resolve(input, usage, path, line, &access, source),
            Err(message) => {
                usage.warnings.push(format!(
                    "{path}:{line}: query does not parse ({message}); the names in it count as used"
                ));
                usage.broken_file(Some(&cleaned[span]));
            }
        }
    }
}
