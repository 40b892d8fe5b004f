//! The statement splitter: cuts a part of a file into statements with byte spans.
//!
//! It knows just enough SQL lexing to find the statement boundaries that a database client
//! would find: comments (`--`, nested `/* */`), strings (`'..''..'`, `E'..\'..'`, MySQL's
//! backslash escapes), quoted identifiers (`".."`, `` `..` ``), dollar quotes (`$$`, `$tag$`),
//! `BEGIN ... END` bodies of triggers and routines, MySQL `DELIMITER` blocks, goose
//! `StatementBegin`/`StatementEnd` markers and psql meta-commands (`\connect`, `\set`), which
//! are blanked. Every offset is a byte offset into the whole file.

use crate::dialect::Dialect;
use std::ops::Range;

/// One statement as the splitter sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// From the first token to the last one, the terminating delimiter excluded.
    pub span: Range<usize>,
    /// The comments between the previous statement and this one.
    pub leading_comments: Vec<Range<usize>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    pub pieces: Vec<Piece>,
    /// Every comment in the part, in order (each span includes its `--` or `/* */`).
    pub comments: Vec<Range<usize>>,
}

/// Splits `text[range]` into statements.
pub fn split(text: &str, range: Range<usize>, dialect: Dialect) -> Split {
    let end = range.end.min(text.len());
    let start = range.start.min(end);
    let mut splitter = Splitter {
        bytes: text.as_bytes(),
        end,
        pos: start,
        dialect,
        delimiter: b";".to_vec(),
        out: Split::default(),
        current: Current::default(),
    };
    splitter.run();
    splitter.out
}

/// The statement being accumulated.
#[derive(Default)]
struct Current {
    start: Option<usize>,
    end: usize,
    leading_comments: Vec<Range<usize>>,
    /// The first words, upper-cased, to recognise `CREATE TRIGGER` and friends.
    words: Vec<String>,
    /// Open `BEGIN`/`CASE` blocks inside a trigger or routine body.
    block_depth: usize,
}

/// How many leading words are kept to classify a statement.
const WORDS_KEPT: usize = 8;

struct Splitter<'a> {
    bytes: &'a [u8],
    end: usize,
    pos: usize,
    dialect: Dialect,
    delimiter: Vec<u8>,
    out: Split,
    current: Current,
}

impl Splitter<'_> {
    fn run(&mut self) {
        while self.pos < self.end {
            let b = self.bytes[self.pos];
            if b.is_ascii_whitespace() {
                self.pos += 1;
            } else if self.at(b"--") || (b == b'#' && self.dialect.has_hash_comments()) {
                self.line_comment();
            } else if self.at(b"/*") {
                self.block_comment();
            } else if b == b'\\' && self.at_line_start() {
                // A psql meta-command: blank the line.
                self.pos = self.line_end();
            } else if self.at_delimiter() {
                self.pos += self.delimiter.len();
                self.finish_statement();
            } else {
                self.token();
            }
        }
        self.finish_statement();
    }

    fn at(&self, s: &[u8]) -> bool {
        self.bytes[self.pos..self.end].starts_with(s)
    }

    /// A custom delimiter (MySQL `DELIMITER //`) ends a statement even inside a body.
    fn at_delimiter(&self) -> bool {
        let in_body = self.current.block_depth > 0 && self.delimiter == b";";
        !in_body && self.bytes[self.pos..self.end].starts_with(&self.delimiter)
    }

    fn at_line_start(&self) -> bool {
        self.bytes[..self.pos]
            .iter()
            .rev()
            .take_while(|&&b| b != b'\n')
            .all(|b| b.is_ascii_whitespace())
    }

    fn line_end(&self) -> usize {
        self.bytes[self.pos..self.end]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.end, |n| self.pos + n)
    }

    fn line_comment(&mut self) {
        let start = self.pos;
        self.pos = self.line_end();
        let comment = &self.bytes[start..self.pos];
        self.out.comments.push(start..self.pos);
        if self.current.start.is_some() && is_goose_marker(comment, "statementend") {
            // goose sends the block as one query: whatever is open ends here.
            self.finish_statement();
        } else if self.current.start.is_none() {
            self.current.leading_comments.push(start..self.pos);
        }
    }

    fn block_comment(&mut self) {
        let start = self.pos;
        self.pos += 2;
        let mut depth = 1;
        while self.pos < self.end && depth > 0 {
            if self.at(b"/*") {
                depth += 1;
                self.pos += 2;
            } else if self.at(b"*/") {
                depth -= 1;
                self.pos += 2;
            } else {
                self.pos += 1;
            }
        }
        self.out.comments.push(start..self.pos);
        if self.current.start.is_none() {
            self.current.leading_comments.push(start..self.pos);
        }
    }

    /// Consumes one token of the statement and extends the statement over it.
    fn token(&mut self) {
        let start = self.pos;
        let b = self.bytes[self.pos];
        if self.current.start.is_none() && self.at_word_ci(b"delimiter") {
            self.delimiter_command();
            return;
        }
        match b {
            b'\'' => self.quoted(b'\'', self.dialect.has_backslash_escapes()),
            b'"' => self.quoted(b'"', self.dialect.has_backslash_escapes()),
            b'`' => self.quoted(b'`', false),
            b'$' if self.dialect.has_dollar_quotes() => self.dollar(),
            _ if is_word_byte(b) => self.word(),
            _ => self.pos += 1,
        }
        self.current.start.get_or_insert(start);
        if b != b';' {
            self.current.end = self.pos;
        }
    }

    /// `'..'`, `".."` or `` `..` ``: a doubled quote is an escape; so is a backslash when
    /// `backslash` is set (MySQL strings, Postgres `E'..'`).
    fn quoted(&mut self, quote: u8, backslash: bool) {
        self.pos += 1;
        while self.pos < self.end {
            let b = self.bytes[self.pos];
            if backslash && b == b'\\' {
                self.pos += 2;
            } else if b == quote {
                if self.bytes.get(self.pos + 1) == Some(&quote) && self.pos + 1 < self.end {
                    self.pos += 2;
                } else {
                    self.pos += 1;
                    return;
                }
            } else {
                self.pos += 1;
            }
        }
        self.pos = self.pos.min(self.end);
    }

    /// `$tag$ ... $tag$`; a lone `$` (as in `$1`) is an ordinary character.
    fn dollar(&mut self) {
        let Some(tag_len) = self.dollar_tag_len() else {
            self.pos += 1;
            return;
        };
        let tag = self.bytes[self.pos..self.pos + tag_len].to_vec();
        let body = self.pos + tag_len;
        self.pos = find(&self.bytes[body..self.end], &tag).map_or(self.end, |n| body + n + tag_len);
    }

    fn dollar_tag_len(&self) -> Option<usize> {
        let preceded_by_word = self.pos > 0 && is_word_byte(self.bytes[self.pos - 1]);
        if preceded_by_word {
            return None;
        }
        let rest = &self.bytes[self.pos + 1..self.end];
        let tag = rest
            .iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
            .count();
        let tag_starts_with_digit = rest.first().is_some_and(u8::is_ascii_digit);
        (rest.get(tag) == Some(&b'$') && !tag_starts_with_digit).then_some(tag + 2)
    }

    fn word(&mut self) {
        let start = self.pos;
        while self.pos < self.end && is_word_byte(self.bytes[self.pos]) {
            self.pos += 1;
        }
        let word = String::from_utf8_lossy(&self.bytes[start..self.pos]).to_ascii_uppercase();
        if word == "E" && self.pos < self.end && self.bytes[self.pos] == b'\'' {
            self.quoted(b'\'', true);
            return;
        }
        self.track_blocks(&word);
        if self.current.words.len() < WORDS_KEPT {
            self.current.words.push(word);
        }
    }

    /// Counts `BEGIN ... END` (and `CASE ... END` inside them) in trigger and routine bodies,
    /// where `;` does not end the statement.
    fn track_blocks(&mut self, word: &str) {
        let depth = self.current.block_depth;
        match word {
            "BEGIN" if depth > 0 || self.in_routine_definition() => self.current.block_depth += 1,
            "CASE" if depth > 0 => self.current.block_depth += 1,
            "END" if depth > 0 && !self.next_word_closes_compound() => {
                self.current.block_depth -= 1;
            }
            _ => {}
        }
    }

    /// `CREATE [OR REPLACE] [DEFINER = ...] {TRIGGER|FUNCTION|PROCEDURE|EVENT}`: the first
    /// object keyword decides, so `CREATE TABLE event (begin int)` is not a routine.
    fn in_routine_definition(&self) -> bool {
        let words = &self.current.words;
        if words.first().map(String::as_str) != Some("CREATE") {
            return false;
        }
        let object = words[1..].iter().find(|w| {
            matches!(
                w.as_str(),
                "TABLE"
                    | "INDEX"
                    | "VIEW"
                    | "TYPE"
                    | "SCHEMA"
                    | "SEQUENCE"
                    | "POLICY"
                    | "RULE"
                    | "TRIGGER"
                    | "FUNCTION"
                    | "PROCEDURE"
                    | "EVENT"
            )
        });
        matches!(
            object.map(String::as_str),
            Some("TRIGGER" | "FUNCTION" | "PROCEDURE" | "EVENT")
        )
    }

    /// `END IF`, `END LOOP`, ... close blocks we do not count.
    fn next_word_closes_compound(&self) -> bool {
        let rest = &self.bytes[self.pos..self.end];
        let skip = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let next: Vec<u8> = rest[skip..]
            .iter()
            .take_while(|&&b| is_word_byte(b))
            .map(u8::to_ascii_uppercase)
            .collect();
        matches!(
            next.as_slice(),
            b"IF" | b"LOOP" | b"WHILE" | b"REPEAT" | b"FOR"
        )
    }

    fn at_word_ci(&self, word: &[u8]) -> bool {
        let rest = &self.bytes[self.pos..self.end];
        rest.len() >= word.len()
            && rest[..word.len()].eq_ignore_ascii_case(word)
            && !rest.get(word.len()).is_some_and(|&b| is_word_byte(b))
    }

    /// MySQL client's `DELIMITER xx`: the rest of the line is the new delimiter.
    fn delimiter_command(&mut self) {
        let line_end = self.line_end();
        let arg = &self.bytes[self.pos + "delimiter".len()..line_end];
        let new: Vec<u8> = arg
            .iter()
            .copied()
            .skip_while(u8::is_ascii_whitespace)
            .take_while(|b| !b.is_ascii_whitespace())
            .collect();
        if !new.is_empty() {
            self.delimiter = new;
        }
        self.pos = line_end;
        self.current.leading_comments.clear();
    }

    fn finish_statement(&mut self) {
        let current = std::mem::take(&mut self.current);
        if let Some(start) = current.start {
            self.out.pieces.push(Piece {
                span: start..current.end,
                leading_comments: current.leading_comments,
            });
        }
    }
}

/// `-- +goose StatementEnd` or sql-migrate's `-- +migrate StatementEnd` (case-insensitive,
/// any spacing).
fn is_goose_marker(comment: &[u8], marker: &str) -> bool {
    let text = String::from_utf8_lossy(comment).to_ascii_lowercase();
    let words: Vec<&str> = text.trim_start_matches('-').split_whitespace().collect();
    words == ["+goose", marker] || words == ["+migrate", marker]
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(sql: &str, dialect: Dialect) -> Vec<&str> {
        split(sql, 0..sql.len(), dialect)
            .pieces
            .iter()
            .map(|p| &sql[p.span.clone()])
            .collect()
    }

    fn pg(sql: &str) -> Vec<&str> {
        spans(sql, Dialect::Postgres)
    }

    #[test]
    fn splits_on_semicolons_and_trims_spans() {
        assert_eq!(
            pg("  CREATE TABLE a (id int);\n\n  DROP TABLE b ;  "),
            ["CREATE TABLE a (id int)", "DROP TABLE b"]
        );
    }

    #[test]
    fn last_statement_without_semicolon_and_empty_statements() {
        assert_eq!(pg(";;SELECT 1;; SELECT 2"), ["SELECT 1", "SELECT 2"]);
        assert!(pg("  -- only a comment\n").is_empty());
    }

    #[test]
    fn comments_do_not_split_and_are_leading() {
        let sql = "-- a; b\n/* c; /* nested; */ d; */ SELECT 1; SELECT /* x; */ 2";
        assert_eq!(pg(sql), ["SELECT 1", "SELECT /* x; */ 2"]);
        let out = split(sql, 0..sql.len(), Dialect::Postgres);
        assert_eq!(out.pieces[0].leading_comments.len(), 2);
        assert!(out.pieces[1].leading_comments.is_empty());
        assert_eq!(out.comments.len(), 3);
    }

    #[test]
    fn strings_and_identifiers() {
        assert_eq!(
            pg("SELECT 'a;''b'; SELECT E'x\\';y'; SELECT \"c;\"\"d\""),
            ["SELECT 'a;''b'", "SELECT E'x\\';y'", "SELECT \"c;\"\"d\""]
        );
        assert_eq!(
            spans("SELECT 'a\\';b'; SELECT `x;y`", Dialect::Mysql),
            ["SELECT 'a\\';b'", "SELECT `x;y`"]
        );
        // In Postgres a backslash is an ordinary character in a standard string.
        assert_eq!(pg("SELECT 'a\\'; SELECT 2"), ["SELECT 'a\\'", "SELECT 2"]);
    }

    #[test]
    fn dollar_quotes() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\
                   DO $body$ BEGIN PERFORM 1; END $body$; SELECT $1";
        assert_eq!(
            pg(sql),
            [
                "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
                "DO $body$ BEGIN PERFORM 1; END $body$",
                "SELECT $1"
            ]
        );
    }

    #[test]
    fn trigger_bodies_are_one_statement() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET x = CASE WHEN 1 THEN 2 END;\n  DELETE FROM c;\nEND;\nBEGIN; COMMIT;";
        assert_eq!(
            spans(sql, Dialect::Sqlite),
            [
                "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET x = CASE WHEN 1 THEN 2 END;\n  DELETE FROM c;\nEND",
                "BEGIN",
                "COMMIT"
            ]
        );
        let atomic = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT 3";
        assert_eq!(pg(atomic).len(), 2);
        let mysql = "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; END; SELECT 2";
        assert_eq!(spans(mysql, Dialect::Mysql).len(), 2);
    }

    #[test]
    fn a_column_named_begin_is_not_a_body() {
        assert_eq!(
            pg("CREATE TABLE event (begin int, id int); SELECT 1"),
            ["CREATE TABLE event (begin int, id int)", "SELECT 1"]
        );
    }

    #[test]
    fn mysql_delimiter_blocks() {
        let sql =
            "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END $$\nDELIMITER ;\nSELECT 2;";
        assert_eq!(
            spans(sql, Dialect::Mysql),
            ["CREATE PROCEDURE p() BEGIN SELECT 1; END", "SELECT 2"]
        );
        let slashes = "DELIMITER //\nCREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.x = 1; //\nDELIMITER ;";
        assert_eq!(
            spans(slashes, Dialect::Mysql),
            ["CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.x = 1"]
        );
    }

    #[test]
    fn goose_blocks_end_the_statement() {
        let sql = "-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;\n-- +goose StatementEnd\n-- +goose StatementBegin\nSELECT 1\n-- +goose StatementEnd\nSELECT 2";
        assert_eq!(
            pg(sql),
            [
                "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql",
                "SELECT 1",
                "SELECT 2"
            ]
        );
    }

    #[test]
    fn comments_before_a_goose_end_lead_the_next_statement() {
        let sql = "-- +goose StatementBegin\nSELECT 1;\n-- note\n-- +goose StatementEnd\nSELECT 2";
        let out = split(sql, 0..sql.len(), Dialect::Postgres);
        assert_eq!(out.pieces[1].leading_comments.len(), 2);
    }

    #[test]
    fn psql_meta_commands_are_blanked() {
        let sql =
            "\\connect mydb\nCREATE TABLE a (id int);\n  \\set ON_ERROR_STOP on\nDROP TABLE b;";
        assert_eq!(pg(sql), ["CREATE TABLE a (id int)", "DROP TABLE b"]);
    }

    #[test]
    fn spans_are_file_offsets_within_the_range() {
        let sql = "-- up\nSELECT 1;\n-- down\nSELECT 2;";
        let down = sql.find("-- down").unwrap();
        let out = split(sql, down..sql.len(), Dialect::Postgres);
        assert_eq!(out.pieces.len(), 1);
        assert_eq!(&sql[out.pieces[0].span.clone()], "SELECT 2");
        assert_eq!(out.pieces[0].span.start, down + 8);
    }

    #[test]
    fn trailing_comments_are_not_part_of_the_span() {
        assert_eq!(
            pg("SELECT 1 -- one\n;\nSELECT 2 /* two */"),
            ["SELECT 1", "SELECT 2"]
        );
    }

    #[test]
    fn mysql_hash_comments() {
        assert_eq!(
            spans("# a; b\nSELECT 1; # c;\nSELECT 2", Dialect::Mysql),
            ["SELECT 1", "SELECT 2"]
        );
    }

    #[test]
    fn dollar_signs_inside_names_are_not_quotes() {
        assert_eq!(
            pg("SELECT a$b$ FROM t; SELECT 2"),
            ["SELECT a$b$ FROM t", "SELECT 2"]
        );
        // `e'\\'` holds one backslash; the `';'` after it is another string.
        let escaped = r"SELECT e'\\'';'; SELECT 2";
        assert_eq!(pg(escaped), [r"SELECT e'\\'';'", "SELECT 2"]);
    }

    #[test]
    fn case_outside_bodies_does_not_open_a_block() {
        assert_eq!(
            pg("SELECT CASE WHEN a THEN 1 END FROM t; BEGIN; END;"),
            ["SELECT CASE WHEN a THEN 1 END FROM t", "BEGIN", "END"]
        );
    }

    #[test]
    fn unterminated_constructs_do_not_panic() {
        for sql in [
            "SELECT 'abc",
            "SELECT $$ abc",
            "/* abc",
            "SELECT \"a",
            "E'\\",
            "$a",
            "DELIMITER",
        ] {
            let _ = pg(sql);
            let _ = spans(sql, Dialect::Mysql);
        }
    }
}
