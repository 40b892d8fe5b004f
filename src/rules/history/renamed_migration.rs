//! `renamed-migration`: a migration the base revision has now lives under another name or
//! version, with the same content.

use super::finding;
use crate::rules::{Context, Finding, Rule};

pub struct RenamedMigration;

impl Rule for RenamedMigration {
    fn id(&self) -> &'static str {
        "renamed-migration"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let Some(history) = ctx.history else {
            return;
        };
        for (old, new) in &history.renamed {
            let message = format!(
                "migration {} ({}) was renamed to {} ({}) after it shipped in the base \
                 revision: the migration tool sees a migration it has not run, and runs it \
                 again or fails to find the applied one",
                old.id,
                old.display_path(),
                new.id,
                new.display_path()
            );
            findings.push(finding(self.id(), new, new.display_path(), 0..0, message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RenamedMigration;
    use crate::rules::history::test_support::{check_diff, Side};

    const USERS: &str = "CREATE TABLE users (id int);";

    #[test]
    fn fires_on_a_renamed_migration_at_its_new_path() {
        let base = Side::new(&[("1", "users", USERS)]);
        let head = Side::new(&[("20240101", "users", USERS)]);
        let findings = check_diff(&RenamedMigration, &base, &head);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].path, "20240101_users.sql");
        assert!(findings[0].message.contains("1_users.sql"));
    }

    #[test]
    fn quiet_for_an_unchanged_history() {
        let base = Side::new(&[("1", "users", USERS)]);
        assert!(check_diff(&RenamedMigration, &base, &base).is_empty());
    }
}
