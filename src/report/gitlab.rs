//! GitLab code quality report (a Code Climate subset): one issue per finding, and one `info`
//! issue per suppressed finding with its reason, so the merge request that adds an allow
//! comment shows it to the reviewer.
//!
//! Severities: error → `major`, warning → `minor`, info → `info`. GitLab's scale has two
//! levels above `major` (`critical`, `blocker`); lint tools conventionally map their errors
//! to `major`, so rollsafe's findings sort among theirs rather than above security scanners.
//! Whether a deploy is blocked is decided by rollsafe's exit code, not by this severity.

use super::fingerprint::Fingerprints;
use super::{FindingEntry, Report, SuppressedEntry};
use crate::rules::Severity;
use serde::Serialize;

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    location: Location<'a>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
}

pub fn render(report: &Report) -> String {
    let mut fingerprints = Fingerprints::default();
    let mut issues: Vec<Issue> = report
        .findings
        .iter()
        .map(|f| finding_issue(f, &mut fingerprints))
        .collect();
    issues.extend(
        report
            .suppressed
            .iter()
            .map(|s| suppressed_issue(s, &mut fingerprints)),
    );
    let mut out = serde_json::to_string_pretty(&issues).expect("the issues always serialize");
    out.push('\n');
    out
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Info => "info",
    }
}

fn finding_issue<'a>(finding: &'a FindingEntry, fingerprints: &mut Fingerprints) -> Issue<'a> {
    let object = finding.object.as_deref().unwrap_or("");
    Issue {
        description: finding.message_with_related(),
        check_name: &finding.rule,
        fingerprint: fingerprints.next(&[&finding.rule, &finding.path, object, &finding.message]),
        severity: severity(finding.severity),
        location: Location {
            path: &finding.path,
            lines: Lines {
                begin: finding.line.max(1),
            },
        },
    }
}

fn suppressed_issue<'a>(
    suppressed: &'a SuppressedEntry,
    fingerprints: &mut Fingerprints,
) -> Issue<'a> {
    let kind = "suppressed";
    Issue {
        description: format!(
            "Suppressed {}: {} (reason: {})",
            suppressed.severity.name(),
            suppressed.message,
            suppressed.reason
        ),
        check_name: &suppressed.rule,
        fingerprint: fingerprints.next(&[
            kind,
            &suppressed.rule,
            &suppressed.path,
            &suppressed.message,
        ]),
        severity: severity(Severity::Info),
        location: Location {
            path: &suppressed.path,
            lines: Lines {
                begin: suppressed.line.max(1),
            },
        },
    }
}
