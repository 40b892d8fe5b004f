//! Suppression comments: `-- rollsafe:allow <rules> <reason>` for the next statement and
//! `-- rollsafe:allow-file <rules> <reason>` for the whole file (also in `/* ... */`).
//!
//! Rule ids are kebab-case words separated by commas or spaces. After a comma another id
//! follows; after a space a word continues the list only if it looks like a rule id (it
//! has a hyphen), so `drop-column legacy data, see #481` reads as one rule and a reason.

use super::Allow;
use std::ops::Range;

const ALLOW: &str = "rollsafe:allow";
const ALLOW_FILE: &str = "rollsafe:allow-file";

/// Reads the suppression in the comment at `span` of `text`, if it holds one.
pub fn parse_comment(text: &str, span: Range<usize>) -> Option<Allow> {
    let body = comment_body(text.get(span.clone())?);
    let (file_wide, rest) = if let Some(rest) = body.strip_prefix(ALLOW_FILE) {
        (true, rest)
    } else {
        (false, body.strip_prefix(ALLOW)?)
    };
    // `rollsafe:allowance` is not ours.
    if rest.starts_with(|c: char| !c.is_whitespace()) {
        return None;
    }
    let (rules, reason) = split_rules_and_reason(rest);
    Some(Allow {
        rules,
        reason,
        span,
        file_wide,
    })
}

/// The comment's text without its markers and surrounding whitespace.
fn comment_body(comment: &str) -> &str {
    let body = if let Some(block) = comment.strip_prefix("/*") {
        block.strip_suffix("*/").unwrap_or(block)
    } else {
        comment.trim_start_matches('-').trim_start_matches('#')
    };
    body.trim()
}

fn split_rules_and_reason(rest: &str) -> (Vec<String>, Option<String>) {
    let mut rules = Vec::new();
    let mut remaining = rest.trim_start();
    let mut after_comma = true;
    while let Some((word, tail)) = next_word(remaining) {
        let id = word.trim_end_matches([',', ':']);
        let continues_list = after_comma || id.contains('-');
        if !continues_list || !is_rule_id(id) {
            break;
        }
        rules.push(id.to_string());
        if word.ends_with(':') {
            // `rule: reason`
            remaining = tail;
            break;
        }
        after_comma = word.ends_with(',') || tail.trim_start().starts_with(',');
        remaining = tail.trim_start().trim_start_matches(',').trim_start();
    }
    let reason = remaining
        .trim_start_matches([':', '-', '—'])
        .trim()
        .to_string();
    (rules, Some(reason).filter(|r| !r.is_empty()))
}

fn next_word(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return None;
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    let end = text[..end].find(',').map_or(end, |comma| comma + 1);
    Some(text.split_at(end))
}

fn is_rule_id(word: &str) -> bool {
    !word.is_empty()
        && !word.starts_with('-')
        && !word.ends_with('-')
        && !word.contains("--")
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(comment: &str) -> Option<Allow> {
        parse_comment(comment, 0..comment.len())
    }

    fn rules_and_reason(comment: &str) -> (Vec<String>, Option<String>, bool) {
        let a = allow(comment).expect("an allow comment");
        (a.rules, a.reason, a.file_wide)
    }

    #[test]
    fn rules_then_reason() {
        assert_eq!(
            rules_and_reason("-- rollsafe:allow drop-column, drop-table retired in #481"),
            (
                vec!["drop-column".into(), "drop-table".into()],
                Some("retired in #481".into()),
                false
            )
        );
    }

    #[test]
    fn space_separated_rules() {
        let (rules, reason, _) = rules_and_reason("-- rollsafe:allow drop-column drop-table ok");
        assert_eq!(rules, ["drop-column", "drop-table"]);
        assert_eq!(reason.as_deref(), Some("ok"));
    }

    #[test]
    fn missing_reason_is_none() {
        assert_eq!(
            rules_and_reason("-- rollsafe:allow drop-column"),
            (vec!["drop-column".into()], None, false)
        );
        assert_eq!(rules_and_reason("--rollsafe:allow drop-column, ").1, None);
    }

    #[test]
    fn file_wide_and_block_comments() {
        assert_eq!(
            rules_and_reason("/* rollsafe:allow-file missing-down: squashed history */"),
            (
                vec!["missing-down".into()],
                Some("squashed history".into()),
                true
            )
        );
    }

    #[test]
    fn single_word_rule_then_reason() {
        let (rules, reason, _) = rules_and_reason("-- rollsafe:allow unparsed-statement psql only");
        assert_eq!(rules, ["unparsed-statement"]);
        assert_eq!(reason.as_deref(), Some("psql only"));
    }

    #[test]
    fn not_an_allow() {
        assert!(allow("-- just a comment").is_none());
        assert!(allow("-- rollsafe:allowance x").is_none());
        assert!(allow("-- see rollsafe:allow drop-column").is_none());
    }

    #[test]
    fn span_is_kept() {
        let text = "SELECT 1;\n-- rollsafe:allow drop-table ok\n";
        let start = text.find("--").unwrap();
        let a = parse_comment(text, start..text.len() - 1).unwrap();
        assert_eq!(a.span, start..text.len() - 1);
    }
}
