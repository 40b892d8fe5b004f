//! `rollsafe usage`: what a revision's code uses and where, for one object or for every
//! table and column it names, as text or JSON.

use super::{Evidence, Judgement, SourceKind, Usage};
use crate::ir::QualifiedName;
use crate::schema::Catalog;
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Serialize)]
pub struct Answer {
    pub schema_version: u32,
    pub rev: String,
    pub commit: Option<String>,
    pub sources: Vec<SourceEntry>,
    pub warnings: Vec<String>,
    pub objects: Vec<ObjectEntry>,
}

#[derive(Debug, Serialize)]
pub struct SourceEntry {
    pub source: SourceKind,
    pub path: String,
}

#[derive(Debug, Serialize)]
pub struct ObjectEntry {
    /// `users` or `users.email`.
    pub object: String,
    pub table: String,
    pub column: Option<String>,
    /// `used`, `unreferenced` or `unknown`.
    pub judgement: &'static str,
    pub summary: Option<String>,
    pub evidence: Vec<Evidence>,
}

/// A table (`users`, `billing.invoices`) or column (`users.email`,
/// `billing.invoices.total`) as a user names it; a two-part name is a table when the schema
/// has such a relation.
pub fn parse_object(object: &str, catalog: &Catalog) -> (QualifiedName, Option<String>) {
    let default = catalog.dialect.default_schema();
    let parts: Vec<&str> = object.split('.').collect();
    match parts.as_slice() {
        [table] => (QualifiedName::new(default, *table), None),
        [a, b] if catalog.has_relation(&QualifiedName::new(*a, *b)) => {
            (QualifiedName::new(*a, *b), None)
        }
        [table, column] => (
            QualifiedName::new(default, *table),
            Some(column.to_string()),
        ),
        [schema, table, column, ..] => (
            QualifiedName::new(*schema, *table),
            Some(column.to_string()),
        ),
        [] => (QualifiedName::new(default, ""), None),
    }
}

/// The answer about one object, or (with `None`) every object the code names.
pub fn answer(
    usage: &Usage,
    commit: Option<String>,
    object: Option<(&QualifiedName, Option<&str>)>,
) -> Answer {
    let objects = match object {
        Some((table, column)) => vec![entry(usage, table, column)],
        None => usage
            .tables
            .iter()
            .flat_map(|(table, found)| {
                let mut entries = vec![entry(usage, table, None)];
                entries.extend(found.columns.keys().map(|c| entry(usage, table, Some(c))));
                entries
            })
            .collect(),
    };
    Answer {
        schema_version: 1,
        rev: usage.rev.clone(),
        commit,
        sources: usage
            .sources
            .iter()
            .map(|(source, path)| SourceEntry {
                source: *source,
                path: path.clone(),
            })
            .collect(),
        warnings: usage.warnings.clone(),
        objects,
    }
}

fn entry(usage: &Usage, table: &QualifiedName, column: Option<&str>) -> ObjectEntry {
    let (judgement, summary, evidence) = match usage.judge(table, column) {
        Judgement::Used(evidence) => ("used", None, evidence),
        Judgement::Unreferenced(summary) => ("unreferenced", Some(summary), Vec::new()),
        Judgement::Unknown => ("unknown", None, Vec::new()),
    };
    ObjectEntry {
        object: super::object_name(table, column),
        table: table.to_string(),
        column: column.map(str::to_string),
        judgement,
        summary,
        evidence,
    }
}

/// The answer as text: each object with every place its name is used.
pub fn to_text(answer: &Answer) -> String {
    let mut out = String::new();
    let sources: Vec<&str> = answer.sources.iter().map(|s| s.path.as_str()).collect();
    let _ = writeln!(
        out,
        "usage at {}{}: {} source file(s){}",
        answer.rev,
        answer
            .commit
            .as_deref()
            .map(|c| format!(" ({})", &c[..c.len().min(12)]))
            .unwrap_or_default(),
        sources.len(),
        if sources.is_empty() {
            " (no Diesel, Prisma, sqlx, sqlc or query files found)".to_string()
        } else {
            String::new()
        }
    );
    for warning in &answer.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    for object in &answer.objects {
        match object.judgement {
            "used" => {
                let _ = writeln!(out, "{}:", object.object);
                for e in &object.evidence {
                    let _ = writeln!(
                        out,
                        "  {:<13} {}:{} ({})",
                        e.access.verb(),
                        e.path,
                        e.line,
                        e.source.name()
                    );
                }
            }
            "unreferenced" => {
                let _ = writeln!(out, "{}", object.summary.as_deref().unwrap_or_default());
            }
            _ => {
                let _ = writeln!(
                    out,
                    "{}: no evidence either way; rollsafe presumes N-1 uses it",
                    object.object
                );
            }
        }
    }
    out
}
