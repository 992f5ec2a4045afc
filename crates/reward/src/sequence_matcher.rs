//! A faithful port of CPython's `difflib.SequenceMatcher` (`Lib/difflib.py`) over Unicode code
//! points, as specified in method.md §6: the `b2j` chain on `b` with optional junk and autojunk
//! ("popular" elements), `find_longest_match` with CPython's tie-breaking and junk/popular
//! extension, `get_matching_blocks` (LIFO region stack, sort, merge of adjacent blocks,
//! sentinel) and `ratio()` in f64 (1.0 for two empty strings). Results are bit-identical to
//! CPython (checked by `tests/parity.rs` against `python3 -c 'import difflib …'`).
//!
//! # Which string is `a` and which is `b`
//! `ratio` is not symmetric. The matcher indexes `b` once ([`SequenceMatcher::new`]) and can then
//! be compared with many `a` ([`SequenceMatcher::ratio`]), exactly like CPython's
//! `set_seq2` / `set_seq1` caching. In the SRL reward, **`b` is the expert action and `a` the
//! model's action** (`difflib.SequenceMatcher(None, model_action, expert_action).ratio()`, the
//! order `iroblesrazzaq/SRL-reasoning` uses): the trainer builds the expert's index once per
//! instance and reuses it for all G rollouts of the group.
//!
//! # Speed
//! Semantics are CPython's; the data structures are not. Characters of `a` are mapped to slots
//! of the `b2j` table once per comparison (ASCII through a direct table), and the `j2len` dict
//! of `find_longest_match` is replaced by two stamped arrays indexed by `j`, so no map is built
//! or cleared per row of `a`.

use std::collections::HashMap;

/// Sentinel slot: the character does not occur in `b2j` (absent, junk or popular).
const NO_SLOT: u32 = u32::MAX;

/// A maximal matching block `a[a..a+size] == b[b..b+size]`, CPython's `Match(a, b, size)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Match {
    /// Start in `a`.
    pub a: usize,
    /// Start in `b`.
    pub b: usize,
    /// Length.
    pub size: usize,
}

/// Options of a [`SequenceMatcher`], CPython's constructor arguments.
#[derive(Debug, Clone, Copy)]
pub struct MatcherOptions {
    /// CPython's `autojunk` (default `true`): when `len(b) >= 200`, characters occurring more
    /// than `len(b) // 100 + 1` times are "popular" and left out of the index.
    pub autojunk: bool,
    /// CPython's `isjunk` (default `None`): characters of `b` for which it returns true are junk.
    pub isjunk: Option<fn(char) -> bool>,
}

impl Default for MatcherOptions {
    fn default() -> Self {
        Self { autojunk: true, isjunk: None }
    }
}

/// CPython's `difflib.IS_CHARACTER_JUNK`: space and tab.
pub fn is_character_junk(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `difflib.SequenceMatcher(isjunk, a, b)` with `b` fixed and indexed once; `a` varies per call.
/// Cheap to share between threads (`&self` methods only; scratch space is per call).
#[derive(Debug, Clone)]
pub struct SequenceMatcher {
    b: Vec<char>,
    /// `b2j` values: ascending positions in `b`, one list per indexed character.
    lists: Vec<Vec<u32>>,
    /// Slot in `lists` of each ASCII character ([`NO_SLOT`] if not indexed).
    ascii: [u32; 128],
    /// Slot of each non-ASCII indexed character.
    other: HashMap<char, u32>,
    /// `b[j]` is junk (`isbjunk(b[j])`), per position of `b`.
    b_junk: Vec<bool>,
    any_junk: bool,
    /// Characters removed as popular (CPython's `bpopular`), sorted.
    popular: Vec<char>,
}

/// A region `a[alo..ahi]` × `b[blo..bhi]` of CPython's matching-block queue.
#[derive(Debug, Clone, Copy)]
struct Region {
    alo: usize,
    ahi: usize,
    blo: usize,
    bhi: usize,
}

/// Reusable scratch space for [`SequenceMatcher::find_longest_match`]: CPython's `j2len` dicts as
/// two arrays of (row stamp, length) pairs. A row's entries are valid only if their stamp is
/// that row's; the stamp grows monotonically, so nothing is ever cleared.
struct Scratch {
    stamp: [Vec<u32>; 2],
    len: [Vec<u32>; 2],
    row: u32,
}

impl Scratch {
    fn new(lb: usize) -> Self {
        Self { stamp: [vec![0; lb], vec![0; lb]], len: [vec![0; lb], vec![0; lb]], row: 0 }
    }

    /// Clears all stamps (only before the row counter would overflow).
    fn reset(&mut self) {
        for v in &mut self.stamp {
            v.fill(0);
        }
        self.row = 0;
    }
}

impl SequenceMatcher {
    /// Indexes `b` with CPython's defaults (`isjunk=None`, `autojunk=True`).
    pub fn new(b: &str) -> Self {
        Self::with_options(b, MatcherOptions::default())
    }

    /// Indexes `b` with the given options.
    pub fn with_options(b: &str, options: MatcherOptions) -> Self {
        Self::from_chars(b.chars().collect(), options)
    }

    /// Indexes a sequence of code points (CPython's `__chain_b`).
    pub fn from_chars(b: Vec<char>, options: MatcherOptions) -> Self {
        let n = b.len();
        // b2j in first-occurrence order, positions ascending.
        let mut slot_of: HashMap<char, usize> = HashMap::new();
        let mut keys: Vec<char> = Vec::new();
        let mut lists: Vec<Vec<u32>> = Vec::new();
        for (j, &c) in b.iter().enumerate() {
            let slot = *slot_of.entry(c).or_insert_with(|| {
                keys.push(c);
                lists.push(Vec::new());
                lists.len() - 1
            });
            // Positions fit in u32: inputs are model outputs and actions, far below 4 G chars.
            lists[slot].push(j as u32);
        }
        let mut keep = vec![true; keys.len()];
        let mut junk_chars: Vec<char> = Vec::new();
        if let Some(isjunk) = options.isjunk {
            for (s, &c) in keys.iter().enumerate() {
                if isjunk(c) {
                    keep[s] = false;
                    junk_chars.push(c);
                }
            }
        }
        let mut popular = Vec::new();
        if options.autojunk && n >= 200 {
            let ntest = n / 100 + 1;
            for (s, &c) in keys.iter().enumerate() {
                if keep[s] && lists[s].len() > ntest {
                    keep[s] = false;
                    popular.push(c);
                }
            }
        }
        popular.sort_unstable();
        let b_junk: Vec<bool> = match options.isjunk {
            Some(isjunk) => b.iter().map(|&c| isjunk(c)).collect(),
            None => vec![false; n],
        };
        let any_junk = !junk_chars.is_empty();
        let mut ascii = [NO_SLOT; 128];
        let mut other = HashMap::new();
        let mut kept_lists = Vec::new();
        for ((c, list), keep) in keys.into_iter().zip(lists).zip(keep) {
            if !keep {
                continue;
            }
            let slot = kept_lists.len() as u32;
            kept_lists.push(list);
            if (c as u32) < 128 {
                ascii[c as usize] = slot;
            } else {
                other.insert(c, slot);
            }
        }
        Self { b, lists: kept_lists, ascii, other, b_junk, any_junk, popular }
    }

    /// The indexed sequence `b`.
    pub fn b(&self) -> &[char] {
        &self.b
    }

    /// Characters left out of the index as popular (CPython's `bpopular`), sorted.
    pub fn popular(&self) -> &[char] {
        &self.popular
    }

    fn slot(&self, c: char) -> u32 {
        if (c as u32) < 128 {
            self.ascii[c as usize]
        } else {
            self.other.get(&c).copied().unwrap_or(NO_SLOT)
        }
    }

    fn is_bjunk(&self, j: usize) -> bool {
        self.any_junk && self.b_junk[j]
    }

    /// `SequenceMatcher(isjunk, a, b).ratio()`: 2·M / (len(a) + len(b)), 1.0 if both are empty.
    pub fn ratio(&self, a: &str) -> f64 {
        let a: Vec<char> = a.chars().collect();
        self.ratio_chars(&a)
    }

    /// [`SequenceMatcher::ratio`] for a sequence of code points.
    pub fn ratio_chars(&self, a: &[char]) -> f64 {
        let matches: usize = self.raw_blocks(a).iter().map(|m| m.size).sum();
        calculate_ratio(matches, a.len() + self.b.len())
    }

    /// `get_matching_blocks()`: maximal blocks sorted by position, adjacent blocks merged, and
    /// the sentinel `(len(a), len(b), 0)` last.
    pub fn matching_blocks(&self, a: &[char]) -> Vec<Match> {
        let mut blocks = self.raw_blocks(a);
        blocks.sort_unstable();
        let mut merged = Vec::with_capacity(blocks.len() + 1);
        let (mut i1, mut j1, mut k1) = (0, 0, 0);
        for m in blocks {
            if i1 + k1 == m.a && j1 + k1 == m.b {
                k1 += m.size;
            } else {
                if k1 > 0 {
                    merged.push(Match { a: i1, b: j1, size: k1 });
                }
                (i1, j1, k1) = (m.a, m.b, m.size);
            }
        }
        if k1 > 0 {
            merged.push(Match { a: i1, b: j1, size: k1 });
        }
        merged.push(Match { a: a.len(), b: self.b.len(), size: 0 });
        merged
    }

    /// `find_longest_match(alo, ahi, blo, bhi)` for one `a`. Out-of-range bounds are clamped.
    pub fn find_longest_match(&self, a: &[char], alo: usize, ahi: usize, blo: usize, bhi: usize) -> Match {
        let ahi = ahi.min(a.len());
        let bhi = bhi.min(self.b.len());
        let slots = self.slots_of(a);
        let mut scratch = Scratch::new(self.b.len());
        self.longest(a, &slots, &mut scratch, Region { alo: alo.min(ahi), ahi, blo: blo.min(bhi), bhi })
    }

    fn slots_of(&self, a: &[char]) -> Vec<u32> {
        a.iter().map(|&c| self.slot(c)).collect()
    }

    /// The unsorted, unmerged blocks found by CPython's region stack.
    fn raw_blocks(&self, a: &[char]) -> Vec<Match> {
        let (la, lb) = (a.len(), self.b.len());
        let mut blocks = Vec::new();
        if la == 0 || lb == 0 {
            return blocks;
        }
        let slots = self.slots_of(a);
        let mut scratch = Scratch::new(lb);
        let mut queue = vec![Region { alo: 0, ahi: la, blo: 0, bhi: lb }];
        while let Some(r) = queue.pop() {
            let m = self.longest(a, &slots, &mut scratch, r);
            if m.size > 0 {
                blocks.push(m);
                if r.alo < m.a && r.blo < m.b {
                    queue.push(Region { alo: r.alo, ahi: m.a, blo: r.blo, bhi: m.b });
                }
                if m.a + m.size < r.ahi && m.b + m.size < r.bhi {
                    queue.push(Region { alo: m.a + m.size, ahi: r.ahi, blo: m.b + m.size, bhi: r.bhi });
                }
            }
        }
        blocks
    }

    /// CPython's `find_longest_match` body over the region `a[alo..ahi]` × `b[blo..bhi]`.
    fn longest(&self, a: &[char], slots: &[u32], scratch: &mut Scratch, region: Region) -> Match {
        let Region { alo, ahi, blo, bhi } = region;
        let b = &self.b;
        let (mut besti, mut bestj, mut bestsize) = (alo, blo, 0usize);
        if u64::from(scratch.row) + (ahi - alo) as u64 + 2 >= u64::from(u32::MAX) {
            scratch.reset();
        }
        // Skip one stamp so the previous call's last row is not taken for this call's
        // previous row (CPython starts each call with an empty `j2len`).
        scratch.row += 1;
        for (i, &slot) in slots.iter().enumerate().take(ahi).skip(alo) {
            // Row stamps start at 1 so the zero-initialised arrays never look valid.
            scratch.row += 1;
            let row = scratch.row;
            let cur = (row & 1) as usize;
            let prev = cur ^ 1;
            if slot == NO_SLOT {
                continue;
            }
            let list = &self.lists[slot as usize];
            let start = list.partition_point(|&j| (j as usize) < blo);
            for &j in &list[start..] {
                let j = j as usize;
                if j >= bhi {
                    break;
                }
                // k = j2len.get(j - 1, 0) + 1, j2len being the previous row's dict.
                let k = if j > 0 && scratch.stamp[prev][j - 1] == row - 1 { scratch.len[prev][j - 1] + 1 } else { 1 };
                scratch.stamp[cur][j] = row;
                scratch.len[cur][j] = k;
                let k = k as usize;
                if k > bestsize {
                    besti = i + 1 - k;
                    bestj = j + 1 - k;
                    bestsize = k;
                }
            }
        }
        // Extend with non-junk (this absorbs popular characters), then with junk.
        while besti > alo && bestj > blo && !self.is_bjunk(bestj - 1) && a[besti - 1] == b[bestj - 1] {
            besti -= 1;
            bestj -= 1;
            bestsize += 1;
        }
        while besti + bestsize < ahi
            && bestj + bestsize < bhi
            && !self.is_bjunk(bestj + bestsize)
            && a[besti + bestsize] == b[bestj + bestsize]
        {
            bestsize += 1;
        }
        if self.any_junk {
            while besti > alo && bestj > blo && self.is_bjunk(bestj - 1) && a[besti - 1] == b[bestj - 1] {
                besti -= 1;
                bestj -= 1;
                bestsize += 1;
            }
            while besti + bestsize < ahi
                && bestj + bestsize < bhi
                && self.is_bjunk(bestj + bestsize)
                && a[besti + bestsize] == b[bestj + bestsize]
            {
                bestsize += 1;
            }
        }
        Match { a: besti, b: bestj, size: bestsize }
    }
}

/// CPython's `_calculate_ratio`: `2.0 * matches / length`, or 1.0 when `length` is 0.
fn calculate_ratio(matches: usize, length: usize) -> f64 {
    if length > 0 {
        2.0 * matches as f64 / length as f64
    } else {
        1.0
    }
}

/// `difflib.SequenceMatcher(None, a, b).ratio()` (autojunk on).
pub fn ratio(a: &str, b: &str) -> f64 {
    SequenceMatcher::new(b).ratio(a)
}

/// `difflib.SequenceMatcher(None, a, b, autojunk=autojunk).ratio()`.
pub fn ratio_with(a: &str, b: &str, autojunk: bool) -> f64 {
    SequenceMatcher::with_options(b, MatcherOptions { autojunk, isjunk: None }).ratio(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// method.md §6 golden values (CPython 3.11, autojunk on).
    #[test]
    fn golden_table() {
        let ab10x = format!("{}x", "ab".repeat(10));
        let xab10 = format!("x{}", "ab".repeat(10));
        let ab150 = "ab".repeat(150);
        let cases: [(&str, &str, f64); 10] = [
            ("abcd", "bcde", 0.75),
            ("", "", 1.0),
            ("abc", "", 0.0),
            ("private Thread currentThread;", "private volatile Thread currentThread;", 0.8656716417910447),
            ("a×b = 20!", "a \\times b = 20!", 0.64),
            ("αβγ δ", "αβγδ", 0.8888888888888888),
            (&ab10x, &ab150, 0.12461059190031153),
            (&xab10, &ab150, 0.0),
            (&ab150, &xab10, 0.12461059190031153),
            ("é", "e\u{301}", 0.0),
        ];
        for (a, b, want) in cases {
            assert_eq!(ratio(a, b).to_bits(), want.to_bits(), "ratio({a:?}, {b:?})");
        }
    }

    #[test]
    fn golden_blocks() {
        let m = SequenceMatcher::new("bcde");
        let a: Vec<char> = "abcd".chars().collect();
        assert_eq!(m.matching_blocks(&a), vec![Match { a: 1, b: 0, size: 3 }, Match { a: 4, b: 4, size: 0 }]);
        let ab150 = "ab".repeat(150);
        let m = SequenceMatcher::new(&ab150);
        let a: Vec<char> = format!("{}x", "ab".repeat(10)).chars().collect();
        assert_eq!(m.matching_blocks(&a)[0], Match { a: 0, b: 0, size: 20 });
        assert_eq!(m.popular(), &['a', 'b']);
    }

    #[test]
    fn popular_is_not_junk_and_autojunk_can_be_off() {
        // 200 'a's: 'a' is popular; matching only happens by extension from (alo, blo).
        let b = "a".repeat(200);
        assert_eq!(ratio(&"a".repeat(10), &b), 2.0 * 10.0 / 210.0);
        assert_eq!(ratio(&format!("x{}", "a".repeat(10)), &b), 0.0);
        assert_eq!(ratio_with(&format!("x{}", "a".repeat(10)), &b, false), 2.0 * 10.0 / 211.0);
    }

    #[test]
    fn junk_is_not_indexed() {
        // CPython docs: SequenceMatcher(lambda x: x == " ", " abcd", "abcd abcd") finds
        // Match(a=1, b=0, size=4); ratio() == 0.5714285714285714.
        let m =
            SequenceMatcher::with_options("abcd abcd", MatcherOptions { autojunk: true, isjunk: Some(|c| c == ' ') });
        let a: Vec<char> = " abcd".chars().collect();
        assert_eq!(m.matching_blocks(&a)[0], Match { a: 1, b: 0, size: 4 });
        assert_eq!(m.ratio(" abcd"), 0.5714285714285714);
    }

    #[test]
    fn find_longest_match_ties_go_to_earliest() {
        // CPython docs: SequenceMatcher(None, " abcd", "abcd abcd").find_longest_match(0, 5, 0, 9)
        // == Match(a=0, b=4, size=5).
        let m = SequenceMatcher::new("abcd abcd");
        let a: Vec<char> = " abcd".chars().collect();
        assert_eq!(m.find_longest_match(&a, 0, 5, 0, 9), Match { a: 0, b: 4, size: 5 });
        let m = SequenceMatcher::new("abab");
        let a: Vec<char> = "ab".chars().collect();
        assert_eq!(m.find_longest_match(&a, 0, 2, 0, 4), Match { a: 0, b: 0, size: 2 });
        assert_eq!(m.find_longest_match(&a, 0, 2, 1, 4), Match { a: 0, b: 2, size: 2 });
    }
}
