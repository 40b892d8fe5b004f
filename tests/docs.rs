//! docs/rules.md is generated from rules/*.toml and must be current.

#[test]
fn rules_md_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = rollsafe::docs::rules_markdown();
    assert!(
        committed == generated,
        "docs/rules.md is out of date: run `cargo run -- rules --format markdown > docs/rules.md`"
    );
}

/// The markdown files whose links users follow: README.md, MIGRATIONS.md and docs/.
fn documents() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md"), root.join("MIGRATIONS.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "md") {
            files.push(path);
        }
    }
    files
}

/// The `[text](target)` links of a markdown text, outside fenced code blocks and inline
/// code, with their line numbers.
fn links(text: &str) -> Vec<(usize, String)> {
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let code = regex::Regex::new(r"`[^`]*`").unwrap();
    let mut fenced = false;
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let line = code.replace_all(line, "");
        for capture in link.captures_iter(&line) {
            found.push((number + 1, capture[1].to_string()));
        }
    }
    found
}

/// GitHub's anchor for a heading: lower case, spaces to `-`, punctuation dropped.
fn anchors(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| line.starts_with('#'))
        .map(|line| {
            line.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

#[test]
fn every_relative_link_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for document in documents() {
        let text = std::fs::read_to_string(&document).unwrap();
        for (line, target) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target.as_str(), None),
            };
            let path = match file {
                "" => document.clone(),
                file => document.parent().unwrap().join(file),
            };
            let place = format!("{}:{line}: {target}", document.display());
            if !path.exists() {
                broken.push(format!("{place}: no such file"));
                continue;
            }
            if let (Some(anchor), true) = (anchor, path.extension().is_some_and(|e| e == "md")) {
                let target_text = std::fs::read_to_string(&path).unwrap();
                if !anchors(&target_text).iter().any(|a| a == anchor) {
                    broken.push(format!("{place}: no heading with that anchor"));
                }
            }
        }
    }
    assert!(
        checked > 5,
        "found only {checked} relative links: is the parser broken?"
    );
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_link_checker_sees_a_broken_link() {
    let text = "See [the rules](rules.md) and [nothing](missing.md#x).\n```\n[code](no.md)\n```\n";
    let found: Vec<String> = links(text).into_iter().map(|(_, t)| t).collect();
    assert_eq!(found, ["rules.md", "missing.md#x"]);
    assert_eq!(
        anchors("## Rollback window: `min`\n"),
        ["rollback-window-min"]
    );
}

/// Every field the JSON report emits (on the demo) is documented in docs/json.md, so the
/// contract users script against does not drift from the product.
#[test]
fn json_md_documents_every_report_field() {
    fn keys(value: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    out.insert(key.clone());
                    keys(inner, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| keys(item, out)),
            _ => {}
        }
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        // Never the user's cache directory.
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("rollsafe-test-cache"),
        )
        .args(["check", "--all", "--format", "json", "fixtures/demo"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let mut fields = std::collections::BTreeSet::new();
    keys(&report, &mut fields);
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json.md")).unwrap();
    let missing: Vec<&String> = fields
        .iter()
        .filter(|field| !doc.contains(&format!("`{field}`")))
        .collect();
    assert!(fields.len() > 20, "{fields:?}");
    assert!(
        missing.is_empty(),
        "docs/json.md does not document {missing:?}"
    );
}
