//! Known-answer vectors in `tests/vectors/` (repository root): master key,
//! transform inputs, scheme parameters, feature vectors and the exact
//! template bytes they must give. The C and Python bindings read the same
//! files to prove they produce the same bytes.
//!
//! The files are frozen. Regenerate them only for a deliberate change of the
//! template format or of a transform (which breaks every stored template):
//! `BTP_REGENERATE_VECTORS=1 cargo test -p btp --test vectors`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use btp::{MasterKey, ProtectedTemplate, Protector, SchemeParams};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn f32s_to_hex(v: &[f32]) -> String {
    hex(&v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>())
}

fn hex_to_f32s(s: &str) -> Vec<f32> {
    unhex(s)
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

struct Case {
    name: &'static str,
    params: SchemeParams,
    application: &'static str,
    version: u32,
    subject: Option<&'static [u8]>,
}

fn input(dim: usize, phase: f32) -> Vec<f32> {
    (0..dim)
        .map(|i| {
            let i = i as f32;
            (0.7 * i + phase).sin() * (1.0 + 0.01 * i) + 0.5
        })
        .collect()
}

fn probe_of(x: &[f32]) -> Vec<f32> {
    x.iter()
        .enumerate()
        .map(|(i, v)| v + 0.15 * (1.3 * i as f32).cos())
        .collect()
}

fn cases() -> Vec<Case> {
    let centre = |dim: usize| vec![0.5f32; dim];
    vec![
        Case {
            name: "iom-grp-128-centred-l2",
            params: SchemeParams::iom_grp(128, 512, 16)
                .unwrap()
                .with_centre(centre(128))
                .unwrap()
                .with_l2(true),
            application: "gate-A",
            version: 1,
            subject: None,
        },
        Case {
            name: "iom-grp-64-window64",
            params: SchemeParams::iom_grp(64, 64, 64).unwrap(),
            application: "gate-A",
            version: 2,
            subject: None,
        },
        Case {
            name: "iom-urp-128-centred",
            params: SchemeParams::iom_urp(128, 512, 16, 2)
                .unwrap()
                .with_centre(centre(128))
                .unwrap(),
            application: "watchlist",
            version: 1,
            subject: None,
        },
        Case {
            name: "biohash-128-centred",
            params: SchemeParams::biohash(128, 128)
                .unwrap()
                .with_centre(centre(128))
                .unwrap(),
            application: "city-id",
            version: 1,
            subject: None,
        },
        Case {
            name: "biohash-32-subject",
            params: SchemeParams::biohash(32, 20)
                .unwrap()
                .with_centre(centre(32))
                .unwrap(),
            application: "city-id",
            version: 3,
            subject: Some(b"subject-0042"),
        },
    ]
}

const MASTER_KEY: [u8; 32] = {
    let mut k = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        k[i] = (i as u8).wrapping_mul(7).wrapping_add(3);
        i += 1;
    }
    k
};

fn render(case: &Case) -> String {
    let mk = MasterKey::from_bytes(&MASTER_KEY).unwrap();
    let prot = Protector::new(
        case.params.clone(),
        &mk,
        case.application,
        case.version,
        case.subject,
    )
    .unwrap();
    let x = input(case.params.dim(), 0.3);
    let p = probe_of(&x);
    let t = prot.protect(&x).unwrap();
    let u = prot.protect(&p).unwrap();
    let mismatches = t.layout().mismatches(t.words(), u.words());
    let mut s = String::new();
    writeln!(
        s,
        "# btp known-answer vector (format: tests/vectors/README.md)"
    )
    .unwrap();
    writeln!(s, "name = {}", case.name).unwrap();
    writeln!(s, "master_key = {}", hex(&MASTER_KEY)).unwrap();
    writeln!(s, "application = {}", case.application).unwrap();
    writeln!(s, "version = {}", case.version).unwrap();
    writeln!(s, "subject = {}", case.subject.map_or("-".into(), hex)).unwrap();
    writeln!(s, "params = {}", hex(&case.params.to_bytes())).unwrap();
    writeln!(s, "fingerprint = {}", prot.fingerprint()).unwrap();
    writeln!(s, "input = {}", f32s_to_hex(&x)).unwrap();
    writeln!(s, "template = {}", hex(&t.to_bytes())).unwrap();
    writeln!(s, "probe = {}", f32s_to_hex(&p)).unwrap();
    writeln!(s, "probe_template = {}", hex(&u.to_bytes())).unwrap();
    writeln!(s, "mismatches = {mismatches}").unwrap();
    writeln!(s, "score = {:?}", t.layout().score(mismatches)).unwrap();
    s
}

fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once(" = ").expect("key = value");
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn known_answer_vectors() {
    let regenerate = std::env::var_os("BTP_REGENERATE_VECTORS").is_some();
    for case in cases() {
        let path = dir().join(format!("{}.txt", case.name));
        let want = render(&case);
        if regenerate {
            std::fs::write(&path, &want).unwrap();
            continue;
        }
        let got =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(got, want, "{} changed", case.name);
    }
}

/// Reads the frozen files the way a binding would (from the stored fields
/// alone, not from the generator above) and checks every field.
#[test]
fn files_reproduce_from_their_own_fields() {
    let mut seen = 0;
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        seen += 1;
        let f = parse(&std::fs::read_to_string(&path).unwrap());
        let mk = MasterKey::from_bytes(&unhex(&f["master_key"])).unwrap();
        let params = SchemeParams::from_bytes(&unhex(&f["params"])).unwrap();
        let subject = match f["subject"].as_str() {
            "-" => None,
            s => Some(unhex(s)),
        };
        let prot = Protector::new(
            params,
            &mk,
            &f["application"],
            f["version"].parse().unwrap(),
            subject.as_deref(),
        )
        .unwrap();
        assert_eq!(prot.fingerprint().to_string(), f["fingerprint"]);
        let t = prot.protect(&hex_to_f32s(&f["input"])).unwrap();
        assert_eq!(hex(&t.to_bytes()), f["template"], "{}", path.display());
        let u = prot.protect(&hex_to_f32s(&f["probe"])).unwrap();
        assert_eq!(hex(&u.to_bytes()), f["probe_template"]);
        // The batch path (one GEMM per block) gives the same bytes.
        let mut rows = hex_to_f32s(&f["input"]);
        rows.extend(hex_to_f32s(&f["probe"]));
        let batch = prot.protect_batch(&rows).unwrap();
        assert_eq!(batch, [t.clone(), u.clone()], "{}", path.display());
        let decoded = ProtectedTemplate::from_bytes(&unhex(&f["template"])).unwrap();
        assert_eq!(decoded, t);
        let score = prot.compare(&t, &u).unwrap();
        assert_eq!(format!("{score:?}"), f["score"]);
        let m: u32 = f["mismatches"].parse().unwrap();
        assert_eq!(t.layout().mismatches(t.words(), u.words()), m);
        // A probe of a similar vector matches far better than chance.
        assert!(score > 0.5, "{}: {score}", path.display());
    }
    assert_eq!(seen, cases().len());
}
