//! Scheme parameter encoding: any bytes decode or give a typed error; what
//! decodes is canonical, and small decoded schemes build and protect.
#![no_main]

use btp::{MasterKey, Protector, SchemeParams};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(params) = SchemeParams::from_bytes(data) else {
        return;
    };
    assert_eq!(
        params.to_bytes(),
        data,
        "decoded parameters re-encode differently"
    );
    // Building a transform draws its matrix: keep the fuzzer fast by
    // building only small ones (the decoder's own limits are tested above).
    let dim = params.dim();
    if dim > 64 || params.layout().len() > 256 {
        return;
    }
    let mk = MasterKey::from_bytes(&[0x42; 32]).expect("32 bytes");
    let prot = Protector::new(params, &mk, "fuzz", 1, None).expect("decoded parameters are valid");
    let x: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.37).sin() + 0.01).collect();
    match prot.protect(&x) {
        Ok(t) => {
            assert_eq!(prot.compare(&t, &t).expect("same protector"), 1.0);
            let batch = prot.protect_batch(&x).expect("one good row");
            assert_eq!(batch[0], t, "batch and single protection differ");
        }
        Err(e) => assert!(matches!(e, btp::Error::ZeroNorm), "{e}"),
    }
});
