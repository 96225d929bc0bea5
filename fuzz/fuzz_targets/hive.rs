//! Registry hives: the Exchange setup key and the computer name read from any bytes.
#![no_main]
use exsweep_evidence::registry::{computer_name, exchange_setup};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = exchange_setup(data);
    let _ = computer_name(data);
});
