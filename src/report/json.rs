//! The JSON report (schema_version 1), as the design's contract describes it.

use super::Report;

pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report).expect("the report model always serializes");
    out.push('\n');
    out
}
