//! Every rule's examples in `rules/<id>.toml`: the bad one fires the rule, the good one
//! (the safe recipe) does not.

use rollsafe::check::run_example_with_down;
use rollsafe::rules::{self, Category};

#[test]
fn every_rule_fires_on_its_bad_example_and_not_on_its_good_one() {
    let mut failures = Vec::new();
    for meta in rules::all_meta() {
        // History rules and the rollback window compare revisions; a single-snapshot example
        // cannot show them. tests/git_source.rs and tests/git_cli.rs run them on real
        // repositories instead.
        if meta.category == Category::History || meta.id == "rollback-window" {
            continue;
        }
        let example = &meta.example;
        let run = |setup: &str, sql: &str, down: &Option<String>, config: &str| {
            run_example_with_down(setup, sql, down.as_deref(), config, example.transaction)
        };
        let good_config = example.good_config.as_ref().unwrap_or(&example.config);
        match run(
            &example.setup,
            &example.bad,
            &example.bad_down,
            &example.config,
        ) {
            Ok(findings) if findings.iter().any(|f| f.finding.rule == meta.id) => {}
            Ok(findings) => failures.push(format!(
                "{}: bad example did not fire it (fired: {:?})",
                meta.id,
                findings.iter().map(|f| f.finding.rule).collect::<Vec<_>>()
            )),
            Err(err) => failures.push(format!("{}: bad example failed: {err:#}", meta.id)),
        }
        match run(
            &example.good_base(),
            &example.good,
            &example.good_down,
            good_config,
        ) {
            Ok(findings) if findings.iter().all(|f| f.finding.rule != meta.id) => {}
            Ok(findings) => failures.push(format!(
                "{}: good example fired it: {:?}",
                meta.id,
                findings
                    .iter()
                    .filter(|f| f.finding.rule == meta.id)
                    .map(|f| &f.finding.message)
                    .collect::<Vec<_>>()
            )),
            Err(err) => failures.push(format!("{}: good example failed: {err:#}", meta.id)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_file_is_registered_and_every_rule_has_a_file() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .expect("rules/ exists")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".toml").map(str::to_string)
        })
        .collect();
    on_disk.sort();
    let mut registered: Vec<String> = rules::RULES.iter().map(|r| r.id.to_string()).collect();
    registered.sort();
    assert_eq!(on_disk, registered);
    for entry in rules::RULES {
        assert_eq!(
            entry.rule.id(),
            entry.id,
            "registry entry and rule disagree"
        );
    }
}

/// The safe example is the same change done safely, so it must be clean as a whole: no rule
/// (not only the one it illustrates) reports anything on it.
#[test]
fn every_good_example_is_clean() {
    let mut failures = Vec::new();
    for meta in rules::all_meta() {
        if meta.category == Category::History || meta.id == "rollback-window" {
            continue;
        }
        let example = &meta.example;
        let config = example.good_config.as_ref().unwrap_or(&example.config);
        match run_example_with_down(
            &example.good_base(),
            &example.good,
            example.good_down.as_deref(),
            config,
            example.transaction,
        ) {
            Ok(findings) if findings.is_empty() => {}
            Ok(findings) => failures.push(format!(
                "{}: the good example fires {:?}",
                meta.id,
                findings
                    .iter()
                    .map(|f| (f.finding.rule, &f.finding.message))
                    .collect::<Vec<_>>()
            )),
            Err(err) => failures.push(format!("{}: good example failed: {err:#}", meta.id)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The good example fixes the bad one's change, not some other change: it names an object
/// the bad example names (a column, index, constraint or view), or its replacement
/// (`amount` → `amount_big`).
#[test]
fn every_good_example_changes_what_the_bad_one_changes() {
    let identifiers = |sql: &str| -> std::collections::BTreeSet<String> {
        sql.lines()
            .filter(|line| !line.trim_start().starts_with("--"))
            .flat_map(|line| line.split(|c: char| !(c.is_alphanumeric() || c == '_')))
            .filter(|word| word.chars().any(|c| c.is_alphabetic()))
            .map(str::to_ascii_lowercase)
            .filter(|word| !SQL_WORDS.contains(&word.as_str()))
            .collect()
    };
    let mut failures = Vec::new();
    for meta in rules::all_meta() {
        let example = &meta.example;
        let bad = identifiers(&example.bad);
        let good = identifiers(&example.good);
        let related = good.iter().any(|g| {
            bad.iter()
                .any(|b| g == b || g.starts_with(&format!("{b}_")))
        });
        if !bad.is_empty() && !related {
            failures.push(format!(
                "{}: the good example names none of {bad:?}",
                meta.id
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Keywords the overlap check ignores: sharing `ALTER TABLE` does not make two changes one.
const SQL_WORDS: &[&str] = &[
    "alter",
    "table",
    "column",
    "drop",
    "create",
    "index",
    "concurrently",
    "constraint",
    "unique",
    "check",
    "valid",
    "validate",
    "foreign",
    "references",
    "primary",
    "default",
    "null",
    "type",
    "text",
    "bigint",
    "integer",
    "numeric",
    "boolean",
    "update",
    "delete",
    "insert",
    "into",
    "from",
    "where",
    "select",
    "exists",
    "rename",
    "value",
    "view",
    "replace",
    "begin",
    "commit",
    "lock_timeout",
    "session",
    "lock_wait_timeout",
    "algorithm",
    "instant",
    "copy",
    "vacuum",
    "full",
    "reindex",
    "using",
    "between",
    "users",
    "orders",
    "add",
    "set",
    "not",
    "to",
    "on",
    "if",
    "key",
    "and",
    "in",
    "uuid",
    "int",
    "timestamptz",
];

/// Every example's config (history rules and the rollback window included, whose examples
/// are not run here) is one rollsafe accepts.
#[test]
fn every_example_config_parses() {
    for meta in rules::all_meta() {
        let example = &meta.example;
        for config in std::iter::once(&example.config).chain(example.good_config.as_ref()) {
            let path = std::path::Path::new("rollsafe.toml");
            if let Err(err) = rollsafe::config::Config::parse(config, path) {
                panic!("{}: example config does not parse: {err:#}", meta.id);
            }
        }
    }
}
