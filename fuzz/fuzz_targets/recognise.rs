//! Loose files told apart by their first bytes.
#![no_main]
use exsweep_engine::recognise::recognise_text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = recognise_text(data, "Ecp");
});
