//! Every view of the rule metadata in `rules/`: `docs/rules.md` (`rollsafe rules --format
//! markdown`; a test fails when the committed file is out of date), `rollsafe rules --format
//! json` and `rollsafe explain`.

use crate::rules::{self, Category, RuleMeta};
use std::fmt::Write as _;

/// Where the rule reference is published; `explain` links each rule's section there.
pub const RULES_URL: &str = "https://github.com/rollsafe/rollsafe/blob/main/docs/rules.md";

/// The link to rule `id`'s section of docs/rules.md (a heading's anchor is its id).
pub fn rule_url(id: &str) -> String {
    format!("{RULES_URL}#{id}")
}

/// The rule `name` names, ignoring case and accepting `_` for `-` (`DROP_COLUMN`).
pub fn find_rule(name: &str) -> Option<&'static RuleMeta> {
    let id = name.trim().to_ascii_lowercase().replace('_', "-");
    rules::meta(&id)
}

/// Rules whose id is close to `name`: containing it, contained in it, or a few edits away.
pub fn similar_rules(name: &str) -> Vec<&'static str> {
    let wanted = name.trim().to_ascii_lowercase().replace('_', "-");
    let mut scored: Vec<(usize, &'static str)> = rules::all_meta()
        .iter()
        .filter_map(|meta| {
            let id = meta.id.as_str();
            let distance = crate::spelling::edit_distance(&wanted, id);
            let related = id.contains(&wanted) || wanted.contains(id) || distance <= 3;
            related.then_some((distance, id))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, id)| id).collect()
}

/// How to keep a rule's findings from failing a deploy: its `[rules]` entry, and the
/// suppression comment for one statement when the rule reports statements.
fn configure_section(meta: &RuleMeta) -> String {
    let id = &meta.id;
    let mut out = format!(
        "Turn it off, or change its severity, in rollsafe.toml:\n\n    [rules]\n    {id} = \"off\"   \
         # or \"info\", \"warning\", \"error\" (default: {})\n",
        meta.severity.name()
    );
    match suppression(meta) {
        Some(comment) => {
            let _ = write!(
                out,
                "\nSuppress it for one statement, with the reason (required, and listed in every \
                 report):\n\n    {comment}\n"
            );
        }
        None => {
            let _ = write!(
                out,
                "\nIt does not report a statement, so no `rollsafe:allow` comment covers it; \
                 fix the cause or change its severity.\n"
            );
        }
    }
    out
}

/// The comment that suppresses one finding of the rule, or `None` when no comment can:
/// the rules about allow comments themselves (`suppressible = false`), and the rules whose
/// findings are on no statement (history, the rollback window, a config entry).
fn suppression(meta: &RuleMeta) -> Option<String> {
    let statementless = meta.category == Category::History
        || matches!(
            meta.id.as_str(),
            "rollback-window" | "retire-unknown-object"
        );
    (meta.suppressible && !statementless)
        .then(|| format!("-- rollsafe:allow {} <why it is safe here>", meta.id))
}

/// `rollsafe explain <id>`: what the rule reports, why it breaks, the recipe, the examples
/// (the same change, unsafe then safe), how to configure or suppress it, and the link.
pub fn explain_text(meta: &RuleMeta) -> String {
    let example = &meta.example;
    let mut out = format!(
        "{id}: {category} rule, {severity} by default\n\n\
         What it reports\n{summary}\n\
         Why it matters\n{why}\n\
         Safe recipe\n{recipe}\n",
        id = meta.id,
        category = meta.category.name(),
        severity = meta.severity.name(),
        summary = wrap(&meta.summary),
        why = wrap(&meta.why),
        recipe = wrap(&meta.recipe),
    );
    out.push_str("Example\n");
    if !example.setup.trim().is_empty() {
        let _ = write!(
            out,
            "  The schema N-1 runs on (earlier migrations):\n{}\n",
            indent_by(&example.setup, 4)
        );
    }
    if !example.config.trim().is_empty() {
        let _ = write!(
            out,
            "  With rollsafe.toml:\n{}\n",
            indent_by(&example.config, 4)
        );
    }
    let _ = write!(out, "  Unsafe:\n{}\n", indent_by(&example.bad, 4));
    if let Some(down) = &example.bad_down {
        let _ = write!(out, "  Its down migration:\n{}\n", indent_by(down, 4));
    }
    if !example.good_setup.trim().is_empty() {
        let _ = write!(
            out,
            "  Safe, first (earlier deploys):\n{}\n",
            indent_by(&example.good_setup, 4)
        );
    }
    if let Some(config) = &example.good_config {
        let _ = write!(
            out,
            "  Safe: rollsafe.toml at the base revision (shipped with N-1):\n{}\n",
            indent_by(config, 4)
        );
    }
    let label = match example.good_setup.trim().is_empty() {
        true => "Safe:",
        false => "Safe, then (this deploy):",
    };
    let _ = write!(out, "  {label}\n{}\n", indent_by(&example.good, 4));
    if let Some(down) = &example.good_down {
        let _ = write!(out, "  Its down migration:\n{}\n", indent_by(down, 4));
    }
    let _ = write!(
        out,
        "Configure\n{}\nMore: {}\n",
        indent(&configure_section(meta)),
        rule_url(&meta.id)
    );
    out
}

fn indent(text: &str) -> String {
    indent_by(text, 2)
}

/// Prose indented by two and wrapped at 90 columns; a numbered step's continuation lines
/// line up under its text.
fn wrap(text: &str) -> String {
    const WIDTH: usize = 90;
    let mut out = String::new();
    for line in text.trim().lines() {
        let hang = match line.split_once(". ") {
            Some((number, _)) if number.chars().all(|c| c.is_ascii_digit()) => number.len() + 2,
            _ => 0,
        };
        let mut current = String::from("  ");
        for word in line.split_whitespace() {
            if current.trim().is_empty() {
                current.push_str(word);
            } else if current.len() + 1 + word.len() > WIDTH {
                out.push_str(&current);
                out.push('\n');
                current = format!("{}{word}", " ".repeat(2 + hang));
            } else {
                current.push(' ');
                current.push_str(word);
            }
        }
        out.push_str(current.trim_end());
        out.push('\n');
    }
    out
}

fn indent_by(text: &str, width: usize) -> String {
    let pad = " ".repeat(width);
    text.trim_end()
        .lines()
        .skip_while(|line| line.trim().is_empty())
        .map(|line| match line.is_empty() {
            true => "\n".to_string(),
            false => format!("{pad}{line}\n"),
        })
        .collect()
}

/// `rollsafe rules --format json`: every rule's metadata, for scripts and editors.
pub fn rules_json() -> String {
    let rules: Vec<serde_json::Value> = rules::all_meta()
        .iter()
        .map(|meta| {
            let example = &meta.example;
            serde_json::json!({
                "id": meta.id,
                "category": meta.category.name(),
                "severity": meta.severity.name(),
                "summary": meta.summary.trim(),
                "why": meta.why.trim(),
                "recipe": meta.recipe.trim(),
                "url": rule_url(&meta.id),
                "suppression": suppression(meta),
                "example": {
                    "setup": example.setup.trim(),
                    "config": example.config.trim(),
                    "bad": example.bad.trim(),
                    "bad_down": example.bad_down.as_deref().map(str::trim),
                    "good": example.good.trim(),
                    "good_setup": example.good_setup.trim(),
                    "good_down": example.good_down.as_deref().map(str::trim),
                    "good_config": example.good_config.as_deref().map(str::trim),
                },
            })
        })
        .collect();
    let document = serde_json::json!({"schema_version": 1, "rules": rules});
    serde_json::to_string_pretty(&document).expect("JSON values serialize") + "\n"
}

const CATEGORIES: [(Category, &str); 6] = [
    (
        Category::History,
        "History: applied migrations must not change",
    ),
    (
        Category::Compat,
        "Compat: what breaks N-1 during the rollout and after a rollback",
    ),
    (
        Category::Discipline,
        "Discipline: expand, backfill, contract",
    ),
    (Category::Rollback, "Rollback"),
    (Category::Lock, "Lock: online safety"),
    (
        Category::Meta,
        "Meta: what rollsafe could not see, and suppressions",
    ),
];

/// How compat findings are judged on what N-1's code uses (the usage stage).
const EVIDENCE: &str = "
### The contract step, judged on evidence

rollsafe reads what N-1's code names at the base revision (in git mode; the `usage` stage):
Diesel's `schema.rs` with the model structs and DSL paths that map or name its columns
(parsed with a Rust parser), Prisma schemas, sqlx's offline query data and `query!` macros,
sqlc and plain query files (each query parsed and resolved against N-1's schema, `*` being
every column at that revision), and a whole-word scan of tracked source files for the names
the deploy touches (tests, docs, vendored and generated code excluded). `rollsafe usage
[--rev REV] [TABLE[.COLUMN]]` prints the same evidence.

- When N-1's code names the object, `drop-column`, `drop-table`, `rename-column`,
  `rename-table`, `drop-view`, `change-column-type` and `change-enum` stay errors and cite it
  (`N-1 reads users.legacy_email: src/models.rs:9 at origin/main; 2 more`; JSON
  `findings[].evidence`).
- When every detected source covers the table, none names the object and the scan finds no
  mention, the finding becomes `info` with what was checked: an automatic retirement. It does
  not block an image-only rollback. So the contract step is: stop naming the column in code,
  ship, then drop it; no `[[retire]]` entry is needed. A `[[retire]]` in the base revision
  still wins.
- `add-required-column`, `set-not-null` and `add-check-constraint` cite the N-1 INSERTs (and,
  for a CHECK, UPDATEs) they break, and become `info` when N-1 provably sends none.
- A source that does not parse is a warning naming its file and line, and covers nothing it
  may name: broken input never makes a finding quieter. A mention only ever keeps a finding
  loud. Sources are detected; `[usage]` in `rollsafe.toml` overrides each (`diesel`,
  `prisma`, `sqlx`, `sqlc`, `queries`, `scan`, `exclude`, `enabled`).
";

pub fn rules_markdown() -> String {
    let metas = rules::all_meta();
    let mut out = String::from(
        "# Rules\n\n\
         <!-- Generated by `rollsafe rules --format markdown` from rules/*.toml; do not edit. -->\n\n\
         Every rule, its default severity (change it under `[rules]` in `rollsafe.toml`), why it\n\
         matters and the safe recipe. `rollsafe explain <id>` prints the same.\n\n\
         | rule | category | default | summary |\n|---|---|---|---|\n",
    );
    for (category, _) in CATEGORIES {
        for meta in metas.iter().filter(|m| m.category == category) {
            let _ = writeln!(
                out,
                "| [`{id}`](#{id}) | {} | {} | {} |",
                category.name(),
                meta.severity.name(),
                meta.summary.trim(),
                id = meta.id
            );
        }
    }
    for (category, title) in CATEGORIES {
        let in_category: Vec<&RuleMeta> = metas.iter().filter(|m| m.category == category).collect();
        if in_category.is_empty() {
            continue;
        }
        let _ = write!(out, "\n## {title}\n");
        if category == Category::Compat {
            out.push_str(EVIDENCE);
        }
        for meta in in_category {
            rule_section(&mut out, meta);
        }
    }
    out
}

fn rule_section(out: &mut String, meta: &RuleMeta) {
    let example = &meta.example;
    let _ = write!(
        out,
        "\n### {id}\n\n{summary}\n\n*Category:* {category} · *default severity:* {severity}\n\n\
         **Why.** {why}\n\n**Safe recipe.**\n\n{recipe}\n\n",
        id = meta.id,
        summary = meta.summary.trim(),
        category = meta.category.name(),
        severity = meta.severity.name(),
        why = meta.why.trim(),
        recipe = meta.recipe.trim(),
    );
    if !example.setup.trim().is_empty() {
        let _ = write!(
            out,
            "Schema before the deploy:\n\n```sql\n{}\n```\n\n",
            example.setup.trim()
        );
    }
    if !example.config.trim().is_empty() {
        let _ = write!(
            out,
            "With `rollsafe.toml`:\n\n```toml\n{}\n```\n\n",
            example.config.trim()
        );
    }
    let _ = write!(out, "Unsafe:\n\n```sql\n{}\n```\n\n", example.bad.trim());
    if !example.good_setup.trim().is_empty() {
        let _ = write!(
            out,
            "Safe, first (earlier deploys):\n\n```sql\n{}\n```\n\n",
            example.good_setup.trim()
        );
    }
    if let Some(config) = &example.good_config {
        let _ = write!(
            out,
            "Safe: `rollsafe.toml` at the base revision (shipped with N-1):\n\n```toml\n{}\n```\n\n",
            config.trim()
        );
    }
    let label = match example.good_setup.trim().is_empty() {
        true => "Safe:",
        false => "Safe, then (this deploy):",
    };
    let _ = write!(out, "{label}\n\n```sql\n{}\n```\n\n", example.good.trim());
    let _ = write!(out, "**Configure.** {}", markdown_configure(meta));
}

/// The configure section for docs/rules.md, with code blocks instead of indentation.
fn markdown_configure(meta: &RuleMeta) -> String {
    let id = &meta.id;
    let mut out = format!(
        "Turn it off or change its severity in `rollsafe.toml`:\n\n```toml\n[rules]\n\
         {id} = \"off\"   # or \"info\", \"warning\", \"error\" (default: {})\n```\n",
        meta.severity.name()
    );
    match suppression(meta) {
        Some(comment) => {
            let _ = write!(
                out,
                "\nSuppress one statement, with the reason (required; every report lists it):\n\n\
                 ```sql\n{comment}\n```\n"
            );
        }
        None => out.push_str(
            "\nIts findings are not on a statement, so no `rollsafe:allow` comment covers them.\n",
        ),
    }
    out
}
