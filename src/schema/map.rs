//! An ordered map whose copies share storage until one of them writes: the catalog's maps.
//!
//! `--all` keeps a catalog per migration and rules compare the catalog before and after
//! every deploy, so a copy must be cheap and a write must not copy the whole map. Entries
//! live in sorted chunks of a few dozen behind `Arc`s: a copy shares everything, a write
//! copies the list of chunk pointers and the one chunk it touches (about `√n` work for `n`
//! entries, not `n`), and a comparison of two copies skips the chunks they still share.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

/// A chunk is split when it grows past twice this size.
const CHUNK: usize = 48;

type Chunk<K, V> = Vec<(K, Arc<V>)>;

pub struct SharedMap<K, V> {
    /// Sorted, never empty chunks; the last key of a chunk is below the first of the next.
    chunks: Arc<Vec<Arc<Chunk<K, V>>>>,
    len: usize,
}

/// One entry that differs between two maps (`SharedMap::differences`): present in the old
/// map, the new one, or both with values that are not the same shared value.
pub struct Difference<'a, K, V> {
    pub key: &'a K,
    pub old: Option<&'a Arc<V>>,
    pub new: Option<&'a Arc<V>>,
}

impl<K, V> Clone for SharedMap<K, V> {
    fn clone(&self) -> Self {
        SharedMap {
            chunks: Arc::clone(&self.chunks),
            len: self.len,
        }
    }
}

impl<K, V> Default for SharedMap<K, V> {
    fn default() -> Self {
        SharedMap {
            chunks: Arc::default(),
            len: 0,
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SharedMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: PartialEq, V: PartialEq> PartialEq for SharedMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && (self.ptr_eq(other)
                || self
                    .entries()
                    .zip(other.entries())
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && (Arc::ptr_eq(v1, v2) || v1 == v2)))
    }
}

impl<K: Eq, V: Eq> Eq for SharedMap<K, V> {}

impl<K: Ord + Clone, V: Clone> FromIterator<(K, V)> for SharedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = SharedMap::default();
        for (key, value) in iter {
            map.insert(key, value);
        }
        map
    }
}

impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> std::ops::Index<&Q> for SharedMap<K, V> {
    type Output = V;

    /// The value of `key`; panics when there is none, as `BTreeMap` does.
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry found for key")
    }
}

impl<K, V> SharedMap<K, V> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Entries in key order, values with their shared handles.
    pub fn entries(&self) -> impl Iterator<Item = (&K, &Arc<V>)> + Clone {
        self.chunks
            .iter()
            .flat_map(|chunk| chunk.iter().map(|(key, value)| (key, value)))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + Clone {
        self.entries().map(|(key, value)| (key, value.as_ref()))
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> + Clone {
        self.entries().map(|(key, _)| key)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> + Clone {
        self.entries().map(|(_, value)| value.as_ref())
    }

    /// True when both maps are the very same map (neither written since a copy).
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chunks, &other.chunks)
    }
}

impl<K: Ord, V> SharedMap<K, V> {
    /// The chunk that holds `key` or would: the first whose last key is not below it (the
    /// last chunk for a key above all).
    fn chunk_of<Q: Ord + ?Sized>(&self, key: &Q) -> usize
    where
        K: Borrow<Q>,
    {
        let at = self
            .chunks
            .partition_point(|chunk| chunk.last().is_none_or(|(last, _)| last.borrow() < key));
        at.min(self.chunks.len().saturating_sub(1))
    }

    fn position<Q: Ord + ?Sized>(&self, key: &Q) -> Option<(usize, usize)>
    where
        K: Borrow<Q>,
    {
        let chunk = self.chunk_of(key);
        let entries = self.chunks.get(chunk)?;
        let at = entries
            .binary_search_by(|(k, _)| k.borrow().cmp(key))
            .ok()?;
        Some((chunk, at))
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        let (chunk, at) = self.position(key)?;
        Some(self.chunks[chunk][at].1.as_ref())
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.position(key).is_some()
    }

    /// The entries that differ between `self` (old) and `new`, in key order. Chunks both
    /// maps still share are skipped without looking inside, and so are values they share.
    pub fn differences<'a>(&'a self, new: &'a Self) -> Vec<Difference<'a, K, V>> {
        let mut out = Vec::new();
        if self.ptr_eq(new) {
            return out;
        }
        let (olds, news) = (&self.chunks, &new.chunks);
        let (mut oc, mut op, mut nc, mut np) = (0, 0, 0, 0);
        loop {
            // Both cursors at the start of the same shared chunk: skip it whole.
            if op == 0
                && np == 0
                && oc < olds.len()
                && nc < news.len()
                && Arc::ptr_eq(&olds[oc], &news[nc])
            {
                oc += 1;
                nc += 1;
                continue;
            }
            let old = olds.get(oc).map(|chunk| &chunk[op]);
            let new_entry = news.get(nc).map(|chunk| &chunk[np]);
            let order = match (old, new_entry) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((ok, _)), Some((nk, _))) => ok.cmp(nk),
            };
            match order {
                Ordering::Less => {
                    let (key, value) = old.expect("an old entry");
                    out.push(Difference {
                        key,
                        old: Some(value),
                        new: None,
                    });
                }
                Ordering::Greater => {
                    let (key, value) = new_entry.expect("a new entry");
                    out.push(Difference {
                        key,
                        old: None,
                        new: Some(value),
                    });
                }
                Ordering::Equal => {
                    let ((key, ov), (_, nv)) = (old.expect("old"), new_entry.expect("new"));
                    if !Arc::ptr_eq(ov, nv) {
                        out.push(Difference {
                            key,
                            old: Some(ov),
                            new: Some(nv),
                        });
                    }
                }
            }
            if order != Ordering::Greater {
                op += 1;
                if op == olds[oc].len() {
                    (oc, op) = (oc + 1, 0);
                }
            }
            if order != Ordering::Less {
                np += 1;
                if np == news[nc].len() {
                    (nc, np) = (nc + 1, 0);
                }
            }
        }
        out
    }
}

impl<K: Ord + Clone, V: Clone> SharedMap<K, V> {
    /// The value, made this map's own first if another copy shares it.
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        let (chunk, at) = self.position(key)?;
        let chunk = Arc::make_mut(&mut Arc::make_mut(&mut self.chunks)[chunk]);
        Some(Arc::make_mut(&mut chunk[at].1))
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let value = Arc::new(value);
        let chunks = Arc::make_mut(&mut self.chunks);
        if chunks.is_empty() {
            chunks.push(Arc::new(vec![(key, value)]));
            self.len = 1;
            return None;
        }
        let index = chunks
            .partition_point(|chunk| chunk.last().is_some_and(|(last, _)| *last < key))
            .min(chunks.len() - 1);
        let chunk = Arc::make_mut(&mut chunks[index]);
        match chunk.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(at) => {
                let old = std::mem::replace(&mut chunk[at].1, value);
                return Some(Arc::unwrap_or_clone(old));
            }
            Err(at) => chunk.insert(at, (key, value)),
        }
        if chunk.len() > 2 * CHUNK {
            let tail = chunk.split_off(CHUNK);
            chunks.insert(index + 1, Arc::new(tail));
        }
        self.len += 1;
        None
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let (index, at) = self.position(key)?;
        let chunks = Arc::make_mut(&mut self.chunks);
        let chunk = Arc::make_mut(&mut chunks[index]);
        let (_, value) = chunk.remove(at);
        if chunk.is_empty() {
            chunks.remove(index);
        }
        self.len -= 1;
        Some(Arc::unwrap_or_clone(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A pseudo-random sequence of inserts and removes keeps the map equal to a BTreeMap.
    #[test]
    fn behaves_as_an_ordered_map() {
        let mut map: SharedMap<u32, u32> = SharedMap::default();
        let mut model = BTreeMap::new();
        let mut copies = Vec::new();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for step in 0..20_000u32 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let key = (seed % 3_000) as u32;
            if seed % 5 == 0 {
                assert_eq!(map.remove(&key), model.remove(&key));
            } else {
                assert_eq!(map.insert(key, step), model.insert(key, step));
            }
            if step % 1_000 == 0 {
                copies.push((map.clone(), model.clone()));
            }
        }
        assert_eq!(map.len(), model.len());
        assert!(map.iter().map(|(k, v)| (*k, *v)).eq(model.clone()));
        assert!((0..3_000).all(|k| map.get(&k) == model.get(&k)));
        // Earlier copies were not changed by later writes.
        for (copy, expected) in &copies {
            assert!(copy.iter().map(|(k, v)| (*k, *v)).eq(expected.clone()));
        }
    }

    #[test]
    fn differences_list_what_changed_since_a_copy() {
        let mut old: SharedMap<u32, String> = (0..1_000).map(|k| (k, k.to_string())).collect();
        old.insert(5_000, "gone".into());
        let mut new = old.clone();
        new.remove(&5_000);
        new.insert(2_500, "added".into());
        *new.get_mut(&700).unwrap() = "edited".into();
        let differences: Vec<_> = old
            .differences(&new)
            .iter()
            .map(|d| (*d.key, d.old.is_some(), d.new.is_some()))
            .collect();
        assert_eq!(
            differences,
            [
                (700, true, true),
                (2_500, false, true),
                (5_000, true, false)
            ]
        );
        assert!(old.differences(&old.clone()).is_empty());
        assert_eq!(old, old.clone());
        assert_ne!(old, new);
    }
}
