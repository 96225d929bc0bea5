//! Velociraptor's `uploads.json`: any JSON, any times, any paths.
#![no_main]
use exsweep_evidence::velociraptor::parse_uploads_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for times in parse_uploads_json(data).values() {
        for t in [times.modified, times.accessed, times.created]
            .into_iter()
            .flatten()
        {
            let _ = exsweep_model::rfc3339(t);
        }
    }
});
