//! Template wire format: any bytes decode to a template or a typed error;
//! what decodes is canonical (encodes back to the same bytes).
#![no_main]

use btp::ProtectedTemplate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = ProtectedTemplate::from_bytes(data) {
        assert_eq!(
            t.to_bytes(),
            data,
            "a decoded template re-encodes differently"
        );
        assert_eq!(t.encoded_len(), data.len());
        let layout = t.layout();
        assert_eq!(t.words().len(), layout.words());
        assert_eq!(t.elements().len(), layout.len());
        let s = t
            .similarity(&t)
            .expect("a template is compatible with itself");
        assert_eq!(s, 1.0);
    }
});
