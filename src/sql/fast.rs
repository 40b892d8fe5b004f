//! Fast paths: statements whose change IR does not depend on most of their text.
//!
//! A seed `INSERT ... VALUES` of many megabytes lowers to one `Backfill` that names the
//! table; sqlparser would still build tokens and an AST for every row (a `Statement` per row
//! costs a hundred times its text). Rows made only of literals cannot make a statement fail
//! to parse, nor change what `lower` reads from it, so the statement is parsed with its
//! first row only: the same IR, exactly, from a few hundred bytes.

/// Statements shorter than this are parsed as they are: the saving would not show.
pub const MIN_LEN: usize = 8 * 1024;

/// `sql` with the rows after the first of its `VALUES` list removed, when it is an
/// `INSERT` whose rows are all literal tuples (numbers, plain `'strings'`, `NULL`, `TRUE`,
/// `FALSE`); `None` otherwise (the statement is then parsed in full).
pub fn shorten_insert(sql: &str) -> Option<String> {
    if sql.len() < MIN_LEN || !starts_with_word(sql, "INSERT") {
        return None;
    }
    let bytes = sql.as_bytes();
    let values = find_values(bytes)?;
    let mut at = skip_space(bytes, values + "VALUES".len());
    let first_end = literal_tuple(bytes, at)?;
    at = first_end;
    loop {
        let next = skip_space(bytes, at);
        if bytes.get(next) != Some(&b',') {
            break;
        }
        let row = skip_space(bytes, next + 1);
        // A comma followed by something else ends the list; let sqlparser judge it.
        at = literal_tuple(bytes, row)?;
    }
    if at == first_end {
        return None;
    }
    Some(format!("{} {}", &sql[..first_end], &sql[at..]))
}

fn starts_with_word(sql: &str, word: &str) -> bool {
    sql.get(..word.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(word))
        && !sql
            .as_bytes()
            .get(word.len())
            .is_some_and(|b| is_word_byte(*b))
}

/// The offset of the first `VALUES` keyword outside parentheses, strings, quoted names and
/// comments; `None` when a dollar quote or anything unexpected comes first.
fn find_values(bytes: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\'' | b'"' | b'`' => at = skip_quoted(bytes, at)?,
            b'-' if bytes.get(at + 1) == Some(&b'-') => return None,
            b'/' if bytes.get(at + 1) == Some(&b'*') => return None,
            b'$' => return None,
            b'(' => depth += 1,
            b')' => depth = depth.checked_sub(1)?,
            b if is_word_byte(b) => {
                let end = word_end(bytes, at);
                if depth == 0 && bytes[at..end].eq_ignore_ascii_case(b"VALUES") {
                    return Some(at);
                }
                at = end - 1;
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// The offset after a `'...'`, `"..."` or `` `...` `` starting at `at` (doubled quotes
/// inside); `None` on a backslash, which some dialects read as an escape.
fn skip_quoted(bytes: &[u8], at: usize) -> Option<usize> {
    let quote = bytes[at];
    let mut i = at + 1;
    loop {
        match *bytes.get(i)? {
            b'\\' => return None,
            b if b == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
}

/// The offset after a `( literal, ... )` starting at `at`.
fn literal_tuple(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'(') {
        return None;
    }
    let mut i = at + 1;
    loop {
        i = skip_space(bytes, i);
        i = literal(bytes, i)?;
        i = skip_space(bytes, i);
        match *bytes.get(i)? {
            b',' => i += 1,
            b')' => return Some(i + 1),
            _ => return None,
        }
    }
}

/// The offset after one literal starting at `at`: a number (with an optional sign), a
/// plain single-quoted string, `NULL`, `TRUE` or `FALSE`.
fn literal(bytes: &[u8], at: usize) -> Option<usize> {
    let first = *bytes.get(at)?;
    let end = match first {
        b'\'' => skip_quoted(bytes, at)? + 1,
        b'-' | b'+' | b'0'..=b'9' => number(bytes, at)?,
        _ => {
            let end = word_end(bytes, at);
            let word = &bytes[at..end];
            let known = [&b"NULL"[..], b"TRUE", b"FALSE"];
            if !known.iter().any(|k| word.eq_ignore_ascii_case(k)) {
                return None;
            }
            end
        }
    };
    // `1abc`, `'a'::text`, `'a' || 'b'`: not a lone literal.
    match bytes.get(end) {
        Some(b) if is_word_byte(*b) || *b == b'\'' => None,
        _ => Some(end),
    }
}

/// `[-+]digits[.digits][e[-+]digits]`.
fn number(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at;
    if matches!(bytes[i], b'-' | b'+') {
        i += 1;
    }
    let digits = |mut i: usize| {
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i > start).then_some(i)
    };
    i = digits(i)?;
    if bytes.get(i) == Some(&b'.') {
        i = digits(i + 1)?;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'-' | b'+')) {
            j += 1;
        }
        i = digits(j)?;
    }
    Some(i)
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

fn word_end(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| is_word_byte(*b)) {
        at += 1;
    }
    at
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;

    /// `rows` rows after `head`, padded past `MIN_LEN`.
    fn insert(head: &str, row: &str, tail: &str) -> String {
        let rows = vec![row; MIN_LEN / row.len() + 1].join(",\n");
        format!("{head} VALUES {rows}{tail}")
    }

    #[test]
    fn a_literal_seed_keeps_only_its_first_row() {
        let sql = insert(
            "INSERT INTO app.users (id, name, score, active)",
            "(1, 'O''Brien', -2.5e3, TRUE)",
            " ON CONFLICT DO NOTHING",
        );
        let short = shorten_insert(&sql).unwrap();
        assert_eq!(
            short,
            "INSERT INTO app.users (id, name, score, active) VALUES (1, 'O''Brien', -2.5e3, TRUE)  ON CONFLICT DO NOTHING"
        );
    }

    /// The shortened statement lowers to exactly what the whole one does, in every dialect.
    #[test]
    fn the_shortened_statement_means_the_same() {
        let sql = insert("INSERT INTO users (id, name)", "(1, NULL)", ";");
        for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            let short = shorten_insert(&sql).unwrap();
            let lower = |sql: &str| {
                let ast = super::super::parse::parse_one(sql, dialect).unwrap();
                super::super::lower::lower(&ast, dialect)
            };
            assert_eq!(lower(&short), lower(&sql), "{dialect:?}");
        }
    }

    #[test]
    fn anything_but_literal_rows_is_parsed_in_full() {
        let cases = [
            insert("INSERT INTO t (a)", "(now())", ""),
            insert("INSERT INTO t (a)", "('a'::text)", ""),
            insert("INSERT INTO t (a)", "(E'\\n')", ""),
            insert("INSERT INTO t (a)", "('a\\'b')", ""),
            insert("INSERT INTO t (a)", "(\"a\")", ""),
            insert("INSERT INTO t (a)", "(DEFAULT)", ""),
            insert("INSERT INTO t (a)", "(1 /* c */)", ""),
            insert("INSERT INTO t (a) -- c\n", "(1)", ""),
            insert("INSERT INTO t (a)", "($$a$$)", ""),
            insert("INSERT INTO t (a)", "(1abc)", ""),
            insert("INSERT INTO t (a)", "()", ""),
            insert("UPDATE t SET a = 1 FROM (SELECT 1) x WHERE", "(1)", ""),
            "INSERT INTO t (a) VALUES (1), (2)".to_string(),
        ];
        for sql in &cases {
            assert_eq!(shorten_insert(sql), None, "{}", &sql[..60.min(sql.len())]);
        }
    }

    /// A broken row anywhere leaves the statement to sqlparser, which reports it.
    #[test]
    fn a_broken_row_is_not_hidden() {
        let mut sql = insert("INSERT INTO t (a)", "(1)", "");
        sql.push_str(", (2, ");
        assert_eq!(shorten_insert(&sql), None);
        let mut sql = insert("INSERT INTO t (a)", "(1)", "");
        sql.push_str(", ('unterminated)");
        assert_eq!(shorten_insert(&sql), None);
    }
}
