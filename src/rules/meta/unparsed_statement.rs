//! `unparsed-statement`: a statement neither the parser nor the keyword recogniser
//! understood. rollsafe cannot check it, so the reviewer must.

use crate::rules::{Context, Finding, Rule, Severity};
use crate::sql::Understanding;

pub struct UnparsedStatement;

impl Rule for UnparsedStatement {
    fn id(&self) -> &'static str {
        "unparsed-statement"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        for at in ctx.statements() {
            if let Understanding::Unparsed { message } = &at.statement.understanding {
                let message = format!(
                    "rollsafe could not parse this statement ({message}); its effect on the \
                     schema is unknown and no rule checked it"
                );
                let mut finding = at.finding(self.id(), message);
                // A deploy fails closed: what rollsafe cannot read may be the drop it exists
                // to catch. A reason in an allow comment opens the gate.
                if !ctx.audit {
                    finding.severity = Some(Severity::Error);
                }
                findings.push(finding);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::compat::testing::*;
    use super::*;
    use crate::sql::Statement;

    #[test]
    fn reports_each_unparsed_statement_with_the_parser_message() {
        let unparsed = Statement {
            understanding: Understanding::Unparsed {
                message: "Expected: an SQL statement, found: FROB at Line: 1, Column: 1".into(),
            },
            ..stmt(Vec::new())
        };
        let deploy = Deploy::new().migration(vec![
            create_table("teams", &[col("id", "bigint")]),
            unparsed,
        ]);
        let findings = deploy.findings(&UnparsedStatement);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("found: FROB"));
        assert_eq!(findings[0].span, 130..160);
    }
}
