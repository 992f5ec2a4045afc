//! A faithful port of CPython's `difflib.SequenceMatcher` (`Lib/difflib.py`) over Unicode code
//! points, as specified in docs/method.md §6: the `b2j` chain on `b` with optional junk and autojunk
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

use std::cell::RefCell;
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
    /// `b2j` as one flat table: the ascending positions in `b` of the character in slot `s`
    /// are `positions[offsets[s]..offsets[s + 1]]`.
    offsets: Vec<u32>,
    positions: Vec<u32>,
    /// Slot of each ASCII character ([`NO_SLOT`] if not indexed).
    ascii: [u32; 128],
    /// Slots of indexed non-ASCII characters, sorted by character.
    other: Vec<(char, u32)>,
    /// `b[j]` is junk (`isbjunk(b[j])`), per position of `b`.
    b_junk: Vec<bool>,
    any_junk: bool,
    /// Characters removed as popular (CPython's `bpopular`), sorted.
    popular: Vec<char>,
}

thread_local! {
    /// Per-thread scratch space, reused across comparisons (grown, never cleared).
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::new(0, 0));
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
/// two arrays (even and odd rows) of `row stamp << 32 | length`, indexed by `j + 1`. An entry
/// is valid only if its stamp is the previous row's; stamps grow monotonically (`row` is the
/// next free base), so nothing is cleared between rows or calls. `start` caches, per slot and per call, where positions ≥ `blo` begin.
struct Scratch {
    even: Vec<u64>,
    odd: Vec<u64>,
    row: u32,
    call: u32,
    start_call: Vec<u32>,
    start: Vec<u32>,
}

impl Scratch {
    fn new(lb: usize, slots: usize) -> Self {
        Self {
            even: vec![0; lb + 1],
            odd: vec![0; lb + 1],
            row: 0,
            call: 0,
            start_call: vec![0; slots],
            start: vec![0; slots],
        }
    }

    /// Grows the arrays for a `b` of length `lb` with `slots` indexed characters. New entries
    /// are zero, an "empty" entry for every later stamp check; counters keep running, so
    /// entries left by earlier matchers never look valid.
    fn ensure(&mut self, lb: usize, slots: usize) {
        if self.even.len() < lb + 1 {
            self.even.resize(lb + 1, 0);
            self.odd.resize(lb + 1, 0);
        }
        if self.start_call.len() < slots {
            self.start_call.resize(slots, 0);
            self.start.resize(slots, 0);
        }
    }

    /// Clears all stamps (only before a counter would overflow).
    fn reset(&mut self) {
        self.even.fill(0);
        self.odd.fill(0);
        self.start_call.fill(0);
        self.row = 0;
        self.call = 0;
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
        // Occurrence counts: ASCII in a table, other characters in a map.
        let mut ascii_count = [0u32; 128];
        let mut other_count: HashMap<char, u32> = HashMap::new();
        for &c in &b {
            if (c as u32) < 128 {
                ascii_count[c as usize] += 1;
            } else {
                *other_count.entry(c).or_insert(0) += 1;
            }
        }
        // Distinct characters with their counts (order is irrelevant: b2j is a dict).
        let mut keys: Vec<(char, u32)> =
            (0u8..128).filter(|&c| ascii_count[c as usize] > 0).map(|c| (c as char, ascii_count[c as usize])).collect();
        keys.extend(other_count);
        let mut any_junk = false;
        let mut popular = Vec::new();
        let ntest = if options.autojunk && n >= 200 { Some(n / 100 + 1) } else { None };
        let mut kept: Vec<(char, u32)> = Vec::with_capacity(keys.len());
        for (c, count) in keys {
            if options.isjunk.is_some_and(|isjunk| isjunk(c)) {
                any_junk = true;
            } else if ntest.is_some_and(|t| count as usize > t) {
                popular.push(c);
            } else {
                kept.push((c, count));
            }
        }
        popular.sort_unstable();
        // Kept characters get slots; their positions go to one flat table (CSR).
        let mut ascii = [NO_SLOT; 128];
        let mut other: Vec<(char, u32)> = Vec::new();
        let mut offsets = Vec::with_capacity(kept.len() + 1);
        offsets.push(0u32);
        for (slot, &(c, count)) in kept.iter().enumerate() {
            if (c as u32) < 128 {
                ascii[c as usize] = slot as u32;
            } else {
                other.push((c, slot as u32));
            }
            let last = offsets[offsets.len() - 1];
            offsets.push(last + count);
        }
        other.sort_unstable();
        let mut fill: Vec<u32> = offsets[..offsets.len() - 1].to_vec();
        let mut positions = vec![0u32; offsets[offsets.len() - 1] as usize];
        let mut this =
            Self { b: Vec::new(), offsets, positions: Vec::new(), ascii, other, b_junk: Vec::new(), any_junk, popular };
        for (j, &c) in b.iter().enumerate() {
            let slot = this.slot(c);
            if slot != NO_SLOT {
                // Positions fit in u32: inputs are model outputs and actions, far below 4 G chars.
                positions[fill[slot as usize] as usize] = j as u32;
                fill[slot as usize] += 1;
            }
        }
        this.positions = positions;
        if let Some(isjunk) = options.isjunk {
            this.b_junk = b.iter().map(|&c| isjunk(c)).collect();
        }
        this.b = b;
        this
    }

    fn slot_count(&self) -> usize {
        self.offsets.len() - 1
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
            self.other.binary_search_by_key(&c, |&(k, _)| k).map_or(NO_SLOT, |i| self.other[i].1)
        }
    }

    fn is_bjunk(&self, j: usize) -> bool {
        self.any_junk && self.b_junk[j]
    }

    /// `SequenceMatcher(isjunk, a, b).ratio()`: 2·M / (len(a) + len(b)), 1.0 if both are empty.
    pub fn ratio(&self, a: &str) -> f64 {
        // One pass over `a` for its characters and its indexed rows.
        let mut chars = Vec::with_capacity(a.len());
        let mut rows = Vec::with_capacity(a.len());
        for (i, c) in a.chars().enumerate() {
            chars.push(c);
            let s = self.slot(c);
            if s != NO_SLOT {
                rows.push((i as u32, s));
            }
        }
        let matches: usize = self.blocks_with_rows(&chars, &rows).iter().map(|m| m.size).sum();
        calculate_ratio(matches, chars.len() + self.b.len())
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
        let mut scratch = Scratch::new(self.b.len(), self.slot_count());
        self.longest(a, &slots, &mut scratch, Region { alo: alo.min(ahi), ahi, blo: blo.min(bhi), bhi })
    }

    /// The rows of `a` whose character is indexed, as (position in `a`, slot). Rows of
    /// absent, junk or popular characters never match in the main loop, so they are skipped
    /// outright (the row stamps are derived from positions, so skipping keeps CPython's
    /// "`j2len` of the previous row" semantics).
    fn slots_of(&self, a: &[char]) -> Vec<(u32, u32)> {
        a.iter()
            .enumerate()
            .filter_map(|(i, &c)| {
                let s = self.slot(c);
                (s != NO_SLOT).then_some((i as u32, s))
            })
            .collect()
    }

    /// The unsorted, unmerged blocks found by CPython's region stack.
    fn raw_blocks(&self, a: &[char]) -> Vec<Match> {
        self.blocks_with_rows(a, &self.slots_of(a))
    }

    /// [`SequenceMatcher::raw_blocks`] with the rows of `a` already computed.
    fn blocks_with_rows(&self, a: &[char], rows: &[(u32, u32)]) -> Vec<Match> {
        let (la, lb) = (a.len(), self.b.len());
        let mut blocks = Vec::new();
        if la == 0 || lb == 0 {
            return blocks;
        }
        SCRATCH.with(|cell| {
            let mut guard = cell.borrow_mut();
            let scratch = &mut *guard;
            scratch.ensure(lb, self.slot_count());
            self.collect_blocks(a, rows, scratch, &mut blocks);
        });
        blocks
    }

    /// CPython's region stack (LIFO) of `get_matching_blocks`.
    fn collect_blocks(&self, a: &[char], slots: &[(u32, u32)], scratch: &mut Scratch, blocks: &mut Vec<Match>) {
        let mut queue = vec![Region { alo: 0, ahi: a.len(), blo: 0, bhi: self.b.len() }];
        while let Some(r) = queue.pop() {
            let m = self.longest(a, slots, scratch, r);
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
    }

    /// CPython's `find_longest_match` body over the region `a[alo..ahi]` × `b[blo..bhi]`.
    fn longest(&self, a: &[char], rows: &[(u32, u32)], scratch: &mut Scratch, region: Region) -> Match {
        let Region { alo, ahi, blo, bhi } = region;
        let b = &self.b;
        let (mut besti, mut bestj, mut bestsize) = (alo, blo, 0usize);
        if u64::from(scratch.row) + ahi as u64 + 2 >= u64::from(u32::MAX) || scratch.call == u32::MAX {
            scratch.reset();
        }
        // Row i of this call has stamp base + 1 + i; every stamp of earlier calls is below
        // base + 1 + alo, so this call starts with an empty `j2len` as in CPython.
        let base = scratch.row;
        scratch.row = base + ahi as u32 + 2;
        scratch.call += 1;
        let call = scratch.call;
        let Scratch { even, odd, start_call, start, .. } = scratch;
        let (offsets, positions) = (&self.offsets[..], &self.positions[..]);
        let first = rows.partition_point(|&(i, _)| (i as usize) < alo);
        let last = rows.partition_point(|&(i, _)| (i as usize) < ahi);
        for &(i, slot) in &rows[first..last] {
            let r = base + 1 + i;
            let s = slot as usize;
            let list = &positions[offsets[s] as usize..offsets[s + 1] as usize];
            if start_call[s] != call {
                start_call[s] = call;
                start[s] = list.partition_point(|&j| (j as usize) < blo) as u32;
            }
            let (cur, prev) = if r & 1 == 0 { (&mut *even, &*odd) } else { (&mut *odd, &*even) };
            let prev_stamp = u64::from(r - 1);
            let stamp = u64::from(r) << 32;
            for &j in &list[start[s] as usize..] {
                let j = j as usize;
                if j >= bhi {
                    break;
                }
                // k = j2len.get(j - 1, 0) + 1, j2len being the previous row's dict; entry j of
                // the arrays holds position j - 1.
                let p = prev[j];
                let k = if p >> 32 == prev_stamp { (p & 0xFFFF_FFFF) + 1 } else { 1 };
                cur[j + 1] = stamp | k;
                let k = k as usize;
                if k > bestsize {
                    let i = i as usize;
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

    /// docs/method.md §6 golden values (CPython 3.11, autojunk on).
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
