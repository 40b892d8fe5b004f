//! `out-of-order-migration`: a new migration whose version sorts before the newest one the
//! base revision already applies (typically a branch merged after a newer one).
//!
//! How bad that is depends on the tool (the layout table's `OlderPending`): an error where
//! the tool skips or refuses the older migration, a warning where it applies it anyway, in
//! an order no test has seen.

use super::finding;
use crate::layout::{MigrationKind, OlderPending};
use crate::project::MigrationStatus;
use crate::rules::{Context, Finding, Rule, Severity};

pub struct OutOfOrderMigration;

impl Rule for OutOfOrderMigration {
    fn id(&self) -> &'static str {
        "out-of-order-migration"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let Some(history) = ctx.history else {
            return;
        };
        let Some(newest) = &history.newest_at_base else {
            return;
        };
        for deployed in ctx.deploy {
            let migration = &deployed.migration;
            let is_new = deployed.status == MigrationStatus::New
                && migration.kind == MigrationKind::Versioned
                // A renamed migration is `renamed-migration`'s finding.
                && !history.is_rename_target(migration);
            if !is_new || migration.version >= newest.version {
                continue;
            }
            let consequence = match history.older_pending {
                Some(OlderPending::Applied) => "the tool applies it after the newer one, in an \
                     order no test has seen"
                    .to_string(),
                Some(OlderPending::Rejected) => format!(
                    "databases that ran {} skip it or the tool refuses to run",
                    newest.id
                ),
                None => format!(
                    "databases that ran {} skip it or apply it out of order",
                    newest.id
                ),
            };
            let message = format!(
                "new migration {} sorts before {} ({}), which already shipped in the base \
                 revision: {consequence}",
                migration.id,
                newest.id,
                newest.display_path(),
            );
            let path = migration.display_path();
            let mut found = finding(self.id(), migration, path, 0..0, message);
            if history.older_pending == Some(OlderPending::Applied) {
                found.severity = Some(Severity::Warning);
            }
            findings.push(found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OutOfOrderMigration;
    use crate::rules::history::test_support::{check_all, check_diff, Side};

    const USERS: &str = "CREATE TABLE users (id int);";
    const ORDERS: &str = "CREATE TABLE orders (id int);";
    const ITEMS: &str = "CREATE TABLE items (id int);";

    #[test]
    fn fires_on_a_new_migration_older_than_the_newest_at_base() {
        let base = Side::new(&[("1", "users", USERS), ("3", "orders", ORDERS)]);
        let head = Side::new(&[
            ("1", "users", USERS),
            ("2", "items", ITEMS),
            ("3", "orders", ORDERS),
        ]);
        let findings = check_diff(&OutOfOrderMigration, &base, &head);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].migration, "2");
        assert!(findings[0].message.contains("sorts before 3"));
    }

    #[test]
    fn an_error_where_the_tool_rejects_older_migrations_a_warning_where_it_applies_them() {
        use crate::layout::OlderPending;
        use crate::rules::history::test_support::check_diff_as;
        use crate::rules::Severity;
        let base = Side::new(&[("1", "users", USERS), ("3", "orders", ORDERS)]);
        let head = Side::new(&[
            ("1", "users", USERS),
            ("2", "items", ITEMS),
            ("3", "orders", ORDERS),
        ]);
        let severity = |tool| {
            let findings = check_diff_as(&OutOfOrderMigration, &base, &head, Some(tool));
            assert_eq!(findings.len(), 1);
            findings[0].severity
        };
        // golang-migrate, Flyway: the rule's default severity (error).
        assert_eq!(severity(OlderPending::Rejected), None);
        // Diesel, sqlx, sql-migrate: applied anyway.
        assert_eq!(severity(OlderPending::Applied), Some(Severity::Warning));
    }

    #[test]
    fn quiet_for_a_newer_migration_and_in_all_mode() {
        let base = Side::new(&[("9", "users", USERS)]);
        // 10 sorts after 9 numerically.
        let head = Side::new(&[("9", "users", USERS), ("10", "items", ITEMS)]);
        assert!(check_diff(&OutOfOrderMigration, &base, &head).is_empty());
        assert!(check_all(&OutOfOrderMigration, &head, None).is_empty());
    }

    #[test]
    fn quiet_for_a_renamed_migration() {
        let base = Side::new(&[("1", "users", USERS), ("3", "orders", ORDERS)]);
        let head = Side::new(&[("2", "users", USERS), ("3", "orders", ORDERS)]);
        assert!(check_diff(&OutOfOrderMigration, &base, &head).is_empty());
    }
}
