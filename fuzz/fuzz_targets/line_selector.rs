//! The streaming line selector with the request logs' needles and their second
//! conditions, fed in chunks of a size the input chooses: every line it hands on is
//! one line.
#![no_main]
use exsweep_engine::checks::logs::needles;
use exsweep_logs::lines::{LineSelector, LineSink, Needles};
use exsweep_logs::LogSource;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static REQUESTS: LazyLock<Needles> =
    LazyLock::new(|| Needles::new(&needles(&LogSource::Iis).expect("request logs have needles")));

struct Lines(u64);

impl LineSink for Lines {
    fn line(&mut self, line: &[u8], number: u64) {
        assert!(!line.contains(&b'\n'));
        assert!(number > self.0 || number == 0);
        self.0 = number;
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&size, data)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(size).max(1);
    for selection in [&*REQUESTS, &Needles::every_line()] {
        let mut selector = LineSelector::new(selection, true);
        let mut sink = Lines(0);
        for piece in data.chunks(chunk) {
            selector.feed(piece, &mut sink);
        }
        selector.finish(&mut sink, true);
    }
});
