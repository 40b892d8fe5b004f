//! `down-not-inverse`: running the down after the up does not give back the schema the up
//! started from.

use crate::rollback::DownVerdict;
use crate::rules::{Context, Finding, Rule, Severity};

pub struct DownNotInverse;

impl Rule for DownNotInverse {
    fn id(&self) -> &'static str {
        "down-not-inverse"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        for analysis in ctx.downs() {
            let cannot_tell = match analysis.verdict {
                DownVerdict::NotInverse => false,
                DownVerdict::CannotTell => true,
                _ => continue,
            };
            let migration = &ctx.deploy[analysis.index];
            let (Some(part), Some(down)) = (&migration.migration.down, &migration.down) else {
                continue;
            };
            let span = down
                .statements
                .first()
                .map_or(part.range.start..part.range.start, |s| s.span.clone());
            let message = if cannot_tell {
                format!(
                    "cannot tell whether the down of {} undoes its up: it holds a statement \
                     rollsafe cannot see into (a DO block, or one it could not parse); check \
                     it by hand",
                    migration.migration.id
                )
            } else {
                format!(
                    "the down of {} does not undo its up; after up then down: {}",
                    migration.migration.id,
                    analysis.differences.join("; ")
                )
            };
            findings.push(Finding {
                rule: self.id(),
                // Not a claim that the down is wrong: a note that nobody could check it.
                severity: cannot_tell.then_some(Severity::Info),
                message,
                path: part.path.clone(),
                span,
                migration: migration.migration.id.clone(),
                object: None,
                evidence: Vec::new(),
            });
        }
    }
}
