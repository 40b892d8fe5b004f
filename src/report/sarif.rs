//! SARIF 2.1.0, for code-scanning tools (GitHub code scanning, IDE viewers): one run; the
//! rules its results name, with their recipe as help; each finding as a result at its
//! statement; each suppressed finding as a result with an in-source suppression and its
//! reason, so the audit trail survives the upload.

use super::fingerprint::Fingerprints;
use super::{FindingEntry, Report, SuppressedEntry};
use crate::rules::{self, Severity};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The project's home page; rule help links point into its `docs/rules.md`.
/// Placeholder: set it to the real repository before publishing.
pub const REPOSITORY_URL: &str = "https://github.com/rollsafe/rollsafe";

/// The key of the fingerprint rollsafe computes (rule, file, object, message).
const FINGERPRINT_KEY: &str = "rollsafe/v1";

pub fn render(report: &Report) -> String {
    let rule_ids = rule_ids(report);
    let mut fingerprints = Fingerprints::default();
    let mut results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| finding_result(f, &rule_ids, &mut fingerprints))
        .collect();
    results.extend(
        report
            .suppressed
            .iter()
            .map(|s| suppressed_result(s, &rule_ids, &mut fingerprints)),
    );
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver(&rule_ids) },
            // Our columns count characters, not UTF-16 code units (SARIF's default).
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": { "verdict": report.verdict.name() },
        }],
    });
    let mut out = serde_json::to_string_pretty(&log).expect("a JSON value always serializes");
    out.push('\n');
    out
}

/// The rules the results name, sorted; a result's `ruleIndex` is its position here.
fn rule_ids(report: &Report) -> Vec<&str> {
    let findings = report.findings.iter().map(|f| f.rule.as_str());
    let suppressed = report.suppressed.iter().map(|s| s.rule.as_str());
    let ids: BTreeSet<&str> = findings.chain(suppressed).collect();
    ids.into_iter().collect()
}

fn rule_index(rule_ids: &[&str], id: &str) -> usize {
    rule_ids
        .iter()
        .position(|known| *known == id)
        .expect("rule_ids holds every rule a result names")
}

fn driver(rule_ids: &[&str]) -> Value {
    json!({
        "name": "rollsafe",
        "version": env!("CARGO_PKG_VERSION"),
        "informationUri": REPOSITORY_URL,
        "rules": rule_ids.iter().map(|id| rule_descriptor(id)).collect::<Vec<_>>(),
    })
}

pub fn help_uri(rule: &str) -> String {
    format!("{REPOSITORY_URL}/blob/main/docs/rules.md#{rule}")
}

fn rule_descriptor(id: &str) -> Value {
    let Some(meta) = rules::meta(id) else {
        // A finding from a rule without metadata: describe it by its id.
        return json!({
            "id": id,
            "shortDescription": { "text": id },
            "helpUri": help_uri(id),
        });
    };
    let recipe = meta.recipe.trim();
    json!({
        "id": id,
        "shortDescription": { "text": meta.summary.trim() },
        "fullDescription": { "text": meta.why.trim() },
        "help": {
            "text": recipe,
            "markdown": format!("**Why.** {}\n\n**Safe recipe.**\n\n{recipe}", meta.why.trim()),
        },
        "helpUri": help_uri(id),
        "defaultConfiguration": { "level": level(meta.severity) },
        "properties": { "category": meta.category.name(), "tags": [meta.category.name()] },
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn finding_result(
    finding: &FindingEntry,
    rule_ids: &[&str],
    fingerprints: &mut Fingerprints,
) -> Value {
    let object = finding.object.as_deref().unwrap_or("");
    let region = json!({
        "startLine": finding.line.max(1),
        "startColumn": finding.column.max(1),
        "endLine": finding.end_line.max(finding.line).max(1),
        "endColumn": finding.end_column.max(1),
    });
    json!({
        "ruleId": finding.rule,
        "ruleIndex": rule_index(rule_ids, &finding.rule),
        "level": level(finding.severity),
        "message": { "text": finding.message_with_related() },
        "locations": [location(&finding.path, region)],
        "partialFingerprints": {
            FINGERPRINT_KEY: fingerprints.next(&[&finding.rule, &finding.path, object, &finding.message]),
        },
        "properties": { "migration": finding.migration, "object": finding.object },
    })
}

/// A suppressed finding, located at its allow comment (the line that carries the reason).
fn suppressed_result(
    suppressed: &SuppressedEntry,
    rule_ids: &[&str],
    fingerprints: &mut Fingerprints,
) -> Value {
    let region = json!({ "startLine": suppressed.line.max(1) });
    json!({
        "ruleId": suppressed.rule,
        "ruleIndex": rule_index(rule_ids, &suppressed.rule),
        "level": level(suppressed.severity),
        "message": { "text": suppressed.message },
        "locations": [location(&suppressed.path, region)],
        "partialFingerprints": {
            FINGERPRINT_KEY: fingerprints.next(&[&suppressed.rule, &suppressed.path, &suppressed.message]),
        },
        "suppressions": [{ "kind": "inSource", "justification": suppressed.reason }],
        "properties": { "migration": suppressed.migration },
    })
}

fn location(path: &str, region: Value) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": relative_uri(path) },
            "region": region,
        }
    })
}

/// A relative path as a URI reference: bytes outside the unreserved set and `/` are
/// percent-encoded (a space becomes `%20`).
fn relative_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::relative_uri;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(relative_uri("db/0001_init.up.sql"), "db/0001_init.up.sql");
        assert_eq!(relative_uri("my db/é.sql"), "my%20db/%C3%A9.sql");
    }
}
