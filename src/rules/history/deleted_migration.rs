//! `deleted-migration`: a migration the base revision has is gone at the head.

use super::finding;
use crate::rules::{Context, Finding, Rule};

pub struct DeletedMigration;

impl Rule for DeletedMigration {
    fn id(&self) -> &'static str {
        "deleted-migration"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let Some(history) = ctx.history else {
            return;
        };
        for deleted in &history.deleted {
            let path = deleted.display_path();
            let message = format!(
                "migration {} ({path}) exists in the base revision but was deleted: databases \
                 that ran it keep its changes, and new ones will never get them",
                deleted.id
            );
            // The file is gone at head: the finding points at the base's path.
            findings.push(finding(self.id(), deleted, path, 0..0, message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DeletedMigration;
    use crate::rules::history::test_support::{check_diff, Side};

    const USERS: &str = "CREATE TABLE users (id int);";
    const ORDERS: &str = "CREATE TABLE orders (id int);";

    #[test]
    fn fires_on_a_deleted_migration_at_its_base_path() {
        let base = Side::new(&[("1", "users", USERS), ("2", "orders", ORDERS)]);
        let head = Side::new(&[("1", "users", USERS)]);
        let findings = check_diff(&DeletedMigration, &base, &head);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].path, "2_orders.sql");
        assert_eq!(findings[0].span, 0..0);
    }

    #[test]
    fn quiet_when_the_migration_was_only_renamed() {
        let base = Side::new(&[("1", "users", USERS), ("2", "orders", ORDERS)]);
        let head = Side::new(&[("1", "users", USERS), ("3", "orders", ORDERS)]);
        assert!(check_diff(&DeletedMigration, &base, &head).is_empty());
    }
}
