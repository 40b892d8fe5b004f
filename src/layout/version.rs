//! Migration versions as sort keys: numeric runs compare as numbers, so `9_` sorts before
//! `10_`, and `1.10` after `1.9`.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Part {
    /// Digits with leading zeros removed, so length then text gives numeric order.
    Number(String),
    Text(String),
    /// A whole name compared as text, after the numeric parts (a tool that keys by file
    /// name, see `Version::with_tiebreak`).
    Exact(String),
}

impl Version {
    /// Splits `id` into runs of digits and runs of anything else; separators
    /// (`.`, `_`, `-`) only divide runs.
    pub fn parse(id: &str) -> Version {
        let mut parts = Vec::new();
        let mut rest = id;
        while let Some(first) = rest.chars().next() {
            if matches!(first, '.' | '_' | '-') {
                rest = &rest[1..];
                continue;
            }
            let is_digit = first.is_ascii_digit();
            let end = rest
                .find(|c: char| c.is_ascii_digit() != is_digit || matches!(c, '.' | '_' | '-'))
                .unwrap_or(rest.len());
            let (run, tail) = rest.split_at(end);
            if is_digit {
                parts.push(Part::Number(run.trim_start_matches('0').to_string()));
            } else {
                parts.push(Part::Text(run.to_ascii_lowercase()));
            }
            rest = tail;
        }
        Version { parts }
    }

    /// The version `prefix` (parsed as by `parse`), then `name` compared as plain text: for
    /// tools that order by a numeric prefix and then by the whole file name, and key by the
    /// file name (sql-migrate).
    pub fn with_tiebreak(prefix: &str, name: &str) -> Version {
        let mut version = Version::parse(prefix);
        version.parts.push(Part::Exact(name.to_string()));
        version
    }
}

impl Ord for Part {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Part::Number(a), Part::Number(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Part::Text(a), Part::Text(b)) | (Part::Exact(a), Part::Exact(b)) => a.cmp(b),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

impl Part {
    fn rank(&self) -> u8 {
        match self {
            Part::Number(_) => 0,
            Part::Text(_) => 1,
            Part::Exact(_) => 2,
        }
    }
}

impl PartialOrd for Part {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::Version;

    #[test]
    fn numbers_compare_numerically() {
        assert!(Version::parse("9") < Version::parse("10"));
        assert!(Version::parse("0009") < Version::parse("10"));
        assert!(Version::parse("1.9") < Version::parse("1.10"));
        assert!(Version::parse("4_0_0_1") < Version::parse("4_0_0_10"));
        assert_eq!(Version::parse("007"), Version::parse("7"));
    }

    #[test]
    fn dates_compare_in_time_order() {
        assert!(Version::parse("2024-01-05-120000") < Version::parse("2024-01-05-130000"));
        assert!(Version::parse("20240105120000") < Version::parse("20250105120000"));
    }
}
