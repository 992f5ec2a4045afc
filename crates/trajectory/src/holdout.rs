//! Deterministic validation hold-out of whole trajectories (or problems), streaming.
//!
//! Each id gets a seeded hash (first 8 bytes of `sha256(seed as 8 little-endian bytes ‖ id)`);
//! the N ids with the smallest (hash, id) are held out. Items arrive one trajectory at a time:
//! a candidate stays buffered while it is among the N smallest seen so far and is released to
//! the training side when a smaller one displaces it, so memory holds at most N trajectories
//! and the choice does not depend on the input order. At the end at most half of the kept items
//! stay held out ([`Holdout::finish`]), so a small input still has training data.

use sha2::{Digest, Sha256};
use std::collections::BinaryHeap;

/// The seeded hash of an id.
pub fn seeded_hash(seed: u64, id: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(id.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
}

struct Entry<T> {
    key: (u64, String),
    seq: u64,
    payload: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// Keeps the `cap` items with the smallest seeded hash of their id.
pub struct Holdout<T> {
    cap: usize,
    seed: u64,
    seq: u64,
    heap: BinaryHeap<Entry<T>>,
}

impl<T> Holdout<T> {
    /// Holds out up to `cap` ids under `seed`.
    pub fn new(cap: usize, seed: u64) -> Self {
        Self { cap, seed, seq: 0, heap: BinaryHeap::new() }
    }

    /// Offers an item; returns the item that goes to training now (this one, or the one it
    /// displaced), or `None` when nothing is released.
    pub fn offer(&mut self, id: &str, payload: T) -> Option<T> {
        let key = (seeded_hash(self.seed, id), id.to_string());
        self.seq += 1;
        let entry = Entry { key, seq: self.seq, payload };
        if self.heap.len() < self.cap {
            self.heap.push(entry);
            return None;
        }
        match self.heap.peek() {
            Some(top) if entry.key < top.key => {
                let out = self.heap.pop().map(|e| e.payload);
                self.heap.push(entry);
                out
            }
            _ => Some(entry.payload),
        }
    }

    /// Ends the hold-out keeping at most `max` items (those with the smallest hashes): returns
    /// (held out, released to training), each in arrival order, with their ids.
    #[allow(clippy::type_complexity)]
    pub fn finish(self, max: usize) -> (Vec<(String, T)>, Vec<(String, T)>) {
        let mut items: Vec<Entry<T>> = self.heap.into_vec();
        items.sort_by(|a, b| a.key.cmp(&b.key));
        let released_entries = items.split_off(max.min(items.len()));
        let order = |mut v: Vec<Entry<T>>| {
            v.sort_by_key(|e| e.seq);
            v.into_iter().map(|e| (e.key.1, e.payload)).collect::<Vec<_>>()
        };
        (order(items), order(released_entries))
    }

    /// The held-out items in arrival order, with their ids.
    pub fn into_sorted(self) -> Vec<(String, T)> {
        self.finish(usize::MAX).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_is_independent_of_order() {
        let ids: Vec<String> = (0..50).map(|i| format!("traj-{i}")).collect();
        let run = |order: Vec<&String>| {
            let mut h = Holdout::new(5, 7);
            let mut released = 0;
            for id in order {
                if h.offer(id, id.clone()).is_some() {
                    released += 1;
                }
            }
            let mut kept: Vec<String> = h.into_sorted().into_iter().map(|(id, _)| id).collect();
            kept.sort();
            (kept, released)
        };
        let (a, ra) = run(ids.iter().collect());
        let (b, rb) = run(ids.iter().rev().collect());
        assert_eq!(a, b);
        assert_eq!((ra, rb), (45, 45));
        // The chosen ids are the 5 smallest hashes.
        let mut by_hash: Vec<(u64, &String)> = ids.iter().map(|id| (seeded_hash(7, id), id)).collect();
        by_hash.sort();
        let mut expect: Vec<String> = by_hash[..5].iter().map(|(_, id)| (*id).clone()).collect();
        expect.sort();
        assert_eq!(a, expect);
        let mut small = Holdout::new(5, 7);
        for id in &ids[..4] {
            assert!(small.offer(id, ()).is_none());
        }
        let (held, back) = small.finish(2);
        assert_eq!((held.len(), back.len()), (2, 2));
        let mut none = Holdout::new(0, 1);
        assert_eq!(none.offer("x", 1), Some(1));
    }
}
