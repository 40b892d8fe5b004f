//! From raw findings to what the report shows: each finding gets its severity (the rule's
//! default, or what config says; `off` drops it), allow comments move the findings they cover
//! to the suppressed list, and the verdict follows from what remains. Renderers decide nothing:
//! everything they show is decided here.

use crate::config::{Config, RuleLevel};
use crate::project::{ParsedMigration, Project};
use crate::rules::{self, Finding, Severity};
use crate::sql::{Allow, Statement};
use anyhow::{bail, Result};
use std::collections::HashSet;
use std::path::Path;

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
    scope: &[ParsedMigration],
) -> Outcome {
    let mut outcome = resolve(raw, project, config);
    let used: HashSet<(String, usize)> = outcome
        .suppressed
        .iter()
        .map(|s| (s.allow_path.clone(), s.allow_offset))
        .collect();
    let unused = rules::run_on_suppressions(scope, &used);
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
        let Some(severity) = configured_severity(config, finding.rule, default) else {
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
/// a file-wide one in the same SQL part. Rules whose metadata says they are not suppressible
/// (the findings about allow comments themselves) never are.
fn find_allow<'p>(project: &'p Project, finding: &Finding) -> Option<(&'p str, &'p Allow)> {
    if !rules::meta(finding.rule).is_some_and(|meta| meta.suppressible) {
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

/// The severity of a rule after config: `None` when config turns it off.
pub fn configured_severity(config: &Config, rule: &str, default: Severity) -> Option<Severity> {
    match config.rules.get(rule) {
        Some(RuleLevel::Off) => None,
        Some(RuleLevel::Info) => Some(Severity::Info),
        Some(RuleLevel::Warning) => Some(Severity::Warning),
        Some(RuleLevel::Error) => Some(Severity::Error),
        None => Some(default),
    }
}

/// Every `[rules]` key of `config` must name a rule: a typo would silently leave the rule at
/// its default severity.
pub fn check_rule_ids(config: &Config, path: &Path) -> Result<()> {
    for id in config.rules.keys() {
        if rules::meta(id).is_none() {
            bail!(
                "{}:{}: unknown rule id `{id}` in [rules] (`rollsafe rules` lists them)",
                path.display(),
                config.line_of_rule(id)
            );
        }
    }
    Ok(())
}
