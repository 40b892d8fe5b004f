//! The terminal report: each finding as an ariadne diagnostic pointing at the statement,
//! with the rule id, the message and the safe recipe as `help`; then the suppressions and
//! a one-line verdict.

use super::{FindingEntry, Report};
use crate::rules::Severity;
use ariadne::{Config, IndexType, Label, ReportKind, Source};
use std::fmt::Write as _;

pub fn render(report: &Report, color: bool) -> String {
    let mut out = String::new();
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
            "note: {} file(s) in the migrations directory are not {} migrations and were not \
             checked (`--format json` lists them with the reason)",
            report.ignored.len(),
            report.layout
        );
    }
    out
}

fn kind(severity: Severity) -> ReportKind<'static> {
    match severity {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
        Severity::Info => ReportKind::Advice,
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
    let mut report = ariadne::Report::build(kind(finding.severity), (path, span.clone()))
        .with_config(config)
        .with_code(&finding.rule)
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
        "{}[{}]: {}\n   ╭─[ {}:{}:{} ]\n   = help: {}\n",
        finding.severity.name(),
        finding.rule,
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

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}
