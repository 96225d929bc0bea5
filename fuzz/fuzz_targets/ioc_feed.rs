//! User indicator feeds in Loki's formats and plain lists, then looked up.
#![no_main]
use exsweep_indicators::IndicatorSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut set = IndicatorSet::default();
    if set.load_feed_bytes("fuzz", data).is_ok() {
        set.path_hits(r"C:\inetpub\wwwroot\aspnet_client\x.aspx", None, true);
        set.hash_hit("d41d8cd98f00b204e9800998ecf8427e");
    }
});
