//! `duplicate-version`: two migrations with the same version (`007_a` and `7_b` count as the
//! same). Migration tools track versions, so one of them never runs or the tool refuses.
//!
//! The rule compares each deploy migration with every migration at the head: the list
//! `HistoryDiff::head`, which `--all` mode also provides through
//! `HistoryDiff::single_snapshot`. Without any history it can only compare the deploy's
//! migrations with each other. Only the deploy's migrations are reported, so a pair that
//! shipped long ago is reported by the `--all` audit, not by every later check.

use super::finding;
use crate::layout::{Migration, MigrationKind, Version};
use crate::rules::{Context, Finding, Rule};
use std::collections::HashMap;

pub struct DuplicateVersion;

impl Rule for DuplicateVersion {
    fn id(&self) -> &'static str {
        "duplicate-version"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let deploy = ctx.deploy.iter().map(|d| &d.migration);
        let head = ctx.history.into_iter().flat_map(|h| &h.head);
        // Versioned migrations by version, in order: `--all` checks thousands at once.
        let mut by_version: HashMap<&Version, Vec<&Migration>> = HashMap::new();
        for migration in head.chain(deploy.clone()).filter(|m| is_versioned(m)) {
            by_version
                .entry(&migration.version)
                .or_default()
                .push(migration);
        }
        for migration in deploy.filter(|m| is_versioned(m)) {
            let same = by_version.get(&migration.version).into_iter().flatten();
            let Some(other) = same.copied().find(|other| same_version(migration, other)) else {
                continue;
            };
            let message = format!(
                "migration {} ({}) has the same version as {} ({}): the migration tool \
                 tracks versions, so it runs only one of them or refuses to run",
                migration.id,
                migration.display_path(),
                other.id,
                other.display_path()
            );
            let path = migration.display_path();
            findings.push(finding(self.id(), migration, path, 0..0, message));
        }
    }
}

fn is_versioned(migration: &Migration) -> bool {
    migration.kind == MigrationKind::Versioned
}

/// Another versioned migration (another path) with an equal version.
fn same_version(migration: &Migration, other: &Migration) -> bool {
    is_versioned(other)
        && other.version == migration.version
        && other.display_path() != migration.display_path()
}

#[cfg(test)]
mod tests {
    use super::DuplicateVersion;
    use crate::history::HistoryDiff;
    use crate::rules::history::test_support::{check_all, check_diff, Side};

    const USERS: &str = "CREATE TABLE users (id int);";
    const ORDERS: &str = "CREATE TABLE orders (id int);";

    #[test]
    fn fires_on_a_new_migration_reusing_a_shipped_version() {
        let base = Side::new(&[("7", "users", USERS)]);
        let head = Side::new(&[("7", "users", USERS), ("007", "orders", ORDERS)]);
        let findings = check_diff(&DuplicateVersion, &base, &head);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].path, "007_orders.sql");
        assert!(findings[0].message.contains("7_users.sql"));
    }

    #[test]
    fn all_mode_sees_the_whole_project_through_single_snapshot_history() {
        let project = Side::new(&[("1", "users", USERS), ("1", "orders", ORDERS)]);
        let history = HistoryDiff::single_snapshot(&project.migrations);
        let findings = check_all(&DuplicateVersion, &project, Some(&history));
        assert_eq!(findings.len(), 2, "each of the pair is reported once");
        // Without the head list, each single-migration deploy cannot see its twin.
        assert!(check_all(&DuplicateVersion, &project, None).is_empty());
    }

    #[test]
    fn quiet_for_distinct_versions() {
        let project = Side::new(&[("1", "users", USERS), ("2", "orders", ORDERS)]);
        let history = HistoryDiff::single_snapshot(&project.migrations);
        assert!(check_all(&DuplicateVersion, &project, Some(&history)).is_empty());
        assert!(check_diff(&DuplicateVersion, &project, &project).is_empty());
    }
}
