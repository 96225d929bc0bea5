//! Velociraptor's percent-encoded stored names and the Windows paths made of them.
#![no_main]
use exsweep_evidence::velociraptor::{decode_name, drive_letter, windows_path};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let components: Vec<String> = text.split('/').map(decode_name).collect();
    for c in &components {
        drive_letter(c);
    }
    let _ = windows_path(&components);
});
