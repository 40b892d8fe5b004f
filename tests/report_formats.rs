//! Every report format on the same deploy (the demo shop's history audit), snapshotted, plus
//! the structure SARIF requires, GitHub's escaping and GitLab's fingerprints.

use rollsafe::check::{self, CheckOptions};
use rollsafe::report::{github, gitlab, json, markdown, sarif, text, Report, WindowEntry};
use rollsafe::resolve::Verdict;
use rollsafe::rollback::DownVerdict;
use serde_json::Value;
use std::collections::BTreeSet;

fn demo_report() -> Report {
    let options = CheckOptions {
        dir: "fixtures/demo".into(),
        all: true,
        ..CheckOptions::default()
    };
    check::run(&options).expect("the demo checks").report
}

/// The demo with a configured rollback window, as the check fills it when `[rollback]
/// releases` names the release tags.
fn demo_with_rollback() -> Report {
    let mut report = demo_report();
    report.rollback.window = vec![
        WindowEntry {
            release: "v1.2.0".into(),
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            safe: false,
            reasons: vec![
                "drop-column: public.users.name (0009)".into(),
                "add-required-column: public.orders.currency (0010)".into(),
            ],
        },
        WindowEntry {
            release: "v1.1.0|rc".into(),
            commit: "89abcdef0123456789abcdef0123456789abcdef".into(),
            safe: true,
            reasons: Vec::new(),
        },
    ];
    report
}

fn parse(json_text: &str) -> Value {
    serde_json::from_str(json_text).expect("valid JSON")
}

#[test]
fn text_report() {
    insta::assert_snapshot!(text::render(&demo_report(), false));
}

#[test]
fn json_report() {
    insta::assert_snapshot!(json::render(&demo_report()));
}

#[test]
fn markdown_report() {
    insta::assert_snapshot!(markdown::render(&demo_report()));
}

#[test]
fn markdown_report_with_rollback_window_and_down_verdicts() {
    insta::assert_snapshot!(markdown::render(&demo_with_rollback()));
}

#[test]
fn sarif_report() {
    // The tool's version would change the snapshot at every release.
    let version = format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION"));
    let sarif = sarif::render(&demo_report()).replacen(&version, "\"version\": \"[version]\"", 1);
    insta::assert_snapshot!(sarif);
}

#[test]
fn github_report() {
    insta::assert_snapshot!(github::render(&demo_report()));
}

#[test]
fn gitlab_report() {
    insta::assert_snapshot!(gitlab::render(&demo_report()));
}

#[test]
fn markdown_starts_with_the_verdict_and_counts() {
    let report = demo_report();
    let first = markdown::render(&report);
    let first = first.lines().next().unwrap();
    assert!(first.starts_with("## "), "{first}");
    assert!(first.contains(&format!("rollsafe: {}", report.verdict.name())));
    assert!(first.contains(&format!("{} errors", report.counts.errors)));
}

#[test]
fn markdown_folds_findings_beyond_the_first_ten() {
    let mut report = demo_report();
    let finding = report.findings[0].clone();
    report.findings = vec![finding; 25];
    report.counts.errors = 25;
    let out = markdown::render(&report);
    assert_eq!(
        out.matches("<details><summary>15 more findings</summary>")
            .count(),
        1
    );
    let (shown, folded) = out.split_once("15 more findings").unwrap();
    assert_eq!(shown.matches(&report.findings[0].message).count(), 10);
    assert_eq!(folded.matches(&report.findings[0].message).count(), 15);
    // The recipe is printed once; later findings of the same rule point back to it.
    assert_eq!(out.matches("**Safe recipe:**\n").count(), 1);
    assert!(folded.contains("</details>"));
}

#[test]
fn markdown_folds_a_long_migrations_table() {
    let mut report = demo_report();
    let migration = report.migrations[0].clone();
    report.migrations = vec![migration; 30];
    let out = markdown::render(&report);
    assert!(
        out.contains("<details><summary>30 migrations</summary>"),
        "{out}"
    );
}

#[test]
fn markdown_quotes_no_source_for_a_deleted_migration() {
    let mut report = demo_report();
    report.findings.truncate(1);
    let finding = &mut report.findings[0];
    finding.migration = "0042".into();
    finding.path = "0042_gone.up.sql".into();
    let out = markdown::render(&report);
    assert!(out.contains("#### `0042`\n\n**"), "{out}");
    assert!(!out.contains("```sql"), "{out}");
}

#[test]
fn markdown_groups_config_findings_apart() {
    let mut report = demo_report();
    report.findings.truncate(1);
    report.findings[0].migration = String::new();
    report.findings[0].path = "rollsafe.toml".into();
    let out = markdown::render(&report);
    assert!(out.contains("#### Not in a migration\n\n**"), "{out}");
}

#[test]
fn markdown_says_safe_when_nothing_is_found() {
    let mut report = demo_report();
    report.findings.clear();
    report.suppressed.clear();
    report.counts = Default::default();
    report.verdict = Verdict::Safe;
    let out = markdown::render(&report);
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        "## [ok] rollsafe: safe — no findings in 10 migrations"
    );
    assert!(out.contains("### Findings\n\nNone."));
    assert!(out.contains("### Suppressions (0)\n\nNone."));
}

#[test]
fn markdown_window_table_escapes_pipes() {
    let out = markdown::render(&demo_with_rollback());
    assert!(
        out.contains("| `v1.1.0\\|rc` | `89abcdef0123` | safe | – |"),
        "{out}"
    );
    assert!(!out.contains("not configured"));
}

#[test]
fn markdown_tables_only_the_down_verdicts_that_need_attention() {
    let mut report = demo_report();
    let out = markdown::render(&report);
    let lossy = report
        .rollback
        .down
        .iter()
        .filter(|d| d.verdict == DownVerdict::Lossy)
        .count();
    assert!(lossy > 0);
    let others = report.rollback.down.len() - lossy;
    assert!(
        out.contains(&format!("{others} others: inverse, or none needed.")),
        "{out}"
    );
    for entry in &mut report.rollback.down {
        entry.verdict = DownVerdict::Inverse;
        entry.notes.clear();
    }
    let out = markdown::render(&report);
    assert!(
        out.contains("**Down migrations:** each one undoes its up"),
        "{out}"
    );
}

/// The fields DESIGN.md's JSON contract (schema_version 1) promises.
#[test]
fn json_keeps_the_contract_fields() {
    let report = parse(&json::render(&demo_with_rollback()));
    assert_eq!(report["schema_version"], 1);
    assert!(["safe", "review", "unsafe"].contains(&report["verdict"].as_str().unwrap()));
    assert!(report["base"].is_null());
    assert_eq!(report["head"]["rev"], "worktree");
    assert!(report["head"]["commit"].is_null());
    let has_keys = |value: &Value, keys: &[&str]| {
        for key in keys {
            assert!(value.get(key).is_some(), "no `{key}` in {value}");
        }
    };
    for migration in report["migrations"].as_array().unwrap() {
        has_keys(
            migration,
            &["id", "name", "path", "status", "phases", "statements"],
        );
    }
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for finding in findings {
        has_keys(
            finding,
            &[
                "rule",
                "category",
                "severity",
                "message",
                "help",
                "path",
                "line",
                "column",
                "end_line",
                "end_column",
                "migration",
                "object",
            ],
        );
        assert!(finding["line"].as_u64().unwrap() >= 1);
        assert!(finding["column"].as_u64().unwrap() >= 1);
    }
    for suppressed in report["suppressed"].as_array().unwrap() {
        has_keys(suppressed, &["rule", "reason", "path", "line"]);
    }
    let rollback = &report["rollback"];
    assert!(rollback["image_only_safe"].is_boolean());
    for entry in rollback["window"].as_array().unwrap() {
        has_keys(entry, &["release", "safe"]);
    }
    for entry in rollback["down"].as_array().unwrap() {
        has_keys(entry, &["migration", "verdict"]);
    }
    assert!(!rollback["down"].as_array().unwrap().is_empty());
    assert!(!rollback["window"].as_array().unwrap().is_empty());
}

#[test]
fn sarif_has_the_structure_the_spec_requires() {
    let report = demo_report();
    let log = parse(&sarif::render(&report));
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "rollsafe");
    assert!(driver["version"].is_string());
    assert!(driver["informationUri"].is_string());
    let rules = driver["rules"].as_array().unwrap();
    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        assert!(rule["shortDescription"]["text"].is_string(), "{id}");
        assert!(rule["fullDescription"]["text"].is_string(), "{id}");
        assert!(rule["help"]["text"].is_string(), "{id}");
        assert!(rule["help"]["markdown"].is_string(), "{id}");
        assert!(rule["helpUri"]
            .as_str()
            .unwrap()
            .ends_with(&format!("docs/rules.md#{id}")));
        let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(
            ["error", "warning", "note"].contains(&level),
            "{id}: {level}"
        );
    }
    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        report.findings.len() + report.suppressed.len()
    );
    for result in results {
        let rule_id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rule_ids[index], rule_id);
        let level = result["level"].as_str().unwrap();
        assert!(["error", "warning", "note"].contains(&level), "{level}");
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.starts_with('/'), "{uri} is relative");
        let region = &location["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
        if let Some(end_line) = region["endLine"].as_u64() {
            assert!(end_line >= region["startLine"].as_u64().unwrap());
            assert!(region["startColumn"].as_u64().unwrap() >= 1);
            assert!(region["endColumn"].as_u64().unwrap() >= 1);
        }
    }
}

#[test]
fn sarif_keeps_suppressions_with_their_reason() {
    let report = demo_report();
    let log = parse(&sarif::render(&report));
    let results = log["runs"][0]["results"].as_array().unwrap();
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), report.suppressed.len());
    for (result, entry) in suppressed.iter().zip(&report.suppressed) {
        assert_eq!(result["ruleId"], entry.rule.as_str());
        assert_eq!(result["suppressions"][0]["kind"], "inSource");
        assert_eq!(
            result["suppressions"][0]["justification"],
            entry.reason.as_str()
        );
    }
}

#[test]
fn github_escapes_properties_and_messages() {
    let mut report = demo_report();
    let finding = &mut report.findings[0];
    finding.path = "db/a,b:c%.sql".into();
    finding.rule = "drop-column".into();
    finding.message = "100% broken:\r\nsee, here".into();
    finding.related.clear();
    finding.help = String::new();
    finding.end_line = finding.line;
    let out = github::render(&report);
    let line = out.lines().next().unwrap();
    assert!(
        line.starts_with("::error file=db/a%2Cb%3Ac%25.sql,line=")
            || line.starts_with("::warning file=db/a%2Cb%3Ac%25.sql,line="),
        "{line}"
    );
    assert!(
        line.ends_with(",title=drop-column::100%25 broken:%0D%0Asee, here"),
        "{line}"
    );
    assert_eq!(
        out.lines().count(),
        report.findings.len() + report.suppressed.len() + 1
    );
}

#[test]
fn github_puts_columns_only_on_single_line_annotations() {
    let out = github::render(&demo_report());
    for line in out.lines().filter(|l| l.contains("endLine=")) {
        let start = property(line, "line");
        let end = property(line, "endLine");
        assert_eq!(start == end, line.contains(",col="), "{line}");
    }
    assert!(out
        .lines()
        .last()
        .unwrap()
        .starts_with("::notice::rollsafe: "));
}

fn property<'a>(line: &'a str, key: &str) -> &'a str {
    let (_, rest) = line.split_once(&format!(",{key}=")).unwrap();
    rest.split([',', ':']).next().unwrap()
}

fn gitlab_fingerprints(report: &Report) -> Vec<String> {
    let issues = parse(&gitlab::render(report));
    issues
        .as_array()
        .unwrap()
        .iter()
        .map(|issue| issue["fingerprint"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn gitlab_fingerprints_are_stable_across_runs_and_line_moves() {
    let first = gitlab_fingerprints(&demo_report());
    assert_eq!(first, gitlab_fingerprints(&demo_report()));
    let mut moved = demo_report();
    for finding in &mut moved.findings {
        finding.line += 7;
        finding.end_line += 7;
    }
    assert_eq!(first, gitlab_fingerprints(&moved));
}

#[test]
fn gitlab_fingerprints_are_unique() {
    let mut report = demo_report();
    let duplicate = report.findings[0].clone();
    report.findings.push(duplicate);
    let fingerprints = gitlab_fingerprints(&report);
    let distinct: BTreeSet<&String> = fingerprints.iter().collect();
    assert_eq!(distinct.len(), fingerprints.len());
    assert!(fingerprints.iter().all(|f| f.len() == 32));
}

#[test]
fn gitlab_fingerprints_change_with_what_the_finding_is() {
    let base = demo_report();
    let original = gitlab_fingerprints(&base)[0].clone();
    let mut other_object = base.clone();
    other_object.findings[0].object = Some("public.other".into());
    let mut other_path = base.clone();
    other_path.findings[0].path = "elsewhere.sql".into();
    for changed in [other_object, other_path] {
        assert_ne!(gitlab_fingerprints(&changed)[0], original);
    }
}

#[test]
fn gitlab_issues_have_the_required_fields() {
    let issues = parse(&gitlab::render(&demo_report()));
    for issue in issues.as_array().unwrap() {
        assert!(issue["description"].is_string());
        assert!(issue["check_name"].is_string());
        let severity = issue["severity"].as_str().unwrap();
        assert!(["info", "minor", "major", "critical", "blocker"].contains(&severity));
        assert!(issue["location"]["path"].is_string());
        assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
    }
}
