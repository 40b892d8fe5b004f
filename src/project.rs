//! The loaded project: every migration of one snapshot, discovered by its layout and parsed,
//! with the text of each file. Replaying a project's migrations gives its schema.
//!
//! Everything downstream (history, rollback, rules, resolve, report) reads these types; the
//! project itself knows nothing of them.

use crate::config::Config;
use crate::dialect::Dialect;
use crate::ir::Change;
use crate::layout::{self, LayoutChoice, LayoutKind, LayoutOptions, Migration, TransactionMode};
use crate::schema::Catalog;
use crate::source::Snapshot;
use crate::sql::{SqlFile, Understanding};
use anyhow::Result;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Where a migration stands relative to the base revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MigrationStatus {
    New,
    Edited,
    Unchanged,
    Deleted,
}

/// A migration with its parsed SQL and where it stands relative to the base revision.
#[derive(Debug, Clone)]
pub struct ParsedMigration {
    pub migration: Migration,
    pub up: SqlFile,
    pub down: Option<SqlFile>,
    pub status: MigrationStatus,
}

/// The migrations of one snapshot, parsed.
#[derive(Debug, Clone)]
pub struct Project {
    pub dialect: Dialect,
    pub layout: LayoutKind,
    pub migrations: Vec<ParsedMigration>,
    /// Files in the migrations directory the layout did not take as migrations, with why.
    pub ignored: Vec<layout::Ignored>,
    /// The text of every migration file, by snapshot path.
    pub sources: BTreeMap<String, String>,
}

/// Discovers, reads and parses every migration of `snapshot`. The dialect is the first of:
/// `dialect` (the command line), config, what the layout declares, Postgres.
///
/// `reuse` is another project read from the same repository (the head, when loading the
/// base): a SQL part whose file text is identical there is not parsed again.
pub fn load_project(
    snapshot: &Snapshot,
    dialect: Option<Dialect>,
    layout_choice: LayoutChoice,
    config: &Config,
    reuse: Option<&Project>,
) -> Result<Project> {
    let options = LayoutOptions {
        plain_transaction: match config.plain_transaction {
            Some(false) => TransactionMode::None,
            _ => TransactionMode::Wrapped,
        },
        dialect: dialect.or(config.dialect),
        dialect_files: config.dialect_files.clone(),
        custom: config.custom_layout.as_ref().map(|custom| custom.pattern()),
    };
    // The command line wins; else config names the layout (`rollsafe schema` too).
    let layout_choice = match (layout_choice, config.layout_choice()) {
        (LayoutChoice::Auto, Some(configured)) => configured,
        (choice, _) => choice,
    };
    let discovered = layout::discover(snapshot, layout_choice, &options)?;
    let dialect = dialect
        .or(config.dialect)
        .or(discovered.dialect)
        .unwrap_or_default();
    let mut sources = BTreeMap::new();
    for migration in &discovered.migrations {
        for part in migration.up.iter().chain(migration.down.iter()) {
            if !sources.contains_key(&part.path) {
                let text = snapshot.text(&part.path)?;
                sources.insert(part.path.clone(), text.to_string());
            }
        }
    }
    let parsed_before = reuse.map(Project::parsed_parts).unwrap_or_default();
    let parse = |part: &layout::SqlPart| -> Result<SqlFile> {
        let text = &sources[&part.path];
        let key = (part.path.as_str(), part.range.start, part.range.end);
        if let Some((earlier_text, file)) = parsed_before.get(&key) {
            if *earlier_text == text.as_str() {
                return Ok((*file).clone());
            }
        }
        let range = part.range.clone();
        if range.end > text.len() || !text.is_char_boundary(range.start) {
            anyhow::bail!("{}: section range out of bounds", part.path);
        }
        Ok(crate::cache::parse_sql(text, range, dialect))
    };
    // Every up and down part, parsed on all cores: parsing is most of the time a run takes.
    let parts: Vec<&layout::SqlPart> = discovered
        .migrations
        .iter()
        .flat_map(|m| m.up.iter().chain(m.down.iter()))
        .collect();
    let mut parsed = crate::parallel::map(&parts, 16, |part| parse(part)).into_iter();
    crate::cache::save();
    let mut next = || parsed.next().expect("one parse per part");
    let mut migrations = Vec::with_capacity(discovered.migrations.len());
    for migration in discovered.migrations {
        let up = match &migration.up {
            Some(_) => next()?,
            None => SqlFile::default(),
        };
        let down = match &migration.down {
            Some(_) => Some(next()?),
            None => None,
        };
        migrations.push(ParsedMigration {
            migration,
            up,
            down,
            status: MigrationStatus::Unchanged,
        });
    }
    Ok(Project {
        dialect,
        layout: discovered.layout,
        migrations,
        ignored: discovered.ignored,
        sources,
    })
}

impl Project {
    /// A project without migrations.
    pub fn empty(dialect: Dialect, layout: LayoutKind) -> Project {
        Project {
            dialect,
            layout,
            migrations: Vec::new(),
            ignored: Vec::new(),
            sources: BTreeMap::new(),
        }
    }

    /// True when any migration has a down script: the team writes them.
    pub fn has_downs(&self) -> bool {
        self.migrations.iter().any(|m| m.down.is_some())
    }

    /// Every parsed SQL part, keyed by (path, range start, range end), with its file's text.
    fn parsed_parts(&self) -> HashMap<(&str, usize, usize), (&str, &SqlFile)> {
        let mut parts = HashMap::new();
        for m in &self.migrations {
            let sections = [
                (m.migration.up.as_ref(), Some(&m.up)),
                (m.migration.down.as_ref(), m.down.as_ref()),
            ];
            for (part, file) in sections {
                if let (Some(part), Some(file)) = (part, file) {
                    let text = self.sources[&part.path].as_str();
                    parts.insert(
                        (part.path.as_str(), part.range.start, part.range.end),
                        (text, file),
                    );
                }
            }
        }
        parts
    }
}

/// Applies every up change of `migration` to `catalog`.
pub fn replay(catalog: &mut Catalog, migration: &ParsedMigration) {
    let id = &migration.migration.id;
    // The common migration of one understood statement: its changes as they are, not copied.
    if let [statement] = migration.up.statements.as_slice() {
        if !matches!(statement.understanding, Understanding::Unparsed { .. }) {
            return catalog.apply_migration(&statement.changes, id);
        }
    }
    let changes: Vec<Change> = migration
        .up
        .statements
        .iter()
        .flat_map(|s| match s.understanding {
            // What it did is unknown: the catalog counts it as a blind spot.
            Understanding::Unparsed { .. } => vec![Change::Opaque {
                what: "unparsed statement".to_string(),
            }],
            _ => s.changes.clone(),
        })
        .collect();
    catalog.apply_migration(&changes, id);
}

/// The schema all of a project's migrations build.
pub fn final_schema(project: &Project) -> Catalog {
    let mut catalog = Catalog::new(project.dialect);
    for migration in &project.migrations {
        replay(&mut catalog, migration);
    }
    catalog
}
