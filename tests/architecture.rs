//! The layering of the crate, enforced: a top-level module may use the modules of lower
//! layers, never one of its own layer or above. Read from the `crate::` paths in `src/`
//! (test code included: a unit test that needs a higher layer belongs in `tests/`).
//!
//! To add a top-level module, put it in `LAYERS` where it belongs; an unlisted module fails
//! the test, so the picture stays complete.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lowest first. The arrows of `docs/architecture.md`, as data.
const LAYERS: &[&[&str]] = &[
    &["dialect", "parallel", "source", "spelling"],
    &["ir", "git"],
    &["sql", "layout"],
    &["config", "cache"],
    &["schema"],
    &["project"],
    &["history", "rollback", "usage"],
    &["rules"],
    &["resolve"],
    &["report"],
    &["check", "docs", "init"],
    &["hook"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for lib.rs and main.rs, which
/// sit above everything).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).expect("a file under src");
    let first = relative.components().next()?.as_os_str().to_str()?;
    let module = first.trim_end_matches(".rs");
    (!matches!(module, "lib" | "main")).then(|| module.to_string())
}

/// The code of a file without comments (a doc comment may name a path it does not use).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names through `crate::`: `crate::a::X`, and each
/// first name of a group `crate::{a::X, b::{Y, Z}}`.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices("crate::") {
        if at > 0 {
            let before = code[..at].chars().next_back().unwrap_or(' ');
            if before.is_alphanumeric() || before == '_' || before == '$' {
                continue;
            }
        }
        let rest = code[at + "crate::".len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            // The first name of each item at depth one of the group.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && depth == 0 && !c.is_whitespace() => {
                        item_start = false;
                        let name = ident(&group[i..]);
                        if !name.is_empty() && name != "self" {
                            used.insert(name);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                used.insert(name);
            }
        }
    }
    used
}

/// Every (module, used module, file) edge of the crate between two top-level modules.
fn edges() -> Vec<(String, String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut edges = Vec::new();
    for file in files {
        let Some(module) = module_of(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("source is UTF-8");
        for used in crate_paths(&without_comments(&text)) {
            if used != module {
                let shown = file.strip_prefix(&src).unwrap().display().to_string();
                edges.push((module.clone(), used, format!("src/{shown}")));
            }
        }
    }
    edges
}

#[test]
fn every_top_level_module_has_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let unlisted: BTreeSet<String> = files
        .iter()
        .filter_map(|file| module_of(&src, file))
        .filter(|module| layer_of(module).is_none())
        .collect();
    assert!(
        unlisted.is_empty(),
        "top-level modules missing from LAYERS in tests/architecture.rs: {unlisted:?}"
    );
}

#[test]
fn dependencies_run_one_way() {
    let mut upward: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (module, used, file) in edges() {
        let (Some(from), Some(to)) = (layer_of(&module), layer_of(&used)) else {
            continue; // an unlisted module fails the test above
        };
        if to >= from {
            upward.entry((module, used)).or_default().push(file);
        }
    }
    let report: Vec<String> = upward
        .iter()
        .map(|((module, used), files)| format!("{module} -> {used} ({})", files.join(", ")))
        .collect();
    assert!(
        report.is_empty(),
        "modules that reach sideways or upward past the layering:\n{}",
        report.join("\n")
    );
}

#[test]
fn the_path_reader_sees_groups_and_plain_paths() {
    let code = "use crate::{a::X, b::{Y, Z}, self};\nlet v = crate::c::f();\nmacro_crate::d;";
    let found: Vec<String> = crate_paths(code).into_iter().collect();
    assert_eq!(found, ["a", "b", "c"]);
}
