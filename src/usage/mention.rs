//! The mention scan: every whole-word occurrence of a touched object's name in N-1's
//! tracked source files, found with one multi-pattern search. A mention is weak evidence
//! ("N-1 may reference it"): it only ever keeps a finding loud.

use super::{Access, SourceKind, Usage, UsageInput};
use regex::bytes::RegexBuilder;
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
    // A plain alternation of literals: the regex crate searches it with SIMD literal
    // matching; the word boundaries are checked by hand.
    let Ok(regex) = RegexBuilder::new(&alternatives.join("|"))
        .case_insensitive(true)
        .unicode(false)
        .build()
    else {
        usage
            .warnings
            .push("the mention scan's pattern is too large; no scan was made".to_string());
        usage.scanned_names = None;
        return;
    };
    let found = crate::parallel::map(&files, 64, |&(path, text)| mentions_in(&regex, path, text));
    for ((path, _), found) in files.iter().zip(found) {
        for (key, line, quoted) in found {
            if quoted {
                usage.quoted.insert((path.to_string(), line));
            }
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
        }
    }
}

/// Whole-word mentions in one file: the lower-cased name, its line, and whether it sits
/// inside a string literal (an odd count of quotes before it on its line), where it may
/// be part of SQL no source parsed.
fn mentions_in(regex: &regex::bytes::Regex, path: &str, text: &str) -> Vec<(String, usize, bool)> {
    // Identifier characters on neither side: `users` in `"users"` or `users.email`, not in
    // `users_archive` or `superusers`.
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$';
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut line, mut counted) = (1, 0);
    for found in regex.find_iter(bytes) {
        let (start, end) = (found.start(), found.end());
        if (start > 0 && ident(bytes[start - 1])) || bytes.get(end).is_some_and(|&c| ident(c)) {
            continue;
        }
        line += bytes[counted..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted = start;
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let before = &text[line_start..start];
        let odd = |quote: char| before.matches(quote).count() % 2 == 1;
        let quoted = odd('"') || odd('`') || (!path.ends_with(".rs") && odd('\''));
        out.push((text[start..end].to_lowercase(), line, quoted));
    }
    out
}
