//! The terminal report: what the run compared; each finding as an ariadne diagnostic
//! pointing at the statement, headed `error[rule]: message` as rustc prints it, with the
//! safe recipe as `help`; then the suppressions, the rollback summary and a one-line verdict.

use super::labels::{self, down_name, plural, short_commit};
use super::{FindingEntry, Report};
use crate::layout::TransactionMode;
use crate::project::MigrationStatus;
use crate::rules::Severity;
use ariadne::{Color, Config, IndexType, Label, ReportKind, Source};
use std::fmt::Write as _;

pub fn render(report: &Report, color: bool) -> String {
    let mut out = scope(report);
    out.push('\n');
    for finding in &report.findings {
        match report.sources.get(&finding.path) {
            Some(text) => out.push_str(&diagnostic(finding, text, color)),
            None => plain(&mut out, finding),
        }
    }
    if !report.suppressed.is_empty() {
        let _ = writeln!(out, "suppressed ({}):", report.suppressed.len());
        for s in &report.suppressed {
            let _ = writeln!(
                out,
                "  {}:{} {} [{}] — {}",
                s.path,
                s.line,
                s.rule,
                s.severity.name(),
                s.reason
            );
        }
        out.push('\n');
    }
    out.push_str(&rollback(report));
    out.push_str(&summary(report));
    let code: Vec<&str> = report
        .migrations
        .iter()
        .filter(|m| m.kind == crate::layout::MigrationKind::Code)
        .map(|m| m.path.as_str())
        .collect();
    if !code.is_empty() {
        let _ = writeln!(
            out,
            "note: {} code migration(s) not analysed (rollsafe reads SQL only): {}",
            code.len(),
            code.join(", ")
        );
    }
    if !report.ignored.is_empty() {
        let _ = writeln!(
            out,
            "note: {} and {} not checked (`--verbose` lists {} with the reason)",
            labels::not_migrations(report),
            if report.ignored.len() == 1 {
                "was"
            } else {
                "were"
            },
            if report.ignored.len() == 1 {
                "it"
            } else {
                "them"
            },
        );
    }
    out
}

/// The mode and what was compared, on one line.
pub fn scope(report: &Report) -> String {
    let Some(base) = &report.base else {
        return "history audit: every migration against the ones before it\n".to_string();
    };
    let count = |status| {
        let n = report
            .migrations
            .iter()
            .filter(|m| m.status == status)
            .count();
        (n, status)
    };
    let parts: Vec<String> = [
        count(MigrationStatus::New),
        count(MigrationStatus::Edited),
        count(MigrationStatus::Deleted),
    ]
    .into_iter()
    .filter(|(n, status)| *n > 0 || *status == MigrationStatus::New)
    .map(|(n, status)| match status {
        MigrationStatus::New => plural(n, "new migration", "new migrations"),
        other => format!("{n} {}", labels::status_name(other)),
    })
    .collect();
    let since = match &base.commit {
        Some(commit) if commit != &base.rev => {
            format!("since {} (merge base {})", base.rev, short_commit(commit))
        }
        Some(_) => format!("since {}", base.rev),
        None => "in a repository without commits".to_string(),
    };
    let head = match report.head.rev.as_str() {
        "worktree" => String::new(),
        "index" => " (staged)".to_string(),
        rev => format!(" at {rev}"),
    };
    format!("deploy: {} {since}{head}\n", parts.join(", "))
}

/// The rollback summary the markdown report has: the image-only verdict with its blockers,
/// the window per release, the downs that need attention.
fn rollback(report: &Report) -> String {
    let rollback = &report.rollback;
    let mut out = String::from("rollback:\n");
    if rollback.image_only_safe {
        out.push_str("  image-only (N-1's image on the new schema): safe\n");
    } else {
        out.push_str("  image-only (N-1's image on the new schema): unsafe, blocked by\n");
        for blocker in &rollback.blocking {
            let _ = writeln!(out, "    - {blocker}");
        }
    }
    if rollback.window.is_empty() {
        let _ = writeln!(out, "  window: {}", labels::no_window(report));
    } else {
        out.push_str("  window:\n");
        for entry in &rollback.window {
            let verdict = if entry.safe { "safe" } else { "unsafe" };
            let _ = write!(
                out,
                "    {} ({}): {verdict}",
                entry.release,
                short_commit(&entry.commit)
            );
            if !entry.reasons.is_empty() {
                let _ = write!(out, ", blocked by {}", entry.reasons.join("; "));
            }
            out.push('\n');
        }
    }
    let (clean, flagged): (Vec<_>, Vec<_>) = rollback
        .down
        .iter()
        .partition(|entry| labels::down_is_clean(entry));
    if rollback.down.is_empty() {
        out.push_str("  downs: no verdicts in this report\n");
    } else if flagged.is_empty() {
        out.push_str("  downs: each one undoes its up (inverse, or none needed)\n");
    } else {
        out.push_str("  downs:\n");
        for entry in flagged {
            let _ = write!(out, "    {}: {}", entry.migration, down_name(entry.verdict));
            if !entry.notes.is_empty() {
                let _ = write!(out, " ({})", entry.notes.join("; "));
            }
            out.push('\n');
        }
        if !clean.is_empty() {
            let _ = writeln!(
                out,
                "    {}: inverse, or none needed",
                plural(clean.len(), "other", "others")
            );
        }
    }
    out.push('\n');
    out
}

/// What `--verbose` prints on standard error before the report: the config file read, the
/// layout and dialect, how each migration runs, and the files left out with the reason.
pub fn verbose(report: &Report) -> String {
    let mut out = String::new();
    let config = report.config.as_deref().unwrap_or("none (the defaults)");
    let _ = writeln!(out, "config: {config}");
    let _ = writeln!(
        out,
        "layout: {}, dialect: {}",
        report.layout, report.dialect
    );
    for m in &report.migrations {
        let mode = match m.transaction {
            TransactionMode::Wrapped => "in one transaction",
            TransactionMode::None => "no transaction (each statement on its own)",
            TransactionMode::ImplicitMultiStatement if m.statements > 1 => {
                "one multi-statement query (an implicit transaction)"
            }
            TransactionMode::ImplicitMultiStatement => "one statement, no transaction",
        };
        let _ = writeln!(out, "migration {} ({}): {mode}", m.id, m.path);
    }
    for ignored in &report.ignored {
        let _ = writeln!(out, "not checked: {}: {}", ignored.path, ignored.reason);
    }
    out
}

/// `text` without its ANSI colour sequences (`ESC [ ... m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `error[drop-column]`, as rustc and ruff head a diagnostic.
fn header(finding: &FindingEntry) -> String {
    format!("{}[{}]", finding.severity.name(), finding.rule)
}

fn color_of(severity: Severity) -> Color {
    match severity {
        Severity::Error => Color::Red,
        Severity::Warning => Color::Yellow,
        Severity::Info => Color::Fixed(147),
    }
}

fn diagnostic(finding: &FindingEntry, text: &str, color: bool) -> String {
    let path = finding.path.as_str();
    let span = finding.span.start.min(text.len())..finding.span.end.min(text.len());
    let label = finding.object.as_deref().unwrap_or("here");
    let config = Config::default()
        .with_index_type(IndexType::Byte)
        .with_color(color);
    let mut buffer = Vec::new();
    let header = header(finding);
    let kind = ReportKind::Custom(&header, color_of(finding.severity));
    let mut report = ariadne::Report::build(kind, (path, span.clone()))
        .with_config(config)
        .with_message(&finding.message)
        .with_label(Label::new((path, span)).with_message(label))
        .with_help(&finding.help);
    if let Some(note) = evidence_note(finding) {
        report = report.with_note(note);
    }
    for related in &finding.related {
        report = report.with_note(format!(
            "also {} ({}): {}",
            related.rule,
            related.severity.name(),
            related.message
        ));
    }
    let written = report
        .finish()
        .write((path, Source::from(text)), &mut buffer);
    match written {
        // ariadne colours a custom header whatever the config says.
        Ok(()) if !color => strip_ansi(&String::from_utf8_lossy(&buffer)),
        Ok(()) => String::from_utf8_lossy(&buffer).into_owned(),
        Err(_) => {
            let mut out = String::new();
            plain(&mut out, finding);
            out
        }
    }
}

/// The first place N-1's code names the finding's object.
fn evidence_note(finding: &FindingEntry) -> Option<String> {
    let first = finding.evidence.first()?;
    Some(format!(
        "evidence: {}:{} at {} ({}, {})",
        first.path,
        first.line,
        first.rev,
        first.source.name(),
        first.access.verb()
    ))
}

/// A finding with no source to quote (a deleted migration, the config file).
fn plain(out: &mut String, finding: &FindingEntry) {
    let help = finding
        .help
        .lines()
        .collect::<Vec<_>>()
        .join("\n           ");
    let _ = writeln!(
        out,
        "{}: {}\n   ╭─[ {}:{}:{} ]\n   = help: {}\n",
        header(finding),
        finding.message_with_related(),
        finding.path,
        finding.line,
        finding.column,
        help
    );
}

/// The one-line verdict that ends every text report (and that `--quiet` and `-o FILE` print
/// on their own).
pub fn summary(report: &Report) -> String {
    let c = report.counts;
    format!(
        "rollsafe: {} — {}, {}, {} info, {} suppressed, in {} ({} layout, {})\n",
        report.verdict.name(),
        plural(c.errors, "error", "errors"),
        plural(c.warnings, "warning", "warnings"),
        c.infos,
        c.suppressed,
        plural(report.migrations.len(), "migration", "migrations"),
        report.layout,
        report.dialect
    )
}
