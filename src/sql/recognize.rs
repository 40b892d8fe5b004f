//! The keyword recogniser: statements sqlparser cannot parse but whose effect we can model.
//!
//! Some are rewritten into a form sqlparser parses and lowered as usual (`DROP INDEX
//! CONCURRENTLY`, `CREATE MATERIALIZED VIEW ... WITH DATA`, an `ALTER TABLE` with one action
//! sqlparser does not know); the rest are read keyword by keyword. A statement this module
//! does not know stays unparsed: nothing is guessed.

use super::{fold, lower, parse, qualify};
use crate::dialect::Dialect;
use crate::ir::{Change, ConstraintDef, ConstraintKind, MaintenanceKind, OnlineDdl, QualifiedName};
use regex::Regex;
use sqlparser::tokenizer::Token;
use std::sync::OnceLock;

/// Classifies a statement sqlparser could not parse, or returns `None`.
pub fn recognize(sql: &str, dialect: Dialect) -> Option<Vec<Change>> {
    rewritten(sql, dialect).or_else(|| by_keywords(sql, dialect))
}

/// `CREATE [OR REPLACE] FUNCTION|PROCEDURE ...`, recognised from its first words and the
/// words outside its body. A routine changes no table, and its body can be most of a
/// migration's text: tokenizing it only to learn that costs more than everything else
/// rollsafe does with the file. A function's name and volatility are kept, for the defaults
/// that call it.
pub fn routine_definition(sql: &str, dialect: Dialect) -> Option<Vec<Change>> {
    let mut words = sql
        .split(|c: char| c.is_whitespace() || c == '(')
        .filter(|word| !word.is_empty());
    if !words.next()?.eq_ignore_ascii_case("CREATE") {
        return None;
    }
    let mut kind = words.next()?;
    if kind.eq_ignore_ascii_case("OR") {
        if !words.next()?.eq_ignore_ascii_case("REPLACE") {
            return None;
        }
        kind = words.next()?;
    }
    if kind.eq_ignore_ascii_case("PROCEDURE") {
        return Some(vec![Change::NoOp {
            what: "CREATE PROCEDURE".into(),
        }]);
    }
    if !kind.eq_ignore_ascii_case("FUNCTION") {
        return None;
    }
    let after_kind = &sql[sql.to_ascii_uppercase().find("FUNCTION")? + "FUNCTION".len()..];
    let name_text = after_kind.trim_start().split('(').next()?.trim();
    if name_text.is_empty() {
        return None;
    }
    let declared = words_outside_bodies(sql);
    let stable = declared
        .iter()
        .any(|word| word == "STABLE" || word == "IMMUTABLE");
    Some(vec![Change::CreateFunction {
        name: name_from_text(name_text, dialect),
        volatile: !stable,
    }])
}

/// The upper-cased words of a routine definition outside its quoted or dollar-quoted body
/// and string literals, where `IMMUTABLE`, `STABLE` or `VOLATILE` are declared.
fn words_outside_bodies(sql: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = sql;
    while let Some(start) = rest.find(|c: char| c == '\'' || c == '$' || c.is_alphabetic()) {
        let tail = &rest[start..];
        if let Some(quoted) = tail.strip_prefix('\'') {
            // A string literal: up to its closing quote ('' is an escaped quote).
            let mut end = 0;
            let bytes = quoted.as_bytes();
            while end < bytes.len() {
                if bytes[end] == b'\'' {
                    if bytes.get(end + 1) == Some(&b'\'') {
                        end += 2;
                        continue;
                    }
                    break;
                }
                end += 1;
            }
            rest = quoted.get(end + 1..).unwrap_or("");
        } else if let Some(after) = tail.strip_prefix('$') {
            // A dollar quote `$tag$ ... $tag$`, or a lone `$`.
            let tag_len = after
                .find('$')
                .filter(|&n| after[..n].chars().all(|c| c.is_alphanumeric() || c == '_'));
            match tag_len {
                Some(n) => {
                    let tag = &tail[..n + 2];
                    let body = &tail[tag.len()..];
                    rest = body.find(tag).map_or("", |end| &body[end + tag.len()..]);
                }
                None => rest = after,
            }
        } else {
            let len = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            words.push(tail[..len].to_ascii_uppercase());
            rest = &tail[len..];
        }
    }
    words
}

fn parse_and_lower(sql: &str, dialect: Dialect) -> Option<Vec<Change>> {
    parse::parse_one(sql, dialect)
        .ok()
        .map(|ast| lower::lower(&ast, dialect))
}

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("recogniser patterns are valid"))
}

/// A possibly quoted, possibly qualified name, as a regex fragment.
const NAME: &str =
    r#"(?:"(?:[^"]|"")*"|`[^`]*`|[\w$]+)(?:\s*\.\s*(?:"(?:[^"]|"")*"|`[^`]*`|[\w$]+))*"#;

// ---- rewrites ---------------------------------------------------------------------------

fn rewritten(sql: &str, dialect: Dialect) -> Option<Vec<Change>> {
    drop_index_concurrently(sql, dialect)
        .or_else(|| materialized_view_with_data(sql, dialect))
        .or_else(|| create_table_like(sql, dialect))
        .or_else(|| create_index_on_only(sql, dialect))
        .or_else(|| mysql_index_online_ddl(sql, dialect))
        .or_else(|| sqlite_constraints_without_commas(sql, dialect))
        .or_else(|| named_not_null_constraints(sql, dialect))
        .or_else(|| alter_table(sql, dialect))
}

/// Postgres 18's named NOT NULL constraints, which sqlparser does not know yet:
/// `ALTER TABLE t ADD CONSTRAINT n NOT NULL c` is `ALTER COLUMN c SET NOT NULL`, and a
/// `CONSTRAINT n NOT NULL c` element of `CREATE TABLE` makes column `c` NOT NULL.
fn named_not_null_constraints(sql: &str, dialect: Dialect) -> Option<Vec<Change>> {
    if dialect != Dialect::Postgres {
        return None;
    }
    static ADD: OnceLock<Regex> = OnceLock::new();
    static ELEMENT: OnceLock<Regex> = OnceLock::new();
    let add = regex(
        &ADD,
        &format!(r"(?is)\bADD\s+CONSTRAINT\s+{NAME}\s+NOT\s+NULL\s+({NAME})(?:\s+NO\s+INHERIT)?"),
    );
    let element = regex(
        &ELEMENT,
        &format!(r"(?is),\s*CONSTRAINT\s+{NAME}\s+NOT\s+NULL\s+({NAME})(?:\s+NO\s+INHERIT)?"),
    );
    if starts_with_words(sql, &["ALTER", "TABLE"]) && add.is_match(sql) {
        let rewritten = add.replace_all(sql, "ALTER COLUMN $1 SET NOT NULL");
        return parse_and_lower(&rewritten, dialect);
    }
    if !starts_with_words(sql, &["CREATE", "TABLE"]) || !element.is_match(sql) {
        return None;
    }
    let columns: Vec<String> = element
        .captures_iter(sql)
        .map(|caps| fold_name_text(&caps[1]))
        .collect();
    let mut changes = parse_and_lower(&element.replace_all(sql, ""), dialect)?;
    for change in &mut changes {
        if let Change::CreateTable { columns: defs, .. } = change {
            for def in defs.iter_mut().filter(|def| columns.contains(&def.name)) {
                def.nullable = false;
            }
        }
    }
    Some(changes)
}

/// A column name as written in SQL text, folded as Postgres folds it.
fn fold_name_text(name: &str) -> String {
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => name.to_lowercase(),
    }
}

/// `DROP INDEX CONCURRENTLY ...` parses once `CONCURRENTLY` is gone.
fn drop_index_concurrently(sql: &str, dialect: Dialect) -> Option<Vec<Change>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(&RE, r"(?is)^DROP\s+INDEX\s+CONCURRENTLY\s");
    let rest = &sql[re.find(sql)?.end()..];
    let mut changes = parse_and_lower(&format!("DROP INDEX {rest}"), dialect)?;
    for change in &mut changes {
        if let Change::DropIndex { concurrently, .. } = change {
            *concurrently = true;
        }
    }
    Some(changes)
}

/// `CREATE MATERIALIZED VIEW ... WITH [NO] DATA`: the clause says when it is filled, not what
/// it is.
fn materialized_view_with_data(sql: &str, dialect: Dialect) -> Option<Vec<Change>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(&RE, r"(?is)\s+WITH\s+(?:NO\s+)?DATA\s*$");
    if !starts_with_words(sql, &["CREATE", "MATERIALIZED", "VIEW"])
        && !starts_with_words(sql, &["CREATE", "OR", "REPLACE", "MATERIALIZED", "VIEW"])
    {
        return None;
    }
    let head = &sql[..re.find(sql)?.start()];
    parse_and_lower(head, dialect)
}

/// `CREATE TABLE t (LIKE other INCLUDING ALL)`: a table whose columns we do not know.
fn create_table_like(sql: &str, dialect: Dialect) -> Option<Vec<Change>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let pattern = format!(
        r"(?is)^CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(IF\s+NOT\s+EXISTS\s+)?({NAME})\s*\(\s*LIKE\s"
    );
    let caps = regex(&RE, &pattern).captures(sql)?;
    Some(vec![Change::CreateTable {
        table: name_from_text(&caps[2], dialect),
        columns: vec![],
        constraints: vec![],
        if_not_exists: caps.get(1).is_some(),
        as_select: true,
    }])
}

/// `CREATE INDEX ... ON ONLY parent`: the index on a partitioned table itself, not its
/// partitions; for the schema it is an index on `parent`.
fn create_index_on_only(sql: &str, dialect: Dialect) -> Option<Vec<Change>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?is)^CREATE\s+(?:UNIQUE\s+)?INDEX\s.*?\sON\s+(ONLY\s+)",
    );
    let only = re.captures(sql)?.get(1)?;
    parse_and_lower(
        &format!("{}{}", &sql[..only.start()], &sql[only.end()..]),
        dialect,
    )
}

/// MySQL `CREATE INDEX ... LOCK = NONE` and `DROP INDEX i ON t ALGORITHM = INPLACE`: the
/// statement plus its online-DDL clauses.
fn mysql_index_online_ddl(sql: &str, dialect: Dialect) -> Option<Vec<Change>> {
    static CLAUSES: OnceLock<Regex> = OnceLock::new();
    static CLAUSE: OnceLock<Regex> = OnceLock::new();
    static DROP_ON: OnceLock<Regex> = OnceLock::new();
    let clauses = regex(&CLAUSES, r"(?is)(?:\s+(?:ALGORITHM|LOCK)\s*=?\s*\w+)+\s*$");
    if !starts_with_words(sql, &["CREATE"]) && !starts_with_words(sql, &["DROP", "INDEX"]) {
        return None;
    }
    let found = clauses.find(sql)?;
    let mut changes = parse_and_lower(&sql[..found.start()], dialect)?;
    let mut options = OnlineDdl::default();
    for caps in regex(&CLAUSE, r"(?i)(ALGORITHM|LOCK)\s*=?\s*(\w+)").captures_iter(found.as_str()) {
        let value = Some(caps[2].to_uppercase());
        if caps[1].eq_ignore_ascii_case("ALGORITHM") {
            options.algorithm = value;
        } else {
            options.lock = value;
        }
    }
    let drop_on = format!(r"(?is)^DROP\s+INDEX\s+{NAME}\s+ON\s+({NAME})");
    let table = match changes.first() {
        Some(Change::CreateIndex(index)) => Some(index.table.clone()),
        _ => regex(&DROP_ON, &drop_on)
            .captures(sql)
            .map(|caps| name_from_text(&caps[1], dialect)),
    };
    if let Some(table) = table {
        changes.push(Change::OnlineDdl { table, options });
    }
    Some(changes)
}

/// SQLite accepts table constraints that follow the columns without a separating comma
/// (`... ON DELETE CASCADE CONSTRAINT fk2 FOREIGN KEY (...)`); the comma changes nothing.
fn sqlite_constraints_without_commas(sql: &str, dialect: Dialect) -> Option<Vec<Change>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?is)([^,(\s])((?:\s+|--[^\n]*)+CONSTRAINT\s+\S+\s+(?:FOREIGN\s+KEY|PRIMARY\s+KEY|UNIQUE|CHECK)\s*\()",
    );
    if dialect != Dialect::Sqlite
        || !starts_with_words(sql, &["CREATE", "TABLE"])
        || !re.is_match(sql)
    {
        return None;
    }
    parse_and_lower(&re.replace_all(sql, "$1,$2"), dialect)
}

/// An `ALTER TABLE` is lowered action by action, so one action sqlparser does not know (a
/// `SET STATISTICS`, a MySQL `ENGINE=`) does not hide the others.
fn alter_table(sql: &str, dialect: Dialect) -> Option<Vec<Change>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let pattern =
        format!(r"(?is)^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({NAME})\s*\*?\s+");
    let caps = regex(&RE, &pattern).captures(sql)?;
    let name = caps.get(1)?.as_str();
    let table = name_from_text(name, dialect);
    let actions = &sql[caps.get(0)?.end()..];
    let mut changes = Vec::new();
    for action in split_top_level_commas(actions) {
        let action_changes = alter_table_action(&table, action, dialect)
            .or_else(|| parse_and_lower(&format!("ALTER TABLE {name} {action}"), dialect))?;
        changes.extend(action_changes);
    }
    (!changes.is_empty()).then_some(changes)
}

fn alter_table_action(
    table: &QualifiedName,
    action: &str,
    dialect: Dialect,
) -> Option<Vec<Change>> {
    static COLUMN: OnceLock<Regex> = OnceLock::new();
    static SET_SCHEMA: OnceLock<Regex> = OnceLock::new();
    static DROP_KEY: OnceLock<Regex> = OnceLock::new();
    static RENAME: OnceLock<Regex> = OnceLock::new();
    static EXCLUDE: OnceLock<Regex> = OnceLock::new();
    let column_re = regex(
        &COLUMN,
        &format!(
            r"(?is)^ALTER\s+(?:COLUMN\s+)?({NAME})\s+(SET\s+STATISTICS|SET\s+STORAGE|SET\s+COMPRESSION|SET\s*\(|RESET\s*\(|DROP\s+IDENTITY|SET\s+GENERATED|ADD\s+GENERATED|RESTART)"
        ),
    );
    if let Some(caps) = column_re.captures(action) {
        let column = name_from_text(&caps[1], dialect).name;
        let what = caps[2]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase();
        return Some(vec![match what.as_str() {
            // Without its identity the column no longer fills itself: a dropped default.
            "DROP IDENTITY" => Change::DropDefault {
                table: table.clone(),
                column,
            },
            "SET GENERATED" | "ADD GENERATED" | "RESTART" => Change::Opaque {
                what: format!("ALTER COLUMN {what}"),
            },
            _ => Change::NoOp {
                what: format!("ALTER COLUMN {}", what.trim_end_matches('(').trim()),
            },
        }]);
    }
    if let Some(caps) = regex(&DROP_KEY, &format!(r"(?is)^DROP\s+KEY\s+({NAME})$")).captures(action)
    {
        return Some(vec![Change::DropIndex {
            names: vec![QualifiedName::new(
                table.schema.clone(),
                name_from_text(&caps[1], dialect).name,
            )],
            concurrently: false,
            if_exists: false,
        }]);
    }
    if let Some(caps) = regex(
        &RENAME,
        &format!(r"(?is)^RENAME\s+(?:(TO|AS)\s+)?({NAME})$"),
    )
    .captures(action)
    {
        // MySQL's `RENAME new_name`; `RENAME COLUMN ...` and friends are the parser's.
        let keyword = caps[2].to_ascii_uppercase();
        if caps.get(1).is_some()
            || !matches!(keyword.as_str(), "COLUMN" | "CONSTRAINT" | "INDEX" | "KEY")
        {
            let mut to = name_from_text(&caps[2], dialect);
            if !caps[2].contains('.') {
                to.schema = table.schema.clone();
            }
            return Some(vec![Change::RenameTable {
                from: table.clone(),
                to,
            }]);
        }
    }
    if let Some(caps) = regex(&SET_SCHEMA, r"(?is)^SET\s+SCHEMA\s+(\S+)$").captures(action) {
        let schema = name_from_text(&caps[1], dialect).name;
        return Some(vec![Change::RenameTable {
            from: table.clone(),
            to: QualifiedName::new(schema, table.name.clone()),
        }]);
    }
    let exclude_re = regex(
        &EXCLUDE,
        &format!(r"(?is)^ADD\s+(?:CONSTRAINT\s+({NAME})\s+)?EXCLUDE\b"),
    );
    if let Some(caps) = exclude_re.captures(action) {
        return Some(vec![Change::AddConstraint {
            table: table.clone(),
            constraint: ConstraintDef {
                name: caps
                    .get(1)
                    .map(|n| name_from_text(n.as_str(), dialect).name),
                kind: ConstraintKind::Exclusion,
                columns: vec![],
                not_valid: false,
                using_index: None,
            },
        }]);
    }
    table_option(action)
}

/// MySQL and Postgres table options that leave columns and constraints alone.
fn table_option(action: &str) -> Option<Vec<Change>> {
    static CONVERT: OnceLock<Regex> = OnceLock::new();
    static OPTION: OnceLock<Regex> = OnceLock::new();
    if regex(
        &CONVERT,
        r"(?is)^CONVERT\s+TO\s+(?:CHARACTER\s+SET|CHARSET)\b",
    )
    .is_match(action)
    {
        // Every text column changes its character set: a table copy we cannot model.
        return Some(vec![Change::Opaque {
            what: "ALTER TABLE CONVERT TO CHARACTER SET".into(),
        }]);
    }
    let option = regex(
        &OPTION,
        r"(?is)^(ENGINE|(?:DEFAULT\s+)?(?:CHARACTER\s+SET|CHARSET|COLLATE)|ROW_FORMAT|COMMENT|AUTO_INCREMENT|KEY_BLOCK_SIZE|STATS_PERSISTENT|SET\s+TABLESPACE|SET\s+WITHOUT\s+CLUSTER|CLUSTER\s+ON|SET\s+ACCESS\s+METHOD|SET\s+WITHOUT\s+OIDS)\b",
    );
    let caps = option.captures(action)?;
    let what = caps[1]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    Some(vec![Change::NoOp {
        what: format!("ALTER TABLE {what}"),
    }])
}

/// Splits on commas outside parentheses, quotes and comments.
fn split_top_level_commas(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, 0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            quote @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
            }
            b',' if depth == 0 => {
                parts.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(text[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

/// A name as written in the text (`"Foo".bar`), folded and qualified.
fn name_from_text(text: &str, dialect: Dialect) -> QualifiedName {
    let parts = split_name(text)
        .into_iter()
        .map(|part| match unquote(part) {
            Some(quoted) => fold(&quoted, true, dialect),
            None => fold(part, false, dialect),
        })
        .collect();
    qualify(parts, dialect)
}

fn split_name(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quote) = (0, None);
    for (i, c) in text.char_indices() {
        match (c, quote) {
            ('"' | '`', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('.', None) => {
                parts.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts
}

fn unquote(part: &str) -> Option<String> {
    for quote in ['"', '`'] {
        if let Some(inner) = part.strip_prefix(quote).and_then(|p| p.strip_suffix(quote)) {
            return Some(inner.replace(&format!("{quote}{quote}"), &quote.to_string()));
        }
    }
    None
}

fn starts_with_words(sql: &str, words: &[&str]) -> bool {
    let mut actual = sql.split_whitespace();
    words
        .iter()
        .all(|w| actual.next().is_some_and(|a| a.eq_ignore_ascii_case(w)))
}

// ---- keywords ---------------------------------------------------------------------------

/// The statement's tokens without whitespace and comments, read front to back.
struct Words {
    tokens: Vec<Token>,
    pos: usize,
    dialect: Dialect,
}

impl Words {
    fn new(sql: &str, dialect: Dialect) -> Option<Words> {
        let tokens = parse::tokens(sql, dialect)?
            .into_iter()
            .filter(|t| !matches!(t, Token::Whitespace(_)))
            .collect();
        Some(Words {
            tokens,
            pos: 0,
            dialect,
        })
    }

    fn peek_word(&self) -> Option<&sqlparser::tokenizer::Word> {
        match self.tokens.get(self.pos) {
            Some(Token::Word(w)) => Some(w),
            _ => None,
        }
    }

    fn is(&self, keyword: &str) -> bool {
        self.peek_word()
            .is_some_and(|w| w.quote_style.is_none() && w.value.eq_ignore_ascii_case(keyword))
    }

    fn eat(&mut self, keyword: &str) -> bool {
        let found = self.is(keyword);
        if found {
            self.pos += 1;
        }
        found
    }

    /// Eats the whole sequence, or nothing.
    fn eat_all(&mut self, keywords: &[&str]) -> bool {
        let start = self.pos;
        if keywords.iter().all(|k| self.eat(k)) {
            return true;
        }
        self.pos = start;
        false
    }

    fn eat_any(&mut self, keywords: &[&str]) -> Option<String> {
        let word = keywords.iter().find(|k| self.is(k))?;
        self.pos += 1;
        Some(word.to_string())
    }

    /// Skips a parenthesised option list such as `(VERBOSE, ANALYZE)`.
    fn skip_parens(&mut self) {
        if self.tokens.get(self.pos) != Some(&Token::LParen) {
            return;
        }
        let mut depth = 0;
        while let Some(token) = self.tokens.get(self.pos) {
            self.pos += 1;
            match token {
                Token::LParen => depth += 1,
                Token::RParen if depth <= 1 => return,
                Token::RParen => depth -= 1,
                _ => {}
            }
        }
    }

    /// A parenthesized options list (`(FULL false, ANALYZE)`), read past: each option's
    /// name and its value, if one is written. Nothing when no list starts here.
    fn paren_options(&mut self) -> Vec<(String, Option<String>)> {
        let start = self.pos;
        self.skip_parens();
        let inside = self.tokens[start..self.pos]
            .iter()
            .skip(1)
            .filter(|t| !matches!(t, Token::Whitespace(_) | Token::RParen));
        let mut options: Vec<(String, Option<String>)> = Vec::new();
        let mut expect_name = true;
        for token in inside {
            let text = match token {
                Token::Comma => {
                    expect_name = true;
                    continue;
                }
                Token::Word(word) => word.value.clone(),
                Token::Number(number, _) => number.clone(),
                Token::SingleQuotedString(value) => value.clone(),
                _ => continue,
            };
            if expect_name {
                options.push((text, None));
                expect_name = false;
            } else if let Some((_, value)) = options.last_mut() {
                value.get_or_insert(text);
            }
        }
        options
    }

    fn name(&mut self) -> Option<QualifiedName> {
        let mut parts = Vec::new();
        loop {
            let word = self.peek_word()?;
            parts.push(fold(&word.value, word.quote_style.is_some(), self.dialect));
            self.pos += 1;
            if self.tokens.get(self.pos) != Some(&Token::Period) {
                return Some(qualify(parts, self.dialect));
            }
            self.pos += 1;
        }
    }

    fn string(&mut self) -> Option<String> {
        match self.tokens.get(self.pos) {
            Some(Token::SingleQuotedString(s)) => {
                self.pos += 1;
                Some(s.clone())
            }
            _ => None,
        }
    }

    fn at_end(&self) -> bool {
        self.tokens[self.pos..]
            .iter()
            .all(|t| matches!(t, Token::SemiColon | Token::EOF))
    }
}

/// Objects rollsafe does not model: creating, altering or dropping them leaves tables alone.
const UNMODELLED_OBJECTS: &[&[&str]] = &[
    &["FUNCTION"],
    &["PROCEDURE"],
    &["TRIGGER"],
    &["CONSTRAINT", "TRIGGER"],
    &["EVENT", "TRIGGER"],
    &["EVENT"],
    &["EXTENSION"],
    &["SCHEMA"],
    &["SEQUENCE"],
    &["POLICY"],
    &["ROLE"],
    &["USER"],
    &["GROUP"],
    &["PUBLICATION"],
    &["SUBSCRIPTION"],
    &["CAST"],
    &["AGGREGATE"],
    &["OPERATOR"],
    &["COLLATION"],
    &["TEXT", "SEARCH"],
    &["DOMAIN"],
    &["RULE"],
    &["SERVER"],
    &["FOREIGN", "DATA", "WRAPPER"],
    &["USER", "MAPPING"],
    &["LANGUAGE"],
    &["STATISTICS"],
    &["ROUTINE"],
    &["TABLESPACE"],
    &["DATABASE"],
];

fn by_keywords(sql: &str, dialect: Dialect) -> Option<Vec<Change>> {
    let mut w = Words::new(sql, dialect)?;
    let first = w.peek_word()?.value.to_uppercase();
    w.pos += 1;
    let changes = match first.as_str() {
        "DO" => opaque("DO block"),
        "REINDEX" => reindex(&mut w),
        "VACUUM" => vacuum(&mut w),
        "ANALYZE" | "ANALYSE" => {
            w.eat("VERBOSE");
            w.skip_parens();
            maintenance(MaintenanceKind::Analyze, w.name())
        }
        "CLUSTER" => {
            w.eat("VERBOSE");
            w.skip_parens();
            maintenance(MaintenanceKind::Cluster, w.name())
        }
        "REFRESH" => refresh(&mut w)?,
        "CREATE" => create(&mut w)?,
        "ALTER" => alter(&mut w)?,
        "DROP" => {
            let object = unmodelled_object(&mut w)?;
            noop(&format!("DROP {object}"))
        }
        "GRANT" | "REVOKE" => noop(&first),
        "COMMENT" if w.is("ON") => noop("COMMENT ON"),
        "SECURITY" if w.is("LABEL") => noop("SECURITY LABEL"),
        "PRAGMA" => noop("PRAGMA"),
        "SET" => set(&mut w).unwrap_or_else(|| noop("SET")),
        "RESET" => noop("RESET"),
        "SELECT" | "PERFORM" | "CALL" | "EXECUTE" => opaque(&first),
        "PREPARE" => opaque("PREPARE (dynamic SQL)"),
        "DEALLOCATE" => noop("DEALLOCATE"),
        "LOCK" => noop("LOCK TABLE"),
        "NOTIFY" | "LISTEN" | "CHECKPOINT" | "DISCARD" | "LOAD" => noop(&first),
        _ => return None,
    };
    Some(changes)
}

/// `SET [LOCAL|SESSION] name {=|TO} value` in a form sqlparser did not take.
fn set(w: &mut Words) -> Option<Vec<Change>> {
    let local = w.eat_any(&["LOCAL", "SESSION"]).as_deref() == Some("LOCAL");
    let setting = w.peek_word()?.value.to_lowercase();
    w.pos += 1;
    if !w.eat("TO") && w.tokens.get(w.pos) == Some(&Token::Eq) {
        w.pos += 1;
    }
    let value: Vec<String> = w.tokens[w.pos..]
        .iter()
        .filter(|t| !matches!(t, Token::SemiColon | Token::EOF))
        .map(|t| match t {
            Token::SingleQuotedString(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    Some(vec![Change::Session {
        setting,
        value: value.join(" "),
        local,
    }])
}

fn noop(what: &str) -> Vec<Change> {
    vec![Change::NoOp { what: what.into() }]
}

fn opaque(what: &str) -> Vec<Change> {
    vec![Change::Opaque { what: what.into() }]
}

fn maintenance(kind: MaintenanceKind, table: Option<QualifiedName>) -> Vec<Change> {
    vec![Change::Maintenance { kind, table }]
}

fn unmodelled_object(w: &mut Words) -> Option<String> {
    UNMODELLED_OBJECTS
        .iter()
        .find(|object| w.eat_all(object))
        .map(|object| object.join(" "))
}

/// `REINDEX [(opts)] {INDEX|TABLE|SCHEMA|DATABASE|SYSTEM} [CONCURRENTLY] name`; the options
/// list may say `CONCURRENTLY [true|false]`.
fn reindex(w: &mut Words) -> Vec<Change> {
    let options = w.paren_options();
    let target = w.eat_any(&["INDEX", "TABLE", "SCHEMA", "DATABASE", "SYSTEM"]);
    let concurrently = w.eat("CONCURRENTLY") || option_enabled(&options, "CONCURRENTLY");
    let name = w.name();
    let table = name.filter(|_| target.as_deref() == Some("TABLE"));
    maintenance(MaintenanceKind::Reindex { concurrently }, table)
}

/// `VACUUM [FULL] [FREEZE] [VERBOSE] [ANALYZE] [(opts)] [table [(columns)]]`
fn vacuum(w: &mut Words) -> Vec<Change> {
    let mut full = false;
    loop {
        if w.tokens.get(w.pos) == Some(&Token::LParen) {
            full |= option_enabled(&w.paren_options(), "FULL");
        } else if let Some(option) = w.eat_any(&["FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE"])
        {
            full |= option == "FULL";
        } else {
            break;
        }
    }
    maintenance(MaintenanceKind::Vacuum { full }, w.name())
}

/// True when a parenthesized options list turns `name` on: named without a value, or with
/// a value Postgres reads as true (`true`, `on`, `1`, `yes`).
fn option_enabled(options: &[(String, Option<String>)], name: &str) -> bool {
    options.iter().any(|(option, value)| {
        option.eq_ignore_ascii_case(name)
            && value.as_deref().is_none_or(|value| {
                matches!(
                    value.to_ascii_lowercase().as_str(),
                    "true" | "on" | "1" | "yes"
                )
            })
    })
}

/// `REFRESH MATERIALIZED VIEW [CONCURRENTLY] name [WITH [NO] DATA]`
fn refresh(w: &mut Words) -> Option<Vec<Change>> {
    if !w.eat_all(&["MATERIALIZED", "VIEW"]) {
        return None;
    }
    let concurrently = w.eat("CONCURRENTLY");
    Some(maintenance(
        MaintenanceKind::RefreshMaterializedView { concurrently },
        Some(w.name()?),
    ))
}

fn create(w: &mut Words) -> Option<Vec<Change>> {
    w.eat_all(&["OR", "REPLACE"]);
    w.eat_any(&["TEMP", "TEMPORARY", "TRUSTED", "PROCEDURAL", "DEFAULT"]);
    // MySQL `CREATE DEFINER = user@host TRIGGER ...`
    if w.eat("DEFINER") {
        while w.pos < w.tokens.len() && unmodelled_object_ahead(w).is_none() {
            w.pos += 1;
        }
    }
    let object = unmodelled_object(w)?;
    Some(noop(&format!("CREATE {object}")))
}

fn unmodelled_object_ahead(w: &mut Words) -> Option<String> {
    let start = w.pos;
    let found = unmodelled_object(w);
    w.pos = start;
    found
}

fn alter(w: &mut Words) -> Option<Vec<Change>> {
    if w.eat_all(&["DEFAULT", "PRIVILEGES"]) {
        return Some(noop("ALTER DEFAULT PRIVILEGES"));
    }
    if w.eat("VIEW") {
        return alter_view(w, false);
    }
    if w.eat_all(&["MATERIALIZED", "VIEW"]) {
        return alter_view(w, true);
    }
    if w.eat("INDEX") {
        return alter_index(w);
    }
    if w.eat("TYPE") {
        return alter_type(w);
    }
    let object = unmodelled_object(w)?;
    Some(noop(&format!("ALTER {object}")))
}

fn alter_view(w: &mut Words, materialized: bool) -> Option<Vec<Change>> {
    w.eat_all(&["IF", "EXISTS"]);
    let from = w.name()?;
    let kind = if materialized {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    };
    if w.eat_all(&["RENAME", "TO"]) {
        let mut to = w.name()?;
        to.schema = from.schema.clone();
        return Some(vec![Change::RenameView { from, to }]);
    }
    if w.eat_all(&["OWNER", "TO"]) || w.is("SET") || w.is("RESET") {
        return Some(noop(&format!("ALTER {kind}")));
    }
    Some(opaque(&format!("ALTER {kind}")))
}

fn alter_index(w: &mut Words) -> Option<Vec<Change>> {
    w.eat_all(&["IF", "EXISTS"]);
    let from = w.name()?;
    if w.eat_all(&["RENAME", "TO"]) {
        let to = w.name()?.name;
        return Some(vec![Change::RenameIndex { from, to }]);
    }
    if w.eat_any(&["SET", "RESET", "OWNER", "ALTER"]).is_some() {
        return Some(noop("ALTER INDEX"));
    }
    if w.eat_all(&["ATTACH", "PARTITION"]) {
        return Some(noop("ALTER INDEX ATTACH PARTITION"));
    }
    None
}

/// `ALTER TYPE t ADD VALUE [IF NOT EXISTS] 'v' [BEFORE|AFTER 'w']` and friends.
fn alter_type(w: &mut Words) -> Option<Vec<Change>> {
    let name = w.name()?;
    if w.eat_all(&["ADD", "VALUE"]) {
        w.eat_all(&["IF", "NOT", "EXISTS"]);
        let value = w.string()?;
        let position = match w.eat_any(&["BEFORE", "AFTER"]) {
            Some(side) => Some((side == "BEFORE", w.string()?)),
            None => None,
        };
        return w.at_end().then(|| {
            vec![Change::AddEnumValue {
                name,
                value,
                position,
            }]
        });
    }
    if w.eat_all(&["RENAME", "VALUE"]) {
        let from = w.string()?;
        w.eat("TO");
        let to = w.string()?;
        return Some(vec![Change::RenameEnumValue { name, from, to }]);
    }
    if w.eat_all(&["OWNER", "TO"]) {
        return Some(noop("ALTER TYPE OWNER TO"));
    }
    if w.eat_all(&["RENAME", "TO"]) {
        let word = w.peek_word()?;
        let to = fold(&word.value, word.quote_style.is_some(), w.dialect);
        return Some(vec![Change::RenameType {
            to: QualifiedName::new(name.schema.clone(), to),
            from: name,
        }]);
    }
    Some(opaque("ALTER TYPE"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sql: &str) -> Option<Vec<Change>> {
        recognize(sql, Dialect::Postgres)
    }

    fn public(name: &str) -> QualifiedName {
        QualifiedName::new("public", name)
    }

    #[test]
    fn drop_index_concurrently() {
        assert_eq!(
            pg("DROP INDEX CONCURRENTLY IF EXISTS idx_a"),
            Some(vec![Change::DropIndex {
                names: vec![public("idx_a")],
                concurrently: true,
                if_exists: true,
            }])
        );
    }

    #[test]
    fn materialized_view_with_no_data() {
        assert_eq!(
            pg("CREATE MATERIALIZED VIEW mv AS SELECT 1 AS a WITH NO DATA"),
            Some(vec![Change::CreateView {
                name: public("mv"),
                materialized: true,
                or_replace: false,
            }])
        );
    }

    #[test]
    fn do_blocks_are_opaque() {
        assert_eq!(
            pg("DO $$ BEGIN PERFORM 1; END $$"),
            Some(vec![Change::Opaque {
                what: "DO block".into()
            }])
        );
    }

    #[test]
    fn parenthesized_options_are_read_as_postgres_reads_them() {
        let vacuum = |sql: &str| match pg(sql).as_deref() {
            Some(
                [Change::Maintenance {
                    kind: MaintenanceKind::Vacuum { full },
                    ..
                }],
            ) => *full,
            other => panic!("{sql}: {other:?}"),
        };
        assert!(!vacuum("VACUUM (FULL false) users"));
        assert!(!vacuum("VACUUM (FULL off, ANALYZE) users"));
        assert!(vacuum("VACUUM (FULL true) users"));
        assert!(vacuum("VACUUM (ANALYZE, FULL) users"));
        let reindex = |sql: &str| match pg(sql).as_deref() {
            Some(
                [Change::Maintenance {
                    kind: MaintenanceKind::Reindex { concurrently },
                    ..
                }],
            ) => *concurrently,
            other => panic!("{sql}: {other:?}"),
        };
        assert!(reindex("REINDEX (CONCURRENTLY) TABLE users"));
        assert!(reindex("REINDEX (CONCURRENTLY true, VERBOSE) TABLE users"));
        assert!(!reindex("REINDEX (CONCURRENTLY false) TABLE users"));
        assert!(!reindex("REINDEX (VERBOSE) TABLE users"));
    }

    #[test]
    fn maintenance_commands() {
        assert_eq!(
            pg("REINDEX TABLE CONCURRENTLY users"),
            Some(maintenance(
                MaintenanceKind::Reindex { concurrently: true },
                Some(public("users"))
            ))
        );
        assert_eq!(
            pg("VACUUM (FULL, ANALYZE) users"),
            Some(maintenance(
                MaintenanceKind::Vacuum { full: true },
                Some(public("users"))
            ))
        );
        assert_eq!(
            pg("VACUUM ANALYZE users"),
            Some(maintenance(
                MaintenanceKind::Vacuum { full: false },
                Some(public("users"))
            ))
        );
        assert_eq!(
            pg("CLUSTER users USING users_pkey"),
            Some(maintenance(MaintenanceKind::Cluster, Some(public("users"))))
        );
    }

    #[test]
    fn a_function_keeps_its_name_and_whether_it_is_volatile() {
        let function = |sql: &str| match routine_definition(sql, Dialect::Postgres).as_deref() {
            Some([Change::CreateFunction { name, volatile }]) => (name.to_string(), *volatile),
            other => panic!("{sql}: {other:?}"),
        };
        assert_eq!(
            function("CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$x$$ LANGUAGE plpgsql"),
            ("public.f".to_string(), true)
        );
        assert_eq!(
            function("CREATE FUNCTION app.\"Slug\"(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(t) $$"),
            ("app.Slug".to_string(), false)
        );
        // A word in the body is not a declaration.
        assert_eq!(
            function("CREATE FUNCTION g() RETURNS int AS $body$ SELECT 1 -- STABLE\n$body$ LANGUAGE sql STABLE"),
            ("public.g".to_string(), false)
        );
        assert_eq!(
            function("CREATE FUNCTION h() RETURNS int AS 'SELECT 1 /* IMMUTABLE */' LANGUAGE sql"),
            ("public.h".to_string(), true)
        );
    }

    #[test]
    fn unmodelled_objects_are_noops() {
        for (sql, what) in [
            ("ALTER SEQUENCE s RESTART WITH 10", "ALTER SEQUENCE"),
            (
                "CREATE PROCEDURE p() LANGUAGE sql AS $$ SELECT 1 $$",
                "CREATE PROCEDURE",
            ),
            ("PRAGMA foreign_keys=OFF", "PRAGMA"),
        ] {
            assert_eq!(pg(sql), Some(noop(what)), "{sql}");
        }
    }

    #[test]
    fn create_table_like() {
        assert_eq!(
            pg("CREATE TABLE copy (LIKE orig INCLUDING ALL)"),
            Some(vec![Change::CreateTable {
                table: public("copy"),
                columns: vec![],
                constraints: vec![],
                if_not_exists: false,
                as_select: true,
            }])
        );
    }

    #[test]
    fn alter_table_action_by_action() {
        assert_eq!(
            pg("ALTER TABLE t ALTER COLUMN a SET STATISTICS 500, ALTER COLUMN b DROP IDENTITY IF EXISTS"),
            Some(vec![
                Change::NoOp {
                    what: "ALTER COLUMN SET STATISTICS".into()
                },
                Change::DropDefault {
                    table: public("t"),
                    column: "b".into()
                },
            ])
        );
        let mysql = recognize(
            "ALTER TABLE t ENGINE=InnoDB, CONVERT TO CHARACTER SET utf8mb4",
            Dialect::Mysql,
        )
        .unwrap();
        assert!(matches!(mysql[0], Change::NoOp { .. }));
        assert!(matches!(mysql[1], Change::Opaque { .. }));
    }

    #[test]
    fn alter_table_set_schema_moves_the_table() {
        assert_eq!(
            pg("ALTER TABLE a SET SCHEMA archive, SET STATISTICS 1").map(|c| c.len()),
            None
        );
        assert_eq!(
            pg("ALTER TABLE \"A\" SET SCHEMA archive"),
            Some(vec![Change::RenameTable {
                from: public("A"),
                to: QualifiedName::new("archive", "A"),
            }])
        );
    }

    #[test]
    fn alter_type_add_value_if_not_exists() {
        assert_eq!(
            pg("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh' AFTER 'ok'"),
            Some(vec![Change::AddEnumValue {
                name: public("mood"),
                value: "meh".into(),
                position: Some((false, "ok".into())),
            }])
        );
    }

    #[test]
    fn alter_view_rename() {
        assert_eq!(
            pg("ALTER MATERIALIZED VIEW s.mv RENAME TO mv2"),
            Some(vec![Change::RenameView {
                from: QualifiedName::new("s", "mv"),
                to: QualifiedName::new("s", "mv2"),
            }])
        );
    }

    #[test]
    fn mysql_forms() {
        let t = QualifiedName::new("", "t");
        assert_eq!(
            recognize("ALTER TABLE t RENAME t2", Dialect::Mysql),
            Some(vec![Change::RenameTable {
                from: t.clone(),
                to: QualifiedName::new("", "t2"),
            }])
        );
        assert_eq!(
            recognize(
                "ALTER TABLE `t` DROP KEY `k`, DROP FOREIGN KEY `fk`",
                Dialect::Mysql
            ),
            Some(vec![
                Change::DropIndex {
                    names: vec![QualifiedName::new("", "k")],
                    concurrently: false,
                    if_exists: false,
                },
                Change::DropConstraint {
                    table: t.clone(),
                    name: "fk".into(),
                    if_exists: false,
                },
            ])
        );
        let changes = recognize(
            "DROP INDEX i ON t ALGORITHM = INPLACE LOCK = NONE",
            Dialect::Mysql,
        )
        .unwrap();
        assert_eq!(
            changes.last(),
            Some(&Change::OnlineDdl {
                table: t,
                options: OnlineDdl {
                    algorithm: Some("INPLACE".into()),
                    lock: Some("NONE".into()),
                },
            })
        );
        assert!(matches!(changes[0], Change::DropIndex { .. }));
        let created = recognize("CREATE INDEX i ON t (a) LOCK=NONE", Dialect::Mysql).unwrap();
        assert!(matches!(
            created.as_slice(),
            [Change::CreateIndex(_), Change::OnlineDdl { .. }]
        ));
    }

    #[test]
    fn set_forms_the_parser_misses() {
        assert_eq!(
            set(
                &mut Words::new("SET LOCAL lock_timeout TO '2s'", Dialect::Postgres)
                    .map(|mut w| {
                        w.pos = 1;
                        w
                    })
                    .unwrap()
            ),
            Some(vec![Change::Session {
                setting: "lock_timeout".into(),
                value: "2s".into(),
                local: true,
            }])
        );
    }

    #[test]
    fn sqlite_table_constraints_without_commas() {
        let sql =
            "CREATE TABLE a (id INT, b INT, CONSTRAINT fk1 FOREIGN KEY (b) REFERENCES b (id) \
                   ON DELETE CASCADE -- the second key\n CONSTRAINT fk2 FOREIGN KEY (id) REFERENCES c (id))";
        let changes = recognize(sql, Dialect::Sqlite).unwrap();
        let Change::CreateTable { constraints, .. } = &changes[0] else {
            panic!("{changes:?}")
        };
        assert_eq!(constraints.len(), 2);
        assert_eq!(recognize(sql, Dialect::Postgres), None);
    }

    #[test]
    fn unknown_statements_stay_unrecognised() {
        assert_eq!(pg("FROBNICATE the database"), None);
        assert_eq!(pg("ALTER TABLE t FROB x"), None);
    }
}
