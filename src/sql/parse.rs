//! Parses one statement with sqlparser, and turns its error messages into ones that point
//! into the file.

use crate::dialect::Dialect;
use crate::source::LineIndex;
use regex::Regex;
use sqlparser::ast::Statement as Ast;
use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, Tokenizer};
use std::ops::Range;
use std::sync::OnceLock;

/// Parses `sql`, which must hold exactly one statement (a trailing `;` is allowed). The error
/// is sqlparser's message, positions relative to `sql`.
pub fn parse_one(sql: &str, dialect: Dialect) -> Result<Ast, String> {
    match dialect {
        Dialect::Postgres => parse_with(&PostgreSqlDialect {}, sql),
        Dialect::Mysql => parse_with(&MySqlDialect {}, sql),
        Dialect::Sqlite => parse_with(&SQLiteDialect {}, sql),
    }
}

/// The statement's tokens, or `None` when it does not even tokenize.
pub fn tokens(sql: &str, dialect: Dialect) -> Option<Vec<Token>> {
    let tokenize = |d: &dyn sqlparser::dialect::Dialect| Tokenizer::new(d, sql).tokenize().ok();
    match dialect {
        Dialect::Postgres => tokenize(&PostgreSqlDialect {}),
        Dialect::Mysql => tokenize(&MySqlDialect {}),
        Dialect::Sqlite => tokenize(&SQLiteDialect {}),
    }
}

fn parse_with(dialect: &dyn sqlparser::dialect::Dialect, sql: &str) -> Result<Ast, String> {
    let mut parser = Parser::new(dialect)
        .try_with_sql(sql)
        .map_err(|e| clean(&e))?;
    let statement = parser.parse_statement().map_err(|e| clean(&e))?;
    while parser.peek_token_ref().token == Token::SemiColon {
        parser.next_token();
    }
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(format!(
            "Expected: end of statement, found: {}{}",
            next.token, next.span.start
        ));
    }
    Ok(statement)
}

/// sqlparser prefixes every message with `sql parser error: `; a user gains nothing from it.
fn clean(error: &ParserError) -> String {
    let text = error.to_string();
    text.strip_prefix("sql parser error: ")
        .unwrap_or(&text)
        .to_string()
}

impl LineIndex<'_> {
    /// Rewrites the `at Line: L, Column: C` of a message about the statement at `span` so
    /// that it gives the position in the file. A message without a position (sqlparser gives
    /// none for the end of input) gets the position where the statement ends.
    pub fn relocate(&self, message: &str, span: Range<usize>) -> String {
        static LOCATION: OnceLock<Regex> = OnceLock::new();
        let location = LOCATION.get_or_init(|| {
            Regex::new(r"at Line: (\d+), Column: (\d+)").expect("the location pattern is valid")
        });
        if !location.is_match(message) {
            let (line, column) = self.line_column(span.end);
            return format!("{message} at Line: {line}, Column: {column}");
        }
        let (start_line, start_column) = self.line_column(span.start);
        location
            .replace_all(message, |caps: &regex::Captures| {
                let line: usize = caps[1].parse().unwrap_or(1).max(1);
                let column: usize = caps[2].parse().unwrap_or(1).max(1);
                let (file_line, file_column) = if line == 1 {
                    (start_line, start_column + column - 1)
                } else {
                    (start_line + line - 1, column)
                };
                format!("at Line: {file_line}, Column: {file_column}")
            })
            .into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_one_statement() {
        assert!(parse_one("CREATE TABLE a (id int)", Dialect::Postgres).is_ok());
        assert!(parse_one("SELECT 1;", Dialect::Postgres).is_ok());
    }

    #[test]
    fn tokens_left_over_are_an_error() {
        let err = parse_one("SELECT 1 2", Dialect::Postgres).unwrap_err();
        assert!(err.starts_with("Expected: end of statement"), "{err}");
        let err = parse_one("SELECT 1; SELECT 2", Dialect::Postgres).unwrap_err();
        assert!(
            err.contains("found: SELECT at Line: 1, Column: 11"),
            "{err}"
        );
    }

    #[test]
    fn messages_lose_the_prefix() {
        let err = parse_one("CREATE TABLE", Dialect::Postgres).unwrap_err();
        assert!(!err.starts_with("sql parser error"), "{err}");
    }

    #[test]
    fn relocates_positions_into_the_file() {
        let text = "-- one\n-- two\n  ALTER TABLE x FROB;";
        let offset = text.find("ALTER").unwrap();
        assert_eq!(
            LineIndex::new(text).relocate("found: FROB at Line: 1, Column: 15", offset..text.len()),
            "found: FROB at Line: 3, Column: 17"
        );
        assert_eq!(
            LineIndex::new(text).relocate("found: x at Line: 2, Column: 4", offset..text.len()),
            "found: x at Line: 4, Column: 4"
        );
    }

    #[test]
    fn end_of_input_gets_the_statement_end() {
        let text = "SELECT 1;\nDROP TABLE";
        assert_eq!(
            LineIndex::new(text).relocate("Expected: identifier, found: EOF", 10..text.len()),
            "Expected: identifier, found: EOF at Line: 2, Column: 11"
        );
    }

    #[test]
    fn columns_count_characters() {
        let text = "-- é\nSELECT 'é', FROB";
        let lines = LineIndex::new(text);
        assert_eq!(lines.line_column(text.len()), (2, 17));
        assert_eq!(lines.line_column(0), (1, 1));
        assert_eq!(lines.line_column(4), (1, 4));
        assert_eq!(lines.line_column(6), (2, 1));
    }
}
