//! One run of `rollsafe check`: wires source, layout, sql, replay, rules and report together.
//!
//! `run` reads the sides, chooses the deploy, replays, runs the rules, resolves and builds the
//! report; `audit_history` is the `--all` mode (every migration is its own deploy, checked
//! against the schema its predecessors built).

use crate::config::{Retire, Settings};
use crate::history::HistoryDiff;
use crate::project::{replay, Project};
use crate::rollback::DownAnalysis;
use crate::rules::{self, Context, Finding, Scope};
use crate::schema::Catalog;
use crate::usage::Usage;

/// The `--all` history audit: each migration is its own deploy, checked against the schema
/// built by the ones before it. `retired` counts as shipped (there is no base to check it
/// against). Returns the raw findings (before severities and suppressions).
pub fn audit_history(project: &Project, settings: &Settings, retired: &[Retire]) -> Vec<Finding> {
    audit_history_with_downs(project, settings, retired, None).0
}

/// `audit_history`, with each migration's down analysis (`DownAnalysis::index` is the
/// migration's index in the project), compat findings judged on `usage` when given
/// (`--usage-from`).
pub fn audit_history_with_downs(
    project: &Project,
    settings: &Settings,
    retired: &[Retire],
    usage: Option<&Usage>,
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
        usage,
        releases: &[],
        audit: true,
        cache: Default::default(),
    };
    for index in 0..project.migrations.len() {
        let deploy = &project.migrations[index..=index];
        let before = catalog.clone();
        replay(&mut catalog, &deploy[0]);
        let ctx = base.with_deploy(deploy, &before, &catalog);
        findings.extend(rules::run_where(&ctx, |meta| meta.scope == Scope::Deploy));
        downs.extend(ctx.downs().iter().map(|analysis| DownAnalysis {
            index,
            ..analysis.clone()
        }));
    }
    // Rules of scope `project` (a retire entry) are judged once, against every object the
    // history ever had.
    let whole = base.with_deploy(&project.migrations, base.before, &catalog);
    findings.extend(rules::run_where(&whole, |meta| {
        meta.scope == Scope::Project
    }));
    (findings, downs)
}

mod example;
mod moved;
mod run;

pub use example::{run_example, run_example_with_down};
pub use run::{load_config, migrations_dir, run, CheckOptions, Run, Timings};
