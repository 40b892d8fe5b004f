//! Prisma schemas (`schema.prisma`, `prisma/schema/*.prisma`), read with a small parser of
//! the schema language: models and their scalar fields with `@map`, `@@map`, `@ignore`,
//! `@@ignore`, `@@schema`, and enums with `@map`. Prisma's client selects every scalar
//! field of a model, so every mapped column is read.

use super::{Access, SourceKind, Usage, UsageInput};
use crate::ir::QualifiedName;
use std::collections::{BTreeMap, BTreeSet};

/// A model or enum with its database name and its fields (or values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    pub name: String,
    pub db_name: QualifiedName,
    pub line: usize,
    pub ignored: bool,
    /// Scalar fields (database column names) or enum values, with their lines.
    pub members: Vec<(String, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Model,
    Enum,
}

pub fn read(
    input: &UsageInput<'_>,
    texts: &[(&str, &str)],
    usage: &mut Usage,
    claimed: &mut BTreeSet<String>,
) {
    let files: Vec<(&str, &str)> = match &input.config.prisma {
        Some(paths) => texts
            .iter()
            .filter(|(p, _)| paths.iter().any(|c| c.trim_start_matches("./") == *p))
            .copied()
            .collect(),
        None => texts
            .iter()
            .filter(|(p, _)| p.ends_with(".prisma") && input.selection.is_code(p))
            .copied()
            .collect(),
    };
    if files.is_empty() {
        return;
    }
    let default_schema = input.dialect.default_schema();
    // Models of a multi-file schema may reference each other: collect every block first.
    let mut declared = BTreeMap::new();
    for (_, text) in &files {
        declared.extend(declared_names(text));
    }
    let mut blocks = Vec::new();
    for (path, text) in &files {
        claimed.insert(path.to_string());
        match parse_with(text, default_schema, &declared) {
            Ok(parsed) => {
                usage.sources.push((SourceKind::Prisma, path.to_string()));
                blocks.extend(parsed.into_iter().map(|b| (*path, b)));
            }
            Err((line, message)) => {
                usage.warnings.push(format!(
                    "{path}:{line}: {message}; Prisma evidence is not used"
                ));
                usage.broken_file(None);
            }
        }
    }
    for (path, block) in &blocks {
        if block.ignored {
            continue;
        }
        let table_evidence = usage.evidence(path, block.line, SourceKind::Prisma, Access::Read);
        usage.add_table(&block.db_name, table_evidence);
        if block.kind == BlockKind::Model {
            for (column, line) in &block.members {
                let e = usage.evidence(path, *line, SourceKind::Prisma, Access::Read);
                usage.add_column(&block.db_name, column, e);
            }
        }
    }
}

#[cfg(test)]
fn parse(text: &str, default_schema: &str) -> Result<Vec<Block>, (usize, String)> {
    parse_with(text, default_schema, &declared_names(text))
}

/// Names of models, views, enums and composite types, to tell relation fields from
/// scalars (a multi-file schema's models reference each other across files).
fn declared_names(text: &str) -> BTreeMap<String, &'static str> {
    text.lines()
        .filter_map(|l| {
            let mut words = strip_comment(l).split_whitespace();
            let kind = match words.next()? {
                "model" => "model",
                "view" => "view",
                "enum" => "enum",
                "type" => "type",
                _ => return None,
            };
            Some((words.next()?.to_string(), kind))
        })
        .collect()
}

/// The blocks of one schema file, or the line and message of the first error.
fn parse_with(
    text: &str,
    default_schema: &str,
    declared: &BTreeMap<String, &'static str>,
) -> Result<Vec<Block>, (usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let line = strip_comment(lines[at]).trim();
        at += 1;
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let keyword = words.next().unwrap_or_default();
        let kind = match keyword {
            "model" | "view" => Some(BlockKind::Model),
            "enum" => Some(BlockKind::Enum),
            "datasource" | "generator" | "type" => None,
            _ => return Err((at, format!("unexpected `{line}` outside a block"))),
        };
        let name = words.next().unwrap_or_default().to_string();
        if !line.ends_with('{') || name.is_empty() || name == "{" {
            return Err((at, format!("expected `{keyword} Name {{`")));
        }
        let start = at;
        let mut body = Vec::new();
        loop {
            let Some(raw) = lines.get(at) else {
                return Err((start, format!("`{keyword} {name}` is not closed by `}}`")));
            };
            at += 1;
            let member = strip_comment(raw).trim();
            if member == "}" {
                break;
            }
            if !member.is_empty() {
                body.push((member, at));
            }
        }
        let Some(kind) = kind else { continue };
        blocks.push(block(kind, &name, start, &body, declared, default_schema)?);
    }
    Ok(blocks)
}

fn block(
    kind: BlockKind,
    name: &str,
    line: usize,
    body: &[(&str, usize)],
    declared: &BTreeMap<String, &'static str>,
    default_schema: &str,
) -> Result<Block, (usize, String)> {
    let mut db_name = name.to_string();
    let mut schema = default_schema.to_string();
    let mut ignored = false;
    let mut members = Vec::new();
    for &(member, at) in body {
        if let Some(attr) = member.strip_prefix("@@") {
            if let Some(mapped) = attribute_string(attr, "map") {
                db_name = mapped;
            } else if let Some(s) = attribute_string(attr, "schema") {
                schema = s;
            } else if attr.starts_with("ignore") {
                ignored = true;
            }
            continue;
        }
        let mut parts = member.split_whitespace();
        let field = parts.next().unwrap_or_default();
        if !field.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err((at, format!("unexpected `{member}` in `{name}`")));
        }
        let attrs = member[field.len()..].trim();
        if attrs.contains("@ignore") {
            continue;
        }
        let mapped = attrs
            .find("@map(")
            .and_then(|i| attribute_string(&attrs[i + 1..], "map"));
        match kind {
            BlockKind::Enum => members.push((mapped.unwrap_or_else(|| field.to_string()), at)),
            BlockKind::Model => {
                let Some(ty) = parts.next() else {
                    return Err((at, format!("field `{field}` of `{name}` has no type")));
                };
                let base = ty.trim_end_matches(['?', '!']).trim_end_matches("[]");
                // A relation field (another model) or a composite type is not a column;
                // `Unsupported(...)` columns are never selected by the client.
                let model_type = matches!(
                    declared.get(base),
                    Some(&"model") | Some(&"view") | Some(&"type")
                );
                if model_type || base.starts_with("Unsupported(") {
                    continue;
                }
                members.push((mapped.unwrap_or_else(|| field.to_string()), at));
            }
        }
    }
    Ok(Block {
        kind,
        name: name.to_string(),
        db_name: QualifiedName::new(schema, db_name),
        line,
        ignored,
        members,
    })
}

/// The string argument of `name("...")` (or `name(name: "...")`) at the start of `attr`.
fn attribute_string(attr: &str, name: &str) -> Option<String> {
    let rest = attr.strip_prefix(name)?.trim_start().strip_prefix('(')?;
    let rest = rest.trim_start();
    let rest = rest
        .strip_prefix("name:")
        .or_else(|| rest.strip_prefix("map:"))
        .unwrap_or(rest)
        .trim_start();
    let rest = rest.strip_prefix('"')?;
    rest.find('"').map(|end| rest[..end].to_string())
}

/// The line without a `//` comment (outside strings).
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    let bytes = line.as_bytes();
    for i in 0..bytes.len() {
        match bytes[i] {
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

/// A user.
model User {
  id          Int      @id @default(autoincrement())
  email       String   @unique @map("email_address")
  legacyNotes String?  @ignore
  posts       Post[]
  geom        Unsupported("geometry")?

  @@map("users")
  @@schema("auth")
}

model Post {
  id       Int  @id
  author   User @relation(fields: [authorId], references: [id])
  authorId Int  @map("author_id") // the owner
}

model Legacy {
  id Int @id
  @@ignore
}

enum Role {
  ADMIN @map("admin")
  USER
  @@map("role")
}
"#;

    #[test]
    fn models_map_to_tables_and_scalar_fields_to_columns() {
        let blocks = parse(SCHEMA, "public").unwrap();
        let user = &blocks[0];
        assert_eq!(user.db_name, QualifiedName::new("auth", "users"));
        let columns: Vec<_> = user.members.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(columns, ["id", "email_address"]);
        assert_eq!(user.members[1].1, 9, "email is on line 9");
        let post = &blocks[1];
        let columns: Vec<_> = post.members.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(columns, ["id", "author_id"]);
        assert!(blocks[2].ignored);
        let role = &blocks[3];
        assert_eq!(role.kind, BlockKind::Enum);
        assert_eq!(role.db_name.name, "role");
        let values: Vec<_> = role.members.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(values, ["admin", "USER"]);
    }

    #[test]
    fn an_unclosed_block_names_its_line() {
        let err = parse("model User {\n  id Int @id\n", "public").unwrap_err();
        assert_eq!(err.0, 1);
        assert!(err.1.contains("not closed"));
    }
}
