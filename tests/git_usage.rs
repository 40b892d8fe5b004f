//! Compat findings judged on what N-1's code uses, end to end: throwaway repositories with a
//! Diesel app built with git2, the binary run on them, its JSON report read.

mod common;

use common::Repo;
use serde_json::Value;
use std::path::Path;

const INIT: &str =
    "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, legacy_email text);\n";
const DROP: &str = "SET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN legacy_email;\n";

fn schema_rs(with_legacy: bool) -> String {
    format!(
        "// @generated automatically by Diesel CLI.\n\ndiesel::table! {{\n    users (id) {{\n        id -> Int8,\n        email -> Text,\n{}    }}\n}}\n",
        if with_legacy { "        legacy_email -> Nullable<Text>,\n" } else { "" }
    )
}

fn models_rs(with_legacy: bool) -> String {
    format!(
        "use crate::schema::users;\nuse diesel::prelude::*;\n\n#[derive(Queryable, Selectable)]\n#[diesel(table_name = users)]\npub struct User {{\n    pub id: i64,\n    pub email: String,\n{}}}\n",
        if with_legacy { "    pub legacy_email: Option<String>,\n" } else { "" }
    )
}

/// Release v1: the app reads `users.legacy_email`.
fn v1() -> Repo {
    let repo = Repo::new();
    repo.write("migrations/0001_users.up.sql", INIT);
    repo.write("src/schema.rs", &schema_rs(true));
    repo.write("src/models.rs", &models_rs(true));
    repo.write("src/main.rs", "mod models;\nmod schema;\nfn main() {}\n");
    repo.commit("release 1");
    repo.tag("v1");
    repo
}

/// Release v2: the code stops naming the column (the contract step's first half).
fn v2() -> Repo {
    let repo = v1();
    repo.write("src/schema.rs", &schema_rs(false));
    repo.write("src/models.rs", &models_rs(false));
    repo.commit("release 2: stop reading legacy_email");
    repo.tag("v2");
    repo
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

#[test]
fn a_column_the_shipped_code_stopped_naming_drops_as_info() {
    let repo = v2();
    repo.write("migrations/0002_drop_legacy.up.sql", DROP);
    let (code, report) = repo.check_json(&["--base", "v2", "migrations"]);
    assert_eq!(code, 0, "{report}");
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "drop-column");
    assert_eq!(finding["severity"], "info");
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("N-1 does not reference users.legacy_email"),
        "{message}"
    );
    assert!(message.contains("src/schema.rs"), "{message}");
    assert!(message.contains("at v2"), "{message}");
    assert_eq!(report["rollback"]["image_only_safe"], true, "{report}");
}

#[test]
fn a_column_dropped_with_its_removal_from_schema_rs_is_an_error_citing_the_base() {
    let repo = v1();
    repo.write("src/schema.rs", &schema_rs(false));
    repo.write("src/models.rs", &models_rs(false));
    repo.write("migrations/0002_drop_legacy.up.sql", DROP);
    let (code, report) = repo.check_json(&["--base", "v1", "migrations"]);
    assert_eq!(code, 1, "{report}");
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "drop-column");
    assert_eq!(finding["severity"], "error");
    let line = line_of(&models_rs(true), "pub legacy_email");
    let evidence = &finding["evidence"][0];
    assert_eq!(evidence["path"], "src/models.rs");
    assert_eq!(evidence["line"], line);
    assert_eq!(evidence["rev"], "v1");
    assert_eq!(evidence["source"], "diesel");
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "N-1 reads users.legacy_email: src/models.rs:{line} at v1"
        )),
        "{message}"
    );
}

#[test]
fn a_column_still_named_in_a_raw_query_string_stays_an_error() {
    let repo = v2();
    repo.write(
        "src/report.rs",
        "pub const LEGACY: &str = \"SELECT id FROM users WHERE legacy_email IS NOT NULL\";\n",
    );
    repo.commit("a report still reads the column");
    repo.write("migrations/0002_drop_legacy.up.sql", DROP);
    let (code, report) = repo.check_json(&["--base", "HEAD", "migrations"]);
    assert_eq!(code, 1, "{report}");
    let finding = &report["findings"][0];
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["evidence"][0]["path"], "src/report.rs");
    assert_eq!(finding["evidence"][0]["line"], 1);
    assert_eq!(finding["evidence"][0]["source"], "mention");
}

#[test]
fn a_schema_rs_that_does_not_parse_keeps_the_presumption_and_warns() {
    let repo = v2();
    repo.write(
        "src/schema.rs",
        "diesel::table! {\n    users (id) {\n        id -> \n",
    );
    repo.commit("broken schema");
    repo.write("migrations/0002_drop_legacy.up.sql", DROP);
    let output = repo.run(&["check", "--base", "HEAD", "migrations"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("src/schema.rs:"), "{stderr}");
}

#[test]
fn a_shipped_retire_still_wins_over_evidence() {
    let repo = v1();
    repo.write(
        "rollsafe.toml",
        "[[retire]]\nobject = \"users.legacy_email\"\nreason = \"moved\"\n",
    );
    repo.commit("retire it");
    repo.write("migrations/0002_drop_legacy.up.sql", DROP);
    let (code, report) = repo.check_json(&["--base", "HEAD", "migrations"]);
    assert_eq!(code, 0, "{report}");
    assert!(
        report["findings"].as_array().unwrap().is_empty(),
        "{report}"
    );
}

#[test]
fn the_usage_command_says_who_reads_a_column() {
    let repo = v1();
    let output = repo.run(&[
        "usage",
        "--rev",
        "v1",
        "users.legacy_email",
        "--dir",
        "migrations",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = line_of(&models_rs(true), "pub legacy_email");
    assert!(
        stdout.contains(&format!("src/models.rs:{line}")),
        "{stdout}"
    );
    let output = repo.run(&[
        "usage",
        "--rev",
        "v1",
        "--format",
        "json",
        "users.legacy_email",
        "--dir",
        "migrations",
    ]);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["objects"][0]["object"], "users.legacy_email");
    assert_eq!(json["objects"][0]["evidence"][0]["line"], line);
}

const ADD_REQUIRED: &str =
    "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN nickname text NOT NULL;\n";

#[test]
fn a_required_column_cites_the_n1_insert_that_omits_it() {
    let repo = v2();
    let models = format!(
        "{}\n#[derive(Insertable)]\n#[diesel(table_name = users)]\npub struct NewUser {{\n    pub email: String,\n}}\n",
        models_rs(false)
    );
    repo.write("src/models.rs", &models);
    repo.commit("users can sign up");
    repo.write("migrations/0002_nickname.up.sql", ADD_REQUIRED);
    let (code, report) = repo.check_json(&["--base", "HEAD", "migrations"]);
    assert_eq!(code, 1, "{report}");
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "add-required-column");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["evidence"][0]["path"], "src/models.rs");
    assert_eq!(finding["evidence"][0]["line"], line_of(&models, "NewUser"));
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("N-1 inserts into users without nickname: src/models.rs:"),
        "{message}"
    );
}

#[test]
fn a_required_column_on_a_table_n1_never_inserts_into_is_info() {
    let repo = v2();
    repo.write("migrations/0002_nickname.up.sql", ADD_REQUIRED);
    let (code, report) = repo.check_json(&["--base", "HEAD", "migrations"]);
    assert_eq!(code, 0, "{report}");
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "add-required-column");
    assert_eq!(finding["severity"], "info");
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("no N-1 statement inserts into users without nickname"),
        "{message}"
    );
}

#[test]
fn a_table_dropped_while_n1_queries_it_cites_the_query() {
    let repo = v2();
    repo.write(
        "src/audit.rs",
        "pub async fn log(pool: &PgPool) {\n    sqlx::query!(\"INSERT INTO users (email) VALUES ($1)\", \"x\")\n        .execute(pool)\n        .await;\n}\n",
    );
    repo.commit("audit");
    repo.write("migrations/0002_drop.up.sql", "DROP TABLE users;\n");
    let (code, report) = repo.check_json(&["--base", "HEAD", "migrations"]);
    assert_eq!(code, 1, "{report}");
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "drop-table")
        .unwrap();
    let evidence = finding["evidence"].as_array().unwrap();
    assert!(
        evidence
            .iter()
            .any(|e| e["path"] == "src/audit.rs" && e["line"] == 2 && e["source"] == "sqlx"),
        "{finding}"
    );
}

#[test]
fn a_renamed_column_the_code_no_longer_names_is_info_and_one_it_names_is_an_error() {
    let repo = v2();
    repo.write(
        "migrations/0002_rename.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE users RENAME COLUMN legacy_email TO old_email;\n",
    );
    let (code, report) = repo.check_json(&["--base", "HEAD", "migrations"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["findings"][0]["rule"], "rename-column");
    assert_eq!(report["findings"][0]["severity"], "info");

    repo.write(
        "migrations/0002_rename.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE users RENAME COLUMN email TO email_address;\n",
    );
    let (code, report) = repo.check_json(&["--base", "HEAD", "migrations"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["findings"][0]["severity"], "error");
    assert_eq!(
        report["findings"][0]["evidence"][0]["path"],
        "src/models.rs"
    );
}

#[test]
fn the_markdown_report_says_what_n1_uses() {
    let repo = v1();
    repo.write("migrations/0002_drop_legacy.up.sql", DROP);
    let output = repo.run(&[
        "check",
        "--format",
        "markdown",
        "--base",
        "v1",
        "migrations",
    ]);
    let markdown = String::from_utf8_lossy(&output.stdout);
    let line = line_of(&models_rs(true), "pub legacy_email");
    assert!(markdown.contains("### What N-1 uses"), "{markdown}");
    assert!(
        markdown.contains(&format!("`src/models.rs:{line}` at v1")),
        "{markdown}"
    );
    let text = String::from_utf8_lossy(&repo.run(&["check", "--base", "v1", "migrations"]).stdout)
        .into_owned();
    assert!(
        text.contains(&format!(
            "evidence: src/models.rs:{line} at v1 (diesel, reads)"
        )),
        "{text}"
    );
}

/// Copies the files of `fixtures/usage/<dir>` into the repository, over what is there.
fn lay(repo: &Repo, dir: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/usage")
        .join(dir);
    for entry in walk(&root) {
        let relative = entry
            .strip_prefix(&root)
            .unwrap()
            .to_str()
            .unwrap()
            .replace('\\', "/");
        repo.write(&relative, &std::fs::read_to_string(&entry).unwrap());
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn the_diesel_fixture_app_drops_quietly_only_after_the_code_stopped_naming_the_column() {
    let repo = Repo::new();
    lay(&repo, "diesel-app/release-1");
    repo.commit("release 1");
    repo.tag("v1");
    lay(&repo, "diesel-app/release-2");
    // Dropped in the same change as its removal from the code: N-1 (v1) still reads it.
    lay(&repo, "diesel-app/deploy");
    let (code, report) = repo.check_json(&["--base", "v1", "migrations"]);
    assert_eq!(code, 1, "{report}");
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "drop-column");
    let models = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/usage/diesel-app/release-1/src/models.rs"),
    )
    .unwrap();
    let schema = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/usage/diesel-app/release-1/src/schema.rs"),
    )
    .unwrap();
    let cited: Vec<(String, u64)> = finding["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let model_line = line_of(&models, "pub legacy_email") as u64;
    assert!(
        cited.contains(&("src/models.rs".to_string(), model_line)),
        "{cited:?}"
    );
    // `schema.rs` declares it, which alone is not a use: not cited.
    let declared = line_of(&schema, "legacy_email") as u64;
    assert!(
        !cited.contains(&("src/schema.rs".to_string(), declared)),
        "{cited:?}"
    );

    // Release 2 ships first: then the drop is an automatic retirement.
    std::fs::remove_dir_all(
        repo.path()
            .join("migrations/2024-06-01-000000_drop_legacy_email"),
    )
    .unwrap();
    repo.commit("release 2");
    repo.tag("v2");
    lay(&repo, "diesel-app/deploy");
    let (code, report) = repo.check_json(&["--base", "v2", "migrations"]);
    assert_eq!(code, 0, "{report}");
    let drop = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "drop-column")
        .unwrap();
    // The drop itself is an automatic retirement; the data loss folded into it (the
    // fixture writes downs) keeps it a warning, which does not block the deploy.
    assert!(
        drop["message"]
            .as_str()
            .unwrap()
            .contains("(an automatic retirement)"),
        "{report}"
    );
    assert_eq!(drop["related"][0]["rule"], "irreversible-up", "{report}");
    assert_eq!(report["counts"]["errors"], 0);
    assert_eq!(report["rollback"]["image_only_safe"], true);
}

#[test]
fn the_history_audit_reads_usage_only_from_the_revision_asked_for() {
    let repo = v2();
    repo.write("migrations/0002_drop_legacy.up.sql", DROP);
    let (code, report) = repo.check_json(&["--all", "migrations"]);
    assert_eq!(
        code, 1,
        "without --usage-from the presumption stands: {report}"
    );
    let (code, report) = repo.check_json(&["--all", "--usage-from", "v2", "migrations"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["findings"][0]["rule"], "drop-column");
    assert_eq!(report["findings"][0]["severity"], "info");
    let (code, report) = repo.check_json(&["--all", "--usage-from", "v1", "migrations"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["findings"][0]["evidence"][0]["rev"], "v1");
}

#[test]
fn sqlc_queries_are_cited_and_a_column_they_stopped_naming_drops_as_info() {
    let repo = Repo::new();
    repo.write("migrations/0001_users.up.sql", INIT);
    repo.write(
        "sqlc.yaml",
        "version: \"2\"\nsql:\n  - engine: postgresql\n    queries: db/query/\n    schema: migrations/\n    gen:\n      go:\n        package: db\n        out: internal/db\n",
    );
    let queries = "-- name: GetUser :one\nSELECT u.id, u.email, u.legacy_email\nFROM users u\nWHERE u.id = $1;\n";
    repo.write("db/query/users.sql", queries);
    repo.commit("release 1");
    repo.write("migrations/0002_drop_legacy.up.sql", DROP);
    let (code, report) = repo.check_json(&["--base", "HEAD", "migrations"]);
    assert_eq!(code, 1, "{report}");
    let evidence = &report["findings"][0]["evidence"][0];
    assert_eq!(evidence["path"], "db/query/users.sql");
    assert_eq!(evidence["line"], 2);
    assert_eq!(evidence["source"], "sqlc");

    std::fs::remove_file(repo.path().join("migrations/0002_drop_legacy.up.sql")).unwrap();
    repo.write(
        "db/query/users.sql",
        "-- name: GetUser :one\nSELECT u.id, u.email\nFROM users u\nWHERE u.id = $1;\n",
    );
    repo.commit("release 2: stop reading legacy_email");
    repo.write("migrations/0002_drop_legacy.up.sql", DROP);
    let (code, report) = repo.check_json(&["--base", "HEAD", "migrations"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["findings"][0]["severity"], "info", "{report}");
}

#[test]
fn prisma_reads_every_mapped_column_and_not_an_ignored_one() {
    let repo = Repo::new();
    repo.write("migrations/0001_users.up.sql", INIT);
    let schema = "model User {\n  id          BigInt  @id\n  email       String\n  legacyEmail String? @map(\"legacy_email\")\n\n  @@map(\"users\")\n}\n";
    repo.write("prisma/schema.prisma", schema);
    repo.commit("release 1");
    repo.write("migrations/0002_drop_legacy.up.sql", DROP);
    let (code, report) = repo.check_json(&["--base", "HEAD", "migrations"]);
    assert_eq!(code, 1, "{report}");
    let evidence = &report["findings"][0]["evidence"][0];
    assert_eq!(evidence["path"], "prisma/schema.prisma");
    assert_eq!(evidence["line"], 4);
    assert_eq!(evidence["source"], "prisma");

    std::fs::remove_file(repo.path().join("migrations/0002_drop_legacy.up.sql")).unwrap();
    repo.write(
        "prisma/schema.prisma",
        &schema.replace("@map(\"legacy_email\")", "@map(\"legacy_email\") @ignore"),
    );
    repo.commit("release 2: the client no longer selects it");
    repo.write("migrations/0002_drop_legacy.up.sql", DROP);
    let (code, report) = repo.check_json(&["--base", "HEAD", "migrations"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["findings"][0]["severity"], "info", "{report}");
}

#[test]
fn the_rollback_window_reads_each_releases_usage_at_its_tag() {
    let repo = v2();
    repo.write(
        "rollsafe.toml",
        "[rollback]\nreleases = \"v*\"\nwindow = 2\n",
    );
    repo.write("migrations/0002_drop_legacy.up.sql", DROP);
    let (_, report) = repo.check_json(&["--base", "v2", "migrations"]);
    let window = report["rollback"]["window"].as_array().unwrap();
    assert_eq!(window.len(), 2, "{report}");
    assert_eq!(window[0]["release"], "v2");
    assert_eq!(window[0]["safe"], true, "{report}");
    assert_eq!(window[1]["release"], "v1");
    assert_eq!(window[1]["safe"], false, "{report}");
    let line = line_of(&models_rs(true), "pub legacy_email");
    let reasons = window[1]["reasons"].to_string();
    assert!(
        reasons.contains(&format!(
            "N-1 reads users.legacy_email: src/models.rs:{line} at v1"
        )),
        "{reasons}"
    );
}
