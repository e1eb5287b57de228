//! The wrapper of every entry point: no panic crosses the C boundary, and
//! every failure leaves its message as the thread's last error.
//!
//! Entry points are plain `#[no_mangle] pub unsafe extern "C" fn`s (cbindgen
//! reads them; it does not expand macros) whose body is
//! `ffi_call("btp_name", || { ... })`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{btp_result, clear_last_error, set_last_error, FfiResult};

/// Runs the body of an entry point: clears the last error, catches panics
/// (giving `BTP_RESULT_PANIC`), and turns an error into its code and message.
pub fn ffi_call(name: &str, body: impl FnOnce() -> FfiResult) -> btp_result {
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => btp_result::Ok,
        Ok(Err(e)) => {
            set_last_error(&format!("{name}: {}", e.message));
            e.code
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("unknown panic");
            let message = format!("{name}: internal error (panic): {what}");
            // Dropping the payload could itself panic; keep it from unwinding.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            set_last_error(&message);
            btp_result::Panic
        }
    }
}

/// Runs a `*_free` body: panics are caught and dropped (there is no result).
pub fn ffi_free(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;
    use crate::error::{btp_last_error_message, FfiError};

    fn last() -> String {
        // SAFETY: the message pointer is valid until the next call.
        unsafe { CStr::from_ptr(btp_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_the_panic_code() {
        let r = ffi_call("btp_test", || panic!("boom {}", 42));
        assert_eq!(r, btp_result::Panic);
        assert!(last().contains("boom 42"), "{}", last());
        let r = ffi_call("btp_test", || std::panic::panic_any(7u8));
        assert_eq!(r, btp_result::Panic);
        assert!(last().contains("unknown panic"));
    }

    #[test]
    fn errors_set_and_success_clears_the_message() {
        let r = ffi_call("btp_x", || Err(FfiError::null("out")));
        assert_eq!(r, btp_result::NullArgument);
        assert_eq!(last(), "btp_x: argument `out` is NULL");
        assert_eq!(ffi_call("btp_x", || Ok(())), btp_result::Ok);
        assert_eq!(last(), "");
        ffi_free(|| panic!("in free"));
    }
}
