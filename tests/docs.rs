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
