//! The reviewers' report, for a pull-request comment or a CI job summary. The first line
//! states the verdict; then the deploy's migrations, each finding at its SQL with the safe
//! recipe, the rollback section and the audit list of suppressions. It reads as plain text
//! too, and long lists fold into `<details>`.

use super::labels::{self, down_name, phase_name, plural, short_commit, status_name};
use super::{DownEntry, FindingEntry, MigrationEntry, Report, WindowEntry};
use crate::resolve::Verdict;
use crate::rules::Severity;
use std::cmp::Reverse;
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

/// What a pull-request comment holds on GitHub, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// The report, cut to fit a pull-request comment.
pub fn render(report: &Report) -> String {
    render_within(report, COMMENT_LIMIT)
}

/// The report in at most `limit` characters. When the whole report is longer, it keeps the
/// verdict and every error on a line of its own (as many as fit), the first errors in full,
/// then the warnings and info on a line each as space allows, and says how many findings
/// it left out and where the full list is.
pub fn render_within(report: &Report, limit: usize) -> String {
    let ordered = by_severity(report);
    let everything = Shown {
        full: &ordered,
        brief: &[],
    };
    let full = assemble(report, everything, Fit::Full);
    if chars(&full) <= limit {
        return full;
    }
    let errors = count_errors(&ordered);
    // The tables in full when every error fits beside them, else the tables counted.
    for fit in [Fit::Cut, Fit::Compact] {
        let fits = |shown: Shown<'_, '_>| chars(&assemble(report, shown, fit)) <= limit;
        // Every error on a line, then as many of them in full, then the others on a line.
        let listed = most_that_fit(errors, |n| fits(Shown::brief(&ordered[..n])));
        let Some(listed) = listed.filter(|n| fit == Fit::Compact || *n == errors) else {
            continue;
        };
        let in_full = most_that_fit(listed, |n| fits(Shown::split(&ordered[..listed], n)))
            .unwrap_or_default();
        let others = ordered.len() - listed;
        let more = most_that_fit(others, |n| {
            fits(Shown::split(&ordered[..listed + n], in_full))
        })
        .unwrap_or_default();
        return assemble(
            report,
            Shown::split(&ordered[..listed + more], in_full),
            fit,
        );
    }
    // Even the verdict and the rollback section overflow: cut the text itself.
    let compact = assemble(report, Shown::brief(&[]), Fit::Compact);
    let cut: String = compact.chars().take(limit.saturating_sub(400)).collect();
    format!(
        "{cut}\n\n{}\n\n{MARKER}\n",
        left_out_line(report.findings.len())
    )
}

/// The findings a rendering shows: the first ones in full, the next ones on one line each.
#[derive(Clone, Copy)]
struct Shown<'r, 's> {
    full: &'s [&'r FindingEntry],
    brief: &'s [&'r FindingEntry],
}

impl<'r, 's> Shown<'r, 's> {
    fn brief(findings: &'s [&'r FindingEntry]) -> Self {
        Shown {
            full: &[],
            brief: findings,
        }
    }

    fn split(findings: &'s [&'r FindingEntry], in_full: usize) -> Self {
        let (full, brief) = findings.split_at(in_full);
        Shown { full, brief }
    }

    fn len(&self) -> usize {
        self.full.len() + self.brief.len()
    }
}

/// How much of the report a rendering keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fit {
    /// Everything.
    Full,
    /// Some findings left out; the tables in full.
    Cut,
    /// Some findings left out; the migrations and suppressions tables reduced to a count.
    Compact,
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

fn count_errors(findings: &[&FindingEntry]) -> usize {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count()
}

/// The largest `n` in `0..=len` for which `fits(n)` holds (it holds for every smaller `n`
/// too), or `None` when not even `0` fits.
fn most_that_fit(len: usize, fits: impl Fn(usize) -> bool) -> Option<usize> {
    if !fits(0) {
        return None;
    }
    let (mut low, mut high) = (0, len);
    while low < high {
        let middle = low + (high - low).div_ceil(2);
        if fits(middle) {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    Some(low)
}

fn assemble(report: &Report, shown: Shown<'_, '_>, fit: Fit) -> String {
    let left_out = report.findings.len() - shown.len();
    let mut findings_section = findings(report, shown, fit == Fit::Full);
    if fit != Fit::Full {
        let _ = write!(findings_section, "\n{}\n", left_out_line(left_out));
    }
    let compact = fit == Fit::Compact;
    let sections = [
        heading(report),
        migrations(report, compact),
        findings_section,
        // Evidence for each compat finding: left out of a report cut to fit.
        if compact {
            String::new()
        } else {
            what_n1_uses(report)
        },
        rollback(report, compact),
        suppressions(report, compact),
        ignored(report),
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

/// What a cut report says about the findings it does not show.
fn left_out_line(left_out: usize) -> String {
    format!(
        "**{} left out** to fit a pull-request comment (GitHub allows 65,536 characters): \
         `rollsafe check --format text` (or `--format json -o FILE`) lists every finding, \
         and so does the SARIF upload to code scanning.",
        plural(left_out, "finding", "findings")
    )
}

fn heading(report: &Report) -> String {
    let (marker, meaning) = match report.verdict {
        Verdict::Unsafe => (
            "❌",
            "An unsuppressed error: N-1, a rollback or the database's availability breaks if this deploys as is.",
        ),
        Verdict::Review => ("⚠️", "Warnings only: read them before deploying."),
        Verdict::Safe => ("✅", "No errors or warnings."),
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

fn migrations(report: &Report, compact: bool) -> String {
    let mut out = String::from("### Migrations\n\n");
    if report.migrations.is_empty() {
        out.push_str("No migrations in this deploy.\n");
        return out;
    }
    if compact {
        let _ = writeln!(
            out,
            "{} (the table is left out to fit; `--format json` lists them).",
            plural(report.migrations.len(), "migration", "migrations")
        );
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

/// `shown`: the findings to show, in the order of `by_severity` (a prefix of it when the
/// report is cut). Only an uncut report folds: a cut one is short already, and folding
/// there could hide an error above a warning listed in brief.
fn findings(report: &Report, shown: Shown<'_, '_>, fold: bool) -> String {
    let mut out = String::from("### Findings\n\n");
    if report.findings.is_empty() {
        out.push_str("None.\n");
        return out;
    }
    let mut already = AlreadyShown::default();
    let mut previous: Option<&str> = None;
    let folds = fold && shown.full.len() > VISIBLE_FINDINGS;
    for (index, finding) in shown.full.iter().enumerate() {
        if folds && index == VISIBLE_FINDINGS {
            let rest = shown.full.len() - index;
            let _ = writeln!(
                out,
                "<details><summary>{}</summary>\n",
                plural(rest, "more finding", "more findings")
            );
            previous = None;
        }
        if previous != Some(finding.migration.as_str()) {
            out.push_str(&migration_heading(report, &finding.migration));
            previous = Some(&finding.migration);
        }
        out.push_str(&finding_block(report, finding, &mut already));
    }
    if folds {
        out.push_str("</details>\n");
    }
    if !shown.brief.is_empty() {
        let title = if shown.full.is_empty() {
            "In brief"
        } else {
            "More, in brief"
        };
        let _ = writeln!(out, "#### {title}");
        let mut file: Option<&str> = None;
        for finding in shown.brief {
            if file != Some(finding.path.as_str()) {
                let _ = writeln!(out, "\n{}\n", code(&finding.path));
                file = Some(&finding.path);
            }
            let _ = writeln!(
                out,
                "- **{}** {} line {}: {}",
                finding.severity.name(),
                code(&finding.rule),
                finding.line,
                text(&shortened(&finding.message, BRIEF_MESSAGE))
            );
        }
    }
    out
}

/// Characters of a message a finding listed in brief keeps.
const BRIEF_MESSAGE: usize = 140;

/// `message` cut at a word boundary near `max` characters, marked with `…`.
fn shortened(message: &str, max: usize) -> String {
    if message.chars().count() <= max {
        return message.to_string();
    }
    let cut: String = message.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', ';', ':']))
}

/// The findings by severity (errors first), so that no error is folded or cut while a
/// warning shows; within a severity, grouped by migration: the report's migrations in
/// order, then any other migration a finding names (a deleted one), in order of appearance.
fn by_severity(report: &Report) -> Vec<&FindingEntry> {
    let mut ids: Vec<&str> = report.migrations.iter().map(|m| m.id.as_str()).collect();
    for finding in &report.findings {
        if !ids.contains(&finding.migration.as_str()) {
            ids.push(&finding.migration);
        }
    }
    let position = |id: &str| ids.iter().position(|known| *known == id);
    let mut ordered: Vec<&FindingEntry> = report.findings.iter().collect();
    ordered.sort_by_key(|f| (Reverse(f.severity), position(&f.migration)));
    ordered
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

/// `compact`: the blockers and the down verdicts reduced to counts, to fit a comment.
fn rollback(report: &Report, compact: bool) -> String {
    let mut out = String::from("### Rollback\n\n");
    out.push_str(&image_only(report, compact));
    out.push_str(&window(report));
    if compact {
        out.push_str(&down_counts(&report.rollback.down));
    } else {
        out.push_str(&down(&report.rollback.down));
    }
    out
}

/// Blockers listed before a compact report counts the rest.
const COMPACT_BLOCKERS: usize = 10;

fn image_only(report: &Report, compact: bool) -> String {
    let rollback = &report.rollback;
    if rollback.image_only_safe {
        return "**Image-only rollback** (N-1's image on the new schema): safe.\n\n".to_string();
    }
    let mut out = String::from(
        "**Image-only rollback** (N-1's image on the new schema): unsafe, blocked by:\n\n",
    );
    let listed = if compact {
        COMPACT_BLOCKERS
    } else {
        rollback.blocking.len()
    };
    for blocker in rollback.blocking.iter().take(listed) {
        let _ = writeln!(out, "- {}", text(blocker));
    }
    if rollback.blocking.len() > listed {
        let _ = writeln!(
            out,
            "- and {} more (each compat finding blocks it)",
            rollback.blocking.len() - listed
        );
    }
    out.push('\n');
    out
}

/// The down verdicts as counts, for a report cut to fit.
fn down_counts(down: &[DownEntry]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for entry in down {
        let name = down_name(entry.verdict);
        match counts.iter_mut().find(|(known, _)| *known == name) {
            Some((_, n)) => *n += 1,
            None => counts.push((name, 1)),
        }
    }
    let counts: Vec<String> = counts
        .iter()
        .map(|(name, n)| format!("{n} {name}"))
        .collect();
    format!(
        "**Down migrations:** {} (the table is left out to fit; `--format json` lists them).\n",
        if counts.is_empty() {
            "no verdicts".to_string()
        } else {
            counts.join(", ")
        }
    )
}

fn window(report: &Report) -> String {
    let window: &[WindowEntry] = &report.rollback.window;
    if window.is_empty() {
        return format!("**Rollback window:** {}.\n\n", labels::no_window(report));
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
        down.iter().partition(|entry| labels::down_is_clean(entry));
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

fn suppressions(report: &Report, compact: bool) -> String {
    let mut out = format!("### Suppressions ({})\n\n", report.suppressed.len());
    if report.suppressed.is_empty() {
        out.push_str("None.\n");
        return out;
    }
    if compact {
        out.push_str("The table is left out to fit; `--format json` lists each with its reason.\n");
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

/// The files the layout did not take as migrations, folded: they were not checked.
fn ignored(report: &Report) -> String {
    if report.ignored.is_empty() {
        return String::new();
    }
    let mut list = String::new();
    for ignored in &report.ignored {
        let _ = writeln!(list, "- {}: {}", code(&ignored.path), text(&ignored.reason));
    }
    format!(
        "### Not checked\n\n<details><summary>{}</summary>\n\n{list}\n</details>\n",
        labels::not_migrations(report)
    )
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
