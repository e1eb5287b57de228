//! The C ABI with arbitrary bytes, floats, lengths and buffer sizes, as a C
//! caller would pass them (pointers always into valid buffers): every call
//! returns a known code, never `BTP_RESULT_PANIC`, leaves a message when it
//! fails, and library buffers are freed without leaks (the sanitizer's
//! leak check runs at exit).
#![no_main]

use std::ffi::CStr;
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use btp_ffi::btp_result;
use btp_ffi::bytes::btp_bytes_free;
use btp_ffi::error::{btp_last_error_message, btp_result_str};
use btp_ffi::eval::{btp_eer, btp_eval_eer};
use btp_ffi::gallery::{
    btp_candidate, btp_gallery, btp_gallery_add, btp_gallery_free, btp_gallery_new,
    btp_gallery_search, btp_gallery_search_batch,
};
use btp_ffi::keys::{btp_master_key, btp_master_key_free, btp_master_key_from_bytes};
use btp_ffi::params::{btp_params, btp_params_free, btp_params_from_bytes, btp_params_iom_grp};
use btp_ffi::protector::{
    btp_protector, btp_protector_compare, btp_protector_new, btp_protector_protect,
};
use btp_ffi::template::{
    btp_template, btp_template_free, btp_template_from_bytes, btp_template_to_bytes,
    btp_template_to_bytes_alloc,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    bytes: Vec<u8>,
    cut: u16,
    floats: Vec<u32>,
    float_len: u8,
    k: u8,
    out_len: u8,
    threshold: u64,
    genuine: Vec<u64>,
    impostor: Vec<u64>,
}

/// Checks a result code: known, not a panic, with a message on failure.
fn check(code: btp_result) -> bool {
    assert_ne!(code, btp_result::Panic, "a call panicked: {}", last());
    // SAFETY: btp_result_str takes any value and returns a static string.
    let s = unsafe { CStr::from_ptr(btp_result_str(code as u32)) };
    assert_ne!(s.to_bytes(), b"unknown result code");
    if code != btp_result::Ok {
        assert!(!last().is_empty(), "{code:?} without a message");
    }
    code == btp_result::Ok
}

fn last() -> String {
    // SAFETY: valid until the next call on this thread.
    unsafe { CStr::from_ptr(btp_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

struct Fixed(*mut btp_protector);
// SAFETY: a protector handle is immutable and Send + Sync (documented).
unsafe impl Send for Fixed {}
unsafe impl Sync for Fixed {}

/// One IoM-GRP protector (dim 8) shared by every run.
fn protector() -> *const btp_protector {
    static P: OnceLock<Fixed> = OnceLock::new();
    P.get_or_init(|| unsafe {
        let mut key: *mut btp_master_key = null_mut();
        assert!(check(btp_master_key_from_bytes(
            [7u8; 32].as_ptr(),
            32,
            &mut key
        )));
        let mut params: *mut btp_params = null_mut();
        assert!(check(btp_params_iom_grp(8, 32, 4, &mut params)));
        let mut prot: *mut btp_protector = null_mut();
        assert!(check(btp_protector_new(
            params,
            key,
            c"fuzz".as_ptr(),
            1,
            null(),
            0,
            &mut prot
        )));
        btp_params_free(params);
        btp_master_key_free(key);
        Fixed(prot)
    })
    .0
}

fuzz_target!(|input: Input| unsafe {
    let prot = protector();
    // Template bytes of any length.
    let n = usize::from(input.cut) % (input.bytes.len() + 1);
    let mut t: *mut btp_template = null_mut();
    if check(btp_template_from_bytes(input.bytes.as_ptr(), n, &mut t)) {
        let mut needed = 0usize;
        let mut buf = vec![0u8; usize::from(input.out_len)];
        let r = btp_template_to_bytes(t, buf.as_mut_ptr(), buf.len(), &mut needed);
        if check(r) {
            assert_eq!(&buf[..needed], &input.bytes[..n]);
        } else {
            assert_eq!(r, btp_result::BufferTooSmall);
            assert_eq!(needed, n);
        }
        let (mut p, mut len) = (null_mut(), 0usize);
        assert!(check(btp_template_to_bytes_alloc(t, &mut p, &mut len)));
        assert_eq!(std::slice::from_raw_parts(p, len), &input.bytes[..n]);
        btp_bytes_free(p, len);
        let mut score = 0.0;
        check(btp_protector_compare(prot, t, t, &mut score));
        btp_template_free(t);
    } else {
        assert!(t.is_null(), "a failed call left a handle");
    }
    // Parameter bytes.
    let mut params: *mut btp_params = null_mut();
    if check(btp_params_from_bytes(input.bytes.as_ptr(), n, &mut params)) {
        btp_params_free(params);
    }
    // Floats of any length and value through protect, a gallery and search.
    let floats: Vec<f32> = input.floats.iter().map(|&b| f32::from_bits(b)).collect();
    let len = usize::from(input.float_len) % (floats.len() + 1);
    let mut probe: *mut btp_template = null_mut();
    if check(btp_protector_protect(
        prot,
        floats.as_ptr(),
        len,
        &mut probe,
    )) {
        let mut g: *mut btp_gallery = null_mut();
        assert!(check(btp_gallery_new(prot, &mut g)));
        for id in 0..3 {
            check(btp_gallery_add(g, id, probe));
        }
        let k = usize::from(input.k);
        let mut out = vec![btp_candidate { id: 0, score: 0.0 }; usize::from(input.out_len)];
        let mut found = 0usize;
        let threshold = f64::from_bits(input.threshold);
        if check(btp_gallery_search(
            g,
            probe,
            k,
            threshold,
            out.as_mut_ptr(),
            out.len(),
            &mut found,
        )) {
            assert!(found <= k.min(3) && found <= out.len());
            assert!(out[..found]
                .iter()
                .all(|c| (0.0..=1.0).contains(&c.score) && c.id < 3));
        }
        let probes = [probe as *const btp_template, probe];
        let mut founds = [0usize; 2];
        check(btp_gallery_search_batch(
            g,
            probes.as_ptr(),
            2,
            k,
            threshold,
            out.as_mut_ptr(),
            out.len(),
            founds.as_mut_ptr(),
            2,
        ));
        btp_gallery_free(g);
        btp_template_free(probe);
    } else {
        assert!(probe.is_null());
    }
    // Score arrays of any values.
    let genuine: Vec<f64> = input.genuine.iter().map(|&b| f64::from_bits(b)).collect();
    let impostor: Vec<f64> = input.impostor.iter().map(|&b| f64::from_bits(b)).collect();
    let mut eer = btp_eer {
        eer: 0.0,
        threshold: 0.0,
        fmr: 0.0,
        fnmr: 0.0,
    };
    if check(btp_eval_eer(
        genuine.as_ptr(),
        genuine.len(),
        impostor.as_ptr(),
        impostor.len(),
        &mut eer,
    )) {
        assert!((0.0..=1.0).contains(&eer.eer));
    }
});
