//! Every log check on hostile lines of every kind of text log: the request checks
//! (URL and query decoding, page folders, commands, tunnels), Test-ProxyLogon's
//! conditions, ECP event data and the OAB generator's messages, read raw.
#![no_main]
use exsweep_engine::checks::logs::{check_line, LogContext};
use exsweep_engine::webmap::WebMap;
use exsweep_evidence::known::DEFAULT_EXCHANGE_ROOT;
use exsweep_indicators::IndicatorSet;
use exsweep_logs::parse::{self, Columns};
use exsweep_logs::LogSource;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static SERVER: LazyLock<(WebMap, IndicatorSet)> = LazyLock::new(|| {
    (
        WebMap::defaults(DEFAULT_EXCHANGE_ROOT),
        IndicatorSet::builtin(),
    )
});

fuzz_target!(|data: &[u8]| {
    let ctx = LogContext {
        exchange_root: DEFAULT_EXCHANGE_ROOT,
        web_map: &SERVER.0,
        indicators: &SERVER.1,
    };
    let text = String::from_utf8_lossy(data);
    let http_proxy = Columns::new(parse::HTTPPROXY_DEFAULT_FIELDS.split(','));
    let iis = Columns::new(parse::IIS_DEFAULT_FIELDS.split(' '));
    let ecp = Columns::new(parse::ECP_SERVER_DEFAULT_FIELDS.split(','));
    let mut hits = Vec::new();
    for line in text.lines() {
        let csv = parse::split_csv(line);
        let w3c: Vec<String> = line.split(' ').map(str::to_string).collect();
        let cases = [
            (
                LogSource::HttpProxy {
                    protocol: "Ecp".into(),
                },
                parse::exchange_csv(&http_proxy, &csv),
            ),
            (LogSource::Iis, parse::iis(&iis, &parse::fit_w3c(&iis, w3c))),
            (LogSource::EcpServer, parse::exchange_csv(&ecp, &csv)),
            (LogSource::OabGenerator, parse::free_text(line)),
            (LogSource::RpsHttp, parse::exchange_csv(&http_proxy, &csv)),
        ];
        for (source, fields) in cases {
            check_line(&source, &fields, line, &ctx, &mut hits);
        }
        hits.clear();
    }
});
