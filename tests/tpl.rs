//! The Test-ProxyLogon differential test: a re-implementation of the conditions of
//! Microsoft's `Security/src/Test-ProxyLogon.ps1` (CSS-Exchange), written from its
//! source with PowerShell's semantics (`Import-Csv` by column name, `-like` whole-value
//! wildcards ignoring case, `Select-String` case-insensitive .NET regexes, here the
//! look-ahead pattern run as written by a backtracking engine), and exsweep agree on
//! every row and line of generated HttpProxy, ECP Server and OAB generator logs full
//! of the edge cases: spellings of `ServerInfo~`, `/autodiscover` after any slash,
//! `localhost` with and without a slash, 401s, `Url<tag>` with nothing between,
//! quoted and `#TYPE` headers, headerless ECP files, lines without a readable time,
//! truncated rows, and OAB files of any name.

use exsweep_engine::progress::Silent;
use exsweep_engine::scan::{self, ScanRequest};
use exsweep_model::{Evidence, Report};
use exsweep_testkit::logs::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;

const LOGGING: &str = "Program Files/Microsoft/Exchange Server/V15/Logging";
/// `MsiInstallPath` as the script reads it from the registry: with its trailing `\`.
const EXCHANGE_PATH: &str = r"C:\Program Files\Microsoft\Exchange Server\V15\";
const HTTPPROXY_HEADER: &str = "DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method";

// ---- The script's conditions, re-implemented ---------------------------------------

/// PowerShell's `-like`: the whole value against the pattern, `*` any run of
/// characters, `?` one, case ignored.
fn like(value: &str, pattern: &str) -> bool {
    let v: Vec<char> = value.to_lowercase().chars().collect();
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    // matches[i][j]: v[i..] against p[j..].
    let mut matches = vec![vec![false; p.len() + 1]; v.len() + 1];
    matches[v.len()][p.len()] = true;
    for i in (0..=v.len()).rev() {
        for j in (0..p.len()).rev() {
            matches[i][j] = match p[j] {
                '*' => matches[i][j + 1] || (i < v.len() && matches[i + 1][j]),
                '?' => i < v.len() && matches[i + 1][j + 1],
                c => i < v.len() && v[i] == c && matches[i + 1][j + 1],
            };
        }
    }
    matches[0][0]
}

/// RFC 4180 fields of one line, as `Import-Csv` splits them.
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let field = out.last_mut().expect("one field at least");
        if quoted {
            if c == '"' && chars.peek() == Some(&'"') {
                field.push('"');
                chars.next();
            } else if c == '"' {
                quoted = false;
            } else {
                field.push(c);
            }
        } else if c == '"' {
            quoted = true;
        } else if c == ',' {
            out.push(String::new());
        } else {
            field.push(c);
        }
    }
    out
}

/// `Import-Csv` of Windows PowerShell: an optional `#TYPE` line, the header, then
/// every other non-empty line a row whose properties are looked up by name, case
/// ignored; a row shorter than the header leaves the rest `$null`. Rows come with
/// their line numbers.
fn import_csv(text: &str) -> Vec<(u64, BTreeMap<String, String>)> {
    let mut lines = text
        .trim_start_matches('\u{feff}')
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l))
        .filter(|(_, l)| !l.is_empty())
        .peekable();
    if lines.peek().is_some_and(|(_, l)| l.starts_with("#TYPE")) {
        lines.next();
    }
    let Some((_, header)) = lines.next() else {
        return Vec::new();
    };
    let names: Vec<String> = csv_fields(header)
        .iter()
        .map(|n| n.to_lowercase())
        .collect();
    lines
        .map(|(number, line)| {
            let row = names.iter().cloned().zip(csv_fields(line)).collect();
            (number, row)
        })
        .collect()
}

/// The rows of an HttpProxy file the script reads (one holding `ServerInfo~`, as its
/// `Select-String -Quiet` asks first) that pass `wanted`, by line number.
fn rows_where(text: &str, wanted: impl Fn(&BTreeMap<String, String>) -> bool) -> BTreeSet<u64> {
    if !text.to_lowercase().contains("serverinfo~") {
        return BTreeSet::new();
    }
    import_csv(text)
        .into_iter()
        .filter(|(_, row)| wanted(row))
        .map(|(n, _)| n)
        .collect()
}

/// `Get-Cve26855`: rows by the three `-like` patterns.
fn cve_26855(text: &str) -> BTreeSet<u64> {
    rows_where(text, |row| {
        row.get("anchormailbox").is_some_and(|a| {
            like(a, "ServerInfo~*/*")
                && !like(a, "ServerInfo~*/autodiscover*")
                && !like(a, "ServerInfo~localhost*/*")
        })
    })
}

/// `Get-Cve27065`'s HttpProxy\Ecp part: a reset through the SSRF answered 200
/// (`-eq 200` compares the string `200`).
fn cve_27065_reset(text: &str) -> BTreeSet<u64> {
    rows_where(text, |row| {
        row.get("anchormailbox")
            .is_some_and(|a| like(a, "ServerInfo~*/*Reset*VirtualDirectory#"))
            && row
                .get("httpstatus")
                .is_some_and(|s| s.eq_ignore_ascii_case("200"))
    })
}

/// Lines as `Select-String` reads them, numbered.
fn text_lines(text: &str) -> impl Iterator<Item = (u64, &str)> {
    text.trim_start_matches('\u{feff}')
        .lines()
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l))
}

/// `Get-Cve27065`'s ECP part: `Select-String` with the script's pattern, as written.
fn cve_27065_ecp(text: &str) -> BTreeSet<u64> {
    let pattern = fancy_regex::Regex::new(
        r"(?i)Set-.+VirtualDirectory.+?(?=Url).+<\w+.*>(.*?)<\/\w+>.+?(?=VirtualDirectory)",
    )
    .unwrap();
    text_lines(text)
        .filter(|(_, l)| pattern.is_match(l).unwrap())
        .map(|(n, _)| n)
        .collect()
}

/// `Get-Cve26858`: every line with the download failure whose path does not start
/// with `'<install>ClientAccess\OAB` (`StartsWith(..., CurrentCultureIgnoreCase)`).
fn cve_26858(text: &str) -> BTreeSet<u64> {
    let pattern = fancy_regex::Regex::new(
        r"(?i)Download failed and temporary file (.*?) needs to be removed",
    )
    .unwrap();
    let inside = format!("'{EXCHANGE_PATH}ClientAccess\\OAB").to_lowercase();
    text_lines(text)
        .filter(|(_, l)| {
            l.to_lowercase()
                .contains("download failed and temporary file")
        })
        .filter(|(_, l)| {
            pattern.captures(l).unwrap().is_some_and(|c| {
                !c.get(1)
                    .map_or("", |m| m.as_str())
                    .to_lowercase()
                    .starts_with(&inside)
            })
        })
        .map(|(n, _)| n)
        .collect()
}

// ---- Generated logs ----------------------------------------------------------------

/// The text with the case of some letters flipped.
fn recase(rng: &mut Rng, text: &str) -> String {
    text.chars()
        .map(|c| {
            if rng.chance(20) {
                if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            } else {
                c
            }
        })
        .collect()
}

fn csv_value(v: &str) -> String {
    if v.contains([',', '"']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

fn anchor(rng: &mut Rng) -> String {
    let prefix = rng.pick(&[
        "ServerInfo~",
        "ServerInfo~",
        "ServerInfo~",
        "ServerInfo",
        "xServerInfo~",
        "smtp:alice@corp.example",
        "",
        "ServerInfo~~",
        "Server Info~",
    ]);
    let host = rng.pick(&[
        "a]@exch01.corp.example:444",
        "localhost",
        "localhost~1942062522",
        "localhostx",
        "x",
        "",
        "exch01",
        "a]@localhost:444",
        "ünïcode",
    ]);
    let path = rng.pick(&[
        "/ecp/y.js",
        "/autodiscover/autodiscover.xml",
        "/autodiscover",
        "/ecp/x/autodiscover",
        "/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory#",
        "/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory# ",
        "/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory",
        "/ecp/reset/x/virtualdirectory#",
        "",
        "/",
        "//",
        "/owa/a,b",
        "/mapi/\"q\"",
        "/ecp/autodiscovery",
        "\\ecp\\y.js",
    ]);
    recase(rng, &format!("{prefix}{host}{path}"))
}

/// An HttpProxy file of `rows` rows with one of the header forms the script reads
/// (bare, Export-Csv's quoted one after `#TYPE`, or bare with the comment block
/// after it); returns the text and how many rows it holds.
fn httpproxy_file(rng: &mut Rng, rows: usize) -> String {
    let mut text = match rng.next_u64() % 3 {
        0 => format!("{HTTPPROXY_HEADER}\r\n"),
        1 => format!(
            "#TYPE System.Management.Automation.PSCustomObject\r\n{}\r\n",
            HTTPPROXY_HEADER
                .split(',')
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(",")
        ),
        _ => format!(
            "{HTTPPROXY_HEADER}\r\n#Software: Microsoft Exchange Server\r\n#Version: 15.02.0858.005\r\n#Log-type: HttpProxy Logs\r\n"
        ),
    };
    for i in 0..rows {
        let time = match rng.next_u64() % 20 {
            0 => "not-a-time".to_string(),
            1 => String::new(),
            _ => format!("2021-03-03T{:02}:{:02}:12.345Z", i % 24, i % 60),
        };
        let anchor = anchor(rng);
        let status = rng.pick(&["200", "200", "401", "500", "241", "302", "", " 200", "200 "]);
        let values = [
            time,
            // Unique, as the server's GUIDs are.
            format!("6f2a1d70-{:016x}", rng.next_u64()),
            "15".into(),
            "2".into(),
            "858".into(),
            "5".into(),
            String::new(),
            "Ecp".into(),
            "mail.corp.example".into(),
            "/owa/".into(),
            String::new(),
            "Negotiate".into(),
            "False".into(),
            String::new(),
            String::new(),
            anchor,
            "Mozilla/5.0".into(),
            "198.51.100.7".into(),
            "EXCH01".into(),
            status.into(),
            "200".into(),
            String::new(),
            "POST".into(),
        ];
        let mut row: Vec<String> = values.iter().map(|v| csv_value(v)).collect();
        match rng.next_u64() % 25 {
            // Cut before AnchorMailbox, or after it.
            0 => row.truncate(10),
            1 => row.truncate(17),
            // Junk appended.
            2 => row.push("extra".into()),
            _ => {}
        }
        text.push_str(&row.join(","));
        text.push_str("\r\n");
    }
    text
}

fn ecp_line(rng: &mut Rng) -> String {
    let cmd = rng.pick(&[
        "Set-OabVirtualDirectory",
        "Set-OwaVirtualDirectory",
        "Set-VirtualDirectory",
        "set-oabvirtualdirectory",
        "Get-OabVirtualDirectory",
    ]);
    let url = rng.pick(&[
        ".ExternalUrl=''http://f/<script language=\"\"JScript\"\" runat=\"\"server\"\">function Page_Load(){}</script>''",
        ".ExternalUrl<script>x</script>",
        ".ExternalUrl=''https://mail.corp.example/OAB''",
        ".InternalUrl=''<b>x</b>''",
        ".Url=<a></a>",
        ".ExternalUrl=''<b>x''",
        ".ExternalUrl=''http://x/</b>''",
        "",
    ]);
    let tail = rng.pick(&[
        ".Identity=''x''.Name=''OAB (Default Web Site)'';S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory",
        ".Identity=''x'';S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory",
        ";S:URL=/ecp/",
        "VirtualDirectory",
        "",
    ]);
    let event = format!("S:TIME=120;S:SID=x;S:CMD={cmd}{url}{tail};S:BLD=15.2.858.5");
    match rng.next_u64() % 6 {
        0 => format!("garbage {event}"),
        1 => format!("not-a-time,EXCH01,ECP.Request,{}", csv_value(&event)),
        _ => format!(
            "2021-03-03T02:50:00.000Z,EXCH01,ECP.Request,{}",
            csv_value(&event)
        ),
    }
}

fn ecp_file(rng: &mut Rng, lines: usize) -> String {
    let mut text = if rng.chance(50) {
        "#Software: Microsoft Exchange Server\r\n#Fields: TimeStamp,ServerName,EventId,EventData\r\n"
            .to_string()
    } else {
        String::new()
    };
    for _ in 0..lines {
        text.push_str(&ecp_line(rng));
        text.push_str("\r\n");
    }
    text
}

fn oab_file(rng: &mut Rng, lines: usize) -> String {
    let mut text = String::new();
    for _ in 0..lines {
        let path = rng.pick(&[
            r"'C:\Program Files\Microsoft\Exchange Server\V15\ClientAccess\OAB\Temp\a.lzx'",
            r"'c:\program files\microsoft\exchange server\v15\clientaccess\oab\x'",
            r"'C:\Program Files\Microsoft\Exchange Server\V15\ClientAccess\OABX\y'",
            r"'C:\inetpub\wwwroot\aspnet_client\discover.aspx'",
            r"C:\Program Files\Microsoft\Exchange Server\V15\ClientAccess\OAB\no-quote",
            "",
            "''",
        ]);
        let phrase = rng.pick(&[
            "Download failed and temporary file",
            "DOWNLOAD FAILED AND TEMPORARY FILE",
            "Download failed and temporary  file",
        ]);
        let end = rng.pick(&[
            " needs to be removed.",
            " needs to be removed",
            " was kept.",
        ]);
        text.push_str(&format!(
            "2021-03-03T02:50:00.000Z {phrase} {path}{end}\r\n"
        ));
    }
    text
}

// ---- The comparison ----------------------------------------------------------------

/// What the script reports, per check: (Windows path, line).
type Reported = BTreeMap<&'static str, BTreeSet<(String, u64)>>;

fn windows_path(rel: &str) -> String {
    format!(r"C:\{}", rel.replace('/', "\\"))
}

#[test]
fn exsweep_reports_every_row_test_proxylogon_reports() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x7e57_9a0c_0bad_f00d);
    let mut expected: Reported = BTreeMap::new();
    let mut add = |check: &'static str, rel: &str, lines: BTreeSet<u64>| {
        let set = expected.entry(check).or_default();
        set.extend(lines.into_iter().map(|n| (windows_path(rel), n)));
    };
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    let mut http_rows = 0;
    for protocol in ["Ecp", "Owa", "Mapi", "Autodiscover", "Ews"] {
        for n in 0..3 {
            let rel = format!("{LOGGING}/HttpProxy/{protocol}/HttpProxy_2021030300-{n}.LOG");
            let text = httpproxy_file(&mut rng, 800);
            http_rows += 800;
            add("EXS-LOG-001", &rel, cve_26855(&text));
            if protocol == "Ecp" {
                add("EXS-LOG-005", &rel, cve_27065_reset(&text));
            }
            write(&rel, &text);
        }
    }
    let mut ecp_lines = 0;
    for n in 0..4 {
        let rel = format!("{LOGGING}/ECP/Server/ECPServer20210303-{n}.LOG");
        let text = ecp_file(&mut rng, 400);
        ecp_lines += 400;
        add("EXS-LOG-005", &rel, cve_27065_ecp(&text));
        write(&rel, &text);
    }
    let mut oab_lines = 0;
    for name in ["OABGenerator20210303-1.LOG", "old/oab.txt", "noextension"] {
        let rel = format!("{LOGGING}/OABGeneratorLog/{name}");
        let text = oab_file(&mut rng, 300);
        oab_lines += 300;
        add("EXS-LOG-004", &rel, cve_26858(&text));
        write(&rel, &text);
    }
    assert!(http_rows + ecp_lines + oab_lines >= 10_000);

    let request = ScanRequest::new(dir.path().to_path_buf());
    let report: Report = scan::run(&request.validate().unwrap(), &Silent).unwrap();
    let mut found: Reported = BTreeMap::new();
    for f in &report.findings {
        let Evidence::LogLine(line) = &f.evidence else {
            continue;
        };
        let check = match f.check_id.as_ref() {
            "EXS-LOG-001" => "EXS-LOG-001",
            "EXS-LOG-004" => "EXS-LOG-004",
            "EXS-LOG-005" => "EXS-LOG-005",
            _ => continue,
        };
        assert!(
            f.detail.starts_with("Test-ProxyLogon reports this"),
            "{}",
            f.detail
        );
        found
            .entry(check)
            .or_default()
            .insert((line.windows_path.clone(), line.line));
    }
    for check in ["EXS-LOG-001", "EXS-LOG-004", "EXS-LOG-005"] {
        let want = expected.get(check).cloned().unwrap_or_default();
        let got = found.get(check).cloned().unwrap_or_default();
        assert!(want.len() >= 20, "{check}: too few cases ({})", want.len());
        eprintln!("{check}: {} rows or lines reported by both", want.len());
        let missed: Vec<_> = want.difference(&got).take(5).collect();
        let extra: Vec<_> = got.difference(&want).take(5).collect();
        assert!(
            missed.is_empty() && extra.is_empty(),
            "{check}: {} expected, {} found; missed {missed:?}, extra {extra:?}",
            want.len(),
            got.len()
        );
    }
    // No check's cap cut any of them.
    assert!(
        report
            .coverage
            .warnings
            .iter()
            .all(|w| !w.contains("left out")),
        "{:?}",
        report.coverage.warnings
    );
}

#[test]
fn like_has_powershell_semantics() {
    assert!(like("ServerInfo~a/b", "ServerInfo~*/*"));
    assert!(like("SERVERINFO~/", "serverinfo~*/*"));
    assert!(!like("ServerInfo~ab", "ServerInfo~*/*"));
    assert!(!like("xServerInfo~a/b", "ServerInfo~*/*"));
    assert!(like(
        "ServerInfo~a/b/AutoDiscover/x",
        "ServerInfo~*/autodiscover*"
    ));
    assert!(like("ServerInfo~localhost~1/x", "ServerInfo~localhost*/*"));
    assert!(!like("ServerInfo~localhost", "ServerInfo~localhost*/*"));
    assert!(like("a", "?"));
    assert!(!like("ab", "?"));
}
