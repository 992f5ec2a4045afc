//! Compilation of answer expressions to evaluation plans over F_p, with exact folding of
//! rational constants and a canonical form for radicals of rationals (docs/math-grading.md,
//! "Symbolic equality", "Radicals"), and the f64 evaluation used only for decimal answers.
//!
//! Radicals: `c^{a/n}` for a rational c is written as a rational coefficient times
//! `∏ q^{f/g}` over the prime factors q of c, so `\sqrt{8}` and `2\sqrt{2}` compile to the same
//! product. Each base q becomes one indeterminate r_q of order L_q (the lcm of the orders g seen
//! for q) with r_q^{L_q} = q; a prime p is usable when every q has an L_q-th root mod p, and any
//! choice of roots is a ring homomorphism from Q(q^{1/L_q}, …) to F_p, so equal values stay
//! equal. The same holds for i (a square root of −1). Everything else that is not a rational
//! function (`\sin`, `\log`, roots of non-constants, non-constant exponents) is an
//! uninterpreted function: a hash of its arguments' values, which is sound for equality.

use super::modular::{hash_str, mix, Field};
use super::parser::Expr;
use super::rational::{factor, Q};

/// Why an expression cannot be decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Outside the supported grammar (∞ inside arithmetic, `\pm` left, a bad root index…).
    Unsupported,
    /// Past a size bound (exponent, degree, radicals, work).
    Bounds,
}

/// Largest integer exponent of a non-constant base.
const MAX_SYMBOLIC_EXPONENT: i64 = 10_000;
/// Largest integer exponent of a constant base.
const MAX_CONSTANT_EXPONENT: i64 = 1 << 40;
/// Largest total degree (Schwartz–Zippel: a false "equal" per point has probability ≤ d/p).
const MAX_DEGREE: u64 = 1_000_000;
/// Most distinct radical bases, and the largest root order per base.
const MAX_RADICAL_BASES: usize = 8;
const MAX_ROOT_ORDER: u32 = 64;
/// Work budget per comparison (nodes evaluated), so no input costs more than a few ms.
pub(crate) const WORK_BUDGET: u64 = 2_000_000;

/// An evaluation plan.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Rat(Q),
    /// A literal too large for `i128`: digits and the number of decimals.
    Big(String, u32),
    Sym(usize),
    /// `r_base^(f · L/g)`: q^{f/g} for the radical base at index `base`.
    Rad {
        base: usize,
        g: u32,
        f: u32,
    },
    Imag,
    Add(Vec<Node>),
    Mul(Vec<Node>),
    Inv(Box<Node>),
    PowInt(Box<Node>, i64),
    /// Uninterpreted function: a tag and its arguments.
    Opaque(u64, Vec<Node>),
}

/// Symbols and radicals shared by the expressions of one comparison.
#[derive(Debug, Default)]
pub(crate) struct Context {
    pub(crate) symbols: Vec<String>,
    /// (base, order L).
    pub(crate) radicals: Vec<(u128, u32)>,
    pub(crate) imag: bool,
}

struct Compiled {
    node: Node,
    exact: Option<Q>,
    degree: u64,
}

fn exact(q: Q) -> Compiled {
    Compiled { node: Node::Rat(q), exact: Some(q), degree: 0 }
}

fn lcm(a: u32, b: u32) -> u32 {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    a / x * b
}

const TAG_ROOT: u64 = 0x524f_4f54;
const TAG_POW: u64 = 0x504f_5745;

impl Context {
    fn symbol(&mut self, name: &str) -> usize {
        match self.symbols.iter().position(|s| s == name) {
            Some(i) => i,
            None => {
                self.symbols.push(name.to_string());
                self.symbols.len() - 1
            }
        }
    }

    fn radical_base(&mut self, base: u128, g: u32) -> Result<usize, Refusal> {
        if let Some(i) = self.radicals.iter().position(|(b, _)| *b == base) {
            let order = lcm(self.radicals[i].1, g);
            if order > MAX_ROOT_ORDER {
                return Err(Refusal::Bounds);
            }
            self.radicals[i].1 = order;
            return Ok(i);
        }
        if self.radicals.len() >= MAX_RADICAL_BASES {
            return Err(Refusal::Bounds);
        }
        self.radicals.push((base, g));
        Ok(self.radicals.len() - 1)
    }

    /// Compiles an expression (after `\pm` expansion).
    pub(crate) fn compile(&mut self, e: &Expr) -> Result<Node, Refusal> {
        let c = self.compile_at(e, 0)?;
        if c.degree > MAX_DEGREE {
            return Err(Refusal::Bounds);
        }
        Ok(c.node)
    }

    fn compile_at(&mut self, e: &Expr, depth: usize) -> Result<Compiled, Refusal> {
        if depth > 200 {
            return Err(Refusal::Bounds);
        }
        let d = depth + 1;
        Ok(match e {
            Expr::Num { digits, scale, .. } => literal(digits, *scale),
            Expr::Sym(name) => Compiled { node: Node::Sym(self.symbol(name)), exact: None, degree: 1 },
            Expr::Imag => {
                self.imag = true;
                Compiled { node: Node::Imag, exact: None, degree: 0 }
            }
            Expr::Infinity | Expr::Pm(..) => return Err(Refusal::Unsupported),
            Expr::Add(terms) => {
                let parts = terms.iter().map(|t| self.compile_at(t, d)).collect::<Result<Vec<_>, _>>()?;
                fold(parts, Q::add, Node::Add, |a, b| a.max(b))
            }
            Expr::Mul(factors) => {
                let parts = factors.iter().map(|t| self.compile_at(t, d)).collect::<Result<Vec<_>, _>>()?;
                fold(parts, Q::mul, Node::Mul, |a, b| a.saturating_add(b))
            }
            Expr::Neg(a) => {
                let a = self.compile_at(a, d)?;
                match a.exact.and_then(Q::neg) {
                    Some(q) => exact(q),
                    None => Compiled { node: Node::Mul(vec![Node::Rat(Q::int(-1)), a.node]), ..a },
                }
            }
            Expr::Div(a, b) => {
                let (a, b) = (self.compile_at(a, d)?, self.compile_at(b, d)?);
                if b.exact == Some(Q::ZERO) {
                    return Err(Refusal::Unsupported);
                }
                if let (Some(x), Some(y)) = (a.exact, b.exact) {
                    if let Some(q) = y.inv().and_then(|y| x.mul(y)) {
                        return Ok(exact(q));
                    }
                }
                let degree = a.degree.saturating_add(b.degree);
                Compiled { node: Node::Mul(vec![a.node, Node::Inv(Box::new(b.node))]), exact: None, degree }
            }
            Expr::Pow(base, exponent) => {
                let (b, x) = (self.compile_at(base, d)?, self.compile_at(exponent, d)?);
                self.power(b, x)?
            }
            Expr::Root(index, radicand) => {
                let index = self.compile_at(index, d)?;
                let n = match index.exact {
                    Some(q) if q.is_integer() && q.num >= 1 && q.num <= i128::from(MAX_ROOT_ORDER) => q.num as i64,
                    _ => return Err(Refusal::Unsupported),
                };
                let r = self.compile_at(radicand, d)?;
                self.rational_power(r, 1, n)?
            }
            Expr::Func(name, args) => {
                let parts = args.iter().map(|t| self.compile_at(t, d)).collect::<Result<Vec<_>, _>>()?;
                self.function(name, parts)
            }
            Expr::Factorial(a) => {
                let a = self.compile_at(a, d)?;
                match a.exact {
                    Some(q) if q.is_integer() && (0..=33).contains(&q.num) => {
                        exact(Q::int((1..=q.num).product::<i128>().max(1)))
                    }
                    Some(q) if q.is_integer() && q.num < 0 => return Err(Refusal::Unsupported),
                    _ => opaque(hash_str("factorial"), vec![a]),
                }
            }
        })
    }

    fn function(&mut self, name: &str, parts: Vec<Compiled>) -> Compiled {
        let exacts: Option<Vec<Q>> = parts.iter().map(|p| p.exact).collect();
        if let Some(v) = exacts {
            let folded = match (name, v.as_slice()) {
                ("abs", [q]) => Some(Q { num: q.num.abs(), den: q.den }),
                ("floor", [q]) => Some(Q::int(q.num.div_euclid(q.den))),
                ("ceil", [q]) => Some(Q::int(-(-q.num).div_euclid(q.den))),
                ("binom", [n, k]) if n.is_integer() && k.is_integer() => binomial(n.num, k.num),
                _ => None,
            };
            if let Some(q) = folded {
                return exact(q);
            }
        }
        if name == "abs" && parts.len() == 1 {
            // |a| = |b| exactly when a² = b² (real arguments), so |x−1| is |1−x|.
            let arg = parts.into_iter().next().map(|p| p.node).unwrap_or(Node::Rat(Q::ZERO));
            let square = Node::Mul(vec![arg.clone(), arg]);
            return Compiled { node: Node::Opaque(hash_str(name), vec![square]), exact: None, degree: 1 };
        }
        opaque(hash_str(name), parts)
    }

    fn power(&mut self, b: Compiled, x: Compiled) -> Result<Compiled, Refusal> {
        let Some(k) = x.exact else {
            return Ok(opaque(TAG_POW, vec![b, x]));
        };
        if k.is_integer() {
            let k = i64::try_from(k.num).map_err(|_| Refusal::Bounds)?;
            return self.integer_power(b, k);
        }
        let (a, n) = (i64::try_from(k.num).map_err(|_| Refusal::Bounds)?, k.den);
        let n = i64::try_from(n).map_err(|_| Refusal::Bounds)?;
        self.rational_power(b, a, n)
    }

    fn integer_power(&mut self, b: Compiled, k: i64) -> Result<Compiled, Refusal> {
        let limit = if b.exact.is_some() { MAX_CONSTANT_EXPONENT } else { MAX_SYMBOLIC_EXPONENT };
        if k.unsigned_abs() > limit.unsigned_abs() {
            return Err(Refusal::Bounds);
        }
        if let Some(q) = b.exact {
            if q == Q::ZERO && k < 0 {
                return Err(Refusal::Unsupported);
            }
            if let Some(v) = q.pow(k) {
                return Ok(exact(v));
            }
        }
        let degree = b.degree.saturating_mul(k.unsigned_abs());
        Ok(Compiled { node: Node::PowInt(Box::new(b.node), k), exact: None, degree })
    }

    /// `b^{a/n}` with n ≥ 1.
    fn rational_power(&mut self, b: Compiled, a: i64, n: i64) -> Result<Compiled, Refusal> {
        let g = gcd_i64(a, n).max(1);
        let (a, n) = (a / g, n / g);
        if n == 1 {
            return self.integer_power(b, a);
        }
        if n > i64::from(MAX_ROOT_ORDER) || a.unsigned_abs() > MAX_SYMBOLIC_EXPONENT.unsigned_abs() {
            return Err(Refusal::Bounds);
        }
        match b.exact {
            Some(c) => self.radical(c, a, n as u32),
            None => {
                // x^{a/n} = (x^{1/n})^a with x^{1/n} uninterpreted, so `\sqrt{x}^3` = `x^{3/2}`.
                let root = opaque(TAG_ROOT, vec![b, exact(Q::int(i128::from(n)))]);
                self.integer_power(root, a)
            }
        }
    }

    /// `c^{a/n}` for a rational c, n ≥ 2, gcd(a, n) = 1, in canonical form.
    fn radical(&mut self, c: Q, a: i64, n: u32) -> Result<Compiled, Refusal> {
        if c == Q::ZERO {
            return if a > 0 { Ok(exact(Q::ZERO)) } else { Err(Refusal::Unsupported) };
        }
        let mut coeff = Q::ONE;
        let mut factors = Vec::new();
        if c.num < 0 {
            if n % 2 == 1 {
                // Odd roots of negatives are real: (−c)^{a/n} = (−1)^a c^{a/n}.
                if a % 2 != 0 {
                    coeff = Q::int(-1);
                }
            } else if n == 2 {
                // Principal branch: (−c)^{a/2} = i^a c^{a/2}.
                self.imag = true;
                match a.rem_euclid(4) {
                    1 => factors.push(Node::Imag),
                    _ => {
                        coeff = Q::int(-1);
                        factors.push(Node::Imag);
                    }
                }
            } else {
                let b = exact(c);
                let root = opaque(TAG_ROOT, vec![b, exact(Q::int(i128::from(n)))]);
                return self.integer_power(root, a);
            }
        }
        let parts = [(c.num.unsigned_abs(), 1i64), (c.den.unsigned_abs(), -1i64)];
        for (value, sign) in parts {
            for (q, e) in factor(value) {
                let t = i64::from(e).checked_mul(a).and_then(|t| t.checked_mul(sign)).ok_or(Refusal::Bounds)?;
                let (k, r) = (t.div_euclid(i64::from(n)), t.rem_euclid(i64::from(n)));
                let qi = i128::try_from(q).map_err(|_| Refusal::Bounds)?;
                coeff = Q::int(qi).pow(k).and_then(|p| coeff.mul(p)).ok_or(Refusal::Bounds)?;
                if r != 0 {
                    let h = gcd_i64(r, i64::from(n));
                    let (f, g) = ((r / h) as u32, (i64::from(n) / h) as u32);
                    let base = self.radical_base(q, g)?;
                    factors.push(Node::Rad { base, g, f });
                }
            }
        }
        if factors.is_empty() {
            return Ok(exact(coeff));
        }
        factors.push(Node::Rat(coeff));
        Ok(Compiled { node: Node::Mul(factors), exact: None, degree: 0 })
    }
}

fn gcd_i64(a: i64, b: i64) -> i64 {
    let (mut x, mut y) = (a.unsigned_abs(), b.unsigned_abs());
    while y != 0 {
        (x, y) = (y, x % y);
    }
    x as i64
}

fn binomial(n: i128, k: i128) -> Option<Q> {
    if !(0..=n).contains(&k) || n > 120 {
        return if k < 0 || k > n { Some(Q::ZERO) } else { None };
    }
    let k = k.min(n - k);
    let mut acc: i128 = 1;
    for j in 0..k {
        acc = acc.checked_mul(n - j)? / (j + 1);
    }
    Some(Q::int(acc))
}

fn opaque(tag: u64, parts: Vec<Compiled>) -> Compiled {
    Compiled { node: Node::Opaque(tag, parts.into_iter().map(|p| p.node).collect()), exact: None, degree: 1 }
}

fn literal(digits: &str, scale: u32) -> Compiled {
    let value = if digits.len() <= 36 && scale <= 36 {
        digits.parse::<i128>().ok().and_then(|n| Q::new(n, 10i128.pow(scale)))
    } else {
        None
    };
    match value {
        Some(q) => exact(q),
        None => Compiled { node: Node::Big(digits.to_string(), scale), exact: None, degree: 0 },
    }
}

fn fold(
    parts: Vec<Compiled>,
    op: fn(Q, Q) -> Option<Q>,
    make: fn(Vec<Node>) -> Node,
    degree: fn(u64, u64) -> u64,
) -> Compiled {
    let all: Option<Q> = parts
        .iter()
        .try_fold(None::<Q>, |acc, p| {
            let q = p.exact?;
            Some(Some(match acc {
                None => q,
                Some(a) => op(a, q)?,
            }))
        })
        .flatten();
    if let Some(q) = all {
        return exact(q);
    }
    let deg = parts.iter().map(|p| p.degree).fold(0, degree);
    Compiled { node: make(parts.into_iter().map(|p| p.node).collect()), exact: None, degree: deg }
}

/// The values of one evaluation point in one field.
pub(crate) struct Point<'a> {
    pub(crate) field: Field,
    pub(crate) symbols: &'a [u64],
    /// r_q for each radical base, and its order L.
    pub(crate) roots: &'a [(u64, u32)],
    pub(crate) imag: u64,
    pub(crate) seed: u64,
}

/// Evaluates a plan; `None` where a denominator vanishes. `work` counts nodes.
pub(crate) fn evaluate(node: &Node, pt: &Point<'_>, work: &mut u64) -> Option<u64> {
    *work = work.saturating_add(1);
    let f = pt.field;
    Some(match node {
        Node::Rat(q) => f.mul(f.residue_i128(q.num), f.inv(f.residue_i128(q.den))?),
        Node::Big(digits, scale) => f.mul(f.residue_digits(digits), f.inv(f.pow(10, u128::from(*scale)))?),
        Node::Sym(i) => *pt.symbols.get(*i)?,
        Node::Rad { base, g, f: e } => {
            let (root, order) = *pt.roots.get(*base)?;
            f.pow(root, u128::from(*e) * u128::from(order / g))
        }
        Node::Imag => pt.imag,
        Node::Add(v) => {
            let mut acc = 0;
            for x in v {
                acc = f.add(acc, evaluate(x, pt, work)?);
            }
            acc
        }
        Node::Mul(v) => {
            let mut acc = 1;
            for x in v {
                acc = f.mul(acc, evaluate(x, pt, work)?);
            }
            acc
        }
        Node::Inv(a) => f.inv(evaluate(a, pt, work)?)?,
        Node::PowInt(a, k) => {
            let v = evaluate(a, pt, work)?;
            let p = f.pow(v, u128::from(k.unsigned_abs()));
            if *k < 0 {
                f.inv(p)?
            } else {
                p
            }
        }
        Node::Opaque(tag, args) => {
            let mut h = mix(tag ^ pt.seed);
            for a in args {
                h = mix(h ^ evaluate(a, pt, work)?);
            }
            h % f.p
        }
    })
}

/// The f64 value of a constant expression without π, e, i, variables or functions other than
/// `abs`: the reference's numeric comparison, which this grader applies only to decimals.
pub(crate) fn evaluate_f64(e: &Expr) -> Option<f64> {
    evaluate_f64_with(e, &|_| None)
}

/// The f64 value with `symbol` giving the value of variables, π and e (`None`: no value).
pub(crate) fn evaluate_f64_with(e: &Expr, symbol: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
    let f = |x: &Expr| evaluate_f64_with(x, symbol);
    let v = match e {
        Expr::Num { digits, scale, .. } => {
            let cut = digits.len().checked_sub(*scale as usize)?;
            format!("{}.{}", &digits[..cut], &digits[cut..]).trim_end_matches('.').parse::<f64>().ok()?
        }
        Expr::Sym(name) => symbol(name)?,
        Expr::Add(v) => v.iter().map(f).sum::<Option<f64>>()?,
        Expr::Mul(v) => v.iter().map(f).product::<Option<f64>>()?,
        Expr::Neg(a) => -f(a)?,
        Expr::Div(a, b) => f(a)? / f(b)?,
        Expr::Pow(a, b) => f(a)?.powf(f(b)?),
        Expr::Root(n, r) => {
            let (n, r) = (f(n)?, f(r)?);
            if r < 0.0 && n.fract() == 0.0 && (n as i64) % 2 == 1 {
                -(-r).powf(1.0 / n)
            } else {
                r.powf(1.0 / n)
            }
        }
        Expr::Func(name, args) if name == "abs" && args.len() == 1 => f(&args[0])?.abs(),
        _ => return None,
    };
    v.is_finite().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::parser::parse_expr;

    #[test]
    fn radicals_are_canonical() {
        let mut ctx = Context::default();
        let a = ctx.compile(&parse_expr(r"\sqrt{8}").unwrap()).unwrap();
        assert_eq!(ctx.radicals, vec![(2, 2)]);
        assert!(matches!(a, Node::Mul(ref v) if v.len() == 2));
        let b = ctx.compile(&parse_expr(r"\sqrt[3]{16}").unwrap()).unwrap();
        assert!(matches!(b, Node::Mul(_)));
        assert_eq!(ctx.radicals, vec![(2, 6)]);
        let c = ctx.compile(&parse_expr(r"4^{1/2}").unwrap()).unwrap();
        assert!(matches!(c, Node::Rat(q) if q == Q::int(2)));
        assert_eq!(ctx.compile(&parse_expr("x^{100000}").unwrap()).err(), Some(Refusal::Bounds));
        assert_eq!(ctx.compile(&parse_expr(r"\frac{1}{0}").unwrap()).err(), Some(Refusal::Unsupported));
    }

    #[test]
    fn floats_only_for_plain_constants() {
        assert_eq!(evaluate_f64(&parse_expr(r"\frac{1}{4}").unwrap()), Some(0.25));
        assert_eq!(evaluate_f64(&parse_expr(r"\sqrt[3]{-8}").unwrap()), Some(-2.0));
        assert_eq!(evaluate_f64(&parse_expr(r"\frac{9\pi}{2}").unwrap()), None);
        assert_eq!(evaluate_f64(&parse_expr("2i").unwrap()), None);
    }
}
