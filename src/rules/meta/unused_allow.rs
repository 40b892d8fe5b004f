//! `unused-allow`: a `rollsafe:allow` comment that suppressed nothing: the finding it was
//! written for is gone (or the rule id is misspelt), so it only hides the next real one.
//!
//! Only the suppression step knows which comments matched a finding, so the rule's scope is
//! `findings`: `resolve` records the comments it used and runs it after.

use super::allow_without_reason::allows;
use crate::project::ParsedMigration;
use crate::rules::{Context, Finding, Rule};
use std::collections::HashSet;

pub struct UnusedAllow;

impl Rule for UnusedAllow {
    fn id(&self) -> &'static str {
        "unused-allow"
    }

    fn check(&self, _ctx: &Context<'_>, _findings: &mut Vec<Finding>) {}

    fn check_suppressions(
        &self,
        migrations: &[ParsedMigration],
        used: &HashSet<(String, usize)>,
        findings: &mut Vec<Finding>,
    ) {
        unused(migrations, used, findings);
    }
}

/// The allow comments of `migrations` that are not in `used` (keyed by path and the
/// comment's byte offset).
fn unused(
    migrations: &[ParsedMigration],
    used: &HashSet<(String, usize)>,
    findings: &mut Vec<Finding>,
) {
    for migration in migrations {
        let parts = [
            (migration.migration.up.as_ref(), Some(&migration.up)),
            (migration.migration.down.as_ref(), migration.down.as_ref()),
        ];
        for (part, file) in parts {
            let (Some(part), Some(file)) = (part, file) else {
                continue;
            };
            for allow in allows(file) {
                if used.contains(&(part.path.clone(), allow.span.start)) {
                    continue;
                }
                findings.push(Finding {
                    rule: "unused-allow",
                    severity: None,
                    message: format!(
                        "this suppression of {} matches no finding: remove it, or fix the rule id",
                        allow.rules.join(", ")
                    ),
                    path: part.path.clone(),
                    span: allow.span.clone(),
                    migration: migration.migration.id.clone(),
                    object: None,
                    evidence: Vec::new(),
                });
            }
        }
    }
}
