//! Parity of the SequenceMatcher port with CPython's `difflib` (docs/method.md §6): 12,000 pairs from
//! a seeded generator, scored by CPython in one subprocess and by the port; ratios must be
//! bit-identical (f64 bits) and `get_matching_blocks()` identical.
//!
//! Needs CPython: `$SRL_SWE_PYTHON` (set by `source scripts/env.sh`) or `python3` on PATH.

use srl_reward::sequence_matcher::{is_character_junk, MatcherOptions, SequenceMatcher};
use std::io::Write;
use std::process::Command;

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const CODE_TOKENS: &[&str] = &[
    "def ",
    "return ",
    "self",
    ".",
    "(",
    ")",
    ":",
    "\n",
    "    ",
    "x",
    "y",
    " = ",
    " + ",
    "1",
    "0",
    "if ",
    "else",
    "import os",
    "<function=bash>\n",
    "<parameter=command>",
    "</parameter>\n",
    "</function>",
    "str_replace_editor",
    "/testbed/src/",
    "pkg/core.py",
    "grep -rn ",
    "\"",
    "'",
    "[",
    "]",
    "{",
    "}",
    ",",
    " ",
    "\t",
    "#",
];
const LATEX_TOKENS: &[&str] = &[
    "\\frac{",
    "}{",
    "}",
    "x",
    "^2",
    "+",
    "-",
    "=",
    " ",
    "\\sqrt{",
    "\\cdot ",
    "\\boxed{",
    "2",
    "3",
    "n",
    "\\sum_{k=1}^{n}",
    "$",
    "\\pi",
    "(",
    ")",
    "\\le ",
    "1. **Step**: ",
    "\n\n",
    "a",
    "b",
    "\\times ",
    "×",
    "α",
    "≤",
];
const UNICODE_CHARS: &[char] = &[
    'a', 'e', 'é', '\u{301}', '\u{300}', 'ü', 'α', 'β', 'γ', 'δ', '中', '文', '😀', '🦀', ' ', '\u{200d}', 'Ω', 'ß',
    'i',
];

fn from_alphabet(rng: &mut Rng, alphabet: &[char], lo: usize, hi: usize) -> String {
    let len = rng.range(lo, hi);
    (0..len).map(|_| *rng.pick(alphabet)).collect()
}

fn from_tokens(rng: &mut Rng, tokens: &[&str], lo: usize, hi: usize) -> String {
    let min_chars = rng.range(lo, hi);
    let mut s = String::new();
    while s.chars().count() < min_chars {
        let token: &&str = rng.pick(tokens);
        s.push_str(token);
    }
    s
}

/// A copy of `s` with a few random edits (delete, insert, replace, move a slice).
fn mutate(rng: &mut Rng, s: &str, alphabet: &[char]) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let edits = rng.range(1, 6);
    for _ in 0..edits {
        let n = chars.len();
        match rng.below(4) {
            0 if n > 0 => {
                let at = rng.below(n);
                let len = rng.range(1, 8).min(n - at);
                chars.drain(at..at + len);
            }
            1 => {
                let at = rng.below(n + 1);
                let ins: Vec<char> = (0..rng.range(1, 6)).map(|_| *rng.pick(alphabet)).collect();
                chars.splice(at..at, ins);
            }
            2 if n > 0 => {
                let at = rng.below(n);
                chars[at] = *rng.pick(alphabet);
            }
            _ if n > 2 => {
                let at = rng.below(n - 1);
                let len = rng.range(1, 20).min(n - at);
                let piece: Vec<char> = chars.drain(at..at + len).collect();
                let to = rng.below(chars.len() + 1);
                chars.splice(to..to, piece);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// (a, b, mode) with mode 0 = defaults, 1 = autojunk=False, 2 = isjunk=IS_CHARACTER_JUNK.
fn generate(n: usize) -> Vec<(String, String, u8, &'static str)> {
    let mut rng = Rng(0x0005_EED2_5102_5992_u64);
    let ascii: Vec<char> = ('a'..='z').chain(' '..='~').collect();
    let tiny = ['a', 'b'];
    let small = ['a', 'b', 'c', ' ', '\n'];
    let code_alpha: Vec<char> = CODE_TOKENS.iter().flat_map(|t| t.chars()).collect();
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while out.len() < n {
        let class = i % 10;
        i += 1;
        let mode = match rng.below(10) {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        };
        let (a, b, name) = match class {
            0 => {
                let a = if rng.below(2) == 0 { String::new() } else { from_alphabet(&mut rng, &small, 0, 5) };
                let b = if rng.below(2) == 0 { String::new() } else { from_alphabet(&mut rng, &small, 0, 5) };
                (a, b, "empty/short")
            }
            1 => {
                let s = from_alphabet(&mut rng, &ascii, 0, 400);
                (s.clone(), s, "equal")
            }
            2 => {
                let a = from_alphabet(&mut rng, &tiny, 0, 60);
                let b = from_alphabet(&mut rng, &tiny, 0, 60);
                (a, b, "repetition")
            }
            3 => {
                let b = from_alphabet(&mut rng, &small, 200, 700);
                let a = if rng.below(2) == 0 {
                    mutate(&mut rng, &b, &small)
                } else {
                    from_alphabet(&mut rng, &small, 150, 700)
                };
                (a, b, "long repetitive")
            }
            4 => {
                let unit = from_alphabet(&mut rng, &small, 1, 7);
                let b = unit.repeat(rng.range(20, 120));
                let times = rng.range(1, 60);
                let a = mutate(&mut rng, &unit.repeat(times), &small);
                (a, b, "periodic")
            }
            5 => {
                let b = from_alphabet(&mut rng, UNICODE_CHARS, 0, 300);
                let a = mutate(&mut rng, &b, UNICODE_CHARS);
                (a, b, "unicode/combining")
            }
            6 => {
                let b = from_tokens(&mut rng, CODE_TOKENS, 50, 1500);
                let a = mutate(&mut rng, &b, &code_alpha);
                (a, b, "code-like")
            }
            7 => {
                let b = from_tokens(&mut rng, LATEX_TOKENS, 20, 800);
                let a = if rng.below(3) == 0 {
                    from_tokens(&mut rng, LATEX_TOKENS, 20, 800)
                } else {
                    mutate(&mut rng, &b, &['x', '{', '}', '\\', ' ', '2'])
                };
                (a, b, "latex-like")
            }
            8 => {
                let a = from_alphabet(&mut rng, &ascii, 0, 250);
                let b = from_alphabet(&mut rng, &ascii, 0, 250);
                (a, b, "random ascii")
            }
            _ => {
                let b = from_tokens(&mut rng, CODE_TOKENS, 200, 600);
                let a = mutate(&mut rng, &b, &code_alpha);
                // Swap roles so `a` is sometimes the long indexed-like side.
                if rng.below(2) == 0 {
                    (b, a, "swapped long")
                } else {
                    (a, b, "swapped long")
                }
            }
        };
        out.push((a, b, mode, name));
    }
    out
}

const PY: &str = r#"
import difflib, json, struct, sys
out = []
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        a, b, mode = json.loads(line)
        if mode == 0:
            m = difflib.SequenceMatcher(None, a, b)
        elif mode == 1:
            m = difflib.SequenceMatcher(None, a, b, autojunk=False)
        else:
            m = difflib.SequenceMatcher(difflib.IS_CHARACTER_JUNK, a, b)
        bits = struct.unpack("<Q", struct.pack("<d", m.ratio()))[0]
        out.append(json.dumps([bits, [list(x) for x in m.get_matching_blocks()]]))
sys.stdout.write("\n".join(out) + "\n")
"#;

fn python() -> String {
    std::env::var("SRL_SWE_PYTHON")
        .ok()
        .filter(|p| std::path::Path::new(p).exists())
        .unwrap_or_else(|| "python3".into())
}

#[test]
fn ratio_and_blocks_match_cpython_bit_for_bit() {
    let pairs = generate(12_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pairs.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for (a, b, mode, _) in &pairs {
        serde_json::to_writer(&mut f, &(a, b, mode)).unwrap();
        f.write_all(b"\n").unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let py = python();
    let out = Command::new(&py).arg("-c").arg(PY).arg(&path).output().unwrap_or_else(|e| {
        panic!("cannot run CPython ({py}): {e}; run `bash scripts/setup.sh` and `source scripts/env.sh`, or install python3")
    });
    assert!(out.status.success(), "CPython failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let expected: Vec<(u64, Vec<[usize; 3]>)> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(expected.len(), pairs.len());

    let mut mismatches = Vec::new();
    let mut long_b = 0;
    let mut with_popular = 0;
    for ((a, b, mode, class), (bits, blocks)) in pairs.iter().zip(&expected) {
        let options = match mode {
            0 => MatcherOptions { autojunk: true, isjunk: None },
            1 => MatcherOptions { autojunk: false, isjunk: None },
            _ => MatcherOptions { autojunk: true, isjunk: Some(is_character_junk) },
        };
        let m = SequenceMatcher::with_options(b, options);
        let a_chars: Vec<char> = a.chars().collect();
        let got_ratio = m.ratio(a);
        let got_blocks: Vec<[usize; 3]> = m.matching_blocks(&a_chars).iter().map(|x| [x.a, x.b, x.size]).collect();
        long_b += usize::from(m.b().len() >= 200);
        with_popular += usize::from(!m.popular().is_empty());
        if got_ratio.to_bits() != *bits || &got_blocks != blocks {
            mismatches.push(format!(
                "[{class}, mode {mode}] a={a:?} b={b:?}: ratio {got_ratio:?} vs CPython {:?}, blocks {got_blocks:?} vs {blocks:?}",
                f64::from_bits(*bits)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} pairs differ; first: {:#?}",
        mismatches.len(),
        pairs.len(),
        &mismatches[..mismatches.len().min(3)]
    );
    assert!(long_b >= 2_000, "only {long_b} pairs with len(b) >= 200");
    assert!(with_popular >= 1_000, "only {with_popular} pairs with popular characters");
}
