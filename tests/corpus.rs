//! Every set of the shared corpus (`../shared/corpus`, see its MANIFEST.md) through the whole
//! pipeline: discovery, parsing, replay and every rule, in the set's own dialect. Prints per
//! set: migrations, statements, parsed, recognised, unparsed (with the leading keywords
//! that recur among them), findings; asserts at least 99% parsed or recognised and no panic.
//! Skipped, with a note, when the corpus is absent.
//!
//! `cargo test --release --test corpus -- --nocapture` prints the table.

use rollsafe::check::audit_history;
use rollsafe::config::{Config, Settings};
use rollsafe::dialect::Dialect;
use rollsafe::layout::LayoutChoice;
use rollsafe::project::{load_project, Project};
use rollsafe::sql::Understanding;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SETS: &[(&str, Dialect)] = &[
    ("ente/server/migrations", Dialect::Postgres),
    (
        "harness/app/store/database/migrate/postgres",
        Dialect::Postgres,
    ),
    ("flipt/config/migrations/postgres", Dialect::Postgres),
    ("cratesio/migrations", Dialect::Postgres),
    ("vaultwarden/migrations/postgresql", Dialect::Postgres),
    (
        "docsrs/crates/lib/docs_rs_database/migrations",
        Dialect::Postgres,
    ),
    (
        "atuin/crates/atuin-server-postgres/migrations",
        Dialect::Postgres,
    ),
    (
        "marquez/api/src/main/resources/marquez/db/migration",
        Dialect::Postgres,
    ),
    (
        "genie/genie-web/src/main/resources/db/migration/postgresql",
        Dialect::Postgres,
    ),
    ("documenso/packages/prisma/migrations", Dialect::Postgres),
    (
        "hatchet/cmd/hatchet-migrate/migrate/migrations",
        Dialect::Postgres,
    ),
    ("openfga/assets/migrations/postgres", Dialect::Postgres),
    (
        "supabase-postgres/migrations/db/migrations",
        Dialect::Postgres,
    ),
    (
        "supabase-postgres/migrations/db/init-scripts",
        Dialect::Postgres,
    ),
    ("chef-server/src/oc_erchef/schema", Dialect::Postgres),
    (
        "chef-server/src/oc_erchef/schema/baseline",
        Dialect::Postgres,
    ),
    ("chef-server/src/oc_bifrost/schema", Dialect::Postgres),
    ("chef-server/src/bookshelf/schema", Dialect::Postgres),
    ("chatbot-ui/supabase/migrations", Dialect::Postgres),
    ("nakama/migrate/sql", Dialect::Postgres),
    (
        "keto/internal/persistence/sql/migrations/sql",
        Dialect::Postgres,
    ),
    ("hydra/persistence/sql/migrations", Dialect::Postgres),
    ("vaultwarden/migrations/mysql", Dialect::Mysql),
    ("flipt/config/migrations/mysql", Dialect::Mysql),
    (
        "genie/genie-web/src/main/resources/db/migration/mysql",
        Dialect::Mysql,
    ),
    ("openfga/assets/migrations/mysql", Dialect::Mysql),
    (
        "keto/internal/persistence/sql/migrations/sql",
        Dialect::Mysql,
    ),
    ("hydra/persistence/sql/migrations", Dialect::Mysql),
    (
        "killbill/invoice/src/main/resources/org/killbill/billing/invoice/migration",
        Dialect::Mysql,
    ),
    (
        "killbill/payment/src/main/resources/org/killbill/billing/payment/migration",
        Dialect::Mysql,
    ),
    ("harness/app/store/database/migrate/sqlite", Dialect::Sqlite),
    ("vaultwarden/migrations/sqlite", Dialect::Sqlite),
    ("stash/pkg/sqlite/migrations", Dialect::Sqlite),
    ("atuin/crates/atuin-client/migrations", Dialect::Sqlite),
    (
        "atuin/crates/atuin-server-sqlite/migrations",
        Dialect::Sqlite,
    ),
    ("flipt/config/migrations/sqlite3", Dialect::Sqlite),
    ("openfga/assets/migrations/sqlite", Dialect::Sqlite),
    (
        "keto/internal/persistence/sql/migrations/sql",
        Dialect::Sqlite,
    ),
    ("hydra/persistence/sql/migrations", Dialect::Sqlite),
];

/// Statements that are invalid in the source repository itself, so `unparsed-statement` is
/// the right answer for them: (set, how many, what). They do not count against the set.
const INVALID_IN_SOURCE: &[(&str, usize, &str)] = &[
    (
        "ente/server/migrations",
        2,
        "a missing comma between two DROP COLUMN actions; DROP INDEX IF NOT EXISTS",
    ),
    (
        "cratesio/migrations",
        1,
        "a missing `;` between two statements",
    ),
    (
        "flipt/config/migrations/sqlite3",
        1,
        "ADD COLUMN ... AFTER, which is MySQL syntax SQLite rejects",
    ),
];

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is absent under CI",
            dir.display()
        );
        println!("note: {} is absent; corpus test skipped", dir.display());
        None
    }
}

#[derive(Default)]
struct Tally {
    migrations: usize,
    statements: usize,
    parsed: usize,
    recognized: usize,
    unparsed: usize,
    findings: usize,
    unparsed_kinds: BTreeMap<String, usize>,
}

impl Tally {
    fn understood_share(&self) -> f64 {
        if self.statements == 0 {
            return 1.0;
        }
        (self.parsed + self.recognized) as f64 / self.statements as f64
    }

    fn count(&mut self, project: &Project) {
        self.migrations = project.migrations.len();
        for migration in &project.migrations {
            let parts = [
                migration.migration.up.as_ref(),
                migration.migration.down.as_ref(),
            ];
            let files = [Some(&migration.up), migration.down.as_ref()];
            for (part, file) in parts.into_iter().zip(files) {
                let (Some(part), Some(file)) = (part, file) else {
                    continue;
                };
                let text = &project.sources[&part.path];
                for statement in &file.statements {
                    self.statements += 1;
                    match statement.understanding {
                        Understanding::Parsed => self.parsed += 1,
                        Understanding::Recognized => self.recognized += 1,
                        Understanding::Unparsed { .. } => {
                            self.unparsed += 1;
                            let kind = leading_keywords(&text[statement.span.clone()]);
                            *self.unparsed_kinds.entry(kind).or_default() += 1;
                        }
                    }
                }
            }
        }
    }
}

fn leading_keywords(sql: &str) -> String {
    sql.split_whitespace()
        .take(3)
        .map(str::to_uppercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn run_set(root: &Path, dir: &str, dialect: Dialect) -> Tally {
    let snapshot = rollsafe::source::read_dir(&root.join(dir)).expect("readable");
    let config = Config::default();
    let project = load_project(&snapshot, Some(dialect), LayoutChoice::Auto, &config, None)
        .unwrap_or_else(|err| panic!("{dir}: {err:#}"));
    let mut tally = Tally::default();
    tally.count(&project);
    tally.findings = audit_history(&project, &Settings::default(), &[]).len();
    tally
}

#[test]
fn every_corpus_set_runs_through_the_pipeline_and_is_understood() {
    let Some(root) = corpus() else { return };
    println!(
        "{:<72} {:>4} {:>6} {:>6} {:>5} {:>5} {:>8} {:>6}  recurring unparsed",
        "set", "migr", "stmts", "parsed", "recog", "unp", "ok%", "finds"
    );
    let mut below = Vec::new();
    for (dir, dialect) in SETS {
        if !root.join(dir).is_dir() {
            println!("{dir}: not in this corpus, skipped");
            continue;
        }
        let tally = run_set(&root, dir, *dialect);
        let mut kinds: Vec<_> = tally.unparsed_kinds.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1));
        let top: Vec<String> = kinds
            .iter()
            .take(3)
            .map(|(k, n)| format!("{k} ({n})"))
            .collect();
        println!(
            "{:<72} {:>4} {:>6} {:>6} {:>5} {:>5} {:>8.2} {:>6}  {}",
            format!("{dir} [{dialect}]"),
            tally.migrations,
            tally.statements,
            tally.parsed,
            tally.recognized,
            tally.unparsed,
            100.0 * tally.understood_share(),
            tally.findings,
            top.join(", ")
        );
        assert!(tally.migrations > 0, "{dir}: no migrations found");
        let invalid = INVALID_IN_SOURCE
            .iter()
            .find(|(set, _, _)| set == dir)
            .map_or(0, |(_, count, _)| *count);
        let valid = tally.statements - invalid;
        let understood = tally.parsed + tally.recognized;
        if (understood as f64) < 0.99 * valid as f64 {
            below.push(format!("{dir}: {understood} of {valid} valid statements"));
        }
    }
    assert!(
        below.is_empty(),
        "below 99% parsed or recognised: {below:?}"
    );
}
