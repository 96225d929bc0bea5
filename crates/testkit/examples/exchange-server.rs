//! A loopback Exchange front end for `bench/probe.sh`: listens on the address given
//! (default `0.0.0.0:8080`, so every 127.x.y.z reaches it) and answers as an
//! unpatched Exchange 2019 CU8 whose logon page sends `X-OWA-Version`, so the
//! probe's passive run and curl each make one request per target.

use exsweep_testkit::exchange_server::{answer, serve_on, Exchange};
use std::sync::Arc;

fn main() {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "0.0.0.0:8080".into());
    let kind = Exchange {
        owa_version: Some("15.2.792.3"),
        logon_cu: Some("15.2.792"),
        ..Exchange::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .unwrap_or_else(|e| panic!("cannot listen on {listen}: {e}"));
        eprintln!("exchange-server: listening on {listen}");
        serve_on(listener, Arc::new(move |r| answer(&kind, r)), false).await;
    });
}
