//! Rules: one file per rule, grouped by category. A rule reads a `Context` (the deploy's
//! migrations and their changes, the catalog before and after, the retire declarations) and
//! pushes findings. Rules never print and never see sqlparser's AST.
//!
//! Each rule's metadata (category, default severity, summary, why, recipe, examples) lives in
//! `rules/<id>.toml` at the top of the repository and is embedded here.

mod compat;
mod context;
mod discipline;
mod history;
mod lock;
pub mod meta;
mod metadata;
mod rollback;

pub use context::{
    rebuilds_in, ChangeRef, Context, ContextCache, Rebuilds, ReleaseRollback, StatementRef,
};
pub use metadata::{Example, RuleMeta, Scope};

use crate::project::ParsedMigration;
use crate::usage::Evidence;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    History,
    Compat,
    Discipline,
    Rollback,
    Lock,
    Meta,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::History => "history",
            Category::Compat => "compat",
            Category::Discipline => "discipline",
            Category::Rollback => "rollback",
            Category::Lock => "lock",
            Category::Meta => "meta",
        }
    }
}

/// What a rule reports: where, what, and (when it differs from the rule's default) how bad.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    /// `None`: the rule's default severity (or the one config gives it).
    pub severity: Option<Severity>,
    pub message: String,
    /// The file, as a snapshot path.
    pub path: String,
    /// Byte span in the file.
    pub span: Range<usize>,
    /// Id of the migration the finding is about; empty for a finding about the config
    /// (the report then points at the config file, whatever `path` says).
    pub migration: String,
    /// The object concerned, fully qualified (`public.users.legacy_email`).
    pub object: Option<String>,
    /// Where N-1's code names the object (compat findings judged on usage evidence).
    pub evidence: Vec<Evidence>,
}

pub trait Rule: Sync {
    fn id(&self) -> &'static str;
    /// Rules of scope `deploy` and `project`: the findings of one context.
    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>);
    /// Rules of scope `findings`: called after resolve with the migrations the run reports on
    /// and the allow comments that suppressed a finding (by path and byte offset).
    fn check_suppressions(
        &self,
        _migrations: &[ParsedMigration],
        _used: &HashSet<(String, usize)>,
        _findings: &mut Vec<Finding>,
    ) {
    }
}

/// A rule's implementation paired with its embedded metadata file.
pub struct RuleEntry {
    pub id: &'static str,
    pub metadata_toml: &'static str,
    pub rule: &'static dyn Rule,
}

macro_rules! rule_registry {
    ($($id:literal => $rule:expr),* $(,)?) => {
        /// Every rule, in the order `rollsafe rules` lists them.
        pub static RULES: &[RuleEntry] = &[
            $(RuleEntry {
                id: $id,
                metadata_toml: include_str!(concat!("../../rules/", $id, ".toml")),
                rule: &$rule,
            },)*
        ];
    };
}

rule_registry! {
    "edited-migration" => history::EditedMigration,
    "deleted-migration" => history::DeletedMigration,
    "renamed-migration" => history::RenamedMigration,
    "out-of-order-migration" => history::OutOfOrderMigration,
    "duplicate-version" => history::DuplicateVersion,
    "drop-table" => compat::DropTable,
    "drop-column" => compat::DropColumn,
    "rename-table" => compat::RenameTable,
    "rename-column" => compat::RenameColumn,
    "add-required-column" => compat::AddRequiredColumn,
    "change-column-type" => compat::ChangeColumnType,
    "set-not-null" => compat::SetNotNull,
    "drop-default" => compat::DropDefault,
    "drop-not-null" => compat::DropNotNull,
    "add-check-constraint" => compat::AddCheckConstraint,
    "add-unique-constraint" => compat::AddUniqueConstraint,
    "add-foreign-key" => compat::AddForeignKey,
    "drop-view" => compat::DropView,
    "change-enum" => compat::ChangeEnum,
    "backfill-in-ddl-migration" => discipline::BackfillInDdlMigration,
    "unbatched-backfill" => discipline::UnbatchedBackfill,
    "enforce-before-backfill" => discipline::EnforceBeforeBackfill,
    "retire-unknown-object" => discipline::RetireUnknownObject,
    "missing-down" => rollback::MissingDown,
    "down-not-inverse" => rollback::DownNotInverse,
    "irreversible-up" => rollback::IrreversibleUp,
    "rollback-window" => rollback::RollbackWindow,
    "create-index-not-concurrently" => lock::CreateIndexNotConcurrently,
    "foreign-key-validates" => lock::ForeignKeyValidates,
    "check-constraint-validates" => lock::CheckConstraintValidates,
    "unique-constraint-builds-index" => lock::UniqueConstraintBuildsIndex,
    "add-column-rewrites-table" => lock::AddColumnRewritesTable,
    "drop-index-not-concurrently" => lock::DropIndexNotConcurrently,
    "concurrently-in-transaction" => lock::ConcurrentlyInTransaction,
    "set-not-null-scan" => lock::SetNotNullScan,
    "column-type-rewrite" => lock::ColumnTypeRewrite,
    "missing-lock-timeout" => lock::MissingLockTimeout,
    "blocking-maintenance" => lock::BlockingMaintenance,
    "mysql-copy-algorithm" => lock::MysqlCopyAlgorithm,
    "unparsed-statement" => meta::UnparsedStatement,
    "empty-migration" => meta::EmptyMigration,
    "unknown-object" => meta::UnknownObject,
    "opaque-statement" => meta::OpaqueStatement,
    "allow-without-reason" => meta::AllowWithoutReason,
    "unused-allow" => meta::UnusedAllow,
}

/// The metadata of every rule, parsed once.
pub fn all_meta() -> &'static [RuleMeta] {
    metadata::all()
}

/// The metadata of rule `id`, if there is such a rule.
pub fn meta(id: &str) -> Option<&'static RuleMeta> {
    all_meta().iter().find(|meta| meta.id == id)
}

/// Runs every rule that sees a context (scope `deploy` or `project`) on it.
pub fn run_all(ctx: &Context<'_>) -> Vec<Finding> {
    run_category(ctx, None)
}

/// Runs the rules of one category (every rule with `None`) that see a context.
pub fn run_category(ctx: &Context<'_>, category: Option<Category>) -> Vec<Finding> {
    run_where(ctx, |meta| category.is_none_or(|c| c == meta.category))
}

/// Runs the rules that see a context and whose metadata `select` accepts.
pub fn run_where(ctx: &Context<'_>, select: impl Fn(&RuleMeta) -> bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (entry, meta) in RULES.iter().zip(all_meta()) {
        if meta.scope != Scope::Findings && select(meta) {
            entry.rule.check(ctx, &mut findings);
        }
    }
    findings
}

/// Runs the rules of scope `findings` (after resolve): `migrations` are the ones the run
/// reports on, `used` the allow comments that suppressed something.
pub fn run_on_suppressions(
    migrations: &[ParsedMigration],
    used: &HashSet<(String, usize)>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (entry, meta) in RULES.iter().zip(all_meta()) {
        if meta.scope == Scope::Findings {
            entry
                .rule
                .check_suppressions(migrations, used, &mut findings);
        }
    }
    findings
}
