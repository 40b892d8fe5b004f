//! `opaque-statement`: a statement rollsafe recognised but cannot see into (a `DO` block, a
//! function called for its side effects). Informational: a reviewer checks it by hand.

use crate::ir::Change;
use crate::rules::{Context, Finding, Rule};

pub struct OpaqueStatement;

impl Rule for OpaqueStatement {
    fn id(&self) -> &'static str {
        "opaque-statement"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        for change in ctx.changes() {
            if let Change::Opaque { what } = change.change {
                let message = format!(
                    "rollsafe cannot see what this {what} does to the schema or the data; \
                     review it by hand for N-1 compatibility and locks"
                );
                findings.push(change.at.finding(self.id(), message));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::compat::testing::*;
    use super::*;

    #[test]
    fn reports_each_opaque_change() {
        let deploy = Deploy::new().migration(vec![
            stmt(vec![Change::Opaque {
                what: "DO block".to_string(),
            }]),
            create_table("teams", &[col("id", "bigint")]),
        ]);
        let findings = deploy.findings(&OpaqueStatement);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("this DO block"));
    }
}
