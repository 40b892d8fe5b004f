//! `opaque-statement`: a statement rollsafe recognised but cannot see into (a `DO` block, a
//! function called for its side effects). Informational: a reviewer checks it by hand.

use crate::ir::Change;
use crate::rules::{Context, Finding, Rule, Severity};

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
                let mut finding = change.at.finding(self.id(), message);
                // A deploy fails closed on DDL rollsafe cannot model: it may be the very
                // change N-1 breaks on. A reason in an allow comment opens the gate.
                if !ctx.audit && is_ddl(what) {
                    finding.severity = Some(Severity::Error);
                }
                findings.push(finding);
            }
        }
    }
}

/// True for a schema statement (`ALTER VIEW`, `DROP SCHEMA CASCADE`, ...), as opposed to a
/// procedural one (`DO` block, `CALL`, `COPY`) whose effect is usually on data.
fn is_ddl(what: &str) -> bool {
    ["ALTER ", "CREATE ", "DROP "]
        .iter()
        .any(|verb| what.starts_with(verb))
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
