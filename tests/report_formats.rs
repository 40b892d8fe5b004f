//! Every report format on the same deploy (the demo shop's history audit), snapshotted, plus
//! the structure SARIF requires, GitHub's escaping and GitLab's fingerprints.

use rollsafe::check::{self, CheckOptions};
use rollsafe::report::{github, gitlab, json, markdown, sarif, text, Report, WindowEntry};
use rollsafe::resolve::Verdict;
use rollsafe::rollback::DownVerdict;
use rollsafe::rules::Severity;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

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
    assert_eq!(first, "## ✅ rollsafe: safe — no findings in 10 migrations");
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

// ---- Paths, mode and the rest of the story, end to end on throwaway repositories ----

/// A small project: `users` created in 0001, its `name` column dropped in 0002; the config
/// retires an object that never existed, so a finding points at the config too.
const CREATE_UP: &str = "CREATE TABLE users (id bigint PRIMARY KEY, name text);\n";
const CREATE_DOWN: &str = "DROP TABLE users;\n";
const DROP_UP: &str = "SET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN name;\n";
const DROP_DOWN: &str = "ALTER TABLE users ADD COLUMN name text;\n";
const CONFIG: &str = "[[retire]]\nobject = \"users.nmae\"\nreason = \"a typo\"\n";

fn write(root: &Path, path: &str, text: &str) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, text).unwrap();
}

fn commit_all(repo: &git2::Repository) {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = git2::Signature::now("Test", "test@example.com").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &signature, &signature, "c", &tree, &parents)
        .unwrap();
}

/// A repository with 0001 and the config committed under `db/migrations`, and 0002 new in
/// the working tree.
fn repo_with_new_drop() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    write(dir.path(), "rollsafe.toml", CONFIG);
    write(dir.path(), "db/migrations/0001_create.up.sql", CREATE_UP);
    write(
        dir.path(),
        "db/migrations/0001_create.down.sql",
        CREATE_DOWN,
    );
    commit_all(&repo);
    write(dir.path(), "db/migrations/0002_drop.up.sql", DROP_UP);
    write(dir.path(), "db/migrations/0002_drop.down.sql", DROP_DOWN);
    dir
}

fn rollsafe_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .arg("check")
        .args(args)
        .env("NO_COLOR", "1")
        .current_dir(cwd)
        .output()
        .unwrap()
}

const FORMATS: &[&str] = &["json", "sarif", "github", "gitlab", "text", "concise"];

/// Every format names `expected` (the dropped column's file) and never the absolute path.
fn assert_paths(cwd: &Path, mode: &[&str], expected: &str, absolute: &Path) {
    for format in FORMATS {
        let mut args = mode.to_vec();
        args.extend(["--format", format, "--fail-on", "never"]);
        let output = rollsafe_in(cwd, &args);
        let out = String::from_utf8_lossy(&output.stdout);
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{format} {mode:?}: {err}");
        assert!(
            out.contains(expected),
            "{format} {mode:?} lacks {expected}:\n{out}"
        );
        let absolute = absolute.to_string_lossy();
        assert!(
            !out.contains(absolute.as_ref()),
            "{format} {mode:?}:\n{out}"
        );
    }
}

/// The paths of the findings in a JSON report.
fn finding_paths(json_text: &str) -> BTreeSet<String> {
    parse(json_text)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn paths_are_relative_to_the_repository_root_in_every_mode_and_format() {
    let repo = repo_with_new_drop();
    let root = repo.path().canonicalize().unwrap();
    // Run from a subdirectory: the paths still start at the repository root.
    let cwd = root.join("db");
    let expected = "db/migrations/0002_drop.up.sql";
    assert_paths(&cwd, &["migrations", "--base", "HEAD"], expected, &root);
    assert_paths(&cwd, &["migrations", "--all"], expected, &root);
    for mode in [
        ["migrations", "--base", "HEAD"],
        ["migrations", "--all", "-q"],
    ] {
        let mut args = mode.to_vec();
        args.retain(|a| *a != "-q");
        args.extend(["--format", "json", "--fail-on", "never"]);
        let paths = finding_paths(&String::from_utf8_lossy(&rollsafe_in(&cwd, &args).stdout));
        // The config finding points at the config file, from the root too.
        let expected: BTreeSet<String> = [expected, "rollsafe.toml"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(paths, expected, "{mode:?}");
    }
}

#[test]
fn outside_git_paths_are_relative_to_the_current_directory_and_the_mode_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    if git2::Repository::discover(&root).is_ok() {
        eprintln!("skipped: the temporary directory is inside a git repository");
        return;
    }
    write(&root, "rollsafe.toml", CONFIG);
    write(&root, "db/0001_create.up.sql", CREATE_UP);
    write(&root, "db/0001_create.down.sql", CREATE_DOWN);
    write(&root, "db/0002_drop.up.sql", DROP_UP);
    write(&root, "db/0002_drop.down.sql", DROP_DOWN);
    std::fs::create_dir(root.join("elsewhere")).unwrap();
    assert_paths(&root, &["db"], "db/0002_drop.up.sql", &root);
    assert_paths(
        &root.join("elsewhere"),
        &["../db"],
        "../db/0002_drop.up.sql",
        &root,
    );

    let output = rollsafe_in(&root, &["db", "--format", "json"]);
    let paths = finding_paths(&String::from_utf8_lossy(&output.stdout));
    assert!(paths.contains("rollsafe.toml"), "{paths:?}");
    // Outside git the check audits the history: said once, on stderr.
    let err = String::from_utf8_lossy(&output.stderr);
    let notes: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("not inside a git repository"))
        .collect();
    assert_eq!(notes.len(), 1, "{err}");
    assert!(notes[0].contains("auditing the whole history"), "{err}");
    // Asked for explicitly, the audit needs no note.
    let output = rollsafe_in(&root, &["db", "--all", "--format", "json"]);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!err.contains("not inside a git repository"), "{err}");
}

#[test]
fn text_states_the_mode_and_what_was_compared() {
    let repo = repo_with_new_drop();
    let head = git2::Repository::open(repo.path())
        .unwrap()
        .head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .id()
        .to_string();
    let output = rollsafe_in(repo.path(), &["db/migrations", "--base", "HEAD"]);
    let out = String::from_utf8_lossy(&output.stdout);
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "deploy: 1 new migration since HEAD (merge base {})",
            &head[..12]
        )
    );
    let output = rollsafe_in(repo.path(), &["db/migrations", "--all"]);
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        out.lines().next().unwrap(),
        "history audit: every migration against the ones before it"
    );
}

#[test]
fn a_release_glob_that_matches_no_tag_is_an_error_with_the_fix() {
    let repo = repo_with_new_drop();
    write(
        repo.path(),
        "rollsafe.toml",
        "[rollback]\nreleases = \"v*\"\nwindow = 3\n",
    );
    let output = rollsafe_in(repo.path(), &["db/migrations", "--base", "HEAD"]);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("releases = \"v*\""), "{err}");
    assert!(err.contains("matches no tag"), "{err}");
    assert!(err.contains("git fetch --tags"), "{err}");
    // With a matching tag the window is computed.
    let git = git2::Repository::open(repo.path()).unwrap();
    let head = git.head().unwrap().peel_to_commit().unwrap();
    git.tag_lightweight("v1.0.0", head.as_object(), false)
        .unwrap();
    let output = rollsafe_in(repo.path(), &["db/migrations", "--base", "HEAD"]);
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains("  window:\n    v1.0.0 ("), "{out}");
}

#[test]
fn text_ends_with_the_rollback_summary_and_heads_findings_as_rustc() {
    let out = text::render(&demo_report(), false);
    assert!(!out.contains('\u{1b}'), "no colour when asked for none");
    assert!(
        out.contains("error[drop-column]: drops column public.users.name"),
        "{out}"
    );
    // A consequence folded into the finding is a note of it.
    assert!(
        out.contains("Note: also irreversible-up (warning): drops column public.users.name"),
        "{out}"
    );
    let rollback = out
        .split_once("\nrollback:\n")
        .expect("a rollback section")
        .1;
    assert!(rollback.starts_with(
        "  image-only (N-1's image on the new schema): unsafe, blocked by\n    \
         - drop-column: public.users.name (0009)\n"
    ));
    assert!(rollback.contains("  window: not configured"), "{rollback}");
    assert!(rollback.contains("    0009: lossy ("), "{rollback}");
    assert!(
        rollback.contains("    8 others: inverse, or none needed"),
        "{rollback}"
    );
    // The verdict line comes last.
    assert!(out
        .trim_end()
        .lines()
        .last()
        .unwrap()
        .starts_with("rollsafe: unsafe"));
}

#[test]
fn a_history_audit_says_why_it_has_no_rollback_window() {
    let mut report = demo_report();
    report.rollback.releases = Some("v*".into());
    let out = text::render(&report, false);
    assert!(
        out.contains("  window: not computed in a history audit"),
        "{out}"
    );
    assert!(
        markdown::render(&report).contains("**Rollback window:** not computed in a history audit")
    );
}

#[test]
fn recipes_name_the_object_of_the_finding() {
    let report = demo_report();
    let drop = report
        .findings
        .iter()
        .find(|f| f.rule == "drop-column")
        .unwrap();
    assert_eq!(drop.object.as_deref(), Some("public.users.name"));
    assert!(
        drop.help.contains("[[retire]] object = \"users.name\""),
        "{}",
        drop.help
    );
    for finding in &report.findings {
        assert!(!finding.help.contains("legacy_email"), "{}", finding.help);
        assert!(
            !finding.help.contains('{'),
            "a placeholder left: {}",
            finding.help
        );
    }
}

/// The demo's findings repeated until the markdown is far longer than a comment, with the
/// errors last in the list, so that only the order of severity puts them first.
fn huge_report() -> Report {
    let mut report = demo_report();
    let errors: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .cloned()
        .collect();
    // The demo's warning is folded into its error: warnings here are the errors, weakened.
    let warnings: Vec<_> = errors
        .iter()
        .map(|f| rollsafe::report::FindingEntry {
            severity: Severity::Warning,
            related: Vec::new(),
            ..f.clone()
        })
        .collect();
    let mut findings = Vec::new();
    for _ in 0..500 {
        findings.extend(warnings.iter().cloned());
    }
    for _ in 0..20 {
        findings.extend(errors.iter().cloned());
    }
    report.counts.errors = count(&findings, Severity::Error);
    report.counts.warnings = count(&findings, Severity::Warning);
    report.findings = findings;
    report
}

fn count(findings: &[rollsafe::report::FindingEntry], severity: Severity) -> usize {
    findings.iter().filter(|f| f.severity == severity).count()
}

#[test]
fn a_long_markdown_report_is_cut_to_fit_a_comment_with_every_error() {
    let report = huge_report();
    let out = markdown::render(&report);
    assert!(
        out.chars().count() <= markdown::COMMENT_LIMIT,
        "{}",
        out.len()
    );
    assert!(
        out.starts_with("## ❌ rollsafe: unsafe — 40 errors, 1000 warnings"),
        "{}",
        &out[..200]
    );
    assert_eq!(out.matches("**error** `").count(), 40);
    let shown = out.matches("**warning** `").count();
    assert!(shown > 0 && shown < 1000, "{shown} warnings shown");
    // The errors fit in full (with their SQL); the warnings that fit, on a line each.
    assert_eq!(out.matches("\n**error** `").count(), 40);
    assert!(out.contains("- **warning** `drop-column` line 4: drops column public.users.name"));
    let line = format!("**{} findings left out**", 1000 - shown);
    assert!(out.contains(&line), "{line}");
    assert!(out.contains("`--format json -o FILE`"));
    assert!(out.trim_end().ends_with("<!-- rollsafe-report -->"));
    // A report that fits is not cut.
    let small = markdown::render(&demo_report());
    assert!(!small.contains("left out"));
}

#[test]
fn a_tight_limit_keeps_the_verdict_and_errors_before_anything_else() {
    let report = huge_report();
    // Room for every error on a line, the first ones in full, then warnings.
    let out = markdown::render_within(&report, 12_000);
    assert!(out.chars().count() <= 12_000, "{}", out.chars().count());
    assert!(out.starts_with("## ❌ rollsafe: unsafe"));
    assert_eq!(out.matches("**error** `").count(), 40, "{out}");
    assert!(
        out.contains("\n**error** `drop-column` at `fixtures/demo/"),
        "{out}"
    );
    assert!(out.contains("\n- **error** `"), "{out}");
    let last_error = out.rfind("**error** `").unwrap();
    assert!(out
        .find("**warning** `")
        .is_none_or(|first| first > last_error));
    let warnings = out.matches("**warning** `").count();
    assert!(out.contains(&format!("**{} findings left out**", 1000 - warnings)));
    // Room for some errors only: no warning, and the count says so.
    let out = markdown::render_within(&report, 6_000);
    assert!(out.chars().count() <= 6_000, "{}", out.chars().count());
    let errors = out.matches("**error** `").count();
    assert!(errors > 0 && errors < 40, "{errors} errors shown");
    assert!(
        !out.contains("**warning** `"),
        "errors come before any warning"
    );
    assert!(
        out.contains(&format!("**{} findings left out**", 1040 - errors)),
        "{out}"
    );
}

#[test]
fn markdown_orders_findings_by_severity_so_no_error_folds_under_a_shown_warning() {
    let report = huge_report();
    let out = markdown::render_within(&report, usize::MAX);
    let (shown, folded) = out.split_once("<details><summary>").unwrap();
    assert_eq!(shown.matches("**error** `").count(), 10);
    assert!(!shown.contains("**warning** `"));
    let first_warning = folded.find("**warning** `").unwrap();
    let last_error = folded.rfind("**error** `").unwrap();
    assert!(last_error < first_warning);
}

#[test]
fn the_verdict_marker_is_no_checkbox() {
    let out = markdown::render(&demo_report());
    let first = out.lines().next().unwrap();
    assert!(!first.contains("[x]") && !first.contains("[ ]"), "{first}");
    assert!(first.starts_with("## ❌ "), "{first}");
}

#[test]
fn ignored_files_fold_in_markdown_and_verbose_lists_them_with_the_reason() {
    let mut report = demo_report();
    assert!(!markdown::render(&report).contains("### Not checked"));
    report.ignored = vec![rollsafe::layout::Ignored {
        path: "fixtures/demo/seed.sql".into(),
        reason: "no version in the name".into(),
    }];
    let out = markdown::render(&report);
    assert!(
        out.contains(
            "### Not checked\n\n<details><summary>1 file in the migrations directory is not a \
             golang-migrate migration</summary>\n\n- `fixtures/demo/seed.sql`: no version in \
             the name\n"
        ),
        "{out}"
    );
    let verbose = text::verbose(&report);
    assert!(
        verbose.contains("config: fixtures/demo/rollsafe.toml\n"),
        "{verbose}"
    );
    assert!(
        verbose.contains("layout: golang-migrate, dialect: postgres\n"),
        "{verbose}"
    );
    assert!(
        verbose.contains("migration 0004 (fixtures/demo/0004_add_users_display_name.up.sql): one multi-statement query"),
        "{verbose}"
    );
    assert!(verbose.contains("not checked: fixtures/demo/seed.sql: no version in the name\n"));
    assert!(text::render(&report, false).contains(
        "note: 1 file in the migrations directory is not a golang-migrate migration and \
             was not checked (`--verbose` lists it with the reason)"
    ));
}

#[test]
fn github_and_sarif_count_the_files_not_checked() {
    let mut report = demo_report();
    assert!(!github::render(&report).contains("not checked"));
    assert!(parse(&sarif::render(&report))["runs"][0]["properties"]
        .get("ignored")
        .is_none());
    report.ignored = vec![rollsafe::layout::Ignored {
        path: "fixtures/demo/seed.sql".into(),
        reason: "no version in the name".into(),
    }];
    let github = github::render(&report);
    let last = github.lines().last().unwrap();
    assert!(
        last.ends_with(
            "; 1 file in the migrations directory is not a golang-migrate migration: not checked"
        ),
        "{last}"
    );
    let sarif = parse(&sarif::render(&report));
    assert_eq!(
        sarif["runs"][0]["properties"]["ignored"][0]["path"],
        "fixtures/demo/seed.sql"
    );
}

#[test]
fn verbose_prints_what_the_run_read_on_stderr() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = rollsafe_in(root, &["fixtures/demo", "--all", "--verbose", "-q"]);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot be used with"),
        "--verbose and --quiet conflict: {err}"
    );
    let output = rollsafe_in(root, &["fixtures/demo", "--all", "--verbose"]);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("rollsafe: config: fixtures/demo/rollsafe.toml\n"),
        "{err}"
    );
    assert!(
        err.contains("rollsafe: layout: golang-migrate, dialect: postgres\n"),
        "{err}"
    );
    assert!(
        err.contains("rollsafe: migration 0001 (fixtures/demo/0001_create_users.up.sql): "),
        "{err}"
    );
    // The report itself stays on stdout.
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.starts_with("history audit: "), "{out}");
}

/// The fenced block that follows `marker` in `text`, without its fences.
fn block_after<'a>(text: &'a str, marker: &str, fence: &str) -> &'a str {
    let start = text.find(marker).expect("the section") + marker.len();
    let body = &text[start..];
    let body = &body[body.find(fence).expect("a fenced block")..];
    let body = &body[body.find('\n').unwrap() + 1..];
    &body[..body.find(&format!("\n{fence}")).expect("the closing fence") + 1]
}

#[test]
fn docs_ci_quotes_real_output() {
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ci.md"))
        .expect("docs/ci.md");
    let report = demo_report();
    let quoted = [
        (
            block_after(&ci, "### markdown\n", "````"),
            markdown::render(&report),
        ),
        (
            block_after(&ci, "### github\n", "```"),
            github::render(&report),
        ),
        (
            block_after(&ci, "(the default) states what it compared", "```"),
            text::render(&report, false),
        ),
    ];
    for (block, real) in quoted {
        let real_lines: BTreeSet<&str> = real.lines().map(str::trim_end).collect();
        for line in block.lines().map(str::trim_end) {
            if line == "…" || line.is_empty() {
                continue;
            }
            assert!(
                real_lines.contains(line),
                "docs/ci.md quotes a line the demo does not print:\n{line}"
            );
        }
    }
}
