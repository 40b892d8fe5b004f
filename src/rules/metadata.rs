//! Rule metadata, parsed from the embedded `rules/<id>.toml` files.

use super::{Category, Severity, RULES};
use serde::Deserialize;
use std::sync::OnceLock;

/// A rule's example: `setup` is a migration that builds the schema N-1 runs on, then `bad`
/// (one migration, the deploy) must fire the rule and `good`, the same change done safely,
/// must not. When the safe recipe takes several deploys, `good_setup` holds the earlier
/// ones, shipped before `good`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Example {
    #[serde(default)]
    pub setup: String,
    pub bad: String,
    pub good: String,
    /// The recipe's earlier deploys, applied after `setup` before `good` runs.
    #[serde(default)]
    pub good_setup: String,
    /// Down scripts for the bad and good deploys (rollback rules).
    #[serde(default)]
    pub bad_down: Option<String>,
    #[serde(default)]
    pub good_down: Option<String>,
    /// Extra `rollsafe.toml` content the example runs with (e.g. `pg_version = 10`).
    #[serde(default)]
    pub config: String,
    /// The config of the good example, when the recipe is a config change.
    #[serde(default)]
    pub good_config: Option<String>,
    /// Whether the example migration runs inside a transaction (default: yes).
    #[serde(default = "default_true")]
    pub transaction: bool,
}

impl Example {
    /// The schema the good example runs on: `setup`, then the recipe's earlier deploys.
    pub fn good_base(&self) -> String {
        match self.good_setup.trim() {
            "" => self.setup.clone(),
            earlier => format!("{}\n{earlier}\n", self.setup.trim_end()),
        }
    }
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    pub id: String,
    pub category: Category,
    pub severity: Severity,
    /// One line, shown by `rollsafe rules`.
    pub summary: String,
    /// Why the change breaks N-1, a rollback or the database's availability.
    pub why: String,
    /// The safe multi-deploy recipe (shown as `help:`).
    pub recipe: String,
    /// What the rule sees (default: each deploy).
    #[serde(default)]
    pub scope: Scope,
    /// Whether a `rollsafe:allow` comment can suppress its findings (default: yes). The rules
    /// about allow comments themselves cannot be suppressed.
    #[serde(default = "default_true")]
    pub suppressible: bool,
    /// The rules whose finding this one is a consequence of, when both are about the same
    /// statement (the data loss of a reported drop, the scan of a reported new foreign key):
    /// the report shows it inside that finding, so each problem is read once.
    #[serde(default)]
    pub folds_into: Vec<String>,
    pub example: Example,
}

/// What a rule sees, and so when the check runs it.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// The deploy (in the `--all` audit, each migration on its own).
    #[default]
    Deploy,
    /// The whole run at once: in the `--all` audit, every migration of the history.
    Project,
    /// The run's findings after resolve (`Rule::check_suppressions`).
    Findings,
}

pub(super) fn all() -> &'static [RuleMeta] {
    static METAS: OnceLock<Vec<RuleMeta>> = OnceLock::new();
    METAS.get_or_init(|| {
        RULES
            .iter()
            .map(|entry| {
                // The files are embedded at build time and checked by tests, so a parse
                // failure here is a build defect, not user input.
                let meta: RuleMeta = toml::from_str(entry.metadata_toml)
                    .unwrap_or_else(|err| panic!("rules/{}.toml: {err}", entry.id));
                assert_eq!(
                    meta.id, entry.id,
                    "rules/{}.toml names another id",
                    entry.id
                );
                meta
            })
            .collect()
    })
}
