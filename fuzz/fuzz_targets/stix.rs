//! STIX 2.1 bundles as user feeds: the input is read as JSON whatever it starts with.
#![no_main]
use exsweep_indicators::IndicatorSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut json = b"{".to_vec();
    json.extend_from_slice(data.strip_prefix(b"{").unwrap_or(data));
    let mut set = IndicatorSet::default();
    if set.load_feed_bytes("fuzz.json", &json).is_ok() {
        set.path_hits(r"C:\ProgramData\it.zip", None, false);
    }
});
