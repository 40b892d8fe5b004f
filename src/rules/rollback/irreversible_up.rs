//! `irreversible-up`: the up destroys data (drops a column or table N-1's data lives in,
//! narrows a type, deletes rows), so a down can only rebuild an empty structure. Applies
//! where the team writes down migrations (`require_down`).

use crate::rules::{Context, Finding, Rule};

pub struct IrreversibleUp;

impl Rule for IrreversibleUp {
    fn id(&self) -> &'static str {
        "irreversible-up"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        // Only a team that relies on down migrations needs to hear that one cannot work.
        if !ctx.settings.require_down {
            return;
        }
        for analysis in ctx.downs() {
            let migration = &ctx.deploy[analysis.index];
            let Some(part) = &migration.migration.up else {
                continue;
            };
            for loss in &analysis.losses {
                // A contract step whose object a shipped release retired drops data on
                // purpose: that is the point of the retirement.
                if ctx.is_retired(&loss.table, loss.column.as_deref()) {
                    continue;
                }
                findings.push(Finding {
                    rule: self.id(),
                    severity: None,
                    message: format!("{}: no down migration can bring them back", loss.what),
                    path: part.path.clone(),
                    span: migration.up.statements[loss.statement].span.clone(),
                    migration: migration.migration.id.clone(),
                    object: Some(match &loss.column {
                        Some(column) => format!("{}.{column}", loss.table),
                        None => loss.table.to_string(),
                    }),
                    evidence: Vec::new(),
                });
            }
        }
    }
}
