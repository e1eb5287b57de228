//! Throughput of btp: protection and 1:N search in the protected domain.
//!
//! ```text
//! cargo bench -p btp --bench throughput                   # full run, ~30 s on 2 cores
//! BTP_BENCH_QUICK=1 cargo bench -p btp --bench throughput # smoke run, a few seconds
//! cargo bench -p btp --bench throughput -- --quick        # the same
//! ```
//!
//! For each scheme with its default parameters (IoM-GRP dim 128, m = 512,
//! q = 16; IoM-URP dim 128, m = 512, k = 16, p = 2; BioHash dim 128, 128 bits;
//! and BioHash dim 512, 512 bits as a wider code) it prints:
//!
//! * templates protected per second by a single-threaded `protect` loop and
//!   by `protect_batch` (every core), the latter over the whole gallery;
//! * for a gallery of 100,000 templates (5,000 in quick mode) built from
//!   those protected templates: comparisons per second of `search(k = 10)`
//!   on one thread and on every core, and of `search_batch` of 100 probes;
//!   the scan rate in GB/s (`len * bytes_per_template` bytes per search
//!   over the time) and the bytes per template of the scan buffer.
//!
//! Beside the scan rates it prints a memory bandwidth reference: the rate
//! of a streaming `u64` sum over a 256 MiB buffer (16 MiB in quick mode),
//! on one core and on every core.
//!
//! Probes are noisy copies of enrolled vectors; every search is checked to
//! rank the enrolled template first, so the benchmark fails loudly instead
//! of timing a broken search. Timings use `std::time::Instant`; each
//! figure repeats its operation until a minimum time has passed and reports
//! the mean (the bandwidth reference reports the best pass).

use std::hint::black_box;
use std::time::{Duration, Instant};

use btp::{Gallery, MasterKey, ProtectedTemplate, Protector, SchemeParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Sizes and repetition times of one run.
struct Mode {
    name: &'static str,
    gallery: usize,
    /// Rows of the single-threaded `protect` loop.
    protect_loop: usize,
    probes: usize,
    /// Minimum time spent repeating each search measurement.
    min_time: Duration,
    /// Bytes of the bandwidth reference buffer.
    stream_bytes: usize,
}

const FULL: Mode = Mode {
    name: "full",
    gallery: 100_000,
    protect_loop: 2_000,
    probes: 100,
    min_time: Duration::from_millis(1_000),
    stream_bytes: 256 << 20,
};

const QUICK: Mode = Mode {
    name: "quick",
    gallery: 5_000,
    protect_loop: 200,
    probes: 100,
    min_time: Duration::from_millis(20),
    stream_bytes: 16 << 20,
};

const K: usize = 10;
/// Amplitude of the uniform noise added to an enrolled vector to make a probe.
const NOISE: f32 = 0.02;

fn quick_requested() -> bool {
    let env = std::env::var("BTP_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    env || std::env::args().any(|a| a == "--quick")
}

/// Runs `f` until at least `min_time` has passed and at least `min_runs`
/// runs were made; returns (runs, elapsed).
fn repeat(min_time: Duration, min_runs: usize, mut f: impl FnMut()) -> (usize, Duration) {
    let start = Instant::now();
    let mut runs = 0;
    loop {
        f();
        runs += 1;
        let elapsed = start.elapsed();
        if runs >= min_runs && elapsed >= min_time {
            return (runs, elapsed);
        }
    }
}

fn per_second(count: f64, d: Duration) -> f64 {
    count / d.as_secs_f64()
}

/// Sum of a slice of `u64`, the streaming read of the bandwidth reference.
fn stream_sum(buf: &[u64]) -> u64 {
    buf.iter().fold(0u64, |a, &x| a.wrapping_add(x))
}

/// Best streaming read rate in GB/s over a few passes, on `threads` threads.
fn bandwidth(buf: &[u64], threads: usize, passes: usize) -> f64 {
    let bytes = std::mem::size_of_val(buf) as f64;
    let per = buf.len().div_ceil(threads);
    let mut best = f64::INFINITY;
    for _ in 0..passes {
        let start = Instant::now();
        let total = std::thread::scope(|s| {
            let handles: Vec<_> = buf
                .chunks(per)
                .map(|c| s.spawn(move || stream_sum(black_box(c))))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("stream worker panicked"))
                .fold(0u64, u64::wrapping_add)
        });
        best = best.min(start.elapsed().as_secs_f64());
        black_box(total);
    }
    bytes / best / 1e9
}

struct ProtectRow {
    name: String,
    code_bytes: usize,
    loop_rate: f64,
    batch_rate: f64,
}

/// Rate of one search configuration: comparisons per second and GB/s.
#[derive(Clone, Copy)]
struct Rate {
    cmp_per_s: f64,
    gb_per_s: f64,
    ms_per_probe: f64,
}

struct SearchRow {
    name: String,
    bytes_per_template: usize,
    one: Rate,
    all: Rate,
    batch: Rate,
}

fn random_rows(rng: &mut ChaCha8Rng, n: usize, dim: usize) -> Vec<f32> {
    (0..n * dim)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect()
}

fn bench_scheme(
    mode: &Mode,
    name: &str,
    params: SchemeParams,
    threads: usize,
) -> (ProtectRow, SearchRow) {
    let master = MasterKey::from_bytes(&[7; 32]).expect("32-byte key");
    let p = Protector::new(params, &master, "bench", 1, None).expect("valid parameters");
    let dim = p.dim();
    let mut rng = ChaCha8Rng::seed_from_u64(0x5EED);
    let n = mode.gallery;
    let rows = random_rows(&mut rng, n, dim);

    // Protection: a single-threaded loop, then the batch over the gallery.
    let loop_rows = &rows[..mode.protect_loop.min(n) * dim];
    let start = Instant::now();
    for x in loop_rows.chunks_exact(dim) {
        black_box(p.protect(black_box(x)).expect("finite rows"));
    }
    let loop_rate = per_second((loop_rows.len() / dim) as f64, start.elapsed());
    let start = Instant::now();
    let templates = p.protect_batch(black_box(&rows)).expect("finite rows");
    let batch_rate = per_second(n as f64, start.elapsed());

    let ids: Vec<u64> = (0..n as u64).collect();
    let mut gallery = Gallery::new(&p);
    gallery.add_batch(&ids, &templates).expect("fresh ids");
    drop(templates);

    // Probes: noisy copies of enrolled vectors spread over the gallery.
    let stride = n / mode.probes;
    let genuine: Vec<u64> = (0..mode.probes).map(|i| (i * stride) as u64).collect();
    let probes: Vec<ProtectedTemplate> = genuine
        .iter()
        .map(|&id| {
            let i = id as usize;
            let x: Vec<f32> = rows[i * dim..(i + 1) * dim]
                .iter()
                .map(|v| v + rng.random_range(-NOISE..NOISE))
                .collect();
            p.protect(&x).expect("finite probe")
        })
        .collect();
    drop(rows);

    let len = gallery.len();
    let scanned = (len * gallery.bytes_per_template()) as f64;
    let rate = |searches: usize, d: Duration| Rate {
        cmp_per_s: per_second((searches * len) as f64, d),
        gb_per_s: per_second(searches as f64 * scanned, d) / 1e9,
        ms_per_probe: d.as_secs_f64() * 1e3 / searches as f64,
    };
    let check = |hits: &[btp::Candidate], want: u64| {
        assert_eq!(hits.len(), K);
        assert_eq!(
            hits[0].id, want,
            "{name}: the enrolled template must rank first"
        );
    };

    let single = |gallery: &mut Gallery, t: usize| {
        gallery.set_threads(t);
        let mut i = 0;
        let (runs, d) = repeat(mode.min_time, 3, || {
            let j = i % probes.len();
            let hits = gallery
                .search(black_box(&probes[j]), K, None)
                .expect("search");
            check(&hits, genuine[j]);
            i += 1;
        });
        rate(runs, d)
    };
    let one = single(&mut gallery, 1);
    let all = single(&mut gallery, threads);

    gallery.set_threads(threads);
    let (runs, d) = repeat(mode.min_time, 2, || {
        let out = gallery
            .search_batch(black_box(&probes), K, None)
            .expect("search_batch");
        for (hits, &want) in out.iter().zip(&genuine) {
            check(hits, want);
        }
    });
    let batch = rate(runs * probes.len(), d);

    (
        ProtectRow {
            name: name.to_string(),
            code_bytes: p.layout().bytes(),
            loop_rate,
            batch_rate,
        },
        SearchRow {
            name: name.to_string(),
            bytes_per_template: gallery.bytes_per_template(),
            one,
            all,
            batch,
        },
    )
}

fn main() {
    let mode = if quick_requested() { QUICK } else { FULL };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let total = Instant::now();

    let schemes = [
        ("iom-grp d128 m512 q16", SchemeParams::iom_grp(128, 512, 16)),
        (
            "iom-urp d128 m512 k16 p2",
            SchemeParams::iom_urp(128, 512, 16, 2),
        ),
        ("biohash d128 L128", SchemeParams::biohash(128, 128)),
        ("biohash d512 L512", SchemeParams::biohash(512, 512)),
    ];
    let mut protect_rows = Vec::new();
    let mut search_rows = Vec::new();
    for (name, params) in schemes {
        let (p, s) = bench_scheme(&mode, name, params.expect("valid parameters"), threads);
        protect_rows.push(p);
        search_rows.push(s);
    }

    let buf: Vec<u64> = (0..(mode.stream_bytes / 8) as u64).collect();
    let bw_one = bandwidth(&buf, 1, 5);
    let bw_all = bandwidth(&buf, threads, 5);
    drop(buf);

    println!();
    println!(
        "btp throughput ({} mode: gallery {}, {} threads available, k = {K})",
        mode.name, mode.gallery, threads
    );
    println!();
    println!(
        "{:<26} {:>10} {:>20} {:>24}",
        "protection",
        "code B",
        "protect/s (1 thr)",
        format!("protect_batch/s ({threads} thr)")
    );
    for r in &protect_rows {
        println!(
            "{:<26} {:>10} {:>20.0} {:>24.0}",
            r.name, r.code_bytes, r.loop_rate, r.batch_rate
        );
    }
    println!();
    let head = |s: &str| format!("{s:^27}");
    println!(
        "{:<26} {:>7} | {} | {} | {}",
        format!("search, gallery {}", mode.gallery),
        "B/tpl",
        head("search k=10, 1 thr"),
        head(&format!("search k=10, {threads} thr")),
        head(&format!("search_batch {}, {threads} thr", mode.probes)),
    );
    let sub = format!("{:>9} {:>7} {:>9}", "Mcmp/s", "GB/s", "ms/probe");
    println!("{:<26} {:>7} | {sub} | {sub} | {sub}", "", "");
    let cell = |r: Rate| {
        format!(
            "{:>9.1} {:>7.2} {:>9.3}",
            r.cmp_per_s / 1e6,
            r.gb_per_s,
            r.ms_per_probe
        )
    };
    for r in &search_rows {
        println!(
            "{:<26} {:>7} | {} | {} | {}",
            r.name,
            r.bytes_per_template,
            cell(r.one),
            cell(r.all),
            cell(r.batch)
        );
    }
    println!();
    println!(
        "memory bandwidth reference (streaming u64 sum of {} MiB, best of 5): \
         1 thr {bw_one:.2} GB/s, {threads} thr {bw_all:.2} GB/s",
        mode.stream_bytes >> 20
    );
    println!("total time {:.1} s", total.elapsed().as_secs_f64());
}
