//! The DET curve as a small self-contained SVG on probit (normal deviate)
//! axes. Written by hand: no plotting or font library, nothing to install.

use std::fmt::Write as _;

use btp::eval::{Curve, Eer};

const W: f64 = 640.0;
const H: f64 = 600.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 70.0;
const HI: f64 = 0.5;
const TICKS: [f64; 12] = [
    1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2,
];

/// The standard normal quantile (P. J. Acklam's rational approximation,
/// relative error below 1.2e-9): plenty for placing pixels.
pub fn probit(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.024_25 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.024_25 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

fn percent(p: f64) -> String {
    let s = format!("{:.5}", p * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// The SVG text of a DET curve with its EER point.
pub fn det_svg(curve: &Curve, eer: &Eer, title: &str) -> String {
    // Each axis starts at the tick below its smallest non-zero rate.
    let low_end = |rates: &[f64]| {
        let smallest = rates
            .iter()
            .copied()
            .filter(|&r| r > 0.0)
            .fold(0.01_f64, f64::min);
        TICKS
            .iter()
            .copied()
            .rfind(|&t| t <= smallest)
            .unwrap_or(TICKS[0])
    };
    let (xlo, ylo) = (low_end(&curve.fmr), low_end(&curve.fnmr));
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let scale =
        |r: f64, lo: f64| (probit(r.clamp(lo, HI)) - probit(lo)) / (probit(HI) - probit(lo));
    let x = |r: f64| LEFT + scale(r, xlo) * plot_w;
    let y = |r: f64| TOP + plot_h - scale(r, ylo) * plot_h;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="28" text-anchor="middle" font-size="15">{}</text>"#,
        W / 2.0,
        escape(title)
    );
    let ticks = |lo: f64| TICKS.iter().copied().filter(move |&t| t >= lo).chain([HI]);
    // Grid lines at every tick; labels only where they do not crowd.
    let mut last_label = f64::NEG_INFINITY;
    for t in ticks(xlo) {
        let tx = x(t);
        let _ = writeln!(
            s,
            r##"<line x1="{tx:.1}" y1="{TOP}" x2="{tx:.1}" y2="{:.1}" stroke="#ddd"/>"##,
            TOP + plot_h
        );
        if tx - last_label >= 42.0 {
            last_label = tx;
            let _ = writeln!(
                s,
                r#"<text x="{tx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                TOP + plot_h + 18.0,
                percent(t)
            );
        }
    }
    let mut last_label = f64::INFINITY;
    for t in ticks(ylo) {
        let ty = y(t);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" stroke="#ddd"/>"##,
            LEFT + plot_w
        );
        if last_label - ty >= 16.0 {
            last_label = ty;
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                LEFT - 6.0,
                ty + 4.0,
                percent(t)
            );
        }
    }
    let lo = xlo.max(ylo);
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#444"/>
<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="4 4"/>
<text x="{:.1}" y="{:.1}" text-anchor="middle">FMR (false match rate)</text>
<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">FNMR (false non-match rate)</text>"##,
        x(lo),
        y(lo),
        x(HI),
        y(HI),
        LEFT + plot_w / 2.0,
        H - 20.0,
        TOP + plot_h / 2.0
    );
    // The curve, thinned to one point per 0.2 pixel.
    let mut points = String::new();
    let mut last = (f64::NAN, f64::NAN);
    for (&f, &n) in curve.fmr.iter().zip(&curve.fnmr) {
        let p = (x(f), y(n));
        if (p.0 - last.0).abs() < 0.2 && (p.1 - last.1).abs() < 0.2 {
            continue;
        }
        last = p;
        let _ = write!(points, "{:.2},{:.2} ", p.0, p.1);
    }
    let _ = writeln!(
        s,
        r##"<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{}"/>
<circle cx="{:.1}" cy="{:.1}" r="4" fill="#c0392b"/>
<text x="{:.1}" y="{:.1}" fill="#c0392b">EER {} at threshold {:.4}</text>
</svg>"##,
        points.trim_end(),
        x(eer.eer),
        y(eer.eer),
        x(eer.eer) + 8.0,
        y(eer.eer) - 8.0,
        percent(eer.eer),
        eer.threshold
    );
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probit_known_values() {
        assert!(probit(0.5).abs() < 1e-9);
        assert!((probit(0.975) - 1.959_963_985).abs() < 1e-6);
        assert!((probit(1e-3) + 3.090_232_306).abs() < 1e-6);
        assert!(probit(0.0).is_finite());
    }

    #[test]
    fn svg_is_well_formed_enough() {
        let g = [0.9, 0.8, 0.7, 0.4];
        let i = [0.1, 0.2, 0.3, 0.75];
        let c = btp::eval::det(&g, &i).unwrap();
        let e = btp::eval::eer(&g, &i).unwrap();
        let svg = det_svg(&c, &e, "a <test>");
        assert!(svg.starts_with("<?xml"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("<polyline"));
        assert!(svg.contains("a &lt;test&gt;"));
    }
}
