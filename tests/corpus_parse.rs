//! Parses the shared migration corpus (`../shared/corpus`, see its MANIFEST.md) and reports,
//! per set, how many statements were parsed, recognised or left unparsed, with the leading
//! keywords of the unparsed ones. PostgreSQL sets must reach 99% parsed-or-recognised.
//! Skipped, with a note, when the corpus is absent.

use rollsafe::dialect::Dialect;
use rollsafe::sql::{parse_sql, Understanding};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const POSTGRES_SETS: &[(&str, &str)] = &[
    ("ente", "ente"),
    (
        "harness/postgres",
        "harness/app/store/database/migrate/postgres",
    ),
    ("flipt/postgres", "flipt/config/migrations/postgres"),
    ("cratesio", "cratesio"),
    (
        "vaultwarden/postgresql",
        "vaultwarden/migrations/postgresql",
    ),
    ("docsrs", "docsrs"),
    (
        "atuin/server-postgres",
        "atuin/crates/atuin-server-postgres/migrations",
    ),
    ("marquez", "marquez"),
    (
        "genie/postgresql",
        "genie/genie-web/src/main/resources/db/migration/postgresql",
    ),
    ("documenso", "documenso"),
    ("hatchet", "hatchet"),
    ("openfga/postgres", "openfga/assets/migrations/postgres"),
    ("supabase-postgres", "supabase-postgres"),
    ("chef-server", "chef-server"),
    ("chatbot-ui", "chatbot-ui"),
];

const MYSQL_SETS: &[(&str, &str)] = &[
    ("vaultwarden/mysql", "vaultwarden/migrations/mysql"),
    ("killbill", "killbill"),
    ("flipt/mysql", "flipt/config/migrations/mysql"),
    (
        "genie/mysql",
        "genie/genie-web/src/main/resources/db/migration/mysql",
    ),
    ("openfga/mysql", "openfga/assets/migrations/mysql"),
];

const SQLITE_SETS: &[(&str, &str)] = &[
    (
        "harness/sqlite",
        "harness/app/store/database/migrate/sqlite",
    ),
    ("vaultwarden/sqlite", "vaultwarden/migrations/sqlite"),
    ("stash", "stash"),
    ("atuin/client", "atuin/crates/atuin-client"),
    (
        "atuin/server-sqlite",
        "atuin/crates/atuin-server-sqlite/migrations",
    ),
    ("flipt/sqlite3", "flipt/config/migrations/sqlite3"),
    ("openfga/sqlite", "openfga/assets/migrations/sqlite"),
];

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("note: {} is absent; corpus test skipped", dir.display());
        None
    }
}

fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

#[derive(Default)]
struct Tally {
    statements: usize,
    parsed: usize,
    recognized: usize,
    unparsed: usize,
    unparsed_kinds: BTreeMap<String, usize>,
    examples: Vec<String>,
}

impl Tally {
    fn understood_share(&self) -> f64 {
        if self.statements == 0 {
            return 1.0;
        }
        (self.parsed + self.recognized) as f64 / self.statements as f64
    }
}

fn tally(dir: &Path, dialect: Dialect) -> Tally {
    let mut tally = Tally::default();
    for path in sql_files(dir) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for statement in parse_sql(&text, 0..text.len(), dialect).statements {
            tally.statements += 1;
            match statement.understanding {
                Understanding::Parsed => tally.parsed += 1,
                Understanding::Recognized => tally.recognized += 1,
                Understanding::Unparsed { message } => {
                    tally.unparsed += 1;
                    let sql = &text[statement.span];
                    *tally
                        .unparsed_kinds
                        .entry(leading_keywords(sql))
                        .or_default() += 1;
                    if tally.examples.len() < 5 {
                        let file = path.strip_prefix(dir).unwrap_or(&path).display();
                        tally.examples.push(format!("{file}: {message}"));
                    }
                }
            }
        }
    }
    tally
}

fn leading_keywords(sql: &str) -> String {
    sql.split_whitespace()
        .take(3)
        .map(|w| w.to_uppercase())
        .collect::<Vec<_>>()
        .join(" ")
}

fn report(name: &str, tally: &Tally) {
    let mut kinds: Vec<_> = tally.unparsed_kinds.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1));
    let top: Vec<String> = kinds
        .iter()
        .take(5)
        .map(|(k, n)| format!("{k} ({n})"))
        .collect();
    println!(
        "{name:24} statements {:5}  parsed {:5}  recognised {:4}  unparsed {:3}  {:6.2}%  {}",
        tally.statements,
        tally.parsed,
        tally.recognized,
        tally.unparsed,
        100.0 * tally.understood_share(),
        top.join(", ")
    );
    for example in &tally.examples {
        println!("    {example}");
    }
}

fn run_sets(root: &Path, sets: &[(&str, &str)], dialect: Dialect) -> Vec<(String, f64)> {
    let started = std::time::Instant::now();
    let shares = sets
        .iter()
        .filter(|(_, path)| root.join(path).is_dir())
        .map(|(name, path)| {
            let tally = tally(&root.join(path), dialect);
            report(name, &tally);
            (name.to_string(), tally.understood_share())
        })
        .collect();
    println!("({dialect}: {:.2?})", started.elapsed());
    shares
}

#[test]
fn postgres_sets_are_understood() {
    let Some(root) = corpus() else { return };
    let shares = run_sets(&root, POSTGRES_SETS, Dialect::Postgres);
    let below: Vec<_> = shares.iter().filter(|(_, share)| *share < 0.99).collect();
    assert!(
        below.is_empty(),
        "below 99% parsed or recognised: {below:?}"
    );
}

#[test]
fn mysql_and_sqlite_sets_are_reported() {
    let Some(root) = corpus() else { return };
    run_sets(&root, MYSQL_SETS, Dialect::Mysql);
    run_sets(&root, SQLITE_SETS, Dialect::Sqlite);
}

/// Arbitrary slices of real files (cut mid-string, mid-comment, mid-dollar-quote) must never
/// panic, in any dialect.
#[test]
fn random_slices_do_not_panic() {
    let Some(root) = corpus() else { return };
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |bound: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % bound.max(1) as u64) as usize
    };
    for path in sql_files(&root) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            let (a, b) = (next(text.len() + 1), next(text.len() + 1));
            let (start, end) = (floor_char(&text, a.min(b)), floor_char(&text, a.max(b)));
            let _ = parse_sql(&text, start..end, dialect);
            let _ = parse_sql(&text[start..end], 0..end - start, dialect);
        }
    }
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[test]
fn deep_nesting_does_not_overflow() {
    let deep = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
    let file = parse_sql(&deep, 0..deep.len(), Dialect::Postgres);
    assert_eq!(file.statements.len(), 1);
    let default = format!(
        "CREATE TABLE t (a int DEFAULT {}1{})",
        "(".repeat(3000),
        ")".repeat(3000)
    );
    let _ = parse_sql(&default, 0..default.len(), Dialect::Postgres);
}
