//! The SQL front end never panics: random slices of every corpus file (cut mid-string,
//! mid-comment, mid-dollar-quote) in every dialect, and deep nesting. The corpus part is
//! skipped, with a note, when `../shared/corpus` is absent. (Parse rates per set are in
//! `tests/corpus.rs`, which runs the whole pipeline.)

use rollsafe::dialect::Dialect;
use rollsafe::sql::parse_sql;
use std::path::{Path, PathBuf};

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
