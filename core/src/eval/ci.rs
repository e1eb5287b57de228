//! Exact (Clopper–Pearson) confidence intervals for error rates.

use crate::error::{Error, Result};

/// Two-sided Clopper–Pearson ("exact") confidence interval for a binomial
/// rate observed as `errors` out of `trials`, at level `confidence`
/// (e.g. `0.95`).
///
/// With `alpha = 1 - confidence`:
///
/// - `lo = Beta(errors, trials - errors + 1).quantile(alpha / 2)`, and
///   `lo = 0` when `errors == 0`;
/// - `hi = Beta(errors + 1, trials - errors).quantile(1 - alpha / 2)`, and
///   `hi = 1` when `errors == trials`.
///
/// This is the interval `scipy.stats.binomtest(...).proportion_ci(method=
/// "exact")` and `statsmodels`' `proportion_confint(method="beta")` give.
/// The bounds are computed here from their definition,
/// `P(Binomial(trials, lo) >= errors) = alpha/2` and
/// `P(Binomial(trials, hi) <= errors) = alpha/2` (equivalent to the Beta
/// quantiles above), by safeguarded Newton iteration on binomial tails summed
/// without cancellation; they agree with scipy to about 1e-12 relative for
/// up to 10^9 trials and at every error count.
/// It guarantees at least the nominal coverage, at the price of being
/// conservative. The one-sided bounds at the ends have closed forms, used
/// here for accuracy: `hi = 1 - (alpha/2)^(1/trials)` when `errors == 0`
/// ("rule of three": about `3 / trials` at 95 %), and
/// `lo = (alpha/2)^(1/trials)` when `errors == trials`.
///
/// Error rates of biometric systems are assumed binomial here: every
/// comparison an independent trial. Comparisons sharing a subject are
/// correlated, so for a statement about a population of people this
/// interval is too narrow; a subject-level bootstrap is the remedy.
///
/// ```
/// let (lo, hi) = btp::eval::clopper_pearson(0, 10, 0.95)?;
/// assert_eq!(lo, 0.0);
/// assert!((hi - 0.308_497_107_8).abs() < 1e-9);
/// # Ok::<(), btp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] if `trials == 0`, `errors > trials`, or
/// `confidence` is not strictly between 0 and 1.
pub fn clopper_pearson(errors: u64, trials: u64, confidence: f64) -> Result<(f64, f64)> {
    if trials == 0 {
        return Err(Error::param("trials", "must be at least 1"));
    }
    if errors > trials {
        return Err(Error::param("errors", "must not exceed trials"));
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(Error::param(
            "confidence",
            "must be strictly between 0 and 1",
        ));
    }
    let half_alpha = (1.0 - confidence) / 2.0;
    let n = trials as f64;
    // (alpha/2)^(1/n), via exp(ln(.)/n) to keep the small differences from 1.
    let ln_root = half_alpha.ln() / n;
    let lo = if errors == 0 {
        0.0
    } else if errors == trials {
        ln_root.exp()
    } else {
        clopper_pearson_bound(errors, trials, half_alpha, false)
    };
    let hi = if errors == trials {
        1.0
    } else if errors == 0 {
        -ln_root.exp_m1()
    } else {
        clopper_pearson_bound(errors, trials, half_alpha, true)
    };
    Ok((lo, hi))
}

/// `ln(sqrt(2 pi))`.
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Stirling's series remainder `ln Gamma(x) - ((x - 1/2) ln x - x + ln sqrt(2 pi))`
/// for `x >= 15`, where seven terms are accurate to below 1e-17.
fn stirling_remainder(x: f64) -> f64 {
    let x2 = 1.0 / (x * x);
    (1.0 / 12.0
        + x2 * (-1.0 / 360.0
            + x2 * (1.0 / 1260.0
                + x2 * (-1.0 / 1680.0
                    + x2 * (1.0 / 1188.0 + x2 * (-691.0 / 360_360.0 + x2 / 156.0))))))
        / x
}

/// `ln B(a, b)` without the cancellation of `lnG(a) + lnG(b) - lnG(a + b)`
/// when an argument is large (10^9 trials give `lnG ~ 2e10`).
fn ln_beta(a: f64, b: f64) -> f64 {
    const LARGE: f64 = 15.0;
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    if b < LARGE {
        return libm::lgamma(a) + libm::lgamma(b) - libm::lgamma(a + b);
    }
    let ab = a + b;
    let remainder = if a < LARGE {
        stirling_remainder(b) - stirling_remainder(ab)
    } else {
        stirling_remainder(a) + stirling_remainder(b) - stirling_remainder(ab)
    };
    if a < LARGE {
        // lnG(a+b) - lnG(b) = (b - 1/2) ln(1 + a/b) + a ln(a+b) - a + R(a+b) - R(b)
        libm::lgamma(a) - (b - 0.5) * (a / b).ln_1p() - a * ab.ln() + a + remainder
    } else {
        LN_SQRT_2PI - 0.5 * ab.ln()
            + (a - 0.5) * (a / ab).ln()
            + (b - 0.5) * (-(a / ab)).ln_1p()
            + remainder
    }
}

/// `ln(n!) - ((n + 1/2) ln n - n + ln sqrt(2 pi))`, Stirling's error, for
/// integer `n >= 1` (`n = 0` gives 0 by convention; it is never weighted).
fn stirling_error(n: f64) -> f64 {
    if n <= 0.0 {
        0.0
    } else if n < 15.0 {
        libm::lgamma(n + 1.0) - (n + 0.5) * n.ln() + n - LN_SQRT_2PI
    } else {
        stirling_remainder(n)
    }
}

/// `x ln(x / m) + m - x`, the deviance term, without cancellation when `x`
/// is close to `m` (Loader's `bd0`).
fn deviance(x: f64, m: f64) -> f64 {
    if (x - m).abs() < 0.1 * (x + m) {
        let v = (x - m) / (x + m);
        let mut s = (x - m) * v;
        let mut term = 2.0 * x * v;
        let v2 = v * v;
        for j in 1..1000 {
            term *= v2;
            let next = s + term / f64::from(2 * j + 1);
            if next == s {
                break;
            }
            s = next;
        }
        s
    } else {
        x * (x / m).ln() + m - x
    }
}

/// `P(X = k)` for `X ~ Binomial(n, p)`, `0 < p < 1`, to full relative
/// precision for any `n` (C. Loader, "Fast and Accurate Computation of
/// Binomial Probabilities", 2000: the saddle-point form used by R's
/// `dbinom`). The naive `exp(ln C(n,k) + k ln p + (n-k) ln(1-p))` adds terms
/// of size `n` and loses about `log10(n)` digits.
fn binomial_pmf(k: u64, n: u64, p: f64) -> f64 {
    let (kf, nf, q) = (k as f64, n as f64, 1.0 - p);
    if k == 0 {
        return (nf * (-p).ln_1p()).exp();
    }
    if k == n {
        return (nf * p.ln()).exp();
    }
    let lc = stirling_error(nf)
        - stirling_error(kf)
        - stirling_error(nf - kf)
        - deviance(kf, nf * p)
        - deviance(nf - kf, nf * q);
    let lf = 2.0 * LN_SQRT_2PI + kf.ln() + (-kf / nf).ln_1p();
    (lc - 0.5 * lf).exp()
}

/// One binomial tail, `P(X >= k0)` (`downward == false`) or `P(X <= k0)`
/// (`downward == true`) for `X ~ Binomial(n, p)`, `0 < p < 1`, summed term
/// by term outward from `k0`.
///
/// All terms are positive, so there is no cancellation; the boundary term
/// comes from [`binomial_pmf`] and the others by the exact term ratio. The sum is cheap when the terms fall away from
/// `k0`, i.e. when `k0` is at or beyond the mode on the side summed: the
/// Clopper–Pearson brackets (`p <= x/n` for the lower bound, `p >= x/n` for
/// the upper) guarantee it, and then the loop stops within a few standard
/// deviations' worth of terms.
fn binomial_tail(k0: u64, n: u64, p: f64, downward: bool) -> f64 {
    let (nf, q) = (n as f64, 1.0 - p);
    let mut t = binomial_pmf(k0, n, p);
    let mut k = k0;
    let mut sum = 0.0;
    loop {
        sum += t;
        let kf = k as f64;
        // Ratio to the next term outward; beyond the mode it only shrinks.
        let ratio = if downward {
            if k == 0 {
                break;
            }
            k -= 1;
            kf / (nf - kf + 1.0) * (q / p)
        } else {
            if k == n {
                break;
            }
            k += 1;
            (nf - kf) / (kf + 1.0) * (p / q)
        };
        t *= ratio;
        if t == 0.0 || (ratio < 1.0 && t / (1.0 - ratio) <= sum * 1e-17) {
            sum += t;
            break;
        }
    }
    sum.min(1.0)
}

/// Solves `h(p) = target` for the Clopper–Pearson bounds, where
/// `h(p) = P(X >= x)` (the lower bound, increasing in `p`) or
/// `h(p) = P(X <= x)` (the upper bound, decreasing), `X ~ Binomial(n, p)`.
///
/// Safeguarded Newton iteration (Numerical Recipes' `rtsafe`): Newton steps
/// while they stay inside the bracket and shrink fast enough, bisection
/// otherwise, to full double precision. The derivative is the Beta density
/// `p^(a-1) (1-p)^(b-1) / B(a, b)` with `(a, b) = (x, n - x + 1)` for the
/// lower bound and `(x + 1, n - x)` for the upper.
fn clopper_pearson_bound(x: u64, n: u64, target: f64, upper: bool) -> f64 {
    let (xf, nf) = (x as f64, n as f64);
    let (a, b) = if upper {
        (xf + 1.0, nf - xf)
    } else {
        (xf, nf - xf + 1.0)
    };
    let ln_b = ln_beta(a, b);
    // g(p) > 0 above the root, < 0 below it.
    let g = |p: f64| {
        if upper {
            target - binomial_tail(x, n, p, true)
        } else {
            binomial_tail(x, n, p, false) - target
        }
    };
    let slope = |p: f64| ((a - 1.0) * p.ln() + (b - 1.0) * (-p).ln_1p() - ln_b).exp();
    // The root lies on the far side of the estimate x/n from the tail.
    let mle = xf / nf;
    let (mut lo, mut hi) = if upper { (mle, 1.0) } else { (0.0, mle) };
    let mut p = 0.5 * (lo + hi);
    let mut previous_step = hi - lo;
    for _ in 0..600 {
        let gp = g(p);
        if gp == 0.0 {
            return p;
        }
        if gp > 0.0 {
            hi = p;
        } else {
            lo = p;
        }
        let newton = p - gp / slope(p);
        let next = if newton.is_finite()
            && newton > lo
            && newton < hi
            && (newton - p).abs() < 0.5 * previous_step.abs()
        {
            newton
        } else {
            0.5 * (lo + hi)
        };
        previous_step = next - p;
        if next <= lo || next >= hi || previous_step.abs() <= 2.0 * f64::EPSILON * p {
            return next;
        }
        p = next;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn close(got: f64, want: f64, rel: f64) {
        assert!(
            (got - want).abs() <= rel * want.abs().max(1e-300),
            "got {got:e}, want {want:e}"
        );
    }

    #[test]
    fn parameter_errors() {
        assert!(clopper_pearson(0, 0, 0.95).is_err());
        assert!(clopper_pearson(3, 2, 0.95).is_err());
        for c in [0.0, 1.0, -0.5, f64::NAN] {
            assert!(clopper_pearson(1, 2, c).is_err());
        }
    }

    #[test]
    fn ends_of_the_range() {
        let (lo, hi) = clopper_pearson(0, 10, 0.95).unwrap();
        assert_eq!(lo, 0.0);
        close(hi, 0.308_497_107_818_760_8, 1e-14);
        let (lo, hi) = clopper_pearson(10, 10, 0.95).unwrap();
        close(lo, 0.691_502_892_181_239_2, 1e-14);
        assert_eq!(hi, 1.0);
    }

    /// Reference bounds computed to 50 digits with mpmath (bisection on the
    /// regularized incomplete beta function, or on exact binomial sums for
    /// the large-trial cases). scipy 1.17's `beta.isf` is off by up to 1e-8
    /// relative for the upper bounds with 10^9 trials; these are not. The
    /// digits are kept as printed by mpmath.
    #[allow(clippy::excessive_precision)]
    const REFERENCE: &[(u64, u64, f64, f64, f64)] = &[
        (0, 10, 0.95, 0.0, 3.0849710781876082391e-1),
        (10, 10, 0.95, 6.9150289218123917609e-1, 1.0),
        (
            5,
            100,
            0.95,
            1.6431879182052159264e-2,
            1.1283491110546276594e-1,
        ),
        (
            1,
            10,
            0.999,
            5.0011253563791910104e-5,
            6.5313033309473098405e-1,
        ),
        (
            3,
            7,
            0.9,
            1.2875639280424267907e-1,
            7.7467841596755227002e-1,
        ),
        (
            50,
            100,
            0.95,
            3.9832112950330097944e-1,
            6.0167887049669902056e-1,
        ),
        (
            1,
            1000,
            0.95,
            2.5317487491294043134e-5,
            5.5589242798266728708e-3,
        ),
        (
            37,
            10000,
            0.99,
            2.3223344051773743547e-3,
            5.5695420365629590582e-3,
        ),
        (
            1,
            1_000_000,
            0.95,
            2.5317807663794177544e-8,
            5.5716306551722443319e-6,
        ),
        (
            12,
            10_000_000,
            0.95,
            6.200576596682646452e-7,
            2.0961575655725795591e-6,
        ),
        (
            1,
            1_000_000_000,
            0.95,
            2.5317807983969379703e-11,
            5.5716433782031152715e-9,
        ),
        (
            3,
            1_000_000_000,
            0.9,
            8.1769144764733512287e-10,
            7.7536565095036169437e-9,
        ),
        (
            40,
            1_000_000_000,
            0.99,
            2.5585966116828096205e-8,
            5.9363066632091542543e-8,
        ),
        (
            2,
            100_000_000,
            0.999,
            3.1961022410656429968e-10,
            1.2051398891824608335e-7,
        ),
    ];

    #[test]
    fn matches_high_precision_reference() {
        for &(x, n, c, lo, hi) in REFERENCE {
            let (l, h) = clopper_pearson(x, n, c).unwrap();
            if lo == 0.0 {
                assert_eq!(l, 0.0);
            } else {
                close(l, lo, 1e-12);
            }
            if hi == 1.0 {
                assert_eq!(h, 1.0);
            } else {
                close(h, hi, 1e-12);
            }
        }
    }

    #[test]
    fn half_a_billion_errors_in_a_billion_is_fast_and_symmetric() {
        let (lo, hi) = clopper_pearson(500_000_000, 1_000_000_000, 0.95).unwrap();
        close(1.0 - hi, lo, 1e-12);
        assert!(lo < 0.5 && hi > 0.5 && hi - lo < 1e-4);
    }

    #[test]
    fn binomial_tail_small_cases() {
        // Bin(3, 0.5): P(X <= 1) = P(X >= 2) = 4/8.
        close(binomial_tail(1, 3, 0.5, true), 0.5, 1e-15);
        close(binomial_tail(2, 3, 0.5, false), 0.5, 1e-15);
        // Bin(10, 0.1): P(X <= 0) = 0.9^10; P(X >= 1) = 1 - 0.9^10.
        close(binomial_tail(0, 10, 0.1, true), 0.9f64.powi(10), 1e-14);
        close(
            binomial_tail(1, 10, 0.1, false),
            1.0 - 0.9f64.powi(10),
            1e-14,
        );
        // Skewed: P(X >= 1) for Bin(10, 5e-5) = 1 - (1 - p)^10, tiny.
        let p = 5e-5f64;
        let want = -(10.0 * (-p).ln_1p()).exp_m1();
        close(binomial_tail(1, 10, p, false), want, 1e-15);
        close(binomial_tail(10, 10, 0.3, true), 1.0, 1e-14);
    }

    #[test]
    fn binomial_pmf_is_accurate_for_huge_n() {
        // Small cases against the direct formula.
        close(
            binomial_pmf(3, 10, 0.25),
            120.0 * 0.25f64.powi(3) * 0.75f64.powi(7),
            1e-14,
        );
        close(binomial_pmf(0, 10, 0.25), 0.75f64.powi(10), 1e-15);
        close(binomial_pmf(10, 10, 0.25), 0.25f64.powi(10), 1e-15);
        close(binomial_pmf(20, 40, 0.5), 0.125_370_687_619_579_26, 1e-14);
        // 50-digit mpmath values.
        close(
            binomial_pmf(500_000_000, 1_000_000_000, 0.5),
            2.523_132_521_389_376_9e-5,
            1e-13,
        );
        // P(X = 3) for Bin(1e9, 2e-9): Poisson-like.
        close(
            binomial_pmf(3, 1_000_000_000, 2e-9),
            0.180_447_044_495_930_64,
            1e-13,
        );
    }

    proptest::proptest! {
        #[test]
        fn bounds_bracket_the_estimate_and_solve_the_tail_equations(
            n in 1u64..5000, frac in 0.0f64..=1.0, c in 0.5f64..0.999
        ) {
            let x = ((n as f64) * frac).round() as u64;
            let (lo, hi) = clopper_pearson(x, n, c).unwrap();
            let p = x as f64 / n as f64;
            proptest::prop_assert!(0.0 <= lo && lo <= p && p <= hi && hi <= 1.0);
            let half = (1.0 - c) / 2.0;
            if x > 0 {
                let tail = binomial_tail(x, n, lo, false);
                proptest::prop_assert!((tail - half).abs() <= 1e-10 * half, "{tail} vs {half}");
            }
            if x < n {
                let tail = binomial_tail(x, n, hi, true);
                proptest::prop_assert!((tail - half).abs() <= 1e-10 * half, "{tail} vs {half}");
            }
            // Wider at a higher confidence.
            let (lo2, hi2) = clopper_pearson(x, n, (c + 1.0) / 2.0).unwrap();
            proptest::prop_assert!(lo2 <= lo && hi2 >= hi);
        }
    }
}
