//! Words the renderers share: names of the model's enums and the one-line summary.

use super::{DownVerdict, Phase, Report};
use crate::project::MigrationStatus;

pub fn status_name(status: MigrationStatus) -> &'static str {
    match status {
        MigrationStatus::New => "new",
        MigrationStatus::Edited => "edited",
        MigrationStatus::Unchanged => "unchanged",
        MigrationStatus::Deleted => "deleted",
    }
}

pub fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Expand => "expand",
        Phase::Backfill => "backfill",
        Phase::Contract => "contract",
    }
}

pub fn down_name(verdict: DownVerdict) -> &'static str {
    match verdict {
        DownVerdict::Inverse => "inverse",
        DownVerdict::Lossy => "lossy",
        DownVerdict::NotInverse => "not inverse",
        DownVerdict::Missing => "missing",
        DownVerdict::NoneNeeded => "none needed",
        DownVerdict::CannotTell => "cannot tell",
    }
}

/// The down verdict the report holds for migration `id`, if any.
pub fn down_verdict(report: &Report, id: &str) -> Option<DownVerdict> {
    report
        .rollback
        .down
        .iter()
        .find(|entry| entry.migration == id)
        .map(|entry| entry.verdict)
}

/// `"2 errors, 1 warning, 1 suppressed in 3 migrations"`; zero counts are left out.
pub fn counts_phrase(report: &Report) -> String {
    let c = report.counts;
    let parts: Vec<String> = [
        (c.errors, "error", "errors"),
        (c.warnings, "warning", "warnings"),
        (c.infos, "info", "info"),
        (c.suppressed, "suppressed", "suppressed"),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| plural(n, one, many))
    .collect();
    let found = if parts.is_empty() {
        "no findings".to_string()
    } else {
        parts.join(", ")
    };
    let migrations = plural(report.migrations.len(), "migration", "migrations");
    format!("{found} in {migrations}")
}

/// `"rollsafe: unsafe — 2 errors, 1 warning in 3 migrations"`.
pub fn summary(report: &Report) -> String {
    format!(
        "rollsafe: {} — {}",
        report.verdict.name(),
        counts_phrase(report)
    )
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A commit id shortened to 12 characters, as reviewers read it.
pub fn short_commit(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
