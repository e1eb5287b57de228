//! Packed codes: protection into codes without template handles, templates
//! from codes, the elements of codes, score matrices of codes, and
//! galleries filled, read and searched as codes.
//!
//! A packed code is `btp_protector_words` `uint64_t` words, a batch of `n`
//! codes `n * words` words row-major (`(const uint64_t *, size_t)`),
//! exactly as `btp_protector_protect_packed` makes them. Every code given
//! is checked (word count, zero padding, elements inside the alphabet);
//! a bad one is `BTP_RESULT_INVALID_PARAMETER` naming its row. Codes carry
//! no key fingerprint: the protector passed with them must be the one that
//! made them (another protector's codes are not detected; templates are).
//! Codes are personal data: the arrays handed out are wiped when freed.

use btp_core::scoring;

use crate::arrays::OutArray;
use crate::bytes::OutBytes;
use crate::error::{btp_result, FfiError};
use crate::gallery::{btp_candidate, btp_gallery, result_slots, write_results};
use crate::guard::ffi_call;
use crate::protector::btp_protector;
use crate::ptr::{self, Out};
use crate::template::btp_template;

/// Protects a row-major batch of feature vectors (`rows_len` a multiple of
/// the dimension, else `BTP_RESULT_WRONG_DIMENSION`) into packed codes,
/// on several threads for large batches: all or nothing, a bad row named
/// in the message. `*codes` receives `rows * words` words; release them
/// with `btp_array_u64_free(*codes, *codes_len)`.
///
/// # Safety
/// `prot` a live handle or NULL; `rows` NULL or `rows_len` readable floats;
/// `codes`, `codes_len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_protect_packed(
    prot: *const btp_protector,
    rows: *const f32,
    rows_len: usize,
    codes: *mut *mut u64,
    codes_len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_protect_packed", || unsafe {
        let out = OutArray::new(codes, codes_len, "codes", "codes_len")?;
        let p = ptr::handle(prot, "prot")?;
        let rows = ptr::slice(rows, rows_len, "rows")?;
        out.set(
            p.0.protect_batch_packed(rows)
                .map_err(FfiError::about("rows"))?,
        );
        Ok(())
    })
}

/// The template of one packed code of `prot` (`code_len` = the protector's
/// words), checked. Free it with `btp_template_free`.
///
/// # Safety
/// `prot` a live handle or NULL; `code` NULL or `code_len` readable words;
/// `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_template_from_code(
    prot: *const btp_protector,
    code: *const u64,
    code_len: usize,
    out: *mut *mut btp_template,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_template_from_code", || unsafe {
        let out = ptr::OutHandle::new(out, "out")?;
        let p = ptr::handle(prot, "prot")?;
        let code = ptr::slice(code, code_len, "code")?;
        let t =
            p.0.template(code.to_vec())
                .map_err(FfiError::about("code"))?;
        out.set(btp_template(t));
        Ok(())
    })
}

/// The templates of a batch of packed codes of `prot`, every code checked
/// first: all or nothing. `out[i]` receives the template of code `i` (free
/// each with `btp_template_free`) and `*count` the number of codes; every
/// slot of `out` is set to NULL first. If `out_len` is smaller than the
/// number of codes, `BTP_RESULT_BUFFER_TOO_SMALL` with that number in
/// `*count`.
///
/// # Safety
/// `prot` a live handle or NULL; `codes` NULL or `codes_len` readable
/// words; `out` NULL or `out_len` writable pointers; `count` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_templates_from_codes(
    prot: *const btp_protector,
    codes: *const u64,
    codes_len: usize,
    out: *mut *mut btp_template,
    out_len: usize,
    count: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_templates_from_codes", || unsafe {
        let dst = ptr::out_handles(out, out_len, "out")?;
        let p = ptr::handle(prot, "prot")?;
        let codes = ptr::slice(codes, codes_len, "codes")?;
        let count = Out::new(count, "count")?;
        let templates = p.0.templates_from_codes(codes)?;
        count.write(templates.len());
        ptr::fits(dst.len(), templates.len(), "templates")?;
        for (slot, t) in dst.iter_mut().zip(templates) {
            *slot = Box::into_raw(Box::new(btp_template(t)));
        }
        Ok(())
    })
}

/// The elements of packed codes of `prot` (IoM indices or BioHash bits),
/// one byte each: `*out` receives `codes * btp_protector_code_len` bytes,
/// row-major. Release them with `btp_bytes_free(*out, *out_len)`.
///
/// # Safety
/// `prot` a live handle or NULL; `codes` NULL or `codes_len` readable
/// words; `out`, `out_len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_unpack(
    prot: *const btp_protector,
    codes: *const u64,
    codes_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_unpack", || unsafe {
        let out = OutBytes::new(out, out_len)?;
        let p = ptr::handle(prot, "prot")?;
        let codes = ptr::slice(codes, codes_len, "codes")?;
        out.set(p.0.layout().unpack_batch(codes)?);
        Ok(())
    })
}

/// The similarity of every code of `codes_a` with every code of `codes_b`
/// (packed codes of `prot`): a row-major `na x nb` matrix of floats,
/// `(*out)[i * nb + j]` = the score of code `i` of `a` with code `j` of
/// `b`, the value `btp_protector_compare` gives rounded to `float`. Spread
/// over the cores for large matrices (the result does not depend on it); a
/// matrix too large for memory is `BTP_RESULT_OUT_OF_MEMORY`. Release it
/// with `btp_array_f32_free(*out, *out_len)`.
///
/// # Safety
/// `prot` a live handle or NULL; `codes_a`, `codes_b` NULL or their lengths
/// of readable words; `out`, `out_len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_score_matrix(
    prot: *const btp_protector,
    codes_a: *const u64,
    codes_a_len: usize,
    codes_b: *const u64,
    codes_b_len: usize,
    out: *mut *mut f32,
    out_len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_score_matrix", || unsafe {
        let out = OutArray::new(out, out_len, "out", "out_len")?;
        let p = ptr::handle(prot, "prot")?;
        let a = ptr::slice(codes_a, codes_a_len, "codes_a")?;
        let b = ptr::slice(codes_b, codes_b_len, "codes_b")?;
        out.set(scoring::score_matrix(&p.0.layout(), a, b)?);
        Ok(())
    })
}

/// Row-wise similarities of two batches of as many packed codes of `prot`
/// (else `BTP_RESULT_INVALID_PARAMETER`): `(*out)[i]` = the score of code
/// `i` of `a` with code `i` of `b`, as floats. Release it with
/// `btp_array_f32_free(*out, *out_len)`.
///
/// # Safety
/// As `btp_protector_score_matrix`.
#[no_mangle]
pub unsafe extern "C" fn btp_protector_paired_scores(
    prot: *const btp_protector,
    codes_a: *const u64,
    codes_a_len: usize,
    codes_b: *const u64,
    codes_b_len: usize,
    out: *mut *mut f32,
    out_len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_protector_paired_scores", || unsafe {
        let out = OutArray::new(out, out_len, "out", "out_len")?;
        let p = ptr::handle(prot, "prot")?;
        let a = ptr::slice(codes_a, codes_a_len, "codes_a")?;
        let b = ptr::slice(codes_b, codes_b_len, "codes_b")?;
        out.set(scoring::paired_scores(&p.0.layout(), a, b)?);
        Ok(())
    })
}

/// Adds packed codes of `prot` (the gallery's protector, else
/// `BTP_RESULT_KEY_MISMATCH` / `_SCHEME_MISMATCH`) under `ids`:
/// `codes_len = ids_len * words`, every code checked, all or nothing (a
/// duplicate id adds none). With `btp_gallery_codes` this rebuilds a
/// gallery without the feature vectors.
///
/// # Safety
/// `g`, `prot` live handles or NULL; `ids` NULL or `ids_len` readable ids;
/// `codes` NULL or `codes_len` readable words; exclusive access to `g`.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_add_packed(
    g: *mut btp_gallery,
    prot: *const btp_protector,
    ids: *const u64,
    ids_len: usize,
    codes: *const u64,
    codes_len: usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_add_packed", || unsafe {
        let g = ptr::handle_mut(g, "g")?;
        let p = ptr::handle(prot, "prot")?;
        let ids = ptr::slice(ids, ids_len, "ids")?;
        let codes = ptr::slice(codes, codes_len, "codes")?;
        g.0.add_packed(&p.0, ids, codes)?;
        Ok(())
    })
}

/// The ids of a gallery in storage order and their packed codes in the
/// same order (`*codes_len = *ids_len * words`): everything
/// `btp_gallery_add_packed` needs to rebuild it under the same protector.
/// Release them with `btp_array_u64_free` (each with its own length).
///
/// # Safety
/// `g` a live handle or NULL; the out-pointers NULL or writable; no write
/// to `g` may run at the same time.
#[no_mangle]
pub unsafe extern "C" fn btp_gallery_codes(
    g: *const btp_gallery,
    ids: *mut *mut u64,
    ids_len: *mut usize,
    codes: *mut *mut u64,
    codes_len: *mut usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_codes", || unsafe {
        let ids = OutArray::new(ids, ids_len, "ids", "ids_len")?;
        let codes = OutArray::new(codes, codes_len, "codes", "codes_len")?;
        let g = ptr::handle(g, "g")?;
        ids.set(g.0.ids().to_vec());
        codes.set(g.0.codes().to_vec());
        Ok(())
    })
}

/// `btp_gallery_search_batch` for packed probe codes of `prot` (the
/// gallery's protector): `codes_len / words` probes, every code checked
/// first; the results go into the same fixed slots (probe `i` gets
/// `out[i * k ..]`, its first `found[i]` filled, the rest zeroed), and the
/// same sizes are required before any search.
///
/// # Safety
/// `g`, `prot` live handles or NULL; `codes` NULL or `codes_len` readable
/// words; `out` NULL or `out_len` writable candidates; `found` NULL or
/// `found_len` writable sizes; no write to `g` may run at the same time.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn btp_gallery_search_packed(
    g: *const btp_gallery,
    prot: *const btp_protector,
    codes: *const u64,
    codes_len: usize,
    k: usize,
    threshold: f64,
    out: *mut btp_candidate,
    out_len: usize,
    found: *mut usize,
    found_len: usize,
) -> btp_result {
    // SAFETY: the caller upholds the pointer contract in `# Safety` above.
    ffi_call("btp_gallery_search_packed", || unsafe {
        let g = ptr::handle(g, "g")?;
        let p = ptr::handle(prot, "prot")?;
        let codes = ptr::slice(codes, codes_len, "codes")?;
        let probes = p.0.layout().check_batch(codes)?;
        let (dst, found) = result_slots(out, out_len, found, found_len, probes, k)?;
        let threshold = (!threshold.is_nan()).then_some(threshold);
        let lists = g.0.search_packed(&p.0, codes, k, threshold)?;
        write_results(lists, k, dst, found);
        Ok(())
    })
}
