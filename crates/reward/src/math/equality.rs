//! Equality of answer expressions by evaluation at random points of F_p for two primes p
//! (docs/math-grading.md, "Symbolic equality"): two rational functions (with π, e and
//! variables as indeterminates, radicals and i as algebraic numbers, other functions
//! uninterpreted) are equal when their values agree at every sampled point. Equations compare
//! `lhs − rhs` up to a nonzero constant factor. Decimals compare with the reference's relative
//! tolerance only against constants free of π, e and i.

use super::eval::{evaluate, evaluate_f64, evaluate_f64_with, Context, Node, Refusal, WORK_BUDGET};
use super::modular::{hash_str, mix, prime_pool, Field};
use super::parser::{visit, Expr};

/// Primes per comparison and good points per prime.
const PRIMES: usize = 2;
const POINTS: usize = 3;
/// Tries per prime to find points where every denominator is nonzero.
const TRIES: usize = 8;

/// Per prime, the field and the values of every compiled expression at each good point.
type Samples = Vec<(Field, Vec<Vec<u64>>)>;

/// Evaluates `nodes` at random points; `None` when no usable prime or point exists or the
/// work budget runs out.
fn sample(ctx: &Context, nodes: &[Node]) -> Option<Samples> {
    let mut work = 0u64;
    let mut out = Vec::new();
    for (slot, &p) in prime_pool().iter().enumerate() {
        if out.len() == PRIMES {
            break;
        }
        let field = Field { p };
        let Some((roots, imag)) = algebraic_values(ctx, field) else { continue };
        let mut points = Vec::new();
        for attempt in 0..TRIES {
            if points.len() == POINTS {
                break;
            }
            let seed = mix(((slot as u64) << 32) | attempt as u64);
            let symbols: Vec<u64> = ctx.symbols.iter().map(|name| mix(seed ^ hash_str(name)) % p).collect();
            let pt = super::eval::Point { field, symbols: &symbols, roots: &roots, imag, seed };
            let values: Option<Vec<u64>> = nodes.iter().map(|n| evaluate(n, &pt, &mut work)).collect();
            if work > WORK_BUDGET {
                return None;
            }
            if let Some(v) = values {
                points.push(v);
            }
        }
        if points.len() < POINTS {
            return None;
        }
        out.push((field, points));
    }
    (out.len() == PRIMES).then_some(out)
}

/// Roots r_q (r_q^L = q) for each radical base and a square root of −1, when p has them all.
fn algebraic_values(ctx: &Context, f: Field) -> Option<(Vec<(u64, u32)>, u64)> {
    let mut roots = Vec::with_capacity(ctx.radicals.len());
    for &(base, order) in &ctx.radicals {
        let residue = (base % u128::from(f.p)) as u64;
        if residue == 0 {
            return None;
        }
        roots.push((f.nth_root(residue, order)?, order));
    }
    let imag = if ctx.imag { f.sqrt(f.p - 1)? } else { 0 };
    Some((roots, imag))
}

/// Compiles expressions in one shared context.
fn compile_all(exprs: &[&Expr]) -> Result<(Context, Vec<Node>), Refusal> {
    let mut ctx = Context::default();
    let nodes = exprs.iter().map(|e| ctx.compile(e)).collect::<Result<Vec<_>, _>>()?;
    Ok((ctx, nodes))
}

/// `Some(sign)` when the expression is ±∞ (with any leading signs), `None` otherwise.
fn infinity_sign(e: &Expr) -> Option<i8> {
    match e {
        Expr::Infinity => Some(1),
        Expr::Neg(a) => infinity_sign(a).map(|s| -s),
        Expr::Add(v) if v.len() == 1 => infinity_sign(&v[0]),
        _ => None,
    }
}

fn contains(e: &Expr, pred: fn(&Expr) -> bool) -> bool {
    let mut found = false;
    visit(e, &mut |x| found |= pred(x));
    found
}

/// Whether the expression was written with a decimal point somewhere.
pub(crate) fn has_decimal(e: &Expr) -> bool {
    contains(e, |x| matches!(x, Expr::Num { decimal: true, .. }))
}

/// Whether two expressions are equal (see the module docs).
pub(crate) fn expressions_equal(a: &Expr, b: &Expr) -> bool {
    match (infinity_sign(a), infinity_sign(b)) {
        (Some(x), Some(y)) => return x == y,
        (None, None) => {}
        _ => return false,
    }
    if contains(a, |x| matches!(x, Expr::Infinity)) || contains(b, |x| matches!(x, Expr::Infinity)) {
        return false;
    }
    if exactly_equal(a, b) == Some(true) {
        return true;
    }
    // The reference compares N(a) and N(b) with relative tolerance 1e-4; here only a decimal
    // (an approximation) may match, and only a constant without π, e, i or variables.
    if has_decimal(a) || has_decimal(b) {
        if let (Some(x), Some(y)) = (evaluate_f64(a), evaluate_f64(b)) {
            return isclose(y, x, 1e-4);
        }
    }
    false
}

/// Exact comparison: `Some(verdict)`, or `None` when it cannot be decided within the bounds.
pub(crate) fn exactly_equal(a: &Expr, b: &Expr) -> Option<bool> {
    let (ctx, nodes) = compile_all(&[a, b]).ok()?;
    let samples = sample(&ctx, &nodes)?;
    Some(samples.iter().flat_map(|(_, points)| points).all(|v| v[0] == v[1]))
}

/// Whether `a1 − b1 = c·(a2 − b2)` for a nonzero constant c (equations as the same locus).
pub(crate) fn equations_equivalent(a1: &Expr, b1: &Expr, a2: &Expr, b2: &Expr) -> bool {
    let Ok((ctx, nodes)) = compile_all(&[a1, b1, a2, b2]) else { return false };
    let Some(samples) = sample(&ctx, &nodes) else { return false };
    samples.iter().all(|(field, points)| {
        let field = *field;
        let diffs: Vec<(u64, u64)> =
            points.iter().map(|v| (field.add(v[0], field.neg(v[1])), field.add(v[2], field.neg(v[3])))).collect();
        proportional(field, &diffs)
    })
}

/// Whether the inequalities `l1 − r1 (<|≤) 0` and `l2 − r2 (<|≤) 0` (same strictness, checked by
/// the caller) are the same: `l1 − r1 = c·(l2 − r2)` for a constant c > 0. The sign of c is read
/// from f64 values at a few real points (variables in [1, 2], π and e their values).
pub(crate) fn inequalities_equivalent(l1: &Expr, r1: &Expr, l2: &Expr, r2: &Expr) -> bool {
    if !equations_equivalent(l1, r1, l2, r2) {
        return false;
    }
    for seed in 0..8u64 {
        let symbol = |name: &str| -> Option<f64> {
            Some(match name {
                "pi" => std::f64::consts::PI,
                "e" => std::f64::consts::E,
                _ => 1.0 + (mix(seed ^ hash_str(name)) >> 11) as f64 / (1u64 << 53) as f64,
            })
        };
        let d = |l: &Expr, r: &Expr| Some(evaluate_f64_with(l, &symbol)? - evaluate_f64_with(r, &symbol)?);
        if let (Some(d1), Some(d2)) = (d(l1, r1), d(l2, r2)) {
            if d1.abs() > 1e-9 && d2.abs() > 1e-9 {
                return (d1 > 0.0) == (d2 > 0.0);
            }
        }
    }
    false
}

/// Whether d1 = c·d2 at every point for one nonzero c.
fn proportional(f: Field, diffs: &[(u64, u64)]) -> bool {
    let mut ratio = None;
    for &(d1, d2) in diffs {
        match (d1 == 0, d2 == 0) {
            (true, true) => continue,
            (false, false) => {}
            _ => return false,
        }
        let Some(inv) = f.inv(d2) else { return false };
        let r = f.mul(d1, inv);
        match ratio {
            None => ratio = Some(r),
            Some(c) if c == r => {}
            Some(_) => return false,
        }
    }
    true
}

/// Python's `math.isclose(a, b, rel_tol)` with `abs_tol = 0`.
pub(crate) fn isclose(a: f64, b: f64, rel_tol: f64) -> bool {
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    let diff = (b - a).abs();
    diff <= (rel_tol * b).abs() || diff <= (rel_tol * a).abs()
}
