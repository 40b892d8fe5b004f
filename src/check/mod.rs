//! One run of `rollsafe check`: wires source, layout, sql, replay, rules and report together.
//!
//! `load_project` turns a snapshot into parsed migrations; `audit_history` is the `--all`
//! mode (every migration is its own deploy, checked against the schema its predecessors
//! built); `resolve` applies severities from config and suppressions, so renderers decide
//! nothing.

use crate::config::{Config, Retire, Settings};
use crate::dialect::Dialect;
use crate::history::HistoryDiff;
use crate::ir::Change;
use crate::layout::{self, LayoutChoice, LayoutKind, LayoutOptions, TransactionMode};
use crate::rollback::DownAnalysis;
use crate::rules::{self, Context, DeployMigration, Finding, MigrationStatus, Severity};
use crate::schema::Catalog;
use crate::source::Snapshot;
use crate::sql::{self, Allow, SqlFile, Statement};
use anyhow::Result;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The migrations of one snapshot, parsed.
#[derive(Debug, Clone)]
pub struct Project {
    pub dialect: Dialect,
    pub layout: LayoutKind,
    pub migrations: Vec<DeployMigration>,
    /// SQL-looking files the layout did not take as migrations.
    pub ignored: Vec<String>,
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
    };
    let discovered = layout::discover(snapshot, layout_choice, &options)?;
    let dialect = dialect
        .or(config.dialect())
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
        Ok(sql::parse_sql(text, range, dialect))
    };
    // Every up and down part, parsed on all cores: parsing is most of the time a run takes.
    let parts: Vec<&layout::SqlPart> = discovered
        .migrations
        .iter()
        .flat_map(|m| m.up.iter().chain(m.down.iter()))
        .collect();
    let mut parsed = crate::parallel::map(&parts, 16, |part| parse(part)).into_iter();
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
        migrations.push(DeployMigration {
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
pub fn replay(catalog: &mut Catalog, migration: &DeployMigration) {
    let changes: Vec<Change> = migration
        .up
        .statements
        .iter()
        .flat_map(|s| s.changes.iter().cloned())
        .collect();
    catalog.apply_migration(&changes, &migration.migration.id);
}

/// The `--all` history audit: each migration is its own deploy, checked against the schema
/// built by the ones before it. `retired` counts as shipped (there is no base to check it
/// against). Returns the raw findings (before severities and suppressions).
pub fn audit_history(project: &Project, settings: &Settings, retired: &[Retire]) -> Vec<Finding> {
    audit_history_with_downs(project, settings, retired).0
}

/// `audit_history`, with each migration's down analysis (`DownAnalysis::index` is the
/// migration's index in the project).
pub fn audit_history_with_downs(
    project: &Project,
    settings: &Settings,
    retired: &[Retire],
) -> (Vec<Finding>, Vec<DownAnalysis>) {
    let mut downs = Vec::with_capacity(project.migrations.len());
    let mut catalog = Catalog::new(project.dialect);
    let mut findings = Vec::new();
    // No base to compare with: the history is the project itself (for `duplicate-version`).
    let history = HistoryDiff::single_snapshot(&project.migrations);
    let base = Context {
        dialect: project.dialect,
        settings,
        deploy: &[],
        before: &catalog.clone(),
        after: &catalog.clone(),
        retired,
        retire_declared: retired,
        history: Some(&history),
        usage: None,
        cache: Default::default(),
    };
    for index in 0..project.migrations.len() {
        let deploy = &project.migrations[index..=index];
        let before = catalog.clone();
        replay(&mut catalog, &deploy[0]);
        let ctx = base.with_deploy(deploy, &before, &catalog);
        findings.extend(rules::run_where(&ctx, |meta| meta.id != WHOLE_HISTORY_RULE));
        downs.extend(ctx.downs().iter().map(|analysis| DownAnalysis {
            index,
            ..analysis.clone()
        }));
    }
    // A retire entry is judged once, against every object the history ever had.
    let whole = base.with_deploy(&project.migrations, base.before, &catalog);
    findings.extend(rules::run_where(&whole, |meta| {
        meta.id == WHOLE_HISTORY_RULE
    }));
    (findings, downs)
}

/// The rule `--all` runs once over the whole history rather than per migration.
const WHOLE_HISTORY_RULE: &str = "retire-unknown-object";

/// The schema all of a project's migrations build.
pub fn final_schema(project: &Project) -> Catalog {
    let mut catalog = Catalog::new(project.dialect);
    for migration in &project.migrations {
        replay(&mut catalog, migration);
    }
    catalog
}

/// A finding after config and suppressions: what every renderer shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub finding: Finding,
    pub severity: Severity,
}

/// A finding that a `rollsafe:allow` comment suppressed, with the comment's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    pub finding: Finding,
    pub severity: Severity,
    pub reason: String,
    /// The allow comment's file and byte offset.
    pub allow_path: String,
    pub allow_offset: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub findings: Vec<Resolved>,
    pub suppressed: Vec<Suppressed>,
}

/// Gives findings their severity and applies suppressions (`resolve`), then reports the
/// allow comments of `scope` (the migrations the run reports on) that suppressed nothing.
pub fn resolve_with_unused(
    raw: Vec<Finding>,
    project: &Project,
    config: &Config,
    scope: &[DeployMigration],
) -> Outcome {
    let mut outcome = resolve(raw, project, config);
    let used: HashSet<(String, usize)> = outcome
        .suppressed
        .iter()
        .map(|s| (s.allow_path.clone(), s.allow_offset))
        .collect();
    let unused = rules::meta::unused_allow::unused(scope, &used);
    let extra = resolve(unused, project, config);
    outcome.findings.extend(extra.findings);
    outcome.findings.sort_by(|a, b| {
        (&a.finding.path, a.finding.span.start, a.finding.rule).cmp(&(
            &b.finding.path,
            b.finding.span.start,
            b.finding.rule,
        ))
    });
    outcome
}

/// Gives each finding its severity (the rule's, or config's; `off` drops it) and moves the
/// ones an allow comment covers to `suppressed`. Sorted by path, then position.
pub fn resolve(raw: Vec<Finding>, project: &Project, config: &Config) -> Outcome {
    let mut outcome = Outcome::default();
    for finding in raw {
        let Some(meta) = rules::meta(finding.rule) else {
            continue;
        };
        let default = finding.severity.unwrap_or(meta.severity);
        let Some(severity) = config.severity_of(finding.rule, default) else {
            continue;
        };
        match find_allow(project, &finding) {
            Some((path, allow)) => outcome.suppressed.push(Suppressed {
                reason: allow.reason.clone().unwrap_or_default(),
                allow_path: path.to_string(),
                allow_offset: allow.span.start,
                finding,
                severity,
            }),
            None => outcome.findings.push(Resolved { finding, severity }),
        }
    }
    outcome.findings.sort_by(|a, b| {
        (&a.finding.path, a.finding.span.start, a.finding.rule).cmp(&(
            &b.finding.path,
            b.finding.span.start,
            b.finding.rule,
        ))
    });
    outcome.suppressed.sort_by(|a, b| {
        (&a.finding.path, a.finding.span.start).cmp(&(&b.finding.path, b.finding.span.start))
    });
    outcome
}

/// The allow comment covering `finding`: one before the statement the finding points at, or
/// a file-wide one in the same SQL part. Meta findings about allow comments themselves
/// cannot be suppressed.
fn find_allow<'p>(project: &'p Project, finding: &Finding) -> Option<(&'p str, &'p Allow)> {
    if matches!(finding.rule, "allow-without-reason" | "unused-allow") {
        return None;
    }
    let migration = project
        .migrations
        .iter()
        .find(|m| m.migration.id == finding.migration && m.migration.paths.contains(&finding.path))
        .or_else(|| {
            project
                .migrations
                .iter()
                .find(|m| m.migration.id == finding.migration)
        })?;
    let parts = [
        (migration.migration.up.as_ref(), Some(&migration.up)),
        (migration.migration.down.as_ref(), migration.down.as_ref()),
    ];
    for (part, file) in parts {
        let (Some(part), Some(file)) = (part, file) else {
            continue;
        };
        if part.path != finding.path || !part.range.contains(&finding.span.start) {
            continue;
        }
        let allows_rule = |allow: &&Allow| allow.rules.iter().any(|rule| rule == finding.rule);
        let statement = statement_at(&file.statements, finding.span.start);
        let local = statement.and_then(|s| s.allows.iter().find(allows_rule));
        if let Some(allow) = local.or_else(|| file.file_allows.iter().find(allows_rule)) {
            return Some((part.path.as_str(), allow));
        }
    }
    None
}

/// The statement whose span holds `offset` (statements are in file order).
fn statement_at(statements: &[Statement], offset: usize) -> Option<&Statement> {
    let after = statements.partition_point(|s| s.span.start <= offset);
    let statement = statements[..after].last()?;
    (offset < statement.span.end.max(statement.span.start + 1)).then_some(statement)
}

/// The verdict of a set of findings: `unsafe` with an error, `review` with a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Safe,
    Review,
    Unsafe,
}

impl Verdict {
    pub fn of(findings: &[Resolved]) -> Verdict {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::Error) => Verdict::Unsafe,
            Some(Severity::Warning) => Verdict::Review,
            _ => Verdict::Safe,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::Review => "review",
            Verdict::Unsafe => "unsafe",
        }
    }
}

mod example;
mod run;

pub use example::{run_example, run_example_with_down};
pub use run::{load_config, migrations_dir, run, CheckOptions, Run, Timings};
