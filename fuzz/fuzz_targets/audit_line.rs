//! Audit export lines (what an auditor's tool reads back): any text parses
//! to an event or a typed error; a parsed line prints back identically; a
//! run of lines verifies or gives a typed error.
#![no_main]

use btp::keys::KeyUsage;
use btp::store::audit::{parse_jsonl_line, verify_events};
use btp::store::AuditHead;
use btp::MasterKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let mut events = Vec::new();
    for line in text.split_inclusive('\n') {
        let Ok(event) = parse_jsonl_line(line) else {
            continue;
        };
        let body = line.trim_end_matches('\n').trim_end_matches('\r');
        let again = event
            .to_jsonl_line()
            .expect("a parsed event has a canonical form");
        assert_eq!(again, body, "a parsed line prints back differently");
        events.push(event);
    }
    if events.is_empty() {
        return;
    }
    let mk = MasterKey::from_bytes(&[0x17; 32]).expect("32 bytes");
    let key = mk.derive(&KeyUsage::Audit { store_id: &[0; 16] });
    let _ = verify_events(&events, &key, None);
    let anchor = AuditHead {
        seq: events[0].seq.saturating_sub(1),
        mac: [0; 32],
    };
    let _ = verify_events(&events, &key, Some(&anchor));
});
