//! `allow-without-reason`: a `rollsafe:allow` comment that gives no reason. Every suppression
//! is listed with its reason in the report; one without a reason leaves no audit trail.

use crate::layout::SqlPart;
use crate::project::ParsedMigration;
use crate::rules::{Context, Finding, Rule};
use crate::sql::{Allow, SqlFile};

pub struct AllowWithoutReason;

impl Rule for AllowWithoutReason {
    fn id(&self) -> &'static str {
        "allow-without-reason"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        for migration in ctx.deploy {
            let parts = [
                (migration.migration.up.as_ref(), Some(&migration.up)),
                (migration.migration.down.as_ref(), migration.down.as_ref()),
            ];
            for (part, file) in parts {
                if let (Some(part), Some(file)) = (part, file) {
                    for allow in allows(file).filter(|allow| allow.reason.is_none()) {
                        findings.push(self.finding(migration, part, allow));
                    }
                }
            }
        }
    }
}

impl AllowWithoutReason {
    fn finding(&self, migration: &ParsedMigration, part: &SqlPart, allow: &Allow) -> Finding {
        let directive = if allow.file_wide {
            "allow-file"
        } else {
            "allow"
        };
        let message = format!(
            "`rollsafe:{directive} {}` gives no reason; write why the finding is acceptable \
             after the rule ids, it is shown with the suppression in every report",
            allow.rules.join(", ")
        );
        Finding {
            rule: "allow-without-reason",
            severity: None,
            message,
            path: part.path.clone(),
            span: allow.span.clone(),
            migration: migration.migration.id.clone(),
            object: None,
            evidence: Vec::new(),
        }
    }
}

/// Every allow comment of a SQL part: per statement and file-wide.
/// Every allow comment of a SQL part: per statement and file-wide.
pub(crate) fn allows(file: &SqlFile) -> impl Iterator<Item = &Allow> {
    file.statements
        .iter()
        .flat_map(|statement| &statement.allows)
        .chain(&file.file_allows)
}

#[cfg(test)]
mod tests {
    use super::super::super::compat::testing::*;
    use super::*;

    #[test]
    fn fires_on_statement_and_file_allows_without_reason() {
        let mut dropping = drop_table("users");
        dropping.allows = vec![
            allow(&["drop-table"], None, false),
            allow(&["drop-table"], Some("archived in #12"), false),
        ];
        let deploy = Deploy::new()
            .table("users", &[col("id", "bigint")])
            .migration_with(vec![dropping], vec![allow(&["drop-column"], None, true)]);
        let findings = deploy.findings(&AllowWithoutReason);
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].span, 3..20, "the comment's span");
        assert_eq!(findings[0].path, "101_deploy.sql");
        assert!(findings[0].message.contains("`rollsafe:allow drop-table`"));
        assert!(findings[1]
            .message
            .contains("`rollsafe:allow-file drop-column`"));
    }

    #[test]
    fn quiet_when_every_allow_has_a_reason() {
        let mut dropping = drop_table("users");
        dropping.allows = vec![allow(&["drop-table"], Some("archived in #12"), false)];
        let deploy = Deploy::new().migration(vec![dropping]);
        assert!(deploy.findings(&AllowWithoutReason).is_empty());
    }
}
