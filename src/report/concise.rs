//! One line per finding, `path:line:col: severity[rule] message`, as compilers print them:
//! for editors, grep and problem matchers.

use super::Report;
use std::fmt::Write as _;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let message = f.message_with_related().replace('\n', "; ");
        let _ = writeln!(
            out,
            "{}:{}:{}: {}[{}] {}",
            f.path,
            f.line,
            f.column,
            f.severity.name(),
            f.rule,
            message
        );
    }
    out
}
