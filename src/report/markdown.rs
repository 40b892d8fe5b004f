//! The reviewers' report, for a pull-request comment or a CI job summary. The first line
//! states the verdict; then the deploy's migrations, each finding at its SQL with the safe
//! recipe, the rollback section and the audit list of suppressions. It reads as plain text
//! too, and long lists fold into `<details>`.

use super::labels::{self, down_name, phase_name, plural, short_commit, status_name};
use super::{DownEntry, DownVerdict, FindingEntry, MigrationEntry, Report, WindowEntry};
use crate::resolve::Verdict;
use crate::rules::Severity;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Findings shown in full before the rest fold into `<details>`.
const VISIBLE_FINDINGS: usize = 10;
/// Table rows shown before a table folds into `<details>`.
const VISIBLE_ROWS: usize = 20;
/// Source lines quoted per finding.
const EXCERPT_LINES: usize = 12;
/// Lets a bot find its earlier comment and update it.
const MARKER: &str = "<!-- rollsafe-report -->";

pub fn render(report: &Report) -> String {
    let sections = [
        heading(report),
        migrations(report),
        findings(report),
        what_n1_uses(report),
        rollback(report),
        suppressions(report),
    ];
    let mut out = String::new();
    for section in sections.iter().filter(|s| !s.is_empty()) {
        out.push_str(section.trim_end());
        out.push_str("\n\n");
    }
    out.push_str(MARKER);
    out.push('\n');
    out
}

fn heading(report: &Report) -> String {
    let (marker, meaning) = match report.verdict {
        Verdict::Unsafe => (
            "[x]",
            "An unsuppressed error: N-1, a rollback or the database's availability breaks if this deploys as is.",
        ),
        Verdict::Review => ("[!]", "Warnings only: read them before deploying."),
        Verdict::Safe => ("[ok]", "No errors or warnings."),
    };
    format!(
        "## {marker} {}\n\n{meaning}\n\n{}\n",
        labels::summary(report),
        compared(report)
    )
}

/// What the run compared: base and head, or the history audit; dialect and layout.
fn compared(report: &Report) -> String {
    let head = revision(&report.head.rev, report.head.commit.as_deref());
    let scope = match &report.base {
        Some(base) => format!(
            "Base {} → head {head}",
            revision(&base.rev, base.commit.as_deref())
        ),
        None => {
            format!("History audit of {head}: each migration checked against the ones before it")
        }
    };
    format!("{scope} · {}, {} layout.\n", report.dialect, report.layout)
}

fn revision(rev: &str, commit: Option<&str>) -> String {
    match commit {
        None if rev == "worktree" => "the working tree".to_string(),
        Some(commit) if commit != rev => format!("{} ({})", code(rev), code(short_commit(commit))),
        _ => code(rev),
    }
}

fn migrations(report: &Report) -> String {
    let mut out = String::from("### Migrations\n\n");
    if report.migrations.is_empty() {
        out.push_str("No migrations in this deploy.\n");
        return out;
    }
    let rows: Vec<Vec<String>> = report
        .migrations
        .iter()
        .map(|m| migration_row(report, m))
        .collect();
    let table = table(
        &["id", "name", "status", "phases", "statements", "down"],
        &rows,
    );
    out.push_str(&fold_if_long(
        &table,
        rows.len(),
        &plural(rows.len(), "migration", "migrations"),
    ));
    out
}

fn migration_row(report: &Report, m: &MigrationEntry) -> Vec<String> {
    let phases: Vec<&str> = m.phases.iter().map(|p| phase_name(*p)).collect();
    let down = labels::down_verdict(report, &m.id).map_or("–", down_name);
    vec![
        code(&m.id),
        text(&m.name),
        status_name(m.status).to_string(),
        or_dash(&phases.join(", ")),
        m.statements.to_string(),
        down.to_string(),
    ]
}

fn findings(report: &Report) -> String {
    let mut out = String::from("### Findings\n\n");
    if report.findings.is_empty() {
        out.push_str("None.\n");
        return out;
    }
    let mut already = AlreadyShown::default();
    let mut shown = 0;
    for (migration, group) in by_migration(report) {
        let mut heading_written = false;
        for finding in group {
            if shown == VISIBLE_FINDINGS {
                let rest = report.findings.len() - shown;
                let _ = writeln!(
                    out,
                    "<details><summary>{}</summary>\n",
                    plural(rest, "more finding", "more findings")
                );
                heading_written = false;
            }
            if !heading_written {
                out.push_str(&migration_heading(report, migration));
                heading_written = true;
            }
            out.push_str(&finding_block(report, finding, &mut already));
            shown += 1;
        }
    }
    if shown > VISIBLE_FINDINGS {
        out.push_str("</details>\n");
    }
    out
}

/// The findings grouped by migration: the report's migrations in order, then any other
/// migration a finding names (a deleted one), in order of appearance.
fn by_migration(report: &Report) -> Vec<(&str, Vec<&FindingEntry>)> {
    let mut ids: Vec<&str> = report.migrations.iter().map(|m| m.id.as_str()).collect();
    for finding in &report.findings {
        if !ids.contains(&finding.migration.as_str()) {
            ids.push(&finding.migration);
        }
    }
    ids.into_iter()
        .map(|id| {
            let group: Vec<&FindingEntry> = report
                .findings
                .iter()
                .filter(|f| f.migration == id)
                .collect();
            (id, group)
        })
        .filter(|(_, group)| !group.is_empty())
        .collect()
}

fn migration_heading(report: &Report, id: &str) -> String {
    if id.is_empty() {
        // A finding about the config (a `[[retire]]` entry), not about a migration.
        return "#### Not in a migration\n\n".to_string();
    }
    match report.migrations.iter().find(|m| m.id == id) {
        Some(m) => format!("#### {} {}\n\n", code(&m.id), text(&m.name)),
        None => format!("#### {}\n\n", code(id)),
    }
}

/// What earlier findings showed, so that later ones point back instead of repeating it.
#[derive(Default)]
struct AlreadyShown {
    /// Rules whose recipe was printed.
    recipes: BTreeSet<String>,
    /// The file and lines of the statement quoted last.
    excerpt: Option<(String, usize, usize)>,
}

fn finding_block(report: &Report, finding: &FindingEntry, already: &mut AlreadyShown) -> String {
    let mut out = format!(
        "**{}** {} at {}\n\n{}\n\n",
        finding.severity.name(),
        code(&finding.rule),
        code(&line_reference(finding)),
        text(&finding.message)
    );
    for related in &finding.related {
        out.push_str(&format!(
            "Also {} ({}): {}\n\n",
            code(&related.rule),
            related.severity.name(),
            text(&related.message)
        ));
    }
    let quoted = Some((finding.path.clone(), finding.line, last_line(finding)));
    if already.excerpt != quoted {
        if let Some(source) = report.sources.get(&finding.path) {
            out.push_str(&excerpt(source, finding));
        }
        already.excerpt = quoted;
    }
    out.push_str(&recipe(finding, &mut already.recipes));
    out
}

/// `path:4`, or `path:3-5` for a statement over several lines.
fn line_reference(finding: &FindingEntry) -> String {
    let last = last_line(finding);
    if last > finding.line {
        format!("{}:{}-{last}", finding.path, finding.line)
    } else {
        format!("{}:{}", finding.path, finding.line)
    }
}

/// The statement's last line; a span that ends at the start of a line ends on the one before.
fn last_line(finding: &FindingEntry) -> usize {
    if finding.end_column == 1 && finding.end_line > finding.line {
        finding.end_line - 1
    } else {
        finding.end_line.max(finding.line)
    }
}

/// The statement's lines in a `sql` block, cut after `EXCERPT_LINES`.
fn excerpt(source: &str, finding: &FindingEntry) -> String {
    let wanted = last_line(finding) + 1 - finding.line;
    let lines: Vec<&str> = source
        .lines()
        .skip(finding.line.saturating_sub(1))
        .take(wanted)
        .map(str::trim_end)
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let mut body: Vec<String> = lines
        .iter()
        .take(EXCERPT_LINES)
        .map(|l| l.to_string())
        .collect();
    if lines.len() > EXCERPT_LINES {
        body.push(format!(
            "-- … {}",
            plural(lines.len() - EXCERPT_LINES, "more line", "more lines")
        ));
    }
    let body = body.join("\n");
    let fence = fence_for(&body);
    format!("{fence}sql\n{body}\n{fence}\n\n")
}

/// A code fence longer than any run of backticks in `body`.
fn fence_for(body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// The rule's recipe the first time the rule appears, a pointer to it afterwards.
fn recipe(finding: &FindingEntry, recipes_shown: &mut BTreeSet<String>) -> String {
    if finding.help.is_empty() {
        return String::new();
    }
    if !recipes_shown.insert(finding.rule.clone()) {
        return format!("**Safe recipe:** as for {} above.\n\n", code(&finding.rule));
    }
    format!("**Safe recipe:**\n\n{}\n\n", finding.help.trim())
}

/// "What N-1 uses": for each object a compat finding is about, where N-1's code names it
/// (or that it does not). Empty when no finding was judged on usage evidence.
fn what_n1_uses(report: &Report) -> String {
    let rows: Vec<Vec<String>> = report
        .findings
        .iter()
        .filter(|f| f.category == "compat")
        .filter_map(|f| {
            let object = code(f.object.as_deref().unwrap_or(""));
            match f.evidence.first() {
                Some(first) => Some(vec![
                    object,
                    format!("{} {}", first.access.verb(), first.source.name()),
                    format!(
                        "{} at {}{}",
                        code(&format!("{}:{}", first.path, first.line)),
                        text(&first.rev),
                        match f.evidence.len() - 1 {
                            0 => String::new(),
                            n => format!(" (+{n} more)"),
                        }
                    ),
                ]),
                None if f.severity == Severity::Info => Some(vec![
                    object,
                    "not referenced".to_string(),
                    text(f.message.rsplit(": ").next().unwrap_or_default()),
                ]),
                None => None,
            }
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "### What N-1 uses

",
    );
    out.push_str(&table(&["object", "N-1's code", "where"], &rows));
    out
}

fn rollback(report: &Report) -> String {
    let mut out = String::from("### Rollback\n\n");
    out.push_str(&image_only(report));
    out.push_str(&window(&report.rollback.window));
    out.push_str(&down(&report.rollback.down));
    out
}

fn image_only(report: &Report) -> String {
    let rollback = &report.rollback;
    if rollback.image_only_safe {
        return "**Image-only rollback** (N-1's image on the new schema): safe.\n\n".to_string();
    }
    let mut out = String::from(
        "**Image-only rollback** (N-1's image on the new schema): unsafe, blocked by:\n\n",
    );
    for blocker in &rollback.blocking {
        let _ = writeln!(out, "- {}", text(blocker));
    }
    out.push('\n');
    out
}

fn window(window: &[WindowEntry]) -> String {
    if window.is_empty() {
        return "**Rollback window:** not configured (`[rollback] releases` in rollsafe.toml).\n\n"
            .to_string();
    }
    let rows: Vec<Vec<String>> = window
        .iter()
        .map(|entry| {
            vec![
                code(&entry.release),
                code(short_commit(&entry.commit)),
                if entry.safe { "safe" } else { "unsafe" }.to_string(),
                or_dash(&text(&entry.reasons.join("; "))),
            ]
        })
        .collect();
    let table = table(
        &["release", "commit", "image-only rollback", "blocked by"],
        &rows,
    );
    format!(
        "**Rollback window:**\n\n{}\n",
        fold_if_long(
            &table,
            rows.len(),
            &plural(rows.len(), "release", "releases")
        )
    )
}

/// The down verdicts that need a reader's attention in a table; the clean ones (inverse or
/// none needed, without notes) are counted, since the migrations table lists them too.
fn down(down: &[DownEntry]) -> String {
    if down.is_empty() {
        return "**Down migrations:** no verdicts in this report.\n".to_string();
    }
    let (clean, flagged): (Vec<&DownEntry>, Vec<&DownEntry>) =
        down.iter().partition(|entry| is_clean(entry));
    if flagged.is_empty() {
        return "**Down migrations:** each one undoes its up (inverse, or none needed).\n"
            .to_string();
    }
    let rows: Vec<Vec<String>> = flagged
        .iter()
        .map(|entry| {
            vec![
                code(&entry.migration),
                down_name(entry.verdict).to_string(),
                or_dash(&text(&entry.notes.join("; "))),
            ]
        })
        .collect();
    let table = table(&["migration", "down", "notes"], &rows);
    let mut out = format!(
        "**Down migrations:**\n\n{}",
        fold_if_long(
            &table,
            rows.len(),
            &plural(rows.len(), "down verdict", "down verdicts")
        )
    );
    if !clean.is_empty() {
        let _ = write!(
            out,
            "\n{}: inverse, or none needed.\n",
            plural(clean.len(), "other", "others")
        );
    }
    out
}

fn is_clean(entry: &DownEntry) -> bool {
    let clean_verdict = matches!(
        entry.verdict,
        DownVerdict::Inverse | DownVerdict::NoneNeeded
    );
    clean_verdict && entry.notes.is_empty()
}

fn suppressions(report: &Report) -> String {
    let mut out = format!("### Suppressions ({})\n\n", report.suppressed.len());
    if report.suppressed.is_empty() {
        out.push_str("None.\n");
        return out;
    }
    let rows: Vec<Vec<String>> = report
        .suppressed
        .iter()
        .map(|s| {
            vec![
                code(&s.rule),
                s.severity.name().to_string(),
                code(&format!("{}:{}", s.path, s.line)),
                text(&s.reason),
            ]
        })
        .collect();
    let table = table(&["rule", "severity", "allowed at", "reason"], &rows);
    out.push_str(&fold_if_long(
        &table,
        rows.len(),
        &plural(rows.len(), "suppression", "suppressions"),
    ));
    out
}

/// A pipe table; cells must already be escaped.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", headers.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(headers.len()));
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out
}

fn fold_if_long(block: &str, rows: usize, summary: &str) -> String {
    if rows <= VISIBLE_ROWS {
        return block.to_string();
    }
    format!("<details><summary>{summary}</summary>\n\n{block}\n</details>\n")
}

fn or_dash(cell: &str) -> String {
    if cell.is_empty() {
        "–".to_string()
    } else {
        cell.to_string()
    }
}

/// Text from the model or the user (messages, names, reasons) as inline Markdown: on one
/// line, with the characters that would open markup, HTML or a table cell escaped.
fn text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '\\' | '`' | '*' | '<' | '>' | '[' | ']' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// An inline code span, safe in a table cell.
fn code(raw: &str) -> String {
    let raw = raw.replace(['\r', '\n'], " ").replace('|', "\\|");
    if raw.contains('`') {
        format!("`` {raw} ``")
    } else {
        format!("`{raw}`")
    }
}

#[cfg(test)]
mod tests {
    use super::{code, fence_for, text};

    #[test]
    fn table_cells_escape_pipes_and_markup() {
        assert_eq!(text("a | b"), "a \\| b");
        assert_eq!(text("<details>"), "\\<details\\>");
        assert_eq!(text("one\ntwo"), "one two");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x`y"), "`` x`y ``");
    }

    #[test]
    fn fences_outgrow_backticks_in_the_excerpt() {
        assert_eq!(fence_for("SELECT 1;"), "```");
        assert_eq!(fence_for("-- ```` quoted"), "`````");
    }
}
