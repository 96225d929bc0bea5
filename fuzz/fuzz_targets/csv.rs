//! Exchange CSV logs: headers as servers and `Export-Csv` write them, records split by
//! RFC 4180 and read by column name or by the default HttpProxy layout.
#![no_main]
use exsweep_logs::parse::{self, Columns};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let default = Columns::new(parse::HTTPPROXY_DEFAULT_FIELDS.split(','));
    let mut columns = None;
    for line in text.lines() {
        if let Some(header) = parse::csv_header(line) {
            columns = Some(header);
            continue;
        }
        let record = parse::split_csv(line);
        let fields = parse::exchange_csv(columns.as_ref().unwrap_or(&default), &record);
        parse::parse_timestamp(line);
        assert!(fields.time.is_none() || !record.is_empty());
    }
});
