//! Event log files: chunks and records as the `evtx` crate reads them, flattened to
//! exsweep's records, and the channel an exported file is recognised by.
#![no_main]
use exsweep_logs::evtx::{first_channel, read_records, RecordRead};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

fuzz_target!(|data: &[u8]| {
    let _ = read_records(Cursor::new(data), |record| {
        if let RecordRead::Event(event) = record {
            let _ = event.text();
        }
    });
    let _ = first_channel(Cursor::new(data));
});
