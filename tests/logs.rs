//! Log hunt tests on generated logs: every planted trace is found with the checks it
//! should raise, the benign traffic raises nothing, and broken input is survived.

use exsweep_engine::hunt::HuntOptions;
use exsweep_engine::progress::Silent;
use exsweep_engine::scan::{self, ScanRequest};
use exsweep_model::{Evidence, LogCoverage, LogStatus, Report, Severity};
use exsweep_testkit::logs as fixtures;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

fn scan(root: &Path, hunt: HuntOptions) -> Report {
    let request = ScanRequest {
        hunt,
        ..ScanRequest::new(root.to_path_buf())
    };
    scan::run(&request.validate().unwrap(), &Silent).unwrap()
}

/// The coverage of one log source, by its name.
fn log_coverage<'r>(report: &'r Report, source: &str) -> &'r LogCoverage {
    report
        .coverage
        .logs
        .iter()
        .find(|c| c.source == source)
        .unwrap_or_else(|| panic!("no coverage line for {source}"))
}

/// (log path, line or record) → the check IDs raised there.
fn log_hits(report: &Report) -> BTreeMap<(String, u64), BTreeSet<&str>> {
    let mut hits: BTreeMap<(String, u64), BTreeSet<&str>> = BTreeMap::new();
    for f in &report.findings {
        let at = match &f.evidence {
            Evidence::LogLine(l) => (l.windows_path.clone(), l.line),
            Evidence::EventRecord(e) => (e.windows_path.clone(), e.record_id),
            _ => continue,
        };
        hits.entry(at).or_default().insert(&f.check_id);
    }
    hits
}

#[test]
fn every_trace_fires_and_benign_traffic_stays_silent() {
    let dir = tempfile::tempdir().unwrap();
    let traces = fixtures::write(dir.path(), 3 << 20).unwrap();
    assert!(traces.len() >= 10);
    let report = scan(dir.path(), HuntOptions::default());
    let expected: BTreeMap<(String, u64), BTreeSet<&'static str>> = traces
        .iter()
        .map(|t| {
            (
                (t.windows_path.clone(), t.line),
                t.check_ids.iter().copied().collect(),
            )
        })
        .collect();
    assert_eq!(log_hits(&report), expected);
    for cov in report
        .coverage
        .logs
        .iter()
        .filter(|c| !c.source.starts_with("EVTX"))
    {
        assert!(cov.files == 1, "{cov:?}");
        assert_eq!(cov.status, LogStatus::Ok, "{cov:?}");
        assert_eq!(cov.parse_failures, 0, "{cov:?}");
        assert!(cov.consequence.is_none(), "{cov:?}");
    }
    // One coverage line per HttpProxy protocol folder, each judged on its own.
    let ecp = log_coverage(&report, r"HttpProxy\Ecp");
    let mapi = log_coverage(&report, r"HttpProxy\Mapi");
    assert!(ecp.lines + mapi.lines > 3_000, "{ecp:?} {mapi:?}");
    assert!(
        ecp.windows_path.ends_with(r"Logging\HttpProxy\Ecp"),
        "{ecp:?}"
    );
}

#[test]
fn time_window_and_follow() {
    let dir = tempfile::tempdir().unwrap();
    fixtures::write(dir.path(), 1 << 20).unwrap();
    let before_attack = chrono::DateTime::parse_from_rfc3339("2021-03-01T00:00:00Z").unwrap();
    let report = scan(
        dir.path(),
        HuntOptions {
            until: Some(before_attack.into()),
            ..HuntOptions::default()
        },
    );
    assert!(
        report.findings.iter().all(|f| f.file().is_some()),
        "nothing happened before March"
    );

    let report = scan(
        dir.path(),
        HuntOptions {
            follow: Some("5.2.69.14".into()),
            ..HuntOptions::default()
        },
    );
    let sources: BTreeSet<&str> = report.trail.iter().map(|t| &*t.line.source).collect();
    assert_eq!(sources, BTreeSet::from(["HttpProxy", "IIS"]));
    assert_eq!(report.trail.len(), 3);
    assert!(report
        .trail
        .windows(2)
        .all(|w| w[0].line.time <= w[1].line.time));

    let report = scan(
        dir.path(),
        HuntOptions {
            follow: Some("6f2a1d70-0000-4000-a000-000000000003".into()),
            ..HuntOptions::default()
        },
    );
    assert_eq!(report.trail.len(), 1);
    assert_eq!(
        report.trail[0].entities.request_id.as_deref(),
        Some("6f2a1d70-0000-4000-a000-000000000003")
    );
}

/// An HttpProxy row as PowerShell's `Export-Csv` quotes it, with the SSRF anchor.
fn quoted_ssrf_row(request_id: &str) -> String {
    format!(
        r#""2021-03-03T02:50:12.000Z","{request_id}","Ecp","/ecp/y.js","ServerInfo~a]@exch01:444/ecp/x.ecp#","203.0.113.7","200""#
    )
}

#[test]
fn headers_as_extracts_come_quoted_missing_or_misfit() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = dir
        .path()
        .join("Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Ecp");
    fs::create_dir_all(&proxy).unwrap();
    let header = r#""DateTime","RequestId","Protocol","UrlStem","AnchorMailbox","ClientIpAddress","HttpStatus""#;
    // Export-Csv's output, with a BOM and CRLF, the header repeated as a concatenation leaves it.
    let exported = format!(
        "\u{feff}{header}\r\n{}\r\n{header}\r\n{}\r\n",
        quoted_ssrf_row("q1"),
        quoted_ssrf_row("q2")
    );
    fs::write(proxy.join("tpl-export.csv.log"), exported).unwrap();
    // A row with one field too few for its header.
    let misfit = format!(
        "{header}\n{}\n\"2021-03-03T02:51:00.000Z\",\"q4\",\"Ecp\"\n",
        quoted_ssrf_row("q3")
    );
    fs::write(proxy.join("misfit.log"), misfit).unwrap();
    // No header at all: read with Exchange's default HttpProxy layout, and said so.
    let mut row = vec![
        "";
        exsweep_logs::parse::HTTPPROXY_DEFAULT_FIELDS
            .split(',')
            .count()
    ];
    let names: Vec<&str> = exsweep_logs::parse::HTTPPROXY_DEFAULT_FIELDS
        .split(',')
        .collect();
    for (name, value) in [
        ("DateTime", "2021-03-03T02:52:00.000Z"),
        ("RequestId", "q5"),
        ("UrlStem", "/ecp/y.js"),
        ("AnchorMailbox", "ServerInfo~a]@exch01:444/ecp/x.ecp#"),
        ("HttpStatus", "200"),
    ] {
        row[names.iter().position(|n| *n == name).unwrap()] = value;
    }
    fs::write(proxy.join("headless.log"), row.join(",") + "\n").unwrap();

    let report = scan(dir.path(), HuntOptions::default());
    let ssrf: BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|f| f.check_id == "EXS-LOG-001")
        .filter_map(|f| f.entities.request_id.as_deref())
        .collect();
    assert_eq!(ssrf, BTreeSet::from(["q1", "q2", "q3", "q5"]));
    assert_eq!(log_coverage(&report, r"HttpProxy\Ecp").parse_failures, 0);
    let warnings = report.coverage.warnings.join("\n");
    assert!(
        warnings.contains("headless.log: no header line before the first record; read with the default HttpProxy layout"),
        "{warnings}"
    );
    assert!(
        warnings
            .contains("misfit.log: 1 record(s) with another number of fields than the header's 7"),
        "{warnings}"
    );
    assert!(!warnings.contains("tpl-export"), "{warnings}");
}

#[test]
fn broken_logs_are_warned_about_and_the_hunt_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let iis_dir = root.join("inetpub/logs/LogFiles/W3SVC1");
    fs::create_dir_all(&iis_dir).unwrap();
    let fields = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n";
    let shell = "2021-03-03 02:50:00 10.0.0.5 POST /aspnet_client/x.aspx - 443 - 198.51.100.9 curl/7.1 - 200 0 0 1\r\n";
    // Garbage, a truncated line, a NUL run, a 3 MiB line with no newline, then the real hit.
    let mut damaged = Vec::new();
    damaged.extend_from_slice(fields.as_bytes());
    damaged.extend_from_slice(b"2021-03-03 02:49:00 10.0.0.5 GET /owa/auth/\r\n");
    damaged.extend_from_slice(&[0u8; 4096]);
    damaged.extend_from_slice(b"\r\n\xff\xfe garbage /ecp/ \x01\x02\r\n");
    damaged.extend(std::iter::repeat_n(b'A', 3 << 20));
    damaged.extend_from_slice(b"\r\n");
    damaged.extend_from_slice(shell.as_bytes());
    fs::write(iis_dir.join("u_ex210303.log"), &damaged).unwrap();
    // A mid-file field change: the second layout moves c-ip and cs-method.
    let mut redefined = fields.as_bytes().to_vec();
    redefined.extend_from_slice(b"#Fields: date time c-ip cs-method cs-uri-stem sc-status\r\n");
    redefined.extend_from_slice(
        b"2021-03-04 01:00:00 198.51.100.10 POST /owa/auth/Current/x.aspx 200\r\n",
    );
    fs::write(iis_dir.join("u_ex210304.log"), &redefined).unwrap();
    // A wrong header: HttpProxy with IIS fields.
    let proxy_dir = root.join("Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Ecp");
    fs::create_dir_all(&proxy_dir).unwrap();
    fs::write(
        proxy_dir.join("HttpProxy_2021030300-1.LOG"),
        format!("{fields}nonsense,row\r\n"),
    )
    .unwrap();

    let report = scan(root, HuntOptions::default());
    let urls: BTreeSet<String> = report
        .findings
        .iter()
        .filter(|f| f.check_id == "EXS-LOG-007")
        .filter_map(|f| f.entities.url.clone())
        .collect();
    assert_eq!(
        urls,
        BTreeSet::from([
            "/aspnet_client/x.aspx".to_string(),
            "/owa/auth/Current/x.aspx".to_string()
        ])
    );
    let warnings = report.coverage.warnings.join("\n");
    assert!(warnings.contains("NUL byte"), "{warnings}");
    assert!(warnings.contains("over 1 MiB skipped"), "{warnings}");
    let iis = log_coverage(&report, "IIS W3SVC1");
    assert!(iis.parse_failures >= 1 && iis.parsed >= 2, "{iis:?}");
    // Its only row does not fit the header it names: nothing in it could be read.
    let proxy = log_coverage(&report, r"HttpProxy\Ecp");
    assert_eq!((proxy.parsed, proxy.parse_failures), (0, 1), "{proxy:?}");
    assert_eq!(proxy.status, LogStatus::Damaged, "{proxy:?}");
    assert!(report
        .verdict
        .not_assessed
        .iter()
        .any(|n| n.contains(r"HttpProxy\Ecp")));
}

/// Real EVTX samples from `../shared/data/evtx` (MIT / CC0), placed where a server keeps them.
#[test]
fn real_event_logs_including_damaged_ones() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/evtx");
    if !samples.exists() {
        eprintln!("skipped: {} is absent", samples.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("Windows/System32/winevt/Logs");
    fs::create_dir_all(&logs).unwrap();
    for (sample, name) in [
        (
            "MSExchange_Management_wec.evtx",
            "MSExchange Management.evtx",
        ),
        ("sample_with_a_bad_chunk_magic.evtx", "Application.evtx"),
        ("security_bad_string_cache.evtx", "Security.evtx"),
        (
            "sample-with-zero-data-size-event.evtx",
            "Microsoft-Windows-Sysmon%4Operational.evtx",
        ),
        // An archive Windows wrote when the management log filled up.
        (
            "msexchange-management-install-transportagent.evtx",
            "Archive-MSExchange Management-2021-03-04-10-00-00-000.evtx",
        ),
    ] {
        fs::copy(samples.join(sample), logs.join(name)).unwrap();
    }
    fs::write(
        logs.join("Microsoft-Windows-Windows Defender%4Operational.evtx"),
        b"ElfFile\0truncated",
    )
    .unwrap();
    let report = scan(dir.path(), HuntOptions::default());
    let cmdlets: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.check_id == "EXS-LOG-013")
        .map(|f| f.detail.as_str())
        .collect();
    assert!(
        cmdlets
            .iter()
            .any(|d| d.starts_with("Set-Mailbox") && d.contains("forwarding")),
        "{cmdlets:#?}"
    );
    let management = log_coverage(&report, "EVTX MSExchange Management");
    assert!(
        management.files == 2 && management.lines > 0 && management.first.is_some(),
        "{management:?}"
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.check_id == "EXS-LOG-013" && f.detail.contains("TransportAgent")),
        "the archived log's transport agent install: {cmdlets:#?}"
    );
    // No System log in this collection: log clearing was not assessed, and said so.
    let system = log_coverage(&report, "EVTX System");
    assert_eq!(system.files, 0);
    assert!(system
        .consequence
        .as_deref()
        .is_some_and(|c| c.contains("(104)")));
    for damaged in ["EVTX Application", "EVTX Security", "EVTX Sysmon"] {
        assert_eq!(
            log_coverage(&report, damaged).files,
            1,
            "{damaged} read despite damage"
        );
    }
    assert!(
        report
            .coverage
            .warnings
            .iter()
            .any(|w| w.contains("Defender") && w.contains("not a readable EVTX")),
        "{:#?}",
        report.coverage.warnings
    );
}

#[test]
fn urls_are_compared_percent_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let client = root.join("inetpub/wwwroot/aspnet_client");
    fs::create_dir_all(&client).unwrap();
    fs::write(
        client.join("disc over.aspx"),
        exsweep_testkit::samples::china_chopper(),
    )
    .unwrap();
    let iis = root.join("inetpub/logs/LogFiles/W3SVC1");
    fs::create_dir_all(&iis).unwrap();
    fs::write(
        iis.join("u_ex210304.log"),
        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n\
         2021-03-04 07:12:00 10.0.0.5 POST /owa/mastermailbox%40corp.example/powershell - 443 - 203.0.113.50 python-requests/2.26.0 - 200 0 0 15\n\
         2021-03-04 07:13:00 10.0.0.5 POST /aspnet_client/Disc%20Over.aspx - 443 - 203.0.113.51 Mozilla/5.0 - 200 0 0 15\n",
    )
    .unwrap();
    let report = scan(root, HuntOptions::default());
    let owassrf = report
        .findings
        .iter()
        .find(|f| f.check_id == "EXS-LOG-009")
        .expect("OWASSRF with %40 in the mailbox");
    assert_eq!(owassrf.severity, exsweep_model::Severity::Critical);
    let used = report
        .findings
        .iter()
        .find(|f| f.check_id == "EXS-LOG-012")
        .expect("the shell's request, logged with %20");
    assert_eq!(used.entities.client_ip.as_deref(), Some("203.0.113.51"));
    assert!(used.detail.contains("disc over.aspx"), "{}", used.detail);
}

const IIS_FIELDS: &str = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

/// An IIS line of the default layout.
fn iis_line(method: &str, stem: &str, query: &str, status: &str) -> String {
    format!("2021-03-04 07:12:00 10.0.0.5 {method} {stem} {query} 443 - 203.0.113.50 Mozilla/5.0 - {status} 0 0 15")
}

#[test]
fn web_shell_use_is_seen_from_the_logs_alone() {
    use exsweep_model::Severity::{Critical, High, Low, Medium};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A log-only collection: IIS and HttpProxy logs, no web roots.
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a [(&'a str, Severity)],
    );
    let cases: &[Case] = &[
        (
            "GET",
            "/aspnet_client/system_web/abc.aspx",
            "-",
            "200",
            &[("EXS-LOG-007", High)],
        ),
        (
            "POST",
            "/owa/auth/Current/themes/resources/x.aspx",
            "-",
            "200",
            &[("EXS-LOG-007", Critical)],
        ),
        // A shell name seen in Exchange intrusions, not there (404): a probe.
        (
            "GET",
            "/owa/auth/errorEE.aspx",
            "-",
            "404",
            &[("EXS-LOG-007", Medium)],
        ),
        (
            "GET",
            "/owa/auth/nothere.aspx",
            "-",
            "404",
            &[("EXS-LOG-007", Low)],
        ),
        // A path Microsoft listed, answering: the shell in use.
        (
            "GET",
            "/owa/auth/8Lw7tAhF9i1pJnRo.aspx",
            "-",
            "200",
            &[("EXS-LOG-007", Critical)],
        ),
        (
            "GET",
            "/ecp/auth/y.aspx",
            "-",
            "500",
            &[("EXS-LOG-007", High)],
        ),
        (
            "GET",
            "/owa/15.2.858.5/scripts/x.aspx",
            "-",
            "200",
            &[("EXS-LOG-007", High)],
        ),
        (
            "GET",
            "/aspnet_client/x.aspx",
            "cmd=whoami",
            "200",
            &[("EXS-LOG-007", High), ("EXS-LOG-018", Critical)],
        ),
        (
            "GET",
            "/owa/foo.aspx",
            "c=powershell+-enc+JABjAD0A",
            "200",
            &[("EXS-LOG-018", Critical)],
        ),
        (
            "GET",
            "/owa/foo.aspx",
            "c=net%20user%20/domain",
            "404",
            &[("EXS-LOG-018", Medium)],
        ),
        (
            "POST",
            "/ecp/x.aspx",
            "cmd=connect&target=10.0.0.9&port=3389",
            "200",
            &[("EXS-LOG-019", Critical)],
        ),
        (
            "POST",
            "/owa/x.aspx",
            "proxy&port=445&ip=10.0.0.9",
            "200",
            &[("EXS-LOG-019", Critical)],
        ),
        (
            "GET",
            "/owa/tunnel.ashx",
            "-",
            "200",
            &[("EXS-LOG-019", Critical)],
        ),
        // Benign: the logon page and its resources, ActiveSync's Cmd=, OWA's scripts.
        (
            "GET",
            "/owa/auth/logon.aspx",
            "replaceCurrent=1&url=https%3a%2f%2fmail",
            "200",
            &[],
        ),
        (
            "GET",
            "/owa/auth/15.2.858.5/themes/resources/logon.css",
            "-",
            "200",
            &[],
        ),
        (
            "GET",
            "/owa/15.2.858.5/scripts/premium/boot.js",
            "-",
            "200",
            &[],
        ),
        ("POST", "/owa/auth.owa", "-", "302", &[]),
        (
            "POST",
            "/Microsoft-Server-ActiveSync/default.eas",
            "Cmd=Sync&User=alice&DeviceId=ABC&DeviceType=iPhone",
            "200",
            &[],
        ),
        (
            "GET",
            "/ecp/15.2.858.5/themes/resources/x.png",
            "-",
            "200",
            &[],
        ),
        (
            "POST",
            "/ecp/DDI/DDIService.svc/GetList",
            "reqId=1&schema=Mailbox",
            "200",
            &[],
        ),
    ];
    let mut iis = format!("{IIS_FIELDS}\n");
    for (method, stem, query, status, _) in cases {
        iis.push_str(&iis_line(method, stem, query, status));
        iis.push('\n');
    }
    // One ProxyLogon request in both logs: IIS has HttpProxy's RequestId as cafeReqId.
    let id = "6f2a1d70-0000-4000-a000-0000000000aa";
    iis.push_str(&iis_line(
        "POST",
        "/ecp/y.js",
        &format!("&CorrelationID=<empty>;&cafeReqId={id};"),
        "200",
    ));
    iis.push('\n');
    let iis_dir = root.join("inetpub/logs/LogFiles/W3SVC1");
    fs::create_dir_all(&iis_dir).unwrap();
    fs::write(iis_dir.join("u_ex210304.log"), iis).unwrap();
    let proxy_dir = root.join("Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Ecp");
    fs::create_dir_all(&proxy_dir).unwrap();
    fs::write(
        proxy_dir.join("HttpProxy_2021030407-1.LOG"),
        format!(
            "DateTime,RequestId,UrlStem,Method,HttpStatus,ClientIpAddress,UserAgent\n\
             2021-03-04T07:12:00.250Z,{id},/ecp/y.js,POST,200,203.0.113.50,Mozilla/5.0\n"
        ),
    )
    .unwrap();

    let report = scan(root, HuntOptions::default());
    let iis_path = r"C:\inetpub\logs\LogFiles\W3SVC1\u_ex210304.log";
    for (i, (method, stem, query, status, expected)) in cases.iter().enumerate() {
        let line = i as u64 + 2;
        let mut got: Vec<(&str, Severity)> = report
            .findings
            .iter()
            .filter(|f| matches!(&f.evidence, Evidence::LogLine(l) if l.windows_path == iis_path && l.line == line))
            .map(|f| (f.check_id.as_ref(), f.severity))
            .collect();
        got.sort();
        assert_eq!(got, *expected, "{method} {stem} {query} {status}");
    }
    let known = report
        .findings
        .iter()
        .find(|f| f.detail.contains("8Lw7tAhF9i1pJnRo"))
        .unwrap();
    assert!(known.detail.contains("known web shell"), "{}", known.detail);
    // The request logged twice is one finding, which names the other log.
    let traces: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.check_id == "EXS-LOG-006")
        .collect();
    assert_eq!(traces.len(), 1, "{traces:#?}");
    assert!(
        traces[0].detail.contains("also logged in"),
        "{}",
        traces[0].detail
    );
    // The verdict rests on the logs, and says the files were not there to sweep.
    assert_eq!(
        report.verdict.level,
        exsweep_model::VerdictLevel::Compromised
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn zip_of(path: &Path, members: &[(&str, &[u8])]) {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(fs::File::create(path).unwrap());
    for (name, bytes) in members {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// What a loose file was taken for: the group that names it.
fn taken_for<'r>(report: &'r Report, file: &str) -> &'r str {
    report
        .coverage
        .recognised
        .iter()
        .find(|group| group.files.iter().any(|f| f == file))
        .map(|group| group.taken_for.as_str())
        .unwrap_or_else(|| panic!("{file} not in {:#?}", report.coverage.recognised))
}

#[test]
fn loose_logs_of_more_than_a_batch_are_all_read_and_counted_once() {
    use exsweep_engine::inventory::LOOSE_BATCH;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("exports");
    // Enough IIS logs for two batches, in two folders; every 97th holds a request to a
    // web shell. And files that are no log.
    let logs = LOOSE_BATCH + 300;
    let mut shells = 0;
    for i in 0..logs {
        let folder = root.join(if i % 2 == 0 { "even" } else { "odd" });
        fs::create_dir_all(&folder).unwrap();
        let line = if i % 97 == 0 {
            shells += 1;
            iis_line("POST", "/aspnet_client/system_web/x.aspx", "-", "200")
        } else {
            iis_line("GET", "/owa/", "-", "200")
        };
        fs::write(
            folder.join(format!("u_ex{i:05}.log")),
            format!("{IIS_FIELDS}\n{line}\n"),
        )
        .unwrap();
    }
    for i in 0..10 {
        fs::write(root.join(format!("note-{i}.txt")), "nothing to see\n").unwrap();
    }
    // HttpProxy logs in two protocol folders: one coverage source each, whichever
    // batches their files fall in.
    for (protocol, files) in [("Owa", 3), ("Ecp", 2)] {
        fs::create_dir_all(root.join(protocol)).unwrap();
        for i in 0..files {
            fs::write(
                root.join(protocol)
                    .join(format!("HttpProxy_2021030302-{i}.LOG")),
                "#Software: Microsoft Exchange Server\n#Log-type: HttpProxy Logs\n",
            )
            .unwrap();
        }
    }

    let report = scan(&root, HuntOptions::default());
    let proxies: Vec<(&str, u64)> = report
        .coverage
        .logs
        .iter()
        .filter(|l| l.source.starts_with("HttpProxy"))
        .map(|l| (l.source.as_ref(), l.files))
        .collect();
    assert_eq!(proxies, [(r"HttpProxy\Ecp", 2), (r"HttpProxy\Owa", 3)]);
    let iis = log_coverage(&report, "IIS");
    assert_eq!(iis.files, logs as u64);
    assert_eq!(iis.lines, 2 * logs as u64);
    let shell_requests = report
        .findings
        .iter()
        .filter(|f| f.check_id == "EXS-LOG-007")
        .count();
    assert_eq!(shell_requests, shells);
    let groups = &report.coverage.recognised;
    assert_eq!(groups.len(), 3, "{groups:?}");
    let read = groups.iter().find(|g| g.taken_for == "IIS").unwrap();
    assert_eq!(read.count, logs as u64);
    assert_eq!(
        read.files.len(),
        exsweep_model::RecognisedGroup::NAMES_LISTED
    );
    assert!(read.files.is_sorted(), "named by name: {:?}", read.files);
    assert_eq!(read.files[0], r"even\u_ex00000.log");
    let not_read = groups.iter().find(|g| g.taken_for == "not read").unwrap();
    assert_eq!(not_read.count, 10);
}

#[test]
fn loose_logs_are_recognised_by_their_content() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("handed-over");
    fs::create_dir_all(root.join("extracts")).unwrap();
    // Test-ProxyLogon's own CSV, as Export-Csv writes it.
    fs::write(
        root.join("extracts/EXCH01-Cve-2021-26855.csv"),
        "#TYPE System.Management.Automation.PSCustomObject\r\n\
         \"DateTime\",\"RequestId\",\"ClientIPAddress\",\"UrlHost\",\"UrlStem\",\"RoutingHint\",\"UserAgent\",\"AnchorMailbox\",\"HttpStatus\"\r\n\
         \"2021-03-03T02:50:12.345Z\",\"r1\",\"203.0.113.9\",\"mail\",\"/ecp/y.js\",\"X-BEResource-Cookie\",\"python-requests/2.25.1\",\"ServerInfo~a]@exch01:444/ecp/DDI/DDIService.svc/GetList#\",\"200\"\r\n",
    )
    .unwrap();
    // A zip of IIS logs, and an older one gzipped.
    let shell = format!(
        "{IIS_FIELDS}\n{}\n",
        iis_line("POST", "/aspnet_client/system_web/x.aspx", "-", "200")
    );
    zip_of(
        &root.join("iis-logs.zip"),
        &[("W3SVC1/u_ex210303.log", shell.as_bytes())],
    );
    fs::write(
        root.join("u_ex210301.log.gz"),
        gzip(format!("{IIS_FIELDS}\n{}\n", iis_line("GET", "/owa/", "-", "200")).as_bytes()),
    )
    .unwrap();
    // ECP lines without their header; a file that is no log.
    fs::write(
        root.join("ecp.txt"),
        "2021-03-03T02:50:00.000Z,EXCH01,ECP.Request,\"S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/<script>x</script>''.Identity=''x'';S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory\"\r\n",
    )
    .unwrap();
    fs::write(root.join("notes.txt"), "what the admin saw on Tuesday\n").unwrap();
    // Exported event logs under any name, one of them zipped.
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/evtx");
    let with_evtx = samples.exists();
    if with_evtx {
        let management = fs::read(samples.join("MSExchange_Management_wec.evtx")).unwrap();
        fs::write(root.join("exported-1.evtx"), &management).unwrap();
        zip_of(&root.join("events.zip"), &[("mgmt.bin", &management)]);
    }

    let report = scan(&root, HuntOptions::default());
    assert_eq!(
        report.coverage.layout,
        "loose logs (each file recognised by its content)"
    );
    assert_eq!(
        taken_for(&report, r"extracts\EXCH01-Cve-2021-26855.csv"),
        "HttpProxy"
    );
    assert_eq!(
        taken_for(&report, r"iis-logs.zip\W3SVC1\u_ex210303.log"),
        "IIS"
    );
    assert_eq!(taken_for(&report, "u_ex210301.log.gz"), "IIS");
    assert_eq!(taken_for(&report, "ecp.txt"), "ECP Server");
    assert_eq!(taken_for(&report, "notes.txt"), "not read");
    let ids: BTreeSet<&str> = report
        .findings
        .iter()
        .map(|f| f.check_id.as_ref())
        .collect();
    for id in ["EXS-LOG-001", "EXS-LOG-005", "EXS-LOG-006", "EXS-LOG-007"] {
        assert!(ids.contains(id), "{id} missing from {ids:?}");
    }
    let zipped = report
        .findings
        .iter()
        .find(|f| f.check_id == "EXS-LOG-007")
        .unwrap();
    let Evidence::LogLine(line) = &zipped.evidence else {
        panic!("not a log line")
    };
    assert_eq!(
        line.local.member_bytes().as_deref(),
        Some(&b"W3SVC1/u_ex210303.log"[..])
    );
    // The file sweep had no file system to look at, and says so.
    assert!(report
        .coverage
        .gaps()
        .any(|a| a.windows_path == "(loose logs)"));
    if with_evtx {
        assert_eq!(
            taken_for(&report, "exported-1.evtx"),
            "EVTX MSExchange Management"
        );
        assert_eq!(
            taken_for(&report, r"events.zip\mgmt.bin"),
            "EVTX MSExchange Management"
        );
        let management = log_coverage(&report, "EVTX MSExchange Management");
        assert_eq!(management.files, 2);
    }

    // One file, or one zip, works the same.
    let single = scan(
        &root.join("extracts/EXCH01-Cve-2021-26855.csv"),
        HuntOptions::default(),
    );
    assert!(single.findings.iter().any(|f| f.check_id == "EXS-LOG-001"));
    let zip = scan(&root.join("iis-logs.zip"), HuntOptions::default());
    assert!(zip.findings.iter().any(|f| f.check_id == "EXS-LOG-007"));
}

#[test]
fn a_busy_follow_keeps_the_earliest_requests_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let iis = dir.path().join("inetpub/logs/LogFiles/W3SVC1");
    fs::create_dir_all(&iis).unwrap();
    // 12,000 requests of one client over two files, the later file written first.
    for (name, hour) in [("u_ex210305.log", 12), ("u_ex210304.log", 6)] {
        let mut text = format!("{IIS_FIELDS}\n");
        for i in 0..6_000 {
            text.push_str(&format!(
                "2021-03-04 {hour:02}:{:02}:{:02} 10.0.0.5 GET /owa/ - 443 - 198.51.100.77 Mozilla/5.0 - 200 0 0 15\n",
                i / 60 % 60,
                i % 60
            ));
        }
        fs::write(iis.join(name), text).unwrap();
    }
    let report = scan(
        dir.path(),
        HuntOptions {
            follow: Some("198.51.100.77".into()),
            ..HuntOptions::default()
        },
    );
    assert_eq!(report.trail.len(), 10_000);
    assert!(report
        .trail
        .windows(2)
        .all(|w| w[0].line.time <= w[1].line.time));
    // All of the earlier file's requests are kept.
    let early = report
        .trail
        .iter()
        .filter(|t| t.line.windows_path.ends_with("u_ex210304.log"))
        .count();
    assert_eq!(early, 6_000);
    assert!(
        report
            .coverage
            .warnings
            .iter()
            .any(|w| w.contains("--follow: 12000 logged requests") && w.contains("2000 left out")),
        "{:?}",
        report.coverage.warnings
    );
}

#[test]
fn a_header_repeated_deep_in_the_file_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    let ecp = dir
        .path()
        .join("Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Ecp");
    fs::create_dir_all(&ecp).unwrap();
    // Two servers' logs put together: the second header orders its columns otherwise.
    let mut text = String::from("DateTime,RequestId,HttpStatus,AnchorMailbox\n");
    for i in 0..50 {
        text.push_str(&format!(
            "2021-03-03T01:00:{:02}.000Z,b{i},200,smtp:alice@corp.example\n",
            i % 60
        ));
    }
    text.push_str("DateTime,RequestId,AnchorMailbox,HttpStatus\n");
    text.push_str("2021-03-03T02:50:12.000Z,late,ServerInfo~a]@exch01:444/ecp/y.js#,241\n");
    fs::write(ecp.join("HttpProxy_2021030302-1.LOG"), text).unwrap();
    let report = scan(dir.path(), HuntOptions::default());
    let ssrf: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.check_id == "EXS-LOG-001")
        .collect();
    assert_eq!(ssrf.len(), 1, "{ssrf:#?}");
    assert_eq!(ssrf[0].entities.request_id.as_deref(), Some("late"));
    assert_eq!(ssrf[0].severity, Severity::Critical, "{}", ssrf[0].detail);
    assert!(ssrf[0].detail.contains("HTTP 241"), "{}", ssrf[0].detail);
}

#[test]
fn files_where_folders_are_expected_are_missing_folders_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let logging = root.join("Program Files/Microsoft/Exchange Server/V15/Logging");
    for file in [
        logging.join("HttpProxy"),
        root.join("inetpub/logs/LogFiles"),
        root.join("Windows/System32/winevt/Logs"),
        root.join("inetpub/wwwroot/aspnet_client"),
    ] {
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, b"a file, not a folder").unwrap();
    }
    fs::create_dir_all(logging.join("ECP/Server")).unwrap();
    fs::write(
        logging.join("ECP/Server/ECPServer20210303-1.LOG"),
        "TimeStamp,ServerName,EventId,EventData\n\
         2021-03-03T02:50:00.000Z,EXCH01,ECP.Request,\"S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/<script>x</script>''.Identity=''x'';S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory\"\n",
    )
    .unwrap();
    let report = scan(root, HuntOptions::default());
    assert_eq!(
        log_coverage(&report, "HttpProxy").status,
        LogStatus::Missing
    );
    assert_eq!(log_coverage(&report, "IIS").status, LogStatus::Missing);
    assert!(report.findings.iter().any(|f| f.check_id == "EXS-LOG-005"));
    assert!(report
        .coverage
        .warnings
        .iter()
        .all(|w| !w.contains("panic")));
}
