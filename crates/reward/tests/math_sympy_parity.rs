//! Parity with sympy where sympy is right: for generated expression pairs inside the supported
//! subset (integers, fractions, x and y, π, square roots of integers, + − · ÷, integer powers),
//! the grader's verdict on the LaTeX forms must equal `sympy.simplify(a - b) == 0` computed by
//! sympy 1.12 in the venv of `scripts/venvs/sympy.sh` on the same expressions written in
//! sympy syntax. Pairs are an expression and a rewritten equivalent (commuted, distributed,
//! radicals and fractions re-written), a perturbed copy, or an unrelated expression.

use srl_reward::{math_equal, GraderOptions};
use std::io::Write;
use std::process::{Command, Stdio};

#[path = "support/rng.rs"]
mod rng;
#[path = "support/sympy_venv.rs"]
mod sympy_venv;
use rng::Rng;

#[derive(Clone, Debug)]
enum T {
    Int(i64),
    Frac(i64, i64),
    Var(&'static str),
    Pi,
    Sqrt(i64),
    Add(Box<T>, Box<T>),
    Sub(Box<T>, Box<T>),
    Mul(Box<T>, Box<T>),
    Div(Box<T>, Box<T>),
    Pow(Box<T>, i64),
}

use T::*;

fn b(t: T) -> Box<T> {
    Box::new(t)
}

fn leaf(rng: &mut Rng) -> T {
    match rng.below(7) {
        0 | 1 => Int(rng.range(1, 9) as i64 * if rng.below(4) == 0 { -1 } else { 1 }),
        2 => Frac(rng.range(1, 7) as i64, rng.range(2, 9) as i64),
        3 => Var("x"),
        4 => Var("y"),
        5 => Sqrt(*rng.pick(&[2, 3, 5, 8, 12, 18, 27, 50])),
        _ => {
            if rng.below(2) == 0 {
                Pi
            } else {
                Var("x")
            }
        }
    }
}

fn gen(rng: &mut Rng, depth: usize) -> T {
    if depth == 0 || rng.below(4) == 0 {
        return leaf(rng);
    }
    let (l, r) = (gen(rng, depth - 1), gen(rng, depth - 1));
    match rng.below(9) {
        0 | 1 => Add(b(l), b(r)),
        2 | 3 => Sub(b(l), b(r)),
        4 | 5 => Mul(b(l), b(r)),
        // Denominators that cannot vanish identically: r² + 1 style or a nonzero integer.
        6 => Div(b(l), b(Add(b(Pow(b(r), 2)), b(Int(rng.range(1, 4) as i64))))),
        7 => Div(b(l), b(Int(rng.range(2, 7) as i64))),
        _ => Pow(b(l), rng.range(2, 3) as i64),
    }
}

/// An equivalent expression (random algebraic rewrites, applied recursively).
fn rewrite(rng: &mut Rng, t: &T) -> T {
    let rw = |rng: &mut Rng, x: &T| rewrite(rng, x);
    match t {
        Add(l, r) if rng.below(2) == 0 => Add(b(rw(rng, r)), b(rw(rng, l))),
        Mul(l, r) if rng.below(2) == 0 => Mul(b(rw(rng, r)), b(rw(rng, l))),
        Mul(l, r) => match &**r {
            Add(p, q) => Add(b(Mul(b(rw(rng, l)), b(rw(rng, p)))), b(Mul(b(rw(rng, l)), b(rw(rng, q))))),
            _ => Mul(b(rw(rng, l)), b(rw(rng, r))),
        },
        Sub(l, r) if rng.below(2) == 0 => Add(b(rw(rng, l)), b(Mul(b(Int(-1)), b(rw(rng, r))))),
        Div(l, r) if rng.below(3) == 0 => Mul(b(rw(rng, l)), b(Pow(b(rw(rng, r)), -1))),
        Div(l, r) if rng.below(2) == 0 => {
            let k = rng.range(2, 5) as i64;
            Div(b(Mul(b(Int(k)), b(rw(rng, l)))), b(Mul(b(rw(rng, r)), b(Int(k)))))
        }
        Pow(x, 2) if rng.below(2) == 0 => {
            let y = rw(rng, x);
            Mul(b(y.clone()), b(y))
        }
        Sqrt(k) => match k {
            8 => Mul(b(Int(2)), b(Sqrt(2))),
            12 => Mul(b(Sqrt(3)), b(Int(2))),
            18 => Mul(b(Int(3)), b(Sqrt(2))),
            27 => Mul(b(Int(3)), b(Sqrt(3))),
            50 => Mul(b(Sqrt(2)), b(Int(5))),
            _ => Sqrt(*k),
        },
        Int(n) if rng.below(3) == 0 => Add(b(Int(n - 1)), b(Int(1))),
        Frac(p, q) if rng.below(2) == 0 => Frac(2 * p, 2 * q),
        Add(l, r) => Add(b(rw(rng, l)), b(rw(rng, r))),
        Sub(l, r) => Sub(b(rw(rng, l)), b(rw(rng, r))),
        Div(l, r) => Div(b(rw(rng, l)), b(rw(rng, r))),
        Pow(x, k) => Pow(b(rw(rng, x)), *k),
        other => other.clone(),
    }
}

/// A copy with one small change (usually, not always, a different value: sympy decides).
fn perturb(rng: &mut Rng, t: &T) -> T {
    match t {
        Int(n) => Int(n + 1),
        Frac(p, q) => Frac(p + 1, *q),
        Var("x") => Var("y"),
        Var(_) => Var("x"),
        Pi => Int(3),
        Sqrt(k) => Sqrt(k + 1),
        Add(l, r) => {
            if rng.below(2) == 0 {
                Sub(l.clone(), r.clone())
            } else {
                Add(b(perturb(rng, l)), r.clone())
            }
        }
        Sub(l, r) => Sub(l.clone(), b(perturb(rng, r))),
        Mul(l, r) => Mul(b(perturb(rng, l)), r.clone()),
        Div(l, r) => Div(b(perturb(rng, l)), r.clone()),
        Pow(x, k) => Pow(x.clone(), k + 1),
    }
}

fn latex(t: &T) -> String {
    let wrap = |x: &T| match x {
        Int(n) if *n >= 0 => n.to_string(),
        Var(v) => v.to_string(),
        Pi => "\\pi".into(),
        Sqrt(_) | Frac(..) => latex(x),
        _ => format!("\\left({}\\right)", latex(x)),
    };
    match t {
        Int(n) => n.to_string(),
        Frac(p, q) => format!("\\frac{{{p}}}{{{q}}}"),
        Var(v) => v.to_string(),
        Pi => "\\pi".into(),
        Sqrt(k) => format!("\\sqrt{{{k}}}"),
        Add(l, r) => format!("{}+{}", wrap(l), wrap(r)),
        Sub(l, r) => format!("{}-{}", wrap(l), wrap(r)),
        Mul(l, r) => format!("{}\\cdot {}", wrap(l), wrap(r)),
        Div(l, r) => format!("\\frac{{{}}}{{{}}}", latex(l), latex(r)),
        Pow(x, k) => format!("{}^{{{k}}}", wrap(x)),
    }
}

fn sympy(t: &T) -> String {
    match t {
        Int(n) => format!("({n})"),
        Frac(p, q) => format!("Rational({p},{q})"),
        Var(v) => v.to_string(),
        Pi => "pi".into(),
        Sqrt(k) => format!("sqrt({k})"),
        Add(l, r) => format!("({})+({})", sympy(l), sympy(r)),
        Sub(l, r) => format!("({})-({})", sympy(l), sympy(r)),
        Mul(l, r) => format!("({})*({})", sympy(l), sympy(r)),
        Div(l, r) => format!("({})/({})", sympy(l), sympy(r)),
        Pow(x, k) => format!("({})**({k})", sympy(x)),
    }
}

const SCRIPT: &str = r#"
import sys
import sympy
from sympy import Rational, sqrt, pi
x, y = sympy.symbols("x y")
names = {"x": x, "y": y, "Rational": Rational, "sqrt": sqrt, "pi": pi}
out = []
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t")
    A = sympy.sympify(a, locals=names)
    B = sympy.sympify(b, locals=names)
    out.append("1" if sympy.simplify(A - B) == 0 else "0")
print("\n".join(out))
"#;

#[test]
fn verdicts_match_sympy_simplify() {
    let python = sympy_venv::sympy_python();
    let mut rng = Rng(0x5e11_0123);
    let mut pairs = Vec::new();
    for i in 0..300 {
        let a = gen(&mut rng, 3);
        let other = match i % 6 {
            0..=2 => rewrite(&mut rng, &a),
            3 | 4 => {
                let r = rewrite(&mut rng, &a);
                perturb(&mut rng, &r)
            }
            _ => gen(&mut rng, 3),
        };
        pairs.push((a, other));
    }
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the sympy venv's python");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for (a, b) in &pairs {
            writeln!(stdin, "{}\t{}", sympy(a), sympy(b)).expect("write to python");
        }
    }
    let out = child.wait_with_output().expect("python output");
    assert!(out.status.success(), "sympy script failed: {}", String::from_utf8_lossy(&out.stderr));
    let verdicts: Vec<bool> = String::from_utf8_lossy(&out.stdout).lines().map(|l| l == "1").collect();
    assert_eq!(verdicts.len(), pairs.len());
    let options = GraderOptions::default();
    let mut disagreements = Vec::new();
    for ((a, b), want) in pairs.iter().zip(&verdicts) {
        let (la, lb) = (latex(a), latex(b));
        let got = math_equal(&la, &lb, &options);
        if got != *want {
            disagreements.push(format!("{la}  vs  {lb}: grader {got}, sympy {want}"));
        }
    }
    let equal = verdicts.iter().filter(|v| **v).count();
    assert!((100..=250).contains(&equal), "generator balance: {equal} of {} equal per sympy", verdicts.len());
    assert!(
        disagreements.is_empty(),
        "{} of {} pairs disagree:\n{}",
        disagreements.len(),
        pairs.len(),
        disagreements.join("\n")
    );
}
