//! Arithmetic in the prime field F_p for 62-bit primes p, the ground on which answers are
//! compared (docs/math-grading.md, "Symbolic equality"): evaluating both sides of a comparison at
//! random points modulo a large prime decides identity of rational functions with high
//! probability (Schwartz–Zippel; J. T. Schwartz, JACM 1980). Radicals need n-th roots mod p
//! (Tonelli–Shanks for square roots, the inverse exponent for odd roots).

use std::sync::OnceLock;

/// A prime field F_p with p < 2^62, so sums of two residues never overflow a `u64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) p: u64,
}

impl Field {
    pub(crate) fn add(self, a: u64, b: u64) -> u64 {
        let s = a + b;
        if s >= self.p {
            s - self.p
        } else {
            s
        }
    }

    pub(crate) fn neg(self, a: u64) -> u64 {
        if a == 0 {
            0
        } else {
            self.p - a
        }
    }

    pub(crate) fn mul(self, a: u64, b: u64) -> u64 {
        ((u128::from(a) * u128::from(b)) % u128::from(self.p)) as u64
    }

    pub(crate) fn pow(self, mut base: u64, mut exp: u128) -> u64 {
        let mut acc = 1u64;
        base %= self.p;
        while exp > 0 {
            if exp & 1 == 1 {
                acc = self.mul(acc, base);
            }
            base = self.mul(base, base);
            exp >>= 1;
        }
        acc
    }

    /// The multiplicative inverse; `None` for 0.
    pub(crate) fn inv(self, a: u64) -> Option<u64> {
        (!a.is_multiple_of(self.p)).then(|| self.pow(a, u128::from(self.p - 2)))
    }

    /// The residue of an integer of any sign.
    pub(crate) fn residue_i128(self, x: i128) -> u64 {
        let p = i128::from(self.p);
        (((x % p) + p) % p) as u64
    }

    /// The residue of a decimal digit string (digits only).
    pub(crate) fn residue_digits(self, digits: &str) -> u64 {
        digits.bytes().fold(0u64, |acc, d| self.add(self.mul(acc, 10), u64::from(d - b'0')))
    }

    /// A square root of `a`, if `a` is a square (Tonelli–Shanks).
    pub(crate) fn sqrt(self, a: u64) -> Option<u64> {
        let p = self.p;
        let a = a % p;
        if a == 0 {
            return Some(0);
        }
        if self.pow(a, u128::from((p - 1) / 2)) != 1 {
            return None;
        }
        if p % 4 == 3 {
            return Some(self.pow(a, u128::from((p + 1) / 4)));
        }
        let (mut q, mut s) = (p - 1, 0u32);
        while q % 2 == 0 {
            q /= 2;
            s += 1;
        }
        // A quadratic non-residue; the smallest one is tiny for every prime.
        let z = (2..).find(|&z| self.pow(z, u128::from((p - 1) / 2)) == p - 1)?;
        let (mut m, mut c, mut t, mut r) =
            (s, self.pow(z, u128::from(q)), self.pow(a, u128::from(q)), self.pow(a, u128::from(q.div_ceil(2))));
        while t != 1 {
            let mut i = 0u32;
            let mut t2 = t;
            while t2 != 1 {
                t2 = self.mul(t2, t2);
                i += 1;
                if i == m {
                    return None;
                }
            }
            let b = self.pow(c, 1u128 << (m - i - 1));
            m = i;
            c = self.mul(b, b);
            t = self.mul(t, c);
            r = self.mul(r, b);
        }
        Some(r)
    }

    /// An `n`-th root of `a` (n ≥ 1): the unique odd-part root (needs gcd(odd part, p−1) = 1)
    /// followed by repeated square roots, trying both signs so that later roots exist.
    pub(crate) fn nth_root(self, a: u64, n: u32) -> Option<u64> {
        if n == 0 {
            return None;
        }
        let (mut odd, mut twos) = (n, 0u32);
        while odd % 2 == 0 {
            odd /= 2;
            twos += 1;
        }
        let order = self.p - 1;
        let inverse = mod_inverse(u64::from(odd), order)?;
        let odd_root = self.pow(a, u128::from(inverse));
        self.root_two_power(odd_root, twos)
    }

    fn root_two_power(self, a: u64, twos: u32) -> Option<u64> {
        if twos == 0 {
            return Some(a);
        }
        let r = self.sqrt(a)?;
        self.root_two_power(r, twos - 1).or_else(|| self.root_two_power(self.neg(r), twos - 1))
    }
}

/// The inverse of `a` modulo `m` when gcd(a, m) = 1.
fn mod_inverse(a: u64, m: u64) -> Option<u64> {
    let (mut old_r, mut r) = (i128::from(a), i128::from(m));
    let (mut old_s, mut s) = (1i128, 0i128);
    while r != 0 {
        let q = old_r / r;
        (old_r, r) = (r, old_r - q * r);
        (old_s, s) = (s, old_s - q * s);
    }
    (old_r == 1).then(|| old_s.rem_euclid(i128::from(m)) as u64)
}

/// Deterministic Miller–Rabin for 64-bit integers (the seven bases of Jim Sinclair, which
/// are correct for every n < 2^64).
pub(crate) fn is_prime_u64(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    for small in [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
        if n.is_multiple_of(small) {
            return n == small;
        }
    }
    let (mut d, mut s) = (n - 1, 0u32);
    while d % 2 == 0 {
        d /= 2;
        s += 1;
    }
    let f = Field { p: n };
    'bases: for base in [2u64, 325, 9375, 28178, 450775, 9780504, 1795265022] {
        let a = base % n;
        if a == 0 {
            continue;
        }
        let mut x = f.pow(a, u128::from(d));
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = f.mul(x, x);
            if x == n - 1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// How many primes the grader can choose from.
const PRIME_POOL: usize = 48;

/// The largest primes below 2^62, found once.
pub(crate) fn prime_pool() -> &'static [u64] {
    static POOL: OnceLock<Vec<u64>> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut primes = Vec::with_capacity(PRIME_POOL);
        let mut candidate = (1u64 << 62) - 1;
        while primes.len() < PRIME_POOL {
            if is_prime_u64(candidate) {
                primes.push(candidate);
            }
            candidate -= 2;
        }
        primes
    })
}

/// SplitMix64's first output for state `z`: the hash behind evaluation points and
/// uninterpreted functions.
pub(crate) fn mix(z: u64) -> u64 {
    srl_core::rng::SplitMix64::new(z).next_u64()
}

/// A stable 64-bit hash of a string (FNV-1a), so symbols get the same values on every run.
pub(crate) fn hash_str(s: &str) -> u64 {
    srl_core::rng::fnv1a(srl_core::rng::FNV_OFFSET_BASIS, s.bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primality_and_pool() {
        let known = [2u64, 3, 5, 97, 65537, 2_147_483_647, 2_305_843_009_213_693_951];
        assert!(known.iter().all(|&n| is_prime_u64(n)));
        // Carmichael numbers and a strong pseudoprime to base 2.
        assert!(![561u64, 1105, 2047, 3_215_031_751, 1 << 40].iter().any(|&n| is_prime_u64(n)));
        let pool = prime_pool();
        assert_eq!(pool.len(), PRIME_POOL);
        assert!(pool.iter().all(|&p| p < 1 << 62 && p > 1 << 61));
    }

    #[test]
    fn roots() {
        for &p in &prime_pool()[..8] {
            let f = Field { p };
            for a in [2u64, 3, 5, 10, 12345] {
                if let Some(r) = f.sqrt(a) {
                    assert_eq!(f.mul(r, r), a);
                }
                if let Some(r) = f.nth_root(a, 3) {
                    assert_eq!(f.pow(r, 3), a);
                }
                if let Some(r) = f.nth_root(a, 4) {
                    assert_eq!(f.pow(r, 4), a);
                }
            }
            assert_eq!(f.mul(f.inv(7).unwrap(), 7), 1);
            assert_eq!(f.residue_i128(-1), p - 1);
            assert_eq!(f.residue_digits("123"), 123);
        }
    }
}
