//! Stable fingerprints for findings, so CI tools can tell a finding they saw on the base
//! branch from a new one: a hash of what the finding is (rule, file, object, message), not
//! of where it is, so moving a statement down a few lines keeps its fingerprint.

use std::collections::HashMap;

const FNV_OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
const FNV_PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

/// FNV-1a (128 bits) over the parts, each followed by a NUL so that `("ab", "c")` and
/// `("a", "bc")` differ; 32 lowercase hex digits.
pub fn fnv1a_128(parts: &[&str]) -> String {
    let bytes = parts.iter().flat_map(|part| part.bytes().chain([0]));
    format!("{:032x}", fnv1a(bytes))
}

fn fnv1a(bytes: impl Iterator<Item = u8>) -> u128 {
    bytes.fold(FNV_OFFSET, |hash, byte| {
        (hash ^ u128::from(byte)).wrapping_mul(FNV_PRIME)
    })
}

/// Hands out fingerprints that are unique within one report: the second finding with the
/// same parts (two identical statements in one file) gets its occurrence number hashed in.
#[derive(Default)]
pub struct Fingerprints {
    seen: HashMap<String, usize>,
}

impl Fingerprints {
    pub fn next(&mut self, parts: &[&str]) -> String {
        let base = fnv1a_128(parts);
        let occurrence = self.seen.entry(base.clone()).or_insert(0);
        *occurrence += 1;
        if *occurrence == 1 {
            return base;
        }
        let nth = occurrence.to_string();
        let mut with_occurrence = parts.to_vec();
        with_occurrence.push(&nth);
        fnv1a_128(&with_occurrence)
    }
}

#[cfg(test)]
mod tests {
    use super::{fnv1a, fnv1a_128, Fingerprints};

    #[test]
    fn matches_the_published_fnv1a_128_test_vectors() {
        assert_eq!(fnv1a("".bytes()), 0x6c62272e07bb014262b821756295c58d);
        assert_eq!(fnv1a("a".bytes()), 0xd228cb696f1a8caf78912b704e4a8964);
        assert_eq!(fnv1a("foobar".bytes()), 0x343e1662793c64bf6f0d3597ba446f18);
    }

    #[test]
    fn part_boundaries_count() {
        assert_ne!(fnv1a_128(&["ab", "c"]), fnv1a_128(&["a", "bc"]));
    }

    #[test]
    fn repeated_parts_get_distinct_fingerprints() {
        let mut fingerprints = Fingerprints::default();
        let first = fingerprints.next(&["drop-column", "a.sql"]);
        let second = fingerprints.next(&["drop-column", "a.sql"]);
        assert_eq!(first, fnv1a_128(&["drop-column", "a.sql"]));
        assert_ne!(first, second);
    }
}
