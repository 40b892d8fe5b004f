//! History rules: what a change does to migrations that have already run somewhere. They
//! read `Context::history` (the base/head comparison); without a base there is no history
//! to judge, except `duplicate-version`, which needs only the head's migrations.

mod deleted_migration;
mod duplicate_version;
mod edited_migration;
mod out_of_order_migration;
mod renamed_migration;

pub use deleted_migration::DeletedMigration;
pub use duplicate_version::DuplicateVersion;
pub use edited_migration::EditedMigration;
pub use out_of_order_migration::OutOfOrderMigration;
pub use renamed_migration::RenamedMigration;

use super::Finding;
use crate::layout::Migration;
use std::ops::Range;

/// A finding about `migration` in the file `path`.
fn finding(
    rule: &'static str,
    migration: &Migration,
    path: &str,
    span: Range<usize>,
    message: String,
) -> Finding {
    Finding {
        rule,
        severity: None,
        message,
        path: path.to_string(),
        span,
        migration: migration.id.clone(),
        object: None,
        evidence: Vec::new(),
    }
}

/// Builds contexts for the history rules' unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::config::Settings;
    use crate::dialect::Dialect;
    use crate::history::{compare, HistoryDiff, Revision};
    use crate::layout::{Migration, MigrationKind, SqlPart, TransactionMode, Version};
    use crate::project::{MigrationStatus, ParsedMigration};
    use crate::rules::{Context, Finding, Rule};
    use crate::schema::Catalog;
    use crate::source::Snapshot;
    use crate::sql::SqlFile;

    /// Migrations `<id>_<name>.sql` (up SQL = the whole file) and their files.
    pub struct Side {
        pub files: Snapshot,
        pub migrations: Vec<ParsedMigration>,
    }

    impl Side {
        pub fn new(list: &[(&str, &str, &str)]) -> Side {
            let mut files = Snapshot::new();
            let mut migrations = Vec::new();
            for (id, name, sql) in list {
                let path = format!("{id}_{name}.sql");
                files.insert(path.clone(), *sql);
                migrations.push(deploy_migration(id, name, &path, sql.len()));
            }
            Side { files, migrations }
        }

        fn revision(&self) -> Revision<'_> {
            Revision {
                migrations: &self.migrations,
                files: &self.files,
            }
        }
    }

    fn deploy_migration(id: &str, name: &str, path: &str, len: usize) -> ParsedMigration {
        ParsedMigration {
            migration: Migration {
                id: id.to_string(),
                version: Version::parse(id),
                name: name.to_string(),
                kind: MigrationKind::Versioned,
                up: Some(SqlPart {
                    path: path.to_string(),
                    range: 0..len,
                }),
                down: None,
                paths: vec![path.to_string()],
                transaction: TransactionMode::Wrapped,
            },
            up: SqlFile::default(),
            down: None,
            status: MigrationStatus::Unchanged,
        }
    }

    /// Runs `rule` on the deploy of `head` against `base`: the head migrations that are not
    /// unchanged, as the check orchestration builds it.
    pub fn check_diff(rule: &dyn Rule, base: &Side, head: &Side) -> Vec<Finding> {
        check_diff_as(rule, base, head, None)
    }

    /// `check_diff` for a tool that treats older pending migrations as `older_pending` says.
    pub fn check_diff_as(
        rule: &dyn Rule,
        base: &Side,
        head: &Side,
        older_pending: Option<crate::layout::OlderPending>,
    ) -> Vec<Finding> {
        let (mut diff, statuses) = compare(base.revision(), head.revision());
        diff.older_pending = older_pending;
        let deploy: Vec<ParsedMigration> = head
            .migrations
            .iter()
            .zip(statuses)
            .filter(|(_, status)| *status != MigrationStatus::Unchanged)
            .map(|(m, status)| ParsedMigration {
                status,
                ..m.clone()
            })
            .collect();
        check(rule, &deploy, Some(&diff))
    }

    /// Runs `rule` as `--all` mode does: each migration its own deploy.
    pub fn check_all(
        rule: &dyn Rule,
        project: &Side,
        history: Option<&HistoryDiff>,
    ) -> Vec<Finding> {
        project
            .migrations
            .chunks(1)
            .flat_map(|deploy| check(rule, deploy, history))
            .collect()
    }

    fn check(
        rule: &dyn Rule,
        deploy: &[ParsedMigration],
        history: Option<&HistoryDiff>,
    ) -> Vec<Finding> {
        let settings = Settings::default();
        let catalog = Catalog::new(Dialect::default());
        let ctx = Context {
            dialect: Dialect::default(),
            settings: &settings,
            deploy,
            before: &catalog,
            after: &catalog,
            retired: &[],
            retire_declared: &[],
            history,
            usage: None,
            releases: &[],
            audit: false,
            cache: Default::default(),
        };
        let mut findings = Vec::new();
        rule.check(&ctx, &mut findings);
        findings
    }
}
