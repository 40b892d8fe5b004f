//! What N-1's code uses: for each table and column, whether the code at a revision reads,
//! inserts or updates it, with evidence (revision, path, line, source kind).
//!
//! Sources, each detected at the revision (overridable in `[usage]`): Diesel (`schema.rs`
//! and the Rust code that maps or names its columns), Prisma schemas, sqlx (offline query
//! data and `query!` macros), sqlc and plain query files (each query resolved against N-1's
//! schema), and a whole-word mention scan of tracked source files.
//!
//! Architecture invariant: this module sits beside `schema`, below `rules`; it reads git
//! objects and files, never writes, and knows nothing of rules or reports. A source that
//! does not parse is a warning and covers nothing it might have named, so broken input
//! never makes a finding quieter.

pub mod answer;
mod diesel;
pub mod files;
mod mention;
mod prisma;
mod queries;
mod rust;
mod sqlc;

use crate::config::UsageConfig;
use crate::dialect::Dialect;
use crate::ir::{Change, QualifiedName};
use crate::schema::Catalog;
use crate::sql::access::AccessKind;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub use files::Selection;

/// Which kind of source gave a piece of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Diesel,
    Prisma,
    Sqlx,
    Sqlc,
    Queries,
    Mention,
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Diesel => "diesel",
            SourceKind::Prisma => "prisma",
            SourceKind::Sqlx => "sqlx",
            SourceKind::Sqlc => "sqlc",
            SourceKind::Queries => "queries",
            SourceKind::Mention => "mention",
        }
    }
}

/// What the code does with the object at that place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Insert,
    Update,
    Delete,
    /// The name occurs in the code: N-1 may reference it (weak evidence).
    Mention,
}

impl Access {
    pub fn verb(self) -> &'static str {
        match self {
            Access::Read => "reads",
            Access::Insert => "inserts",
            Access::Update => "updates",
            Access::Delete => "deletes from",
            Access::Mention => "may reference",
        }
    }
}

impl From<AccessKind> for Access {
    fn from(kind: AccessKind) -> Access {
        match kind {
            AccessKind::Read => Access::Read,
            AccessKind::Insert => Access::Insert,
            AccessKind::Update => Access::Update,
            AccessKind::Delete => Access::Delete,
        }
    }
}

/// One place where the code names an object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Evidence {
    pub rev: String,
    /// Relative to the repository root, with `/`.
    pub path: String,
    /// 1-based.
    pub line: usize,
    pub source: SourceKind,
    pub access: Access,
}

/// The evidence about one table.
#[derive(Debug, Clone, Default)]
pub struct TableUsage {
    /// Where the code names the table itself (a query's FROM, a model's table name).
    pub evidence: Vec<Evidence>,
    /// Where it names each column (by the column's name in the database).
    pub columns: BTreeMap<String, Vec<Evidence>>,
}

/// An INSERT N-1 sends: into which table, naming which columns (`None`: every column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertSite {
    pub table: QualifiedName,
    pub columns: Option<BTreeSet<String>>,
    pub evidence: Evidence,
}

/// A source file that was found but could not be read; it covers nothing it may name.
#[derive(Debug, Clone)]
struct Broken {
    /// Lower-cased words of the broken text: a table or column among them loses coverage.
    /// `None`: the file could name anything (a schema declaration).
    words: Option<BTreeSet<String>>,
}

/// What N-1's code uses at one revision.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    /// The revision as the user named it (`origin/main`, `v1.4`).
    pub rev: String,
    pub tables: BTreeMap<QualifiedName, TableUsage>,
    pub inserts: Vec<InsertSite>,
    /// The structured sources read (kind, path), in order.
    pub sources: Vec<(SourceKind, String)>,
    /// Problems met while reading, each naming a file (and a line where there is one).
    pub warnings: Vec<String>,
    /// Mentions found by the scan, by lower-cased name.
    mentions: BTreeMap<String, Vec<Evidence>>,
    /// The names the scan looked for, lower-cased; `None` when no scan ran.
    scanned_names: Option<BTreeSet<String>>,
    /// How many files the mention scan read.
    pub scanned_files: usize,
    broken: Vec<Broken>,
    /// Rust files `syn` parsed: a mention there outside a string literal is code the
    /// parser already understood (a `use` of the table module, a `table_name`).
    parsed: BTreeSet<String>,
    /// Mentions on a line holding a string literal, which may hide SQL.
    quoted: BTreeSet<(String, usize)>,
}

/// What the evidence says about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// N-1's code names it: cite the evidence (strong evidence first).
    Used(Vec<Evidence>),
    /// Every detected source covers it, none names it, and the scan found no mention.
    Unreferenced(String),
    /// Not enough evidence either way: the presumption (N-1 uses it) stands.
    Unknown,
}

/// What the usage stage reads.
pub struct UsageInput<'a> {
    pub rev: &'a str,
    pub files: &'a crate::git::TreeFiles,
    /// N-1's schema, to resolve queries (`*` is every column at that revision).
    pub catalog: &'a Catalog,
    pub dialect: Dialect,
    pub config: &'a UsageConfig,
    pub selection: &'a Selection,
    /// Names the mention scan looks for (tables and columns the deploy touches); `None`:
    /// no scan.
    pub targets: Option<&'a BTreeSet<String>>,
}

/// Reads the usage model of `commit` (named `rev` in citations) from the repository's
/// objects: no checkout, nothing written. `None` when `[usage] enabled = false`.
#[allow(clippy::too_many_arguments)]
pub fn read_at(
    repo: &crate::git::GitRepo,
    commit: git2::Oid,
    rev: &str,
    catalog: &Catalog,
    config: &UsageConfig,
    migrations_dir: &str,
    targets: Option<&BTreeSet<String>>,
) -> anyhow::Result<Option<Usage>> {
    if config.enabled == Some(false) {
        return Ok(None);
    }
    let selection = Selection::new(config, migrations_dir)?;
    let files = files::read_commit(repo, commit, &selection)?;
    Ok(Some(build(&UsageInput {
        rev,
        files: &files,
        catalog,
        dialect: catalog.dialect,
        config,
        selection: &selection,
        targets,
    })))
}

/// Builds the usage model of one revision.
pub fn build(input: &UsageInput<'_>) -> Usage {
    let mut usage = Usage {
        rev: input.rev.to_string(),
        ..Usage::default()
    };
    for (path, size) in &input.files.too_large {
        usage.warnings.push(format!(
            "{path}: not read by the usage stage ({size} bytes, over {} bytes); no object \
             can be shown unreferenced",
            files::MAX_FILE_BYTES
        ));
        usage.broken_file(None);
    }
    let texts = texts(input, &mut usage);
    let mut claimed = BTreeSet::new();
    let schemas = diesel::read(input, &texts, &mut usage, &mut claimed);
    prisma::read(input, &texts, &mut usage, &mut claimed);
    sqlc::read(input, &texts, &mut usage, &mut claimed);
    queries::read_sqlx_data(input, &texts, &mut usage, &mut claimed);
    queries::read_query_files(input, &texts, &mut usage, &mut claimed);
    rust::read(input, &texts, &schemas, &mut usage, &claimed);
    if let Some(targets) = input.targets {
        mention::scan(input, &texts, targets, &mut usage, &claimed);
    }
    usage.finish();
    usage
}

/// The UTF-8 text of every read file; a file that is not text is reported once when a
/// source or the scan would have read it.
fn texts<'f>(input: &UsageInput<'f>, usage: &mut Usage) -> Vec<(&'f str, &'f str)> {
    let mut out = Vec::new();
    for (path, bytes) in &input.files.files {
        match std::str::from_utf8(bytes) {
            Ok(text) => out.push((path.as_str(), text)),
            Err(_) => {
                usage.warnings.push(format!(
                    "{path}: not UTF-8 text, not read by the usage stage; the names in it \
                     count as used"
                ));
                usage.broken_file(Some(&String::from_utf8_lossy(bytes)));
            }
        }
    }
    out
}

impl Usage {
    fn evidence(&self, path: &str, line: usize, source: SourceKind, access: Access) -> Evidence {
        Evidence {
            rev: self.rev.clone(),
            path: path.to_string(),
            line,
            source,
            access,
        }
    }

    fn add_table(&mut self, table: &QualifiedName, evidence: Evidence) {
        self.tables
            .entry(table.clone())
            .or_default()
            .evidence
            .push(evidence);
    }

    fn add_column(&mut self, table: &QualifiedName, column: &str, evidence: Evidence) {
        self.tables
            .entry(table.clone())
            .or_default()
            .columns
            .entry(column.to_string())
            .or_default()
            .push(evidence);
    }

    /// A source that could not be read: with its text's words, it covers none of them;
    /// without, it covers nothing at all.
    fn broken_file(&mut self, text: Option<&str>) {
        let words = text.map(|text| {
            word_regex()
                .find_iter(text)
                .map(|m| m.as_str().to_lowercase())
                .collect()
        });
        self.broken.push(Broken { words });
    }

    fn finish(&mut self) {
        for table in self.tables.values_mut() {
            table.evidence.sort();
            table.evidence.dedup();
            for evidence in table.columns.values_mut() {
                evidence.sort_by_key(|e| (e.access == Access::Mention, e.clone()));
                evidence.dedup();
            }
        }
        self.sources.sort();
        self.sources.dedup();
        self.warnings.sort();
        self.warnings.dedup();
    }

    /// True when every structured source read could name `names` and none of them broke
    /// on text that does.
    fn covers(&self, names: &[&str]) -> bool {
        !self.sources.is_empty()
            && !self.broken.iter().any(|b| match &b.words {
                None => true,
                Some(words) => names.iter().any(|n| words.contains(&n.to_lowercase())),
            })
    }

    /// Mentions of `name` found by the scan, or `None` when the scan did not look for it.
    fn mentions_of(&self, name: &str) -> Option<&[Evidence]> {
        let key = name.to_lowercase();
        let scanned = self.scanned_names.as_ref()?;
        if !scanned.contains(&key) {
            return None;
        }
        Some(self.mentions.get(&key).map(Vec::as_slice).unwrap_or(&[]))
    }

    /// The evidence about a table (and, with `column`, a column of it).
    pub fn judge(&self, table: &QualifiedName, column: Option<&str>) -> Judgement {
        let recorded = self.tables.get(table);
        let mut cited: Vec<Evidence> = match (recorded, column) {
            (Some(usage), Some(column)) => usage.columns.get(column).cloned().unwrap_or_default(),
            (Some(usage), None) => {
                let mut all = usage.evidence.clone();
                all.extend(usage.columns.values().flatten().cloned());
                all
            }
            (None, _) => Vec::new(),
        };
        let name = column.unwrap_or(&table.name);
        let mentions = self.mentions_of(name);
        for mention in mentions.unwrap_or_default() {
            if !cited
                .iter()
                .any(|e| e.path == mention.path && e.line == mention.line)
            {
                cited.push(mention.clone());
            }
        }
        cited.sort_by_key(|e| (e.access == Access::Mention, e.path.clone(), e.line));
        cited.dedup();
        if !cited.is_empty() {
            return Judgement::Used(cited);
        }
        let mut names = vec![table.name.as_str()];
        names.extend(column);
        // A column is not named by `SELECT *` in a string no source parsed: such a mention
        // of its table leaves the question open.
        let star_may_read = column.is_some() && self.in_unparsed_string(table);
        if mentions.is_some() && self.covers(&names) && !star_may_read {
            Judgement::Unreferenced(self.checked_summary(table, column))
        } else {
            Judgement::Unknown
        }
    }

    /// True when the scan found the table's name inside a string literal that no source
    /// parsed (raw SQL in code rollsafe does not read as queries).
    fn in_unparsed_string(&self, table: &QualifiedName) -> bool {
        let parsed_here = |m: &Evidence| {
            self.tables.get(table).is_some_and(|t| {
                t.evidence
                    .iter()
                    .any(|e| e.path == m.path && e.line == m.line)
            })
        };
        self.mentions_of(&table.name)
            .unwrap_or_default()
            .iter()
            .any(|m| self.quoted.contains(&(m.path.clone(), m.line)) && !parsed_here(m))
    }

    /// "N-1 does not reference users.legacy_email: checked src/schema.rs and 412 tracked
    /// files at v1.4".
    fn checked_summary(&self, table: &QualifiedName, column: Option<&str>) -> String {
        format!(
            "N-1 does not reference {}: {}",
            object_name(table, column),
            self.checked()
        )
    }

    /// "checked src/schema.rs, src/models.rs and a scan of 412 files at v1.4".
    pub fn checked(&self) -> String {
        let mut paths: Vec<&str> = self.sources.iter().map(|(_, p)| p.as_str()).collect();
        paths.sort();
        paths.dedup();
        let sources = match paths.len() {
            0..=3 => paths.join(", "),
            n => format!("{}, {} and {} more source files", paths[0], paths[1], n - 2),
        };
        format!(
            "checked {sources} and a scan of {} files at {}",
            self.scanned_files, self.rev
        )
    }

    /// The INSERTs N-1 sends into `table`, and whether the list is complete (every source
    /// covers the table and the scan found no other mention of it).
    pub fn inserts_into(&self, table: &QualifiedName) -> (Vec<&InsertSite>, bool) {
        let sites: Vec<&InsertSite> = self.inserts.iter().filter(|s| &s.table == table).collect();
        let understood = |m: &Evidence| {
            (self.parsed.contains(&m.path) && !self.quoted.contains(&(m.path.clone(), m.line)))
                || self.tables.get(table).is_some_and(|t| {
                    t.evidence
                        .iter()
                        .any(|e| e.path == m.path && e.line == m.line)
                })
        };
        let mentioned_elsewhere = match self.mentions_of(&table.name) {
            None => true,
            Some(mentions) => mentions.iter().any(|m| !understood(m)),
        };
        let complete = self.covers(&[table.name.as_str()]) && !mentioned_elsewhere;
        (sites, complete)
    }
}

/// `users.email` (the default schema left out), for messages.
pub fn object_name(table: &QualifiedName, column: Option<&str>) -> String {
    match column {
        Some(column) => format!("{}.{column}", table.name),
        None => table.name.clone(),
    }
}

/// "N-1 reads users.name: src/schema.rs:42 at origin/main; 3 more".
pub fn cite(table: &QualifiedName, column: Option<&str>, evidence: &[Evidence]) -> String {
    let Some(first) = evidence.first() else {
        return String::new();
    };
    let more = match evidence.len() - 1 {
        0 => String::new(),
        n => format!("; {n} more"),
    };
    format!(
        "N-1 {} {}: {}:{} at {}{more}",
        first.access.verb(),
        object_name(table, column),
        first.path,
        first.line,
        first.rev
    )
}

/// The names the mention scan looks for: every table, view, column and enum type a deploy
/// drops, renames or retypes.
pub fn touched_names<'c>(changes: impl Iterator<Item = &'c Change>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for change in changes {
        match change {
            Change::DropTable { tables: names_, .. } | Change::DropView { names: names_, .. } => {
                names.extend(names_.iter().map(|n| n.name.clone()));
            }
            Change::RenameTable { from, .. } | Change::RenameView { from, .. } => {
                names.insert(from.name.clone());
            }
            Change::AddEnumValue { name, .. }
            | Change::RenameEnumValue { name, .. }
            | Change::RenameType { from: name, .. } => {
                names.insert(name.name.clone());
            }
            Change::DropType { names: types, .. } => {
                names.extend(types.iter().map(|n| n.name.clone()));
            }
            Change::DropColumn { table, column, .. }
            | Change::AlterColumnType { table, column, .. }
            | Change::SetNotNull { table, column } => {
                names.insert(table.name.clone());
                names.insert(column.clone());
            }
            Change::RenameColumn { table, from, .. } => {
                names.insert(table.name.clone());
                names.insert(from.clone());
            }
            Change::AddColumn { table, .. } | Change::AddConstraint { table, .. } => {
                names.insert(table.name.clone());
            }
            _ => {}
        }
    }
    names
}

fn word_regex() -> &'static regex::Regex {
    static WORD: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    WORD.get_or_init(|| regex::Regex::new(r"[A-Za-z_][A-Za-z0-9_]*").expect("valid regex"))
}

/// 1-based line of byte `offset` in `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests;
