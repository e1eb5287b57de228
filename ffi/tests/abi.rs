//! The C ABI's promises that hold for every entry point, checked on the
//! sources (so that a new entry point cannot forget them) and on the
//! translation of core errors. `tests/c/test_abi.c` calls the entry points
//! themselves.

use std::collections::BTreeMap;
use std::ffi::CStr;

use btp::error::{btp_last_error_message, btp_result, FfiError};
use btp::guard::ffi_call;
use btp_core::Error;

/// The entry points of `ffi/src`: name, parameter list and body, with the
/// bodies of the file's private helpers (`unsafe fn`) by name.
struct Sources {
    entry_points: Vec<(String, String, String)>,
    helpers: BTreeMap<String, String>,
}

/// The text from `open` (an index just after an opening `(` or `{`) to its
/// matching closing bracket.
fn balanced(s: &str, open: usize, (l, r): (char, char)) -> &str {
    let mut depth = 1;
    for (i, c) in s[open..].char_indices() {
        if c == l {
            depth += 1;
        } else if c == r {
            depth -= 1;
            if depth == 0 {
                return &s[open..open + i];
            }
        }
    }
    panic!("unbalanced {l}{r}");
}

fn sources() -> Sources {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut entry_points = Vec::new();
    let mut helpers = BTreeMap::new();
    for f in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        for (marker, public) in [("pub unsafe extern \"C\" fn ", true), ("unsafe fn ", false)] {
            let mut at = 0;
            while let Some(i) = text[at..].find(marker) {
                let start = at + i + marker.len();
                at = start;
                let name_end = start + text[start..].find(['(', '<']).unwrap();
                let name = text[start..name_end].to_owned();
                let open = name_end + text[name_end..].find('(').unwrap() + 1;
                let params = balanced(&text, open, ('(', ')')).to_owned();
                let body_open =
                    open + params.len() + text[open + params.len()..].find('{').unwrap();
                let body = balanced(&text, body_open + 1, ('{', '}')).to_owned();
                if public {
                    entry_points.push((name, params, body));
                } else {
                    helpers.insert(name, body);
                }
            }
        }
    }
    entry_points.sort();
    Sources {
        entry_points,
        helpers,
    }
}

/// Calls that null a handle out-pointer (or a library buffer's pair).
const NULLING: [&str; 5] = [
    "OutHandle::new(",
    "OutBytes::new(",
    "OutArray::new(",
    "ptr::out_handles(",
    "make(out",
];

/// Calls that check another argument and may fail.
const CHECKS: [&str; 12] = [
    "ptr::handle(",
    "ptr::handle_mut(",
    "ptr::handles(",
    "ptr::slice(",
    "ptr::slice_mut(",
    "ptr::str(",
    "ptr::opt_str(",
    "ptr::path(",
    "ptr::value(",
    "ptr::opt_value(",
    "Out::new(",
    "context(",
];

fn first(body: &str, calls: &[&str]) -> Option<usize> {
    calls.iter().filter_map(|c| body.find(c)).min()
}

#[test]
fn every_entry_point_is_found_and_in_the_header() {
    let s = sources();
    let header = include_str!("../../include/btp.h");
    assert_eq!(s.entry_points.len(), 137, "entry points added or removed?");
    for (name, _, _) in &s.entry_points {
        let declared = [" ", "*"]
            .iter()
            .any(|before| header.contains(&format!("{before}{name}(")));
        assert!(declared, "{name} is not in btp.h");
    }
}

/// A failed call leaves NULL in every handle out-pointer: the out-pointer
/// is set to NULL before any other argument is checked, in the entry point
/// or in the shared body it calls first.
#[test]
fn handle_out_pointers_are_nulled_before_any_other_check() {
    let s = sources();
    let mut checked = 0;
    for (name, params, body) in &s.entry_points {
        if !params.contains("*mut *mut") {
            continue;
        }
        checked += 1;
        let body = match first(body, &NULLING) {
            Some(_) => body,
            // The shared body of several entry points (`identify_sample`).
            None => s
                .helpers
                .iter()
                .find(|(h, b)| body.contains(&format!("{h}(")) && first(b, &NULLING).is_some())
                .map(|(_, b)| b)
                .unwrap_or_else(|| panic!("{name} never nulls its out-pointer")),
        };
        let nulled = first(body, &NULLING).unwrap();
        if let Some(check) = first(body, &CHECKS) {
            assert!(
                nulled < check,
                "{name} checks an argument before nulling its out-pointer"
            );
        }
    }
    // Every constructor, `*_alloc`, the batch protection, the export, and
    // every function that hands out a library array.
    assert_eq!(checked, 39);
}

/// A result struct holding library arrays (a curve, a report) is emptied
/// before any other argument is checked, so that a failed call leaves
/// NULL arrays its `*_free` accepts.
#[test]
fn result_structs_are_emptied_before_any_other_check() {
    const STRUCTS: [&str; 5] = [
        "*mut btp_curve",
        "*mut btp_fnir_fpir_curve",
        "*mut btp_unlinkability",
        "*mut btp_differentials",
        "*mut btp_protection_report",
    ];
    let s = sources();
    let mut checked = 0;
    for (name, params, body) in &s.entry_points {
        if name.ends_with("_free") || !STRUCTS.iter().any(|t| params.contains(t)) {
            continue;
        }
        checked += 1;
        let emptied = ["::EMPTY)", "out_curve("]
            .iter()
            .filter_map(|c| body.find(c))
            .min()
            .unwrap_or_else(|| panic!("{name} never empties its result"));
        let others: Vec<&str> = CHECKS
            .iter()
            .copied()
            .filter(|c| *c != "Out::new(")
            .collect();
        if let Some(check) = first(body, &others) {
            assert!(
                emptied < check,
                "{name} checks an argument before emptying its result"
            );
        }
    }
    // DET, ROC, the FNIR/FPIR curve, the unlinkability details, the
    // differentials and the protection report.
    assert_eq!(checked, 6);
}

/// Every entry point that returns a code runs in the guard under its own
/// name (the message names the function), except those that must not
/// touch the last error.
#[test]
fn every_entry_point_runs_in_the_guard_under_its_name() {
    let s = sources();
    let unguarded = [
        "btp_result_str",
        "btp_last_error_message",
        "btp_last_error",
        "btp_version",
    ];
    for (name, _, body) in &s.entry_points {
        if unguarded.contains(&name.as_str()) {
            continue;
        }
        if name.ends_with("_free") {
            assert!(body.contains("ffi_free("), "{name}");
        } else {
            assert!(body.contains(&format!("ffi_call(\"{name}\"")), "{name}");
        }
    }
}

fn last_error() -> String {
    // SAFETY: valid until the next call on this thread.
    unsafe { CStr::from_ptr(btp_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn core_errors_name_the_c_argument() {
    let e = Error::WrongDimension {
        expected: 4,
        got: 3,
    };
    let r = ffi_call("btp_x", || Err(FfiError::about("features")(e)));
    assert_eq!(r, btp_result::WrongDimension);
    assert_eq!(
        last_error(),
        "btp_x: argument `features`: wrong dimension: expected 4, got 3"
    );
    // Errors that are not about the data pass as they are.
    let r = ffi_call("btp_x", || {
        Err(FfiError::about("features")(Error::KeyMismatch))
    });
    assert_eq!(r, btp_result::KeyMismatch);
    assert!(last_error().starts_with("btp_x: key mismatch"));
    // A core parameter is named as the C argument.
    let e = Error::InvalidParameter {
        name: "purpose",
        reason: "name must be 1 to 128 bytes".into(),
    };
    let names = [
        ("purpose", "name"),
        ("max_retention", "max_retention_seconds"),
    ];
    let r = ffi_call("btp_x", || Err(FfiError::renaming(&names)(e)));
    assert_eq!(r, btp_result::InvalidParameter);
    assert_eq!(
        last_error(),
        "btp_x: invalid argument `name`: name must be 1 to 128 bytes"
    );
    let e = Error::InvalidParameter {
        name: "threshold",
        reason: "must be a number in [0, 1]".into(),
    };
    ffi_call("btp_x", || Err(FfiError::renaming(&names)(e)));
    assert_eq!(
        last_error(),
        "btp_x: invalid parameter `threshold`: must be a number in [0, 1]"
    );
}

/// A legal hold's reason is free text: a refused erasure names the hold,
/// never the reason.
#[test]
fn a_held_erasure_does_not_echo_the_reason() {
    let e = Error::Held {
        hold: 3,
        target: "subject".into(),
        reason: "sealed order Zq7".into(),
    };
    let r = ffi_call("btp_store_erase", || Err(FfiError::from(e)));
    assert_eq!(r, btp_result::Held);
    assert!(!last_error().contains("Zq7"), "{}", last_error());
    assert!(last_error().contains("hold 3"), "{}", last_error());
}
