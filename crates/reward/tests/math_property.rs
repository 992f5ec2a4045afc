//! Property test of symbolic equality: random polynomials and rational functions in x and y,
//! built as products of random factors, are rendered in different but equivalent LaTeX forms
//! (factored, expanded with shuffled terms, `\cdot`/`\times`/juxtaposition, `\frac` vs `/`,
//! spacing commands, scaled numerator and denominator) and must be equal; the expanded form
//! with one coefficient changed must not be. The generator is seeded (tests/support/rng.rs),
//! and the expansions are computed here by integer polynomial arithmetic, not by the grader.

use srl_reward::{math_equal, GraderOptions};
use std::collections::BTreeMap;

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

/// A polynomial in x, y: (x exponent, y exponent) → integer coefficient.
#[derive(Clone, Debug, PartialEq)]
struct Poly(BTreeMap<(u32, u32), i64>);

impl Poly {
    fn constant(c: i64) -> Poly {
        Poly(BTreeMap::from([((0, 0), c)]))
    }

    fn mul(&self, o: &Poly) -> Poly {
        let mut out = BTreeMap::new();
        for (&(a, b), &c) in &self.0 {
            for (&(d, e), &f) in &o.0 {
                *out.entry((a + d, b + e)).or_insert(0) += c * f;
            }
        }
        out.retain(|_, c| *c != 0);
        Poly(out)
    }

    fn scale(&self, k: i64) -> Poly {
        Poly(self.0.iter().map(|(&m, &c)| (m, c * k)).collect())
    }
}

/// A random linear factor `a x + b y + c` (at least one variable).
fn linear(rng: &mut Rng) -> Poly {
    let mut terms = BTreeMap::new();
    let nonzero = |rng: &mut Rng| {
        let v = rng.range(1, 5) as i64;
        if rng.below(2) == 0 {
            v
        } else {
            -v
        }
    };
    terms.insert((1, 0), nonzero(rng));
    if rng.below(2) == 0 {
        terms.insert((0, 1), nonzero(rng));
    }
    if rng.below(3) > 0 {
        terms.insert((0, 0), nonzero(rng));
    }
    Poly(terms)
}

fn monomial_latex(rng: &mut Rng, (a, b): (u32, u32)) -> String {
    let power = |rng: &mut Rng, v: &str, e: u32| match e {
        0 => String::new(),
        1 => v.to_string(),
        _ if rng.below(2) == 0 => format!("{v}^{e}"),
        _ => format!("{v}^{{{e}}}"),
    };
    let (x, y) = (power(rng, "x", a), power(rng, "y", b));
    if rng.below(4) == 0 && !x.is_empty() && !y.is_empty() {
        format!("{y}{x}")
    } else {
        format!("{x}{y}")
    }
}

/// Renders an expanded polynomial with shuffled terms and random multiplication signs.
fn expanded_latex(rng: &mut Rng, p: &Poly) -> String {
    let mut terms: Vec<((u32, u32), i64)> = p.0.iter().map(|(&m, &c)| (m, c)).collect();
    for i in (1..terms.len()).rev() {
        terms.swap(i, rng.below(i + 1));
    }
    if terms.is_empty() {
        return "0".into();
    }
    let mut out = String::new();
    for (i, (m, c)) in terms.into_iter().enumerate() {
        let mono = monomial_latex(rng, m);
        let sign = if c < 0 {
            "-"
        } else if i > 0 {
            "+"
        } else {
            ""
        };
        let abs = c.unsigned_abs();
        let body = if mono.is_empty() {
            abs.to_string()
        } else if abs == 1 {
            mono
        } else {
            match rng.below(4) {
                0 => format!("{abs}\\cdot {mono}"),
                1 => format!("{abs}\\times {mono}"),
                2 => format!("{abs}\\,{mono}"),
                _ => format!("{abs}{mono}"),
            }
        };
        out.push_str(sign);
        out.push_str(&body);
    }
    out
}

/// Renders a product of factors, grouping equal ones as powers.
fn factored_latex(rng: &mut Rng, factors: &[Poly]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < factors.len() {
        let mut j = i + 1;
        while j < factors.len() && factors[j] == factors[i] {
            j += 1;
        }
        let inner = expanded_latex(rng, &factors[i]);
        let group = if rng.below(2) == 0 { format!("({inner})") } else { format!("\\left({inner}\\right)") };
        if j - i > 1 {
            out.push_str(&format!("{group}^{{{}}}", j - i));
        } else {
            out.push_str(&group);
        }
        i = j;
    }
    out
}

fn product(factors: &[Poly]) -> Poly {
    factors.iter().fold(Poly::constant(1), |acc, f| acc.mul(f))
}

fn random_factors(rng: &mut Rng, n: usize) -> Vec<Poly> {
    let mut f: Vec<Poly> = (0..n).map(|_| linear(rng)).collect();
    if n > 1 && rng.below(3) == 0 {
        f[1] = f[0].clone();
    }
    f
}

/// One coefficient of `p` changed by a nonzero amount (or a new constant term).
fn perturb(rng: &mut Rng, p: &Poly) -> Poly {
    let mut q = p.clone();
    let keys: Vec<(u32, u32)> = q.0.keys().copied().collect();
    let key = keys[rng.below(keys.len())];
    let delta = rng.range(1, 3) as i64 * if rng.below(2) == 0 { 1 } else { -1 };
    *q.0.entry(key).or_insert(0) += delta;
    q.0.retain(|_, c| *c != 0);
    q
}

#[test]
fn equivalent_forms_are_equal_and_perturbations_are_not() {
    let options = GraderOptions::default();
    let mut rng = Rng(0x5eed_0001);
    let mut failures = Vec::new();
    let mut checked = 0;
    for _ in 0..300 {
        let count = rng.range(1, 3);
        let factors = random_factors(&mut rng, count);
        let p = product(&factors);
        let (factored, expanded) = (factored_latex(&mut rng, &factors), expanded_latex(&mut rng, &p));
        let changed = perturb(&mut rng, &p);
        let perturbed = expanded_latex(&mut rng, &changed);
        for (a, b, want) in
            [(&factored, &expanded, true), (&expanded, &perturbed, false), (&factored, &perturbed, false)]
        {
            checked += 1;
            if math_equal(a, b, &options) != want {
                failures.push(format!("{a:?} vs {b:?}: want {want}"));
            }
        }
    }
    // Rational functions: P/Q against (kP)/(kQ), the factored quotient, and a split sum.
    for _ in 0..200 {
        let (nn, nd) = (rng.range(1, 2), rng.range(1, 2));
        let num_f = random_factors(&mut rng, nn);
        let den_f = random_factors(&mut rng, nd);
        let (num, den) = (product(&num_f), product(&den_f));
        let k = rng.range(2, 6) as i64;
        let plain = format!("\\frac{{{}}}{{{}}}", expanded_latex(&mut rng, &num), expanded_latex(&mut rng, &den));
        let scaled = if rng.below(2) == 0 {
            format!(
                "\\dfrac{{{}}}{{{}}}",
                expanded_latex(&mut rng, &num.scale(k)),
                expanded_latex(&mut rng, &den.scale(k))
            )
        } else {
            format!("({})/({k}{})", expanded_latex(&mut rng, &num.scale(k)), factored_latex(&mut rng, &den_f))
        };
        let factored =
            format!("\\frac{{{}}}{{{}}}", factored_latex(&mut rng, &num_f), factored_latex(&mut rng, &den_f));
        // Split the numerator's terms into two fractions over the same denominator.
        let mut first = Poly(BTreeMap::new());
        let mut second = Poly(BTreeMap::new());
        for (i, (&m, &c)) in num.0.iter().enumerate() {
            if i % 2 == 0 { &mut first } else { &mut second }.0.insert(m, c);
        }
        let den_text = expanded_latex(&mut rng, &den);
        let split = if second.0.is_empty() {
            plain.clone()
        } else {
            format!(
                "\\frac{{{}}}{{{den_text}}}+\\frac{{{}}}{{{den_text}}}",
                expanded_latex(&mut rng, &first),
                expanded_latex(&mut rng, &second)
            )
        };
        let changed = perturb(&mut rng, &num);
        let wrong = format!("\\frac{{{}}}{{{}}}", expanded_latex(&mut rng, &changed), den_text);
        for (a, b, want) in
            [(&plain, &factored, true), (&plain, &split, true), (&factored, &wrong, false), (&split, &wrong, false)]
        {
            checked += 1;
            if math_equal(a, b, &options) != want {
                failures.push(format!("{a:?} vs {b:?}: want {want}"));
            }
        }
        checked += 1;
        if !math_equal(&scaled, &plain, &options) {
            failures.push(format!("{scaled:?} vs {plain:?}: want true"));
        }
    }
    assert!(failures.is_empty(), "{} of {checked} pairs fail:\n{}", failures.len(), failures.join("\n"));
}
