//! Words the renderers share: names of the model's enums and the one-line summary.

use super::{DownEntry, DownVerdict, Phase, Report};
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

/// `"1 file in the migrations directory is not a goose migration"`, or `"2 files ... are not
/// goose migrations"`.
pub fn not_migrations(report: &Report) -> String {
    let n = report.ignored.len();
    let layout = &report.layout;
    if n == 1 {
        format!("1 file in the migrations directory is not a {layout} migration")
    } else {
        format!("{n} files in the migrations directory are not {layout} migrations")
    }
}

/// Why a report has no rollback window.
pub fn no_window(report: &Report) -> String {
    match (&report.rollback.releases, &report.base) {
        (None, _) => "not configured (`[rollback] releases` in rollsafe.toml)".to_string(),
        (Some(glob), None) => format!(
            "not computed in a history audit (the releases `{glob}` are compared with a \
             revision: run with --base)"
        ),
        (Some(glob), Some(_)) => format!("no release tag matches `{glob}`"),
    }
}

/// Whether a down verdict needs no reader's attention: inverse or none needed, without notes.
pub fn down_is_clean(entry: &DownEntry) -> bool {
    let clean_verdict = matches!(
        entry.verdict,
        DownVerdict::Inverse | DownVerdict::NoneNeeded
    );
    clean_verdict && entry.notes.is_empty()
}

/// `"2 errors, 1 suppressed in 3 migrations"`; zero counts are left out.
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
