//! The mention scan: every whole-word occurrence of a touched object's name in N-1's
//! tracked source files, found with one multi-pattern search. A mention is weak evidence
//! ("N-1 may reference it"): it only ever keeps a finding loud.

use super::{Access, SourceKind, Usage, UsageInput};
use regex::RegexBuilder;
use std::collections::BTreeSet;

/// Mentions kept per name: enough to cite, bounded on a name that is everywhere.
const MAX_PER_NAME: usize = 100;

pub fn scan(
    input: &UsageInput<'_>,
    texts: &[(&str, &str)],
    targets: &BTreeSet<String>,
    usage: &mut Usage,
    claimed: &BTreeSet<String>,
) {
    usage.scanned_names = Some(targets.iter().map(|t| t.to_lowercase()).collect());
    if input.config.scan.as_ref().is_some_and(Vec::is_empty) {
        // `scan = []`: no scan, so no name can be shown unreferenced.
        usage.scanned_names = None;
        return;
    }
    if let Some(globs) = &input.selection.scan {
        for glob in globs {
            if !texts.iter().any(|(p, _)| glob.matches(p)) {
                usage.warnings.push(format!(
                    "[usage] scan: `{}` matches no file at {}",
                    glob.pattern, input.rev
                ));
            }
        }
    }
    let files: Vec<(&str, &str)> = texts
        .iter()
        .filter(|(p, _)| input.selection.is_scanned(p) && !claimed.contains(*p))
        .copied()
        .collect();
    usage.scanned_files = files.len();
    if targets.is_empty() {
        return;
    }
    let alternatives: Vec<String> = targets.iter().map(|t| regex::escape(t)).collect();
    // Identifier characters on neither side: `users` in `"users"`, `users.email`, but not
    // in `users_archive` or `superusers`.
    let pattern = format!(
        r"(?:^|[^A-Za-z0-9_$])({})(?:$|[^A-Za-z0-9_$])",
        alternatives.join("|")
    );
    let Ok(regex) = RegexBuilder::new(&pattern)
        .case_insensitive(true)
        .multi_line(true)
        .build()
    else {
        usage
            .warnings
            .push("the mention scan's pattern is too large; no scan was made".to_string());
        usage.scanned_names = None;
        return;
    };
    for (path, text) in files {
        let mut line = 1;
        let mut counted = 0;
        let mut start = 0;
        while let Some(caps) = regex.captures_at(text, start) {
            let name = caps.get(1).expect("group 1 always takes part");
            line += text.as_bytes()[counted..name.start()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            counted = name.start();
            // Inside a string literal (an odd count of quotes before it on its line), the
            // name may be part of SQL that no source parsed.
            let line_start = text[..name.start()].rfind('\n').map_or(0, |i| i + 1);
            let before = &text[line_start..name.start()];
            let odd = |quote: char| before.matches(quote).count() % 2 == 1;
            if odd('"') || odd('`') || (!path.ends_with(".rs") && odd('\'')) {
                usage.quoted.insert((path.to_string(), line));
            }
            let key = name.as_str().to_lowercase();
            let list = usage.mentions.entry(key).or_default();
            if list.len() < MAX_PER_NAME {
                list.push(super::Evidence {
                    rev: input.rev.to_string(),
                    path: path.to_string(),
                    line,
                    source: SourceKind::Mention,
                    access: Access::Mention,
                });
            }
            // The trailing boundary character may start the next match.
            start = name.end();
        }
    }
}
