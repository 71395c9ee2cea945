//! `TagMap`: an insertion-ordered map from tags, as a Python dict of elements behaves, that
//! costs nothing to build from a dataset's elements when their tags ascend (nearly always):
//! it is then a sorted vector searched by bisection, and becomes a hash map only when an
//! insertion would break the order.

use indexmap::IndexMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Tags are already well spread; hashing one is a multiply.
#[derive(Default)]
pub struct TagHasher(u64);

impl Hasher for TagHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type Hashed<V> = IndexMap<u32, V, BuildHasherDefault<TagHasher>>;

/// An insertion-ordered map keyed by tag.
pub enum TagMap<V> {
    /// Tags strictly ascending, which is also insertion order.
    Sorted(Vec<(u32, V)>),
    /// Any order.
    Hashed(Hashed<V>),
}

impl<V> Default for TagMap<V> {
    fn default() -> Self {
        TagMap::Sorted(Vec::new())
    }
}

impl<V> TagMap<V> {
    /// Append `items` (in insertion order) with dict assignment semantics; ascending runs
    /// are taken in one pass, without a search per item.
    pub fn extend(&mut self, items: impl IntoIterator<Item = (u32, V)>) {
        let items = items.into_iter();
        if let TagMap::Sorted(sorted) = self {
            sorted.reserve(items.size_hint().0);
        }
        for (tag, value) in items {
            match self {
                TagMap::Sorted(sorted) if sorted.last().is_none_or(|(last, _)| *last < tag) => {
                    sorted.push((tag, value))
                }
                _ => self.insert(tag, value),
            }
        }
    }

    /// A map of `items` in insertion order: taken as it is when the tags strictly ascend (the
    /// usual case), else inserted one by one.
    pub fn from_items(items: Vec<(u32, V)>) -> Self {
        if items.windows(2).all(|pair| pair[0].0 < pair[1].0) {
            return TagMap::Sorted(items);
        }
        let mut map = TagMap::default();
        map.extend(items);
        map
    }

    /// Insert or replace (a replaced value keeps its place, as in a dict).
    pub fn insert(&mut self, tag: u32, value: V) {
        match self {
            TagMap::Sorted(items) => match items.binary_search_by_key(&tag, |(t, _)| *t) {
                Ok(i) => items[i].1 = value,
                Err(i) if i == items.len() => items.push((tag, value)),
                Err(_) => {
                    let mut hashed: Hashed<V> = std::mem::take(items).into_iter().collect();
                    hashed.insert(tag, value);
                    *self = TagMap::Hashed(hashed);
                }
            },
            TagMap::Hashed(map) => {
                map.insert(tag, value);
            }
        }
    }

    pub fn get(&self, tag: u32) -> Option<&V> {
        match self {
            TagMap::Sorted(items) => items
                .binary_search_by_key(&tag, |(t, _)| *t)
                .ok()
                .map(|i| &items[i].1),
            TagMap::Hashed(map) => map.get(&tag),
        }
    }

    pub fn contains(&self, tag: u32) -> bool {
        self.get(tag).is_some()
    }

    /// Remove `tag`, keeping the order of the rest.
    pub fn remove(&mut self, tag: u32) -> Option<V> {
        match self {
            TagMap::Sorted(items) => items
                .binary_search_by_key(&tag, |(t, _)| *t)
                .ok()
                .map(|i| items.remove(i).1),
            TagMap::Hashed(map) => map.shift_remove(&tag),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            TagMap::Sorted(items) => items.len(),
            TagMap::Hashed(map) => map.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The tags in insertion order.
    pub fn tags(&self) -> Vec<u32> {
        match self {
            TagMap::Sorted(items) => items.iter().map(|(t, _)| *t).collect(),
            TagMap::Hashed(map) => map.keys().copied().collect(),
        }
    }

    /// The most recently inserted tag.
    pub fn last_tag(&self) -> Option<u32> {
        match self {
            TagMap::Sorted(items) => items.last().map(|(t, _)| *t),
            TagMap::Hashed(map) => map.last().map(|(t, _)| *t),
        }
    }

    pub fn clear(&mut self) {
        *self = TagMap::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascending_inserts_stay_sorted() {
        let mut map = TagMap::default();
        for tag in [1, 5, 9] {
            map.insert(tag, tag * 10);
        }
        map.insert(5, 55);
        assert!(matches!(map, TagMap::Sorted(_)));
        assert_eq!(map.tags(), vec![1, 5, 9]);
        assert_eq!(map.get(5), Some(&55));
        assert_eq!(map.remove(1), Some(10));
        assert_eq!(map.tags(), vec![5, 9]);
    }

    #[test]
    fn extend_takes_ascending_runs_and_falls_back() {
        let mut map = TagMap::default();
        map.extend([(1, 'a'), (4, 'b'), (9, 'c')]);
        assert!(matches!(map, TagMap::Sorted(_)));
        map.extend([(4, 'd'), (2, 'e')]);
        assert_eq!(map.tags(), vec![1, 4, 9, 2]);
        assert_eq!(map.get(4), Some(&'d'));
    }

    #[test]
    fn from_items_takes_ascending_vectors_whole() {
        let map = TagMap::from_items(vec![(1, 'a'), (4, 'b')]);
        assert!(matches!(map, TagMap::Sorted(_)));
        let map = TagMap::from_items(vec![(4, 'a'), (1, 'b'), (4, 'c')]);
        assert_eq!(map.tags(), vec![4, 1]);
        assert_eq!(map.get(4), Some(&'c'));
    }

    #[test]
    fn out_of_order_insert_keeps_insertion_order() {
        let mut map = TagMap::default();
        for tag in [3, 7, 2, 7] {
            map.insert(tag, tag);
        }
        assert!(matches!(map, TagMap::Hashed(_)));
        assert_eq!(map.tags(), vec![3, 7, 2]);
        assert_eq!(map.last_tag(), Some(2));
        assert_eq!(map.remove(7), Some(7));
        assert_eq!(map.tags(), vec![3, 2]);
        map.clear();
        assert!(map.is_empty());
    }
}
