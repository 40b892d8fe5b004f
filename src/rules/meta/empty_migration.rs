//! `empty-migration`: a migration whose up holds no statement (only comments, or nothing).
//! Its tool records it as applied and nothing changes, which is rarely what its name says.

use crate::layout::MigrationKind;
use crate::rules::{Context, Finding, Rule};

pub struct EmptyMigration;

impl Rule for EmptyMigration {
    fn id(&self) -> &'static str {
        "empty-migration"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        for migration in ctx.deploy {
            // A code migration has no SQL to read; a migration without an up file is the
            // layout's business (a down-only or repeatable script).
            let Some(part) = &migration.migration.up else {
                continue;
            };
            if migration.migration.kind == MigrationKind::Code
                || !migration.up.statements.is_empty()
            {
                continue;
            }
            findings.push(Finding {
                rule: self.id(),
                severity: None,
                message: format!(
                    "migration {} ({}) holds no statement: its tool records it as applied and \
                     nothing changes",
                    migration.migration.id,
                    migration.migration.display_path()
                ),
                path: part.path.clone(),
                span: part.range.start..part.range.start,
                migration: migration.migration.id.clone(),
                object: None,
                evidence: Vec::new(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::compat::testing::*;
    use super::*;

    #[test]
    fn fires_on_a_migration_without_statements_and_not_on_one_with_them() {
        let empty = Deploy::new().migration(vec![]);
        let findings = empty.findings(&EmptyMigration);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("holds no statement"));
        let full = Deploy::new().migration(vec![create_table("teams", &[col("id", "bigint")])]);
        assert!(full.findings(&EmptyMigration).is_empty());
    }
}
