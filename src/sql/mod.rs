//! SQL: split a migration's text into statements with byte spans, parse each with sqlparser,
//! recognise the statements sqlparser cannot parse but whose effect we can model, and lower
//! everything to the change IR. Suppression comments are read here too.
//!
//! Nothing is silently skipped: a statement is `Parsed`, `Recognized`, or `Unparsed` with the
//! parser's message, and rules report the last kind as `unparsed-statement`.

pub mod access;
mod allow;
mod fast;
mod lower;
mod parse;
mod recognize;
mod split;
mod volatility;

pub use volatility::called_functions;

use crate::dialect::Dialect;
use crate::ir::{Change, QualifiedName};
use crate::source::LineIndex;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::sync::OnceLock;

/// How rollsafe understood a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Understanding {
    /// sqlparser parsed it and `lower` translated the AST.
    Parsed,
    /// sqlparser could not parse it, but the keyword recogniser knows what it does.
    Recognized,
    /// Neither: kept with the parser's message so it can be reported.
    Unparsed { message: String },
}

/// A suppression comment: `-- rollsafe:allow drop-column, drop-table <reason>` (the next
/// statement) or `-- rollsafe:allow-file <rules> <reason>` (the whole file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allow {
    pub rules: Vec<String>,
    /// `None` when the comment gives no reason (an `allow-without-reason` finding).
    pub reason: Option<String>,
    /// Byte span of the comment in the file.
    pub span: Range<usize>,
    pub file_wide: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Byte span of the statement in the file, from its first keyword to its last token
    /// (the terminating `;` excluded), leading comments and whitespace excluded.
    pub span: Range<usize>,
    pub understanding: Understanding,
    /// What the statement does, in order. Empty only for an unparsed statement.
    pub changes: Vec<Change>,
    /// Suppressions written in the comments directly before the statement.
    pub allows: Vec<Allow>,
}

/// One parsed SQL part (a migration's up or down section).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlFile {
    pub statements: Vec<Statement>,
    /// `rollsafe:allow-file` comments anywhere in the part.
    pub file_allows: Vec<Allow>,
}

/// Splits, parses and lowers `text[range]` (the whole file's text is passed so every span is
/// an offset into the file). Never fails: what cannot be parsed is kept as `Unparsed`.
pub fn parse_sql(text: &str, range: Range<usize>, dialect: Dialect) -> SqlFile {
    // A UTF-8 byte-order mark is not part of the first statement (editors on Windows write
    // one; left in, it made the statement unparsable and hid what it did).
    let start = if range.start == 0 && text.starts_with(BYTE_ORDER_MARK) {
        BYTE_ORDER_MARK.len_utf8()
    } else {
        range.start
    };
    let range = char_boundary(text, start)..char_boundary(text, range.end.max(start));
    let split = split::split(text, range, dialect);
    let file_allows = split
        .comments
        .iter()
        .filter_map(|c| allow::parse_comment(text, c.clone()))
        .filter(|a| a.file_wide)
        .collect();
    // Built on the first unparsed statement, for the positions in its message.
    let lines = OnceLock::new();
    // A long file's statements are parsed on all cores.
    let statements = crate::parallel::map(&split.pieces, 256, |piece| {
        statement(text, &lines, piece, dialect)
    });
    SqlFile {
        statements,
        file_allows,
    }
}

fn statement<'a>(
    text: &'a str,
    lines: &OnceLock<LineIndex<'a>>,
    piece: &split::Piece,
    dialect: Dialect,
) -> Statement {
    let allows = piece
        .leading_comments
        .iter()
        .filter_map(|c| allow::parse_comment(text, c.clone()))
        .filter(|a| !a.file_wide)
        .collect();
    let sql = &text[piece.span.clone()];
    let (understanding, changes) = understand(sql, dialect).unwrap_or_else(|message| {
        let lines = lines.get_or_init(|| LineIndex::new(text));
        let message = lines.relocate(&message, piece.span.clone());
        (Understanding::Unparsed { message }, vec![])
    });
    Statement {
        span: piece.span.clone(),
        understanding,
        changes,
        allows,
    }
}

/// Parses and lowers one statement, or recognises it when sqlparser cannot parse it. The
/// error is the parser's message, positions relative to `sql`.
fn understand(sql: &str, dialect: Dialect) -> Result<(Understanding, Vec<Change>), String> {
    if let Some(changes) = recognize::routine_definition(sql, dialect) {
        return Ok((Understanding::Recognized, changes));
    }
    // A long seed INSERT is parsed with its first row only (the same IR); should that fail,
    // the whole statement is parsed below, for sqlparser's own message.
    let parsed = match fast::shorten_insert(sql) {
        Some(short) => {
            parse::parse_one(&short, dialect).or_else(|_| parse::parse_one(sql, dialect))
        }
        None => parse::parse_one(sql, dialect),
    };
    match parsed {
        Ok(ast) => {
            let mut changes = lower::lower(&ast, dialect);
            if changes.is_empty() {
                // `lower` always says something; should it not, say that we cannot see.
                changes.push(Change::Opaque {
                    what: "statement".into(),
                });
            }
            Ok((Understanding::Parsed, changes))
        }
        Err(message) => match recognize::recognize(sql, dialect) {
            Some(changes) => Ok((Understanding::Recognized, changes)),
            None => Err(message),
        },
    }
}

/// `offset`, moved back to a character boundary (and into the text) so no span splits a
/// character, whatever range a caller passes.
const BYTE_ORDER_MARK: char = '\u{feff}';

/// True when two pieces of SQL say the same thing token for token: they differ only in
/// whitespace, comments, or the case of unquoted keywords and names. Text that does not
/// tokenize is compared as it is.
pub fn same_tokens(a: &str, b: &str) -> bool {
    match (tokens(a), tokens(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

fn tokens(sql: &str) -> Option<Vec<String>> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let dialect = sqlparser::dialect::GenericDialect {};
    let tokens = Tokenizer::new(&dialect, sql).tokenize().ok()?;
    Some(
        tokens
            .into_iter()
            .filter(|token| !matches!(token, Token::Whitespace(_)))
            .map(|token| match token {
                Token::Word(word) if word.quote_style.is_none() => word.value.to_lowercase(),
                other => other.to_string(),
            })
            .collect(),
    )
}

fn char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// An identifier as the database matches it. Postgres lower-cases unquoted names and keeps
/// quoted ones; SQLite and MySQL match names without regard to case, quoted or not, so there
/// every name is lower-cased (`"Users"` and `users` are one table).
pub(crate) fn fold(value: &str, quoted: bool, dialect: Dialect) -> String {
    if quoted && dialect.quoted_names_keep_case() {
        value.to_string()
    } else {
        value.to_lowercase()
    }
}

/// A dotted name's last two parts as schema and name; an unqualified name gets the dialect's
/// default schema.
pub(crate) fn qualify(mut parts: Vec<String>, dialect: Dialect) -> QualifiedName {
    let name = parts.pop().unwrap_or_default();
    let schema = parts
        .pop()
        .unwrap_or_else(|| dialect.default_schema().to_string());
    QualifiedName::new(schema, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> SqlFile {
        parse_sql(text, 0..text.len(), Dialect::Postgres)
    }

    #[test]
    fn statements_are_parsed_recognised_or_unparsed() {
        let text = "CREATE TABLE a (id int);\nDROP INDEX CONCURRENTLY a_idx;\nFROB a;\n";
        let file = parse(text);
        let kinds: Vec<_> = file.statements.iter().map(|s| &s.understanding).collect();
        assert_eq!(kinds[0], &Understanding::Parsed);
        assert_eq!(kinds[1], &Understanding::Recognized);
        assert!(matches!(kinds[2], Understanding::Unparsed { .. }));
        assert!(file.statements[2].changes.is_empty());
        assert_eq!(
            &text[file.statements[1].span.clone()],
            "DROP INDEX CONCURRENTLY a_idx"
        );
    }

    #[test]
    fn unparsed_messages_point_into_the_file() {
        let text = "-- migration\nCREATE TABLE a (id int);\n\nALTER TABLE a\n  FROBNICATE b;\n";
        let file = parse(text);
        let Understanding::Unparsed { message } = &file.statements[1].understanding else {
            panic!("{:?}", file.statements[1]);
        };
        assert!(message.contains("at Line: 5, Column: 3"), "{message}");
    }

    #[test]
    fn unparsed_position_within_a_range() {
        let text = "-- +goose Up\nSELECT 1;\n-- +goose Down\nDROP TABLE;\n";
        let down = text.find("-- +goose Down").unwrap();
        let file = parse_sql(text, down..text.len(), Dialect::Postgres);
        let Understanding::Unparsed { message } = &file.statements[0].understanding else {
            panic!("{:?}", file.statements[0]);
        };
        assert!(message.contains("Line: 4, Column: 11"), "{message}");
        assert!(!message.starts_with("sql parser error"), "{message}");
    }

    #[test]
    fn allows_attach_to_the_next_statement() {
        let text = "-- rollsafe:allow-file missing-down squashed\nSELECT 1;\n\
                    -- rollsafe:allow drop-column retired in #481\n\
                    /* rollsafe:allow drop-table */\nALTER TABLE a DROP COLUMN b;\nDROP TABLE c;";
        let file = parse(text);
        assert_eq!(file.file_allows.len(), 1);
        assert_eq!(file.file_allows[0].rules, ["missing-down"]);
        assert!(file.statements[0].allows.is_empty());
        let allows = &file.statements[1].allows;
        assert_eq!(allows.len(), 2);
        assert_eq!(allows[0].reason.as_deref(), Some("retired in #481"));
        assert_eq!(allows[1].rules, ["drop-table"]);
        assert_eq!(allows[1].reason, None);
        assert!(file.statements[2].allows.is_empty());
    }

    /// Random soups of the splitter's and recogniser's trigger tokens must never panic.
    #[test]
    fn token_soup_does_not_panic() {
        const PIECES: &[&str] = &[
            "'",
            "''",
            "\"",
            "`",
            "$",
            "$$",
            "$a$",
            "E'",
            "\\",
            "--",
            "/*",
            "*/",
            "\n",
            ";",
            " ",
            "(",
            ")",
            ",",
            ".",
            "=",
            "BEGIN",
            "END",
            "CASE",
            "IF",
            "CREATE",
            "TRIGGER",
            "FUNCTION",
            "DELIMITER",
            "//",
            "DROP",
            "INDEX",
            "CONCURRENTLY",
            "ALTER",
            "TABLE",
            "t",
            "ADD",
            "COLUMN",
            "SET",
            "WITH",
            "DATA",
            "DO",
            "VACUUM",
            "é",
            "-- +goose StatementEnd\n",
            "-- rollsafe:allow",
            "x-y,",
            "LOCK",
            "=",
            "NONE",
            "RENAME",
            "TYPE",
            "VALUE",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound as u64) as usize
        };
        for _ in 0..3000 {
            let len = next(24);
            let text: String = (0..len).map(|_| PIECES[next(PIECES.len())]).collect();
            for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
                let file = parse_sql(&text, 0..text.len(), dialect);
                for statement in &file.statements {
                    assert!(statement.span.start <= statement.span.end);
                    assert!(text.get(statement.span.clone()).is_some());
                }
            }
        }
    }

    #[test]
    fn ranges_off_character_boundaries_are_tolerated() {
        let text = "é;SELECT 1";
        for start in 0..4 {
            let _ = parse_sql(text, start..text.len() + 5, Dialect::Postgres);
            let _ = parse_sql(text, start..1, Dialect::Postgres);
        }
    }

    /// Positions come from one line index per file, so many bad statements stay cheap.
    #[test]
    fn many_unparsed_statements_in_one_file() {
        let text = "FROB x;\n".repeat(5000);
        let started = std::time::Instant::now();
        let file = parse(&text);
        assert_eq!(file.statements.len(), 5000);
        let Understanding::Unparsed { message } = &file.statements[4999].understanding else {
            panic!()
        };
        assert!(message.contains("Line: 5000, Column: 1"), "{message}");
        assert!(started.elapsed().as_secs() < 20);
    }

    #[test]
    fn names_fold_and_qualify() {
        assert_eq!(fold("Users", false, Dialect::Postgres), "users");
        assert_eq!(fold("Users", true, Dialect::Postgres), "Users");
        assert_eq!(fold("Users", true, Dialect::Sqlite), "users");
        assert_eq!(fold("Users", true, Dialect::Mysql), "users");
        assert_eq!(
            qualify(vec!["db".into(), "s".into(), "t".into()], Dialect::Postgres),
            QualifiedName::new("s", "t")
        );
        assert_eq!(
            qualify(vec!["t".into()], Dialect::Postgres),
            QualifiedName::new("public", "t")
        );
    }
}
