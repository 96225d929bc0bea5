//! IIS W3C records: the first line is the `#Fields:` header, each other line a record,
//! re-aligned when its length is not the header's, then read and its URL decoded.
#![no_main]
use exsweep_logs::parse::{self, Columns};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    let columns = Columns::new(header.trim_start_matches("#Fields:").trim().split(' '));
    for line in lines {
        let record = line.split(' ').map(str::to_string).collect();
        let fields = parse::iis(&columns, &parse::fit_w3c(&columns, record));
        parse::url_path_key(fields.url_stem.as_deref().unwrap_or(""));
        parse::query_text(fields.url_query.as_deref().unwrap_or(""));
    }
});
