//! GitHub (and Forgejo) Actions workflow commands: one annotation per finding at its
//! statement, with the safe recipe; a notice at each allow comment with its reason (the
//! audit trail lands on the diff that adds it); and a final summary notice.

use super::{labels, FindingEntry, Report, SuppressedEntry};
use crate::rules::Severity;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        out.push_str(&annotation(finding));
    }
    for suppressed in &report.suppressed {
        out.push_str(&suppression_notice(suppressed));
    }
    out.push_str(&command("notice", &[], &labels::summary(report)));
    out
}

fn command_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

fn annotation(finding: &FindingEntry) -> String {
    let line = finding.line.to_string();
    let end_line = finding.end_line.max(finding.line).to_string();
    let column = finding.column.to_string();
    let end_column = finding.end_column.to_string();
    // GitHub honours columns only on a single-line annotation.
    let single_line = end_line == line;
    let mut properties = vec![("file", finding.path.as_str()), ("line", &line)];
    if single_line {
        properties.push(("col", &column));
    }
    properties.push(("endLine", &end_line));
    if single_line {
        properties.push(("endColumn", &end_column));
    }
    properties.push(("title", &finding.rule));
    let message = if finding.help.is_empty() {
        finding.message_with_related()
    } else {
        format!(
            "{}\n\nSafe recipe:\n{}",
            finding.message_with_related(),
            finding.help
        )
    };
    command(command_name(finding.severity), &properties, &message)
}

fn suppression_notice(suppressed: &SuppressedEntry) -> String {
    let line = suppressed.line.to_string();
    let title = format!("suppressed {}", suppressed.rule);
    let message = format!(
        "Allowed: {}\nSuppressed {}: {}",
        suppressed.reason,
        suppressed.severity.name(),
        suppressed.message
    );
    let properties = [
        ("file", suppressed.path.as_str()),
        ("line", &line),
        ("title", &title),
    ];
    command("notice", &properties, &message)
}

/// `::name key=value,key=value::message`, escaped as the runner parses it.
fn command(name: &str, properties: &[(&str, &str)], message: &str) -> String {
    let properties: Vec<String> = properties
        .iter()
        .map(|(key, value)| format!("{key}={}", escape_property(value)))
        .collect();
    let separator = if properties.is_empty() { "" } else { " " };
    format!(
        "::{name}{separator}{}::{}\n",
        properties.join(","),
        escape_data(message)
    )
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::{command, escape_data, escape_property};

    #[test]
    fn data_escapes_percent_first_then_line_breaks() {
        assert_eq!(escape_data("100%\r\nnext"), "100%25%0D%0Anext");
        assert_eq!(escape_data("%0A"), "%250A");
        assert_eq!(escape_data("a: b, c"), "a: b, c");
    }

    #[test]
    fn properties_also_escape_colons_and_commas() {
        assert_eq!(escape_property("db/a,b:c.sql"), "db/a%2Cb%3Ac.sql");
        assert_eq!(escape_property("50%\n"), "50%25%0A");
    }

    #[test]
    fn a_command_without_properties_has_no_space() {
        assert_eq!(command("notice", &[], "done"), "::notice::done\n");
        assert_eq!(
            command("error", &[("file", "a,b.sql"), ("line", "3")], "x\ny"),
            "::error file=a%2Cb.sql,line=3::x%0Ay\n"
        );
    }
}
