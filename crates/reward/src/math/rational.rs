//! Exact rationals over `i128` with checked arithmetic (overflow means "not exact", never a
//! wrong value), and the factoring that puts radicals of rationals in a canonical form
//! (docs/math-grading.md, "Radicals").

/// A reduced fraction `num / den` with `den > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Q {
    pub(crate) num: i128,
    pub(crate) den: i128,
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Q {
    pub(crate) const ZERO: Q = Q { num: 0, den: 1 };
    pub(crate) const ONE: Q = Q { num: 1, den: 1 };

    pub(crate) fn int(n: i128) -> Q {
        Q { num: n, den: 1 }
    }

    /// `num / den` reduced; `None` for a zero denominator or overflow.
    pub(crate) fn new(num: i128, den: i128) -> Option<Q> {
        if den == 0 {
            return None;
        }
        let g = gcd(num.unsigned_abs(), den.unsigned_abs());
        let g = i128::try_from(g).ok()?;
        let (mut n, mut d) = (num / g, den / g);
        if d < 0 {
            n = n.checked_neg()?;
            d = d.checked_neg()?;
        }
        Some(Q { num: n, den: d })
    }

    pub(crate) fn add(self, o: Q) -> Option<Q> {
        let num = self.num.checked_mul(o.den)?.checked_add(o.num.checked_mul(self.den)?)?;
        Q::new(num, self.den.checked_mul(o.den)?)
    }

    pub(crate) fn neg(self) -> Option<Q> {
        Some(Q { num: self.num.checked_neg()?, den: self.den })
    }

    pub(crate) fn mul(self, o: Q) -> Option<Q> {
        let g1 = i128::try_from(gcd(self.num.unsigned_abs(), o.den.unsigned_abs())).ok()?.max(1);
        let g2 = i128::try_from(gcd(o.num.unsigned_abs(), self.den.unsigned_abs())).ok()?.max(1);
        Q::new((self.num / g1).checked_mul(o.num / g2)?, (self.den / g2).checked_mul(o.den / g1)?)
    }

    pub(crate) fn inv(self) -> Option<Q> {
        Q::new(self.den, self.num)
    }

    /// `self^k` for an integer k; `None` on overflow or 0 to a negative power.
    pub(crate) fn pow(self, k: i64) -> Option<Q> {
        let base = if k < 0 { self.inv()? } else { self };
        let e = u32::try_from(k.unsigned_abs()).ok()?;
        Some(Q { num: base.num.checked_pow(e)?, den: base.den.checked_pow(e)? })
    }

    pub(crate) fn is_integer(self) -> bool {
        self.den == 1
    }
}

/// Trial division bound of [`factor`]; a larger cofactor is kept whole.
const TRIAL_LIMIT: u128 = 1 << 16;

/// `n ≥ 1` as (base, exponent) pairs: primes up to [`TRIAL_LIMIT`], then the cofactor, which is
/// split into a perfect power when it is one and otherwise kept as one opaque base (possibly
/// composite, which can only make two equal radicals look different, never the reverse).
pub(crate) fn factor(mut n: u128) -> Vec<(u128, u32)> {
    let mut out = Vec::new();
    let mut d = 2u128;
    while d <= TRIAL_LIMIT && d * d <= n {
        if n.is_multiple_of(d) {
            let mut e = 0u32;
            while n.is_multiple_of(d) {
                n /= d;
                e += 1;
            }
            out.push((d, e));
        }
        d += if d == 2 { 1 } else { 2 };
    }
    if n > 1 {
        let (base, e) = perfect_power(n);
        out.push((base, e));
    }
    out
}

/// The integer k-th root, rounded down.
fn iroot(n: u128, k: u32) -> u128 {
    if k == 1 || n < 2 {
        return n;
    }
    let mut r = (n as f64).powf(1.0 / f64::from(k)) as u128;
    // Correct the float estimate in both directions.
    while r > 0 && r.checked_pow(k).is_none_or(|v| v > n) {
        r -= 1;
    }
    while (r + 1).checked_pow(k).is_some_and(|v| v <= n) {
        r += 1;
    }
    r
}

/// `n = base^e` with the largest such e.
fn perfect_power(n: u128) -> (u128, u32) {
    for k in (2..=127u32).rev() {
        if (1u128 << k.min(126)) > n && k > 1 {
            continue;
        }
        let r = iroot(n, k);
        if r > 1 && r.checked_pow(k) == Some(n) {
            return (r, k);
        }
    }
    (n, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_exact_or_refused() {
        let half = Q::new(1, 2).unwrap();
        assert_eq!(half.add(half), Some(Q::ONE));
        assert_eq!(Q::new(4, -6), Some(Q { num: -2, den: 3 }));
        assert_eq!(Q::int(2).pow(-3), Q::new(1, 8));
        assert_eq!(Q::int(2).pow(200), None);
        assert_eq!(Q::ZERO.inv(), None);
        assert_eq!(Q::int(i128::MAX).add(Q::ONE), None);
    }

    #[test]
    fn factoring() {
        assert_eq!(factor(360), vec![(2, 3), (3, 2), (5, 1)]);
        assert_eq!(factor(1), vec![]);
        let big_prime = 4_294_967_311u128; // > 2^32
        assert_eq!(factor(big_prime * big_prime * 8), vec![(2, 3), (big_prime, 2)]);
        assert_eq!(factor(big_prime), vec![(big_prime, 1)]);
    }
}
