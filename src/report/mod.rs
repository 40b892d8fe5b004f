//! The report: one model of a run (verdict, migrations, findings, suppressions), built once,
//! and renderers that only format it. Renderers decide nothing.

pub mod concise;
mod fingerprint;
pub mod github;
pub mod gitlab;
pub mod json;
mod labels;
pub mod markdown;
pub mod sarif;
pub mod text;

use crate::dialect::Dialect;
use crate::ir::rebuild;
use crate::ir::{Change, QualifiedName};
use crate::layout::LayoutKind;
use crate::project::{MigrationStatus, ParsedMigration};
use crate::resolve::{Outcome, Verdict};
use crate::rollback::DownVerdict;
use crate::rules::{self, Severity};
use crate::source::LineIndex;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

/// One revision the run compared (`worktree` and no commit for the working tree).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RevInfo {
    pub rev: String,
    pub commit: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Expand,
    Backfill,
    Contract,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MigrationEntry {
    pub id: String,
    pub name: String,
    pub path: String,
    pub status: MigrationStatus,
    pub phases: Vec<Phase>,
    pub statements: usize,
    /// Omitted for ordinary versioned migrations; `code` for a migration rollsafe cannot
    /// analyse (goose's Go files), `repeatable` or `baseline` for Flyway's.
    #[serde(skip_serializing_if = "is_versioned")]
    pub kind: crate::layout::MigrationKind,
}

fn is_versioned(kind: &crate::layout::MigrationKind) -> bool {
    *kind == crate::layout::MigrationKind::Versioned
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FindingEntry {
    pub rule: String,
    pub category: String,
    pub severity: Severity,
    pub message: String,
    pub help: String,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub migration: String,
    pub object: Option<String>,
    /// Where N-1's code names the object: `[{rev, path, line, source, access}]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<crate::usage::Evidence>,
    /// Consequences of the same change, reported by other rules and folded in here (see
    /// `RuleMeta::folds_into`); counted in `counts` like any finding.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<RelatedEntry>,
    /// Byte span in the file, for renderers that quote the source.
    #[serde(skip)]
    pub span: Range<usize>,
}

/// A finding folded into another one of the same statement.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RelatedEntry {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
}

impl FindingEntry {
    /// The message followed by the folded findings, one line each (`also irreversible-up
    /// (warning): ...`), for formats that show one text per finding.
    pub fn message_with_related(&self) -> String {
        let mut message = self.message.clone();
        for related in &self.related {
            message.push_str(&format!(
                "\nalso {} ({}): {}",
                related.rule,
                related.severity.name(),
                related.message
            ));
        }
        message
    }
}

/// Moves each finding that metadata marks as a consequence (`folds_into`) into the finding
/// of that rule on the same statement, if there is one.
fn fold_consequences(findings: Vec<FindingEntry>) -> Vec<FindingEntry> {
    let primary_of = |finding: &FindingEntry, all: &[FindingEntry]| -> Option<usize> {
        let folds_into = &rules::meta(&finding.rule)?.folds_into;
        all.iter().position(|other| {
            folds_into.contains(&other.rule)
                && other.path == finding.path
                && other.span == finding.span
        })
    };
    let targets: Vec<Option<usize>> = findings
        .iter()
        .map(|finding| primary_of(finding, &findings))
        .collect();
    let mut kept: Vec<Option<FindingEntry>> = findings.into_iter().map(Some).collect();
    for (index, target) in targets.iter().enumerate() {
        // A finding that others fold into is never folded itself.
        let Some(target) = *target else { continue };
        if targets[target].is_some() {
            continue;
        }
        let folded = kept[index].take().expect("each finding folds once");
        if let Some(primary) = kept[target].as_mut() {
            // The finding shows the worst of the problem: a scan that blocks writes (an
            // error) folded into the new foreign key (a warning) makes it an error.
            primary.severity = primary.severity.max(folded.severity);
            primary.related.push(RelatedEntry {
                rule: folded.rule,
                severity: folded.severity,
                message: folded.message,
            });
        }
    }
    kept.into_iter().flatten().collect()
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SuppressedEntry {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub reason: String,
    pub path: String,
    /// The line of the allow comment.
    pub line: usize,
    pub migration: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DownEntry {
    pub migration: String,
    pub verdict: DownVerdict,
    /// What differs or what is lost, one line each.
    pub notes: Vec<String>,
}

/// Whether an image-only rollback from the head to a release is safe.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WindowEntry {
    pub release: String,
    pub commit: String,
    pub safe: bool,
    /// The changes that break that release's binary, each naming the object and migration.
    pub reasons: Vec<String>,
}

/// The rollback section: can N-1's image run on the new schema, and how far back can an
/// image-only rollback go.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Rollback {
    /// True when no compat finding remains unsuppressed.
    pub image_only_safe: bool,
    /// The compat findings that block an image-only rollback (`rule: object (migration)`).
    pub blocking: Vec<String>,
    /// Per release, newest first; empty without `[rollback] releases` in config.
    pub window: Vec<WindowEntry>,
    pub down: Vec<DownEntry>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub suppressed: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Report {
    pub schema_version: u32,
    pub verdict: Verdict,
    pub base: Option<RevInfo>,
    pub head: RevInfo,
    pub dialect: String,
    pub layout: String,
    pub counts: Counts,
    pub migrations: Vec<MigrationEntry>,
    pub findings: Vec<FindingEntry>,
    pub suppressed: Vec<SuppressedEntry>,
    pub rollback: Rollback,
    /// Files in the migrations directory that are not migrations of the layout, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<crate::layout::Ignored>,
    /// The text of each file a finding points at, by displayed path.
    #[serde(skip)]
    pub sources: BTreeMap<String, String>,
}

/// What the report needs besides the findings.
pub struct ReportInput<'a> {
    pub dialect: Dialect,
    pub layout: LayoutKind,
    /// The text of every file a finding may point at, by snapshot path.
    pub sources: &'a BTreeMap<String, String>,
    /// The migrations the report lists (the deploy; every migration in `--all` mode).
    pub migrations: &'a [ParsedMigration],
    /// Files in the migrations directory that are not migrations, with why.
    pub ignored: &'a [crate::layout::Ignored],
    pub outcome: Outcome,
    /// Prepended to snapshot paths so they read relative to the repository.
    pub path_prefix: &'a str,
    /// Where the config file is, as the report shows paths; findings about the config (no
    /// migration) point there.
    pub config_path: Option<String>,
    pub base: Option<RevInfo>,
    pub head: RevInfo,
    /// The rollback window and down verdicts (the image-only verdict is derived here).
    pub rollback: Rollback,
}

impl Report {
    pub fn build(input: ReportInput<'_>) -> Report {
        let ReportInput {
            dialect,
            layout,
            sources: texts,
            migrations,
            ignored,
            outcome,
            path_prefix,
            config_path,
            base,
            head,
            rollback,
        } = input;
        let display = |path: &str| format!("{path_prefix}{path}");
        let mut sources = BTreeMap::new();
        let mut findings = Vec::new();
        // One line index per file: a large deploy has many findings per file.
        let mut indexes: BTreeMap<&str, LineIndex<'_>> = BTreeMap::new();
        let mut locate = |path: &str, offset: usize| -> (usize, usize) {
            match texts.get_key_value(path) {
                Some((path, text)) => indexes
                    .entry(path.as_str())
                    .or_insert_with(|| LineIndex::new(text))
                    .line_column(offset),
                None => (1, 1),
            }
        };
        for resolved in &outcome.findings {
            let finding = &resolved.finding;
            let meta = rules::meta(finding.rule);
            let text = texts.get(&finding.path).map(String::as_str).unwrap_or("");
            let start = locate(&finding.path, finding.span.start);
            let end = locate(&finding.path, finding.span.end);
            let path = match (&config_path, finding.migration.is_empty()) {
                (Some(config), true) => config.clone(),
                _ => display(&finding.path),
            };
            if !text.is_empty() {
                sources
                    .entry(path.clone())
                    .or_insert_with(|| text.to_string());
            }
            findings.push(FindingEntry {
                rule: finding.rule.to_string(),
                category: meta.map_or("meta", |m| m.category.name()).to_string(),
                severity: resolved.severity,
                message: finding.message.clone(),
                help: meta
                    .map(|m| m.recipe.trim().to_string())
                    .unwrap_or_default(),
                path,
                line: start.0,
                column: start.1,
                end_line: end.0,
                end_column: end.1,
                migration: finding.migration.clone(),
                object: finding.object.clone(),
                evidence: finding.evidence.clone(),
                related: Vec::new(),
                span: finding.span.clone(),
            });
        }
        let suppressed = outcome
            .suppressed
            .iter()
            .map(|s| {
                let (line, _) = locate(&s.allow_path, s.allow_offset);
                SuppressedEntry {
                    rule: s.finding.rule.to_string(),
                    severity: s.severity,
                    message: s.finding.message.clone(),
                    reason: s.reason.clone(),
                    path: display(&s.allow_path),
                    line,
                    migration: s.finding.migration.clone(),
                }
            })
            .collect::<Vec<_>>();
        let counts = Counts {
            errors: count(&findings, Severity::Error),
            warnings: count(&findings, Severity::Warning),
            infos: count(&findings, Severity::Info),
            suppressed: suppressed.len(),
        };
        let blocking: Vec<String> = findings
            .iter()
            // An info compat finding (an automatic retirement) breaks nothing.
            .filter(|f| f.category == "compat" && f.severity != Severity::Info)
            .map(|f| {
                let object = f.object.as_deref().unwrap_or("");
                format!("{}: {} ({})", f.rule, object, f.migration)
            })
            .collect();
        let findings = fold_consequences(findings);
        let rollback = Rollback {
            image_only_safe: blocking.is_empty(),
            blocking,
            ..rollback
        };
        Report {
            schema_version: 1,
            verdict: Verdict::of(&outcome.findings),
            base,
            head,
            dialect: dialect.name().to_string(),
            layout: layout.name().to_string(),
            counts,
            migrations: migrations
                .iter()
                .map(|m| migration_entry(m, dialect, &display))
                .collect(),
            findings,
            suppressed,
            rollback,
            ignored: ignored
                .iter()
                .map(|ignored| crate::layout::Ignored {
                    path: display(&ignored.path),
                    reason: ignored.reason.clone(),
                })
                .collect(),
            sources,
        }
    }
}

fn count(findings: &[FindingEntry], severity: Severity) -> usize {
    findings.iter().filter(|f| f.severity == severity).count()
}

fn migration_entry(
    m: &ParsedMigration,
    dialect: Dialect,
    display: &dyn Fn(&str) -> String,
) -> MigrationEntry {
    MigrationEntry {
        id: m.migration.id.clone(),
        name: m.migration.name.clone(),
        path: display(m.migration.display_path()),
        status: m.status,
        phases: phases(m, dialect),
        statements: m.up.statements.len(),
        kind: m.migration.kind,
    }
}

/// The expand-backfill-contract phases a migration's up changes belong to. A backfill is
/// `Change::is_backfill` on a table the migration did not create itself.
pub fn phases(migration: &ParsedMigration, dialect: Dialect) -> Vec<Phase> {
    let changes: Vec<(usize, &Change)> = (migration.up.statements.iter().enumerate())
        .flat_map(|(index, s)| s.changes.iter().map(move |change| (index, change)))
        .collect();
    let rebuilt: BTreeSet<QualifiedName> = rebuild::find(&changes, dialect)
        .into_iter()
        .flat_map(|rebuild| std::iter::once(rebuild.table).chain(rebuild.temps))
        .collect();
    let mut created: BTreeSet<&QualifiedName> = BTreeSet::new();
    let mut phases = BTreeSet::new();
    for (_, change) in changes {
        if let Change::CreateTable { table, .. } = change {
            created.insert(table);
        }
        if let Some(phase) = phase_of(change, &created, &rebuilt) {
            phases.insert(phase);
        }
    }
    phases.into_iter().collect()
}

fn phase_of(
    change: &Change,
    created: &BTreeSet<&QualifiedName>,
    rebuilt: &BTreeSet<QualifiedName>,
) -> Option<Phase> {
    match change {
        Change::CreateTable { .. }
        | Change::AddColumn { .. }
        | Change::CreateIndex(_)
        | Change::CreateView { .. }
        | Change::CreateEnum { .. }
        | Change::AddEnumValue { .. }
        | Change::DropNotNull { .. }
        | Change::SetDefault { .. }
        | Change::AddIdentity { .. }
        | Change::AddConstraint { .. } => Some(Phase::Expand),
        // Emptying a table is a data step, like a backfill.
        Change::Truncate { table } => (!created.contains(table)).then_some(Phase::Backfill),
        Change::Backfill { .. } => {
            let existed = |table: &QualifiedName| !created.contains(table);
            let rebuild_copy = |table: &QualifiedName| rebuilt.contains(table);
            change
                .is_backfill(existed, rebuild_copy)
                .then_some(Phase::Backfill)
        }
        Change::DropTable { .. }
        | Change::DropColumn { .. }
        | Change::RenameTable { .. }
        | Change::RenameColumn { .. }
        | Change::AlterColumnType { .. }
        | Change::SetNotNull { .. }
        | Change::DropDefault { .. }
        | Change::ValidateConstraint { .. }
        | Change::DropIndex { .. }
        | Change::DropView { .. }
        | Change::RenameView { .. }
        | Change::RenameEnumValue { .. }
        | Change::RenameType { .. }
        | Change::DropType { .. } => Some(Phase::Contract),
        _ => None,
    }
}
