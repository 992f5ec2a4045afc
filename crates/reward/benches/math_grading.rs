//! Benchmark: grading speed of this crate's math grader against sympy-based grading (the
//! reference approach of QwenLM/Qwen2.5-Math `evaluation/grader.py`: string and number checks,
//! equations as `a - (b)`, sympy `parse_latex`, `simplify(a - b) == 0`, a numeric check, a 3 s
//! alarm per pair; a compact re-statement, not the reference itself) on the same 1,600 answer
//! pairs of 32 kinds, side by side in one run, plus the agreement of both with the hand-written
//! table (`tests/support/math_cases.rs`). Run:
//! `bash scripts/venvs/sympy.sh && cargo bench -p srl-reward --bench math_grading`.
//!
//! Both sides grade already-normalized answers (`strip_string` output), so the timing compares
//! the equality decision; times are wall time of the grading loop only (Python start-up and
//! imports excluded), best of 3 rounds for Rust, one round for sympy (it takes seconds).

use srl_reward::strip_string::strip_string;
use srl_reward::{math_equal, GraderOptions};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

#[path = "../tests/support/math_cases.rs"]
mod math_cases;
#[path = "../tests/support/rng.rs"]
mod rng;
#[path = "../tests/support/sympy_venv.rs"]
mod sympy_venv;
use rng::Rng;

/// One kind of answer pair: a name and a generator from random small integers.
type Kind = (&'static str, fn(&mut Rng) -> (String, String));

fn n(rng: &mut Rng, lo: usize, hi: usize) -> i64 {
    rng.range(lo, hi) as i64
}

/// An equal pair half the time, a near miss otherwise.
fn maybe(rng: &mut Rng, equal: String, wrong: String) -> String {
    if rng.below(2) == 0 {
        equal
    } else {
        wrong
    }
}

const KINDS: &[Kind] = &[
    ("integer", |r| {
        let a = n(r, 1, 999);
        (a.to_string(), maybe(r, a.to_string(), (a + 1).to_string()))
    }),
    ("negative", |r| {
        let a = n(r, 1, 99);
        (format!("-{a}"), maybe(r, format!("-{a}"), a.to_string()))
    }),
    ("decimal", |r| {
        let a = n(r, 1, 99);
        (format!("{a}.5"), maybe(r, format!("\\frac{{{}}}{{2}}", 2 * a + 1), format!("{a}.6")))
    }),
    ("fraction", |r| {
        let (a, b) = (n(r, 1, 9), n(r, 2, 9));
        (
            format!("\\frac{{{a}}}{{{b}}}"),
            maybe(r, format!("\\dfrac{{{}}}{{{}}}", 2 * a, 2 * b), format!("\\frac{{{b}}}{{{a}}}")),
        )
    }),
    ("slash", |r| {
        let (a, b) = (n(r, 1, 9), n(r, 10, 19));
        (format!("{a}/{b}"), maybe(r, format!("\\frac{{{a}}}{{{b}}}"), format!("\\frac{{{a}}}{{{}}}", b + 1)))
    }),
    ("percent", |r| {
        let a = n(r, 1, 99);
        (format!("{a}\\%"), maybe(r, a.to_string(), (a + 2).to_string()))
    }),
    ("thousands", |r| {
        let (a, b) = (n(r, 1, 99), n(r, 100, 999));
        (format!("{a},{b}"), maybe(r, format!("{a}{b}"), format!("{a}{}", b - 1)))
    }),
    ("thin-space", |r| {
        let (a, b) = (n(r, 1, 99), n(r, 100, 999));
        (format!("{a}\\,{b}"), maybe(r, format!("{a}{b}"), format!("{a}{}", b + 1)))
    }),
    ("degrees", |r| {
        let a = n(r, 10, 170);
        (format!("{a}^\\circ"), maybe(r, a.to_string(), (a + 5).to_string()))
    }),
    ("sqrt", |r| {
        let (a, k) = (n(r, 2, 5), *r.pick(&[2i64, 3, 5, 6, 7]));
        (format!("{a}\\sqrt{{{k}}}"), maybe(r, format!("\\sqrt{{{}}}", a * a * k), format!("\\sqrt{{{}}}", a * k)))
    }),
    ("rationalized", |r| {
        let k = *r.pick(&[2i64, 3, 5]);
        (
            format!("\\frac{{1}}{{\\sqrt{{{k}}}}}"),
            maybe(r, format!("\\frac{{\\sqrt{{{k}}}}}{{{k}}}"), format!("\\sqrt{{{k}}}")),
        )
    }),
    ("cube-root", |r| {
        let a = n(r, 2, 6);
        (format!("\\sqrt[3]{{{}}}", a * a * a), maybe(r, a.to_string(), (a + 1).to_string()))
    }),
    ("pi", |r| {
        let (a, b) = (n(r, 1, 9), n(r, 2, 6));
        (
            format!("\\frac{{{a}\\pi}}{{{b}}}"),
            maybe(r, format!("\\frac{{{a}}}{{{b}}}\\pi"), format!("\\frac{{{a}\\pi}}{{{}}}", b + 1)),
        )
    }),
    ("pi-decimal", |r| {
        let a = n(r, 1, 9);
        (format!("{:.4}", a as f64 * std::f64::consts::PI), format!("{a}\\pi"))
    }),
    ("power", |r| {
        let (a, e) = (n(r, 2, 5), n(r, 2, 6));
        (format!("{a}^{{{e}}}"), maybe(r, a.pow(e as u32).to_string(), (a.pow(e as u32) + 1).to_string()))
    }),
    ("polynomial", |r| {
        let (a, b) = (n(r, 1, 9), n(r, 1, 9));
        (format!("x^2+{}x+{}", a + b, a * b), maybe(r, format!("(x+{a})(x+{b})"), format!("(x+{a})(x-{b})")))
    }),
    ("reordered", |r| {
        let (a, b) = (n(r, 2, 9), n(r, 2, 20));
        (format!("-{b}+{a}x+x^2"), maybe(r, format!("x^2+{a}x-{b}"), format!("x^2+{a}x+{b}")))
    }),
    ("square", |r| {
        let a = n(r, 1, 9);
        (format!("(x+{a})(x+{a})"), maybe(r, format!("(x+{a})^2"), format!("x^2+{a}^2")))
    }),
    ("rational-fn", |r| {
        let (a, b) = (n(r, 1, 9), n(r, 2, 9));
        (
            format!("\\frac{{x+{a}}}{{{b}}}"),
            maybe(r, format!("\\frac{{x}}{{{b}}}+\\frac{{{a}}}{{{b}}}"), format!("\\frac{{x}}{{{b}}}+{a}")),
        )
    }),
    ("nested-power", |r| {
        let (a, b) = (n(r, 2, 3), n(r, 2, 3));
        (format!("x^{{{a}^{{{b}}}}}"), maybe(r, format!("x^{{{}}}", a.pow(b as u32)), format!("x^{{{}}}", a * b)))
    }),
    ("equation", |r| {
        let c = n(r, 2, 50);
        (format!("y^2+x^2={c}"), maybe(r, format!("x^2+y^2={c}"), format!("x^2+y^2={}", c + 1)))
    }),
    ("line", |r| {
        let (m, c) = (n(r, 1, 9), n(r, 1, 9));
        (format!("y={m}x+{c}"), maybe(r, format!("{m}x-y+{c}=0"), format!("{m}x+y+{c}=0")))
    }),
    ("tuple", |r| {
        let (a, b) = (n(r, 1, 9), n(r, 1, 9));
        (format!("({a},{b})"), maybe(r, format!("\\left({a}, {b}\\right)"), format!("({b},{a})")))
    }),
    ("interval", |r| {
        let (a, b) = (n(r, 1, 9), n(r, 10, 19));
        (format!("[{a},{b})"), maybe(r, format!("[{a}, {b})"), format!("({a},{b}]")))
    }),
    ("union", |r| {
        let (a, b) = (n(r, 1, 5), n(r, 6, 9));
        (
            format!("(-\\infty,{a})\\cup({b},\\infty)"),
            maybe(r, format!("(-\\infty, {a})\\cup({b}, \\infty)"), format!("(-\\infty,{a}]\\cup[{b},\\infty)")),
        )
    }),
    ("set", |r| {
        let (a, b) = (n(r, 1, 9), n(r, 10, 19));
        (format!("\\{{{a},{b}\\}}"), maybe(r, format!("\\{{{b},{a}\\}}"), format!("\\{{{a},{}\\}}", b + 1)))
    }),
    ("list", |r| {
        let (a, b) = (n(r, 1, 9), n(r, 10, 19));
        (format!("-{a},-{b}"), maybe(r, format!("-{b},-{a}"), format!("-{a}")))
    }),
    ("matrix", |r| {
        let (a, b) = (n(r, 1, 9), n(r, 1, 9));
        (
            format!("\\begin{{pmatrix}}{a}&{b}\\\\0&1\\end{{pmatrix}}"),
            maybe(
                r,
                format!("\\begin{{pmatrix}}{a}&{b}\\\\0&1\\end{{pmatrix}}"),
                format!("\\begin{{pmatrix}}{b}&{a}\\\\0&1\\end{{pmatrix}}"),
            ),
        )
    }),
    ("plus-minus", |r| {
        let k = *r.pick(&[2i64, 3, 5]);
        (
            format!("1\\pm\\sqrt{{{k}}}"),
            maybe(r, format!("1+\\sqrt{{{k}}},1-\\sqrt{{{k}}}"), format!("1+\\sqrt{{{k}}}")),
        )
    }),
    ("complex", |r| {
        let (a, b) = (n(r, 1, 9), n(r, 1, 9));
        (format!("{a}+{b}i"), maybe(r, format!("{b}i+{a}"), format!("{a}-{b}i")))
    }),
    ("text", |r| {
        let names = ["Evelyn", "Monday", "odd", "even", "blue"];
        let a = *r.pick(&names);
        let other = *r.pick(&names);
        (format!("\\text{{{a}}}"), maybe(r, a.to_string(), other.to_string()))
    }),
    ("choice", |r| {
        let c = *r.pick(&["A", "B", "C", "D", "E"]);
        (format!("\\text{{({c})}}"), (*r.pick(&["A", "B", "C", "D", "E"])).to_string())
    }),
];

fn corpus() -> Vec<(String, String)> {
    let mut rng = Rng(0xbe7c_0001);
    let mut pairs = Vec::with_capacity(1_600);
    for _ in 0..50 {
        for (_, make) in KINDS {
            pairs.push(make(&mut rng));
        }
    }
    pairs
}

const SYMPY_GRADER: &str = r#"
import math, signal, sys, time
from sympy import simplify, N
from sympy.parsing.latex import parse_latex

class Timeout(Exception):
    pass

def on_alarm(signum, frame):
    raise Timeout()

signal.signal(signal.SIGALRM, on_alarm)

def number(s):
    try:
        return float(s.replace(",", ""))
    except ValueError:
        return None

def close(a, b):
    return math.isclose(b, a, rel_tol=1e-4)

def equal(p, r):
    if p.strip().lower() == r.strip().lower():
        return True
    a, b = number(p), number(r)
    if a is not None and b is not None:
        return any(close(a, x) for x in (b / 100, b, b * 100))
    if p.count("=") == 1 and r.count("=") == 1:
        p2 = "{} - ({})".format(*p.split("="))
        r2 = "{} - ({})".format(*r.split("="))
        return symbolic(p2, r2) or symbolic("-({})".format(p2), r2)
    return symbolic(p, r)

def symbolic(p, r):
    try:
        x, y = parse_latex(p), parse_latex(r)
    except Exception:
        return False
    try:
        if x == y or simplify(x - y) == 0:
            return True
    except Exception:
        pass
    try:
        return close(float(N(x)), float(N(y)))
    except Exception:
        return False

pairs = [line.rstrip("\n").split("\t") for line in sys.stdin]
start = time.perf_counter()
out = []
for p, r in pairs:
    signal.alarm(3)
    try:
        out.append("1" if equal(p, r) else "0")
    except Timeout:
        out.append("0")
    finally:
        signal.alarm(0)
elapsed = time.perf_counter() - start
print(elapsed)
print("".join(out))
"#;

/// Runs the sympy grader on normalized pairs: (seconds, verdicts).
fn sympy_grade(pairs: &[(String, String)]) -> (f64, Vec<bool>) {
    let python = sympy_venv::sympy_python();
    let mut child = Command::new(python)
        .arg("-c")
        .arg(SYMPY_GRADER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start sympy python");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for (p, r) in pairs {
            writeln!(stdin, "{}\t{}", p.replace(['\t', '\n'], " "), r.replace(['\t', '\n'], " ")).expect("write");
        }
    }
    let out = child.wait_with_output().expect("sympy output");
    assert!(out.status.success(), "sympy grader failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let secs: f64 = lines.next().and_then(|l| l.trim().parse().ok()).expect("elapsed seconds");
    let verdicts: Vec<bool> = lines.next().unwrap_or("").chars().map(|c| c == '1').collect();
    assert_eq!(verdicts.len(), pairs.len(), "one verdict per pair");
    (secs, verdicts)
}

fn normalize(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs.iter().map(|(p, r)| (strip_string(p, false), strip_string(r, false))).collect()
}

fn rust_grade(pairs: &[(String, String)], options: &GraderOptions) -> (f64, Vec<bool>) {
    let mut best = f64::INFINITY;
    let mut verdicts = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        verdicts = pairs.iter().map(|(p, r)| math_equal(p, r, options)).collect();
        best = best.min(start.elapsed().as_secs_f64());
    }
    (best, verdicts)
}

fn agreement(a: &[bool], b: &[bool]) -> f64 {
    100.0 * a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
}

fn main() {
    let options = GraderOptions::default();
    let pairs = normalize(&corpus());
    let (rust_secs, rust_verdicts) = rust_grade(&pairs, &options);
    let (py_secs, py_verdicts) = sympy_grade(&pairs);
    println!("corpus: {} pairs of {} kinds", pairs.len(), KINDS.len());
    println!(
        "grading: srl-reward {:.1} ms ({:.1} µs/pair), sympy {:.2} s ({:.1} ms/pair): {:.0}x faster",
        rust_secs * 1e3,
        rust_secs * 1e6 / pairs.len() as f64,
        py_secs,
        py_secs * 1e3 / pairs.len() as f64,
        py_secs / rust_secs
    );
    println!("corpus agreement srl-reward vs sympy grading: {:.1}%", agreement(&rust_verdicts, &py_verdicts));
    for (i, (name, _)) in KINDS.iter().enumerate() {
        let idx: Vec<usize> = (i..pairs.len()).step_by(KINDS.len()).collect();
        let diff = idx.iter().filter(|&&j| rust_verdicts[j] != py_verdicts[j]).count();
        if diff > 0 {
            let j = idx.iter().find(|&&j| rust_verdicts[j] != py_verdicts[j]).copied().unwrap_or(i);
            println!(
                "  {name}: {diff} of {} differ, e.g. {:?} vs {:?}: srl-reward {}, sympy {}",
                idx.len(),
                pairs[j].0,
                pairs[j].1,
                rust_verdicts[j],
                py_verdicts[j]
            );
        }
    }
    let table: Vec<(String, String)> =
        math_cases::CASES.iter().map(|(_, p, r, _)| (p.to_string(), r.to_string())).collect();
    let table = normalize(&table);
    let expected: Vec<bool> = math_cases::CASES.iter().map(|c| c.3).collect();
    let (_, ours) = rust_grade(&table, &options);
    let (_, theirs) = sympy_grade(&table);
    println!(
        "table ({} pairs): srl-reward agrees with the expected verdicts on {:.1}%, sympy grading on {:.1}%; they agree with each other on {:.1}%",
        table.len(),
        agreement(&ours, &expected),
        agreement(&theirs, &expected),
        agreement(&ours, &theirs)
    );
    let false_positives = ours.iter().zip(&expected).filter(|(o, e)| **o && !**e).count();
    let sympy_false_positives = theirs.iter().zip(&expected).filter(|(o, e)| **o && !**e).count();
    println!("table false positives: srl-reward {false_positives}, sympy grading {sympy_false_positives}");
}
