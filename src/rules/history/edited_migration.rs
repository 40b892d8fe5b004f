//! `edited-migration`: a migration the base revision has was changed.

use super::finding;
use crate::history::EditKind;
use crate::rules::{Context, Finding, Rule, Severity};

pub struct EditedMigration;

impl Rule for EditedMigration {
    fn id(&self) -> &'static str {
        "edited-migration"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let Some(history) = ctx.history else {
            return;
        };
        for edited in &history.edited {
            let (severity, what) = match edited.kind {
                EditKind::Up | EditKind::OtherFile => {
                    (None, "was edited after it shipped in the base revision")
                }
                EditKind::DownOnly => (
                    Some(Severity::Warning),
                    "had its down edited after it shipped in the base revision (its up is \
                     unchanged, but a rollback now runs a down nobody ran against it)",
                ),
                EditKind::Reformatted => (
                    Some(Severity::Info),
                    "was reformatted after it shipped in the base revision (the same statements \
                     run)",
                ),
            };
            let message = format!(
                "migration {} ({}) {what}: {}",
                edited.head.id,
                edited.head.display_path(),
                edited.summary
            );
            let mut found = finding(
                self.id(),
                &edited.head,
                &edited.path,
                edited.span.clone(),
                message,
            );
            found.severity = severity;
            findings.push(found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EditedMigration;
    use crate::rules::history::test_support::{check_all, check_diff, Side};

    const BASE: &str = "CREATE TABLE users (id int);\n";

    #[test]
    fn fires_on_an_edited_migration_and_shows_the_change() {
        let base = Side::new(&[("1", "users", BASE)]);
        let head = Side::new(&[("1", "users", "CREATE TABLE users (id bigint);\n")]);
        let findings = check_diff(&EditedMigration, &base, &head);
        assert_eq!(findings.len(), 1);
        let message = &findings[0].message;
        assert!(
            message.contains("- CREATE TABLE users (id int);"),
            "{message}"
        );
        assert!(
            message.contains("+ CREATE TABLE users (id bigint);"),
            "{message}"
        );
        assert_eq!(findings[0].path, "1_users.sql");
        assert_eq!(findings[0].migration, "1");
    }

    #[test]
    fn quiet_when_the_edit_is_a_new_migration() {
        let base = Side::new(&[("1", "users", BASE)]);
        let head = Side::new(&[
            ("1", "users", BASE),
            ("2", "more", "ALTER TABLE users ADD b int;"),
        ]);
        assert!(check_diff(&EditedMigration, &base, &head).is_empty());
        assert!(check_all(&EditedMigration, &head, None).is_empty());
    }
}
