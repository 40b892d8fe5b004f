//! `down-not-inverse`: running the down after the up does not give back the schema the up
//! started from.

use crate::rollback::DownVerdict;
use crate::rules::{Context, Finding, Rule};

pub struct DownNotInverse;

impl Rule for DownNotInverse {
    fn id(&self) -> &'static str {
        "down-not-inverse"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        for analysis in ctx.downs() {
            if analysis.verdict != DownVerdict::NotInverse {
                continue;
            }
            let migration = &ctx.deploy[analysis.index];
            let (Some(part), Some(down)) = (&migration.migration.down, &migration.down) else {
                continue;
            };
            let span = down
                .statements
                .first()
                .map_or(part.range.start..part.range.start, |s| s.span.clone());
            findings.push(Finding {
                rule: self.id(),
                severity: None,
                message: format!(
                    "the down of {} does not undo its up; after up then down: {}",
                    migration.migration.id,
                    analysis.differences.join("; ")
                ),
                path: part.path.clone(),
                span,
                migration: migration.migration.id.clone(),
                object: None,
            });
        }
    }
}
