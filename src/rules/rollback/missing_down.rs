//! `missing-down`: a new migration that changes the schema has no down script, in a project
//! whose team writes them.

use super::at_migration;
use crate::rollback::DownVerdict;
use crate::rules::{Context, Finding, Rule};

pub struct MissingDown;

impl Rule for MissingDown {
    fn id(&self) -> &'static str {
        "missing-down"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        if !ctx.settings.require_down {
            return;
        }
        for analysis in ctx.downs() {
            if analysis.verdict == DownVerdict::Missing {
                let migration = &ctx.deploy[analysis.index];
                findings.push(at_migration(
                    self.id(),
                    migration,
                    format!(
                        "migration {} changes the schema but has no down migration",
                        migration.migration.id
                    ),
                ));
            }
        }
    }
}
