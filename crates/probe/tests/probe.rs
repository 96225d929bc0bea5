//! The probe against real servers on 127.0.0.1, started inside each test: the
//! testkit's hyper server answering as Exchange builds of several kinds do (over TLS
//! with a self-signed certificate made at start-up, or plain HTTP), and raw sockets
//! that answer as hostile or broken servers do. Each test checks the verdicts.

use exsweep_probe::probe::ProbeResult;
use exsweep_probe::run::{run, ProbeOptions};
use exsweep_probe::targets::{parse, TargetSpec};
use exsweep_testkit::exchange_server::{exchange, runtime as servers, serve, Exchange};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A raw socket server: reads the request head, then does whatever `reply` does.
fn raw<F, Fut>(reply: F) -> SocketAddr
where
    F: Fn(tokio::net::TcpStream, String) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let reply = Arc::new(reply);
    servers().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    continue;
                };
                let reply = reply.clone();
                tokio::spawn(async move {
                    let mut head = vec![0u8; 8192];
                    let n = stream.read(&mut head).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&head[..n]).into_owned();
                    reply(stream, head).await;
                });
            }
        });
        addr
    })
}

fn probe_all(targets: &[String], active: bool, timeout: Duration) -> Vec<ProbeResult> {
    let specs: Vec<TargetSpec> = targets.iter().map(|t| parse(t).unwrap()).collect();
    let options = ProbeOptions {
        concurrency: 8,
        timeout,
        active,
    };
    let mut results = Vec::new();
    run(specs, &options, |r| results.push(r)).unwrap();
    // Results arrive as probes finish; put them back in the order asked.
    results.sort_by_key(|r| {
        targets
            .iter()
            .position(|t| parse(t).unwrap() == parse(&r.target).unwrap())
    });
    assert_eq!(results.len(), targets.len());
    results
}

fn probe_one(target: String, active: bool) -> ProbeResult {
    probe_all(&[target], active, Duration::from_secs(5)).remove(0)
}

#[test]
fn a_vulnerable_exchange_2016_is_open_and_the_active_checks_confirm_it() {
    let addr = exchange(
        Exchange {
            manifest_version: Some("15.1.2176.2"),
            logon_cu: Some("15.1.2176"),
            proxylogon_open: true,
            proxyshell_open: true,
            notshell_mitigated: Some(false),
            ..Exchange::default()
        },
        true,
    );
    let r = probe_one(format!("{addr}"), true);
    assert_eq!(r.error, None, "{r:#?}");
    assert!(r.exchange);
    assert_eq!(r.build.as_deref(), Some("15.1.2176.2"));
    assert_eq!(
        (r.precision, r.method),
        (Some("exact"), Some("exporttool-manifest"))
    );
    for family in ["ProxyLogon", "ProxyShell", "ProxyNotShell/OWASSRF"] {
        assert_eq!(r.verdict(family), Some("open"), "{family}: {r:#?}");
    }
    assert!(r.open_cves.contains(&"CVE-2021-26855") && r.open_cves.contains(&"CVE-2022-41082"));
    let outcomes: Vec<(&str, &str)> = r.active.iter().map(|a| (a.check, a.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            ("proxylogon-ssrf", "vulnerable"),
            ("proxyshell-ssrf", "vulnerable"),
            ("proxynotshell-mitigation", "vulnerable")
        ]
    );
    assert_eq!(r.server_names, ["EXCH01"]);
    let tls = r.tls.as_deref().unwrap();
    assert!(tls.starts_with("untrusted certificate accepted"), "{tls}");
    assert!(r.unsupported.is_some(), "2016 CU19 gets no updates");
}

#[test]
fn a_patched_server_is_fixed_by_its_x_owa_version_alone() {
    let addr = exchange(
        Exchange {
            owa_version: Some("15.2.1544.14"),
            manifest_version: Some("15.2.1544.14"),
            logon_cu: Some("15.2.1544"),
            ..Exchange::default()
        },
        false,
    );
    let r = probe_one(format!("http://{addr}"), false);
    assert_eq!((r.scheme, r.tls.as_deref()), ("http", None));
    assert_eq!(r.build.as_deref(), Some("15.2.1544.14"));
    assert_eq!(r.method, Some("x-owa-version"));
    assert!(r.verdicts.iter().all(|v| v.verdict == "fixed"), "{r:#?}");
    assert!(r.open_cves.is_empty() && r.active.is_empty());
}

#[test]
fn the_logon_page_alone_gives_the_cu_and_says_possibly_patched() {
    let addr = exchange(
        Exchange {
            logon_cu: Some("15.2.1118"),
            ..Exchange::default()
        },
        false,
    );
    let r = probe_one(format!("http://{addr}"), false);
    assert_eq!(
        (r.build.as_deref(), r.precision, r.method),
        (Some("15.2.1118"), Some("cu"), Some("logon-build-path"))
    );
    assert_eq!(
        r.verdict("ProxyLogon"),
        Some("fixed"),
        "CU12 came after the 2021 fixes"
    );
    let pns = r
        .verdicts
        .iter()
        .find(|v| v.family == "ProxyNotShell/OWASSRF")
        .unwrap();
    assert_eq!(pns.verdict, "unknown");
    assert!(pns.why.contains("possibly patched"), "{}", pns.why);
}

#[test]
fn a_mitigated_server_is_mitigated_not_fixed() {
    let addr = exchange(
        Exchange {
            manifest_version: Some("15.2.1118.7"),
            notshell_mitigated: Some(true),
            ..Exchange::default()
        },
        false,
    );
    let r = probe_one(format!("http://{addr}"), true);
    assert_eq!(
        r.verdict("ProxyNotShell/OWASSRF"),
        Some("mitigated"),
        "{r:#?}"
    );
    let check = r
        .active
        .iter()
        .find(|a| a.check == "proxynotshell-mitigation")
        .unwrap();
    assert_eq!(check.outcome, "mitigated");
    assert!(check.detail.contains("OWASSRF"));
    assert_eq!(
        r.open_cves,
        ["CVE-2022-41082", "CVE-2022-41080"],
        "the rewrite rule stops 41040; OWASSRF goes around it on this unpatched build"
    );
    assert_eq!(r.verdict("ProxyShell"), Some("fixed"));
}

#[test]
fn a_server_that_is_not_exchange_gets_no_verdict() {
    let addr = serve(
        Arc::new(|_: &Request<Incoming>| {
            Ok(Response::builder()
                .status(200)
                .header("Server", "nginx")
                .body(Full::new(Bytes::from("<h1>Welcome</h1>")))
                .unwrap())
        }),
        false,
    );
    let r = probe_one(format!("http://{addr}"), true);
    assert_eq!(r.error, None);
    assert!(
        !r.exchange && r.verdicts.is_empty() && r.active.is_empty(),
        "{r:#?}"
    );
}

#[test]
fn slow_silent_garbage_and_broken_tls_servers_each_end_in_their_own_error() {
    let silent = raw(|stream, _| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    });
    let garbage = raw(|mut stream, _| async move {
        let _ = stream
            .write_all(b"SSH-2.0-OpenSSH_9.2\r\n\x00\x01\x02 nonsense\r\n\r\n")
            .await;
    });
    let broken_tls = raw(|mut stream, _| async move {
        let _ = stream
            .write_all(b"\x15\x03\x03\x00\x02\x02\x28 not a server hello at all")
            .await;
    });
    let closed = servers().block_on(async {
        // A port nothing listens on: bind, learn it, close.
        TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
    });
    let targets = [
        format!("http://{silent}"),
        format!("http://{garbage}"),
        format!("https://{broken_tls}"),
        format!("http://{closed}"),
    ];
    let results = probe_all(&targets, false, Duration::from_millis(800));
    let errors: Vec<&str> = results
        .iter()
        .map(|r| r.error.as_deref().unwrap_or(""))
        .collect();
    assert!(errors[0].contains("no answer within 0.8 s"), "{errors:?}");
    assert!(errors[1].contains("not a usable HTTP answer"), "{errors:?}");
    assert!(errors[2].contains("TLS handshake failed"), "{errors:?}");
    assert!(errors[3].contains("cannot connect"), "{errors:?}");
    assert!(results.iter().all(|r| r.verdicts.is_empty()));
}

#[test]
fn hostile_answers_end_in_a_clear_error_or_a_bounded_result() {
    let huge_headers = raw(|mut stream, _| async move {
        let pad = "A".repeat(1 << 20);
        let _ = stream
            .write_all(format!("HTTP/1.1 200 OK\r\nX-Pad: {pad}\r\n\r\n").as_bytes())
            .await;
    });
    let endless_body = raw(|mut stream, _| async move {
        let _ = stream
            .write_all(
                b"HTTP/1.1 200 OK\r\nX-OWA-Version: 15.2.1544.14\r\nConnection: close\r\n\r\n",
            )
            .await;
        let chunk = vec![b'A'; 64 << 10];
        while stream.write_all(&chunk).await.is_ok() {}
    });
    let redirect_loop = raw(|mut stream, head| async move {
        let to = if head.starts_with("GET /owa/auth/logon.aspx") {
            "/loop"
        } else {
            "/owa/auth/logon.aspx"
        };
        let _ = stream
            .write_all(
                format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n")
                    .as_bytes(),
            )
            .await;
    });
    let bad_utf8 = raw(|mut stream, _| async move {
        let body: &[u8] =
            b"<html>\xff\xfe<link href=\"/owa/auth/15.2.1118/themes/x.css\">\x1b[2J</html>";
        let mut answer =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n", body.len()).into_bytes();
        answer.extend_from_slice(b"X-FEServer: EX\xff\xfeCH\r\n\r\n");
        answer.extend_from_slice(body);
        let _ = stream.write_all(&answer).await;
    });
    let control_in_header = raw(|mut stream, _| async move {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nX-FEServer: EX\x1b[31mCH\r\nContent-Length: 0\r\n\r\n")
            .await;
    });
    let off_host = raw(|mut stream, _| async move {
        let _ = stream.write_all(b"HTTP/1.1 301 Moved\r\nLocation: https://attacker.example.net/\r\nContent-Length: 0\r\n\r\n").await;
    });
    let targets = [
        format!("http://{huge_headers}"),
        format!("http://{endless_body}"),
        format!("http://{redirect_loop}"),
        format!("http://{bad_utf8}"),
        format!("http://{off_host}"),
        format!("http://{control_in_header}"),
    ];
    let results = probe_all(&targets, false, Duration::from_secs(5));
    let error = |i: usize| results[i].error.clone().unwrap_or_default();
    assert!(
        error(0).contains("header block exceeds"),
        "{:#?}",
        results[0]
    );
    assert_eq!(results[1].error, None, "{:#?}", results[1]);
    assert_eq!(results[1].build.as_deref(), Some("15.2.1544.14"));
    assert!(
        results[1].notes.iter().any(|n| n.contains("cut at")),
        "{:#?}",
        results[1]
    );
    assert!(error(2).contains("redirect loop"), "{:#?}", results[2]);
    assert_eq!(
        results[3].build.as_deref(),
        Some("15.2.1118"),
        "{:#?}",
        results[3]
    );
    let name = &results[3].server_names[0];
    assert!(name.starts_with("EX") && name.ends_with("CH"), "{name:?}");
    assert!(error(4).contains("off the host"), "{:#?}", results[4]);
    // A control character in a header is not HTTP: hyper refuses it, with the reason.
    assert!(
        error(5).contains("invalid HTTP header"),
        "{:#?}",
        results[5]
    );
}
