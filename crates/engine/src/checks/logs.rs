//! Log checks: exploitation and web-shell use as Exchange, IIS and event logs record
//! them. Test-ProxyLogon's five checks are reproduced with exactly its conditions
//! (case-insensitive, as PowerShell's `-like` and `Select-String`); what that script
//! throws away (probes, failed attempts) is kept as separate, lower findings.

use super::files::{ECP_AUTH_PAGES, OWA_AUTH_PAGES, SERVER_EXECUTED};
use crate::webmap::WebMap;
use exsweep_indicators::IndicatorSet;
use exsweep_logs::lines::Needle;
use exsweep_logs::parse::{query_text, url_path_key, Fields};
use exsweep_logs::LogSource;
use exsweep_model::{Check, Class, Hit, Reference, Severity};
use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

const CVE_26855: Reference = Reference::cve("CVE-2021-26855");
const CVE_26857: Reference = Reference::cve("CVE-2021-26857");
const CVE_26858: Reference = Reference::cve("CVE-2021-26858");
const CVE_27065: Reference = Reference::cve("CVE-2021-27065");
const EXPLOIT_PUBLIC_APP: Reference = Reference::attack("T1190");
const WEB_SHELL: Reference = Reference::attack("T1505.003");
const TEST_PROXYLOGON: Reference = Reference::url(
    "https://github.com/microsoft/CSS-Exchange/blob/main/Security/src/Test-ProxyLogon.ps1",
);
const VOLEXITY: Reference = Reference::url(
    "https://www.volexity.com/blog/2021/03/02/active-exploitation-of-microsoft-exchange-zero-day-vulnerabilities/",
);
const INVESTIGATE: &str = "Follow the request (exsweep scan --follow <RequestId or IP>) across the HttpProxy, ECP and IIS logs, \
     check the files it could have written, and treat the server as compromised if it succeeded.";

pub static PROXYLOGON_SSRF: Check = Check {
    id: Cow::Borrowed("EXS-LOG-001"),
    title: Cow::Borrowed("ProxyLogon SSRF request (CVE-2021-26855, Test-ProxyLogon check 1)"),
    severity: Severity::High,
    class: Class::Compromise,
    category: Cow::Borrowed("exploitation"),
    references: Cow::Borrowed(&[CVE_26855, EXPLOIT_PUBLIC_APP, TEST_PROXYLOGON]),
    why: Cow::Borrowed("An HttpProxy AnchorMailbox of ServerInfo~<host>/<path> is the server-side request forgery that opens \
          ProxyLogon: the front end sent a request of the attacker's choosing to the back end as SYSTEM."),
    action: Cow::Borrowed(INVESTIGATE),
};

pub static PROXYLOGON_PROBE: Check = Check {
    id: Cow::Borrowed("EXS-LOG-002"),
    title: Cow::Borrowed("ProxyLogon probe or failed attempt"),
    severity: Severity::Medium,
    class: Class::Attempt,
    category: Cow::Borrowed("exploitation-attempt"),
    references: Cow::Borrowed(&[CVE_26855, EXPLOIT_PUBLIC_APP, TEST_PROXYLOGON]),
    why: Cow::Borrowed("Scanners and failed exploits leave ServerInfo~*/autodiscover* or ServerInfo~localhost* anchors and 401 \
          answers; Test-ProxyLogon drops them, but they date the first interest in this server."),
    action: Cow::Borrowed("Note the source and time; check whether any successful request from the same source follows."),
};

pub static UM_DESERIALIZATION: Check = Check {
    id: Cow::Borrowed("EXS-LOG-003"),
    title: Cow::Borrowed("Unified Messaging deserialization error (CVE-2021-26857, Test-ProxyLogon check 2)"),
    severity: Severity::High,
    class: Class::Compromise,
    category: Cow::Borrowed("exploitation"),
    references: Cow::Borrowed(&[CVE_26857, EXPLOIT_PUBLIC_APP, TEST_PROXYLOGON]),
    why: Cow::Borrowed("An MSExchange Unified Messaging error with System.InvalidCastException is what exploiting the UM \
          deserialization bug leaves in the Application log."),
    action: Cow::Borrowed(INVESTIGATE),
};

pub static OAB_FILE_WRITE: Check = Check {
    id: Cow::Borrowed("EXS-LOG-004"),
    title: Cow::Borrowed("OAB generator wrote outside its folder (CVE-2021-26858, Test-ProxyLogon check 3)"),
    severity: Severity::Critical,
    class: Class::Compromise,
    category: Cow::Borrowed("exploitation"),
    references: Cow::Borrowed(&[CVE_26858, WEB_SHELL, TEST_PROXYLOGON]),
    why: Cow::Borrowed("The OAB generator downloads only into ClientAccess\\OAB; a temporary file anywhere else is the \
          arbitrary file write used to plant web shells."),
    action: Cow::Borrowed("Find and preserve the file named in the line (and anything written near that time), then treat the server as compromised."),
};

pub static VIRTUAL_DIRECTORY_WRITE: Check = Check {
    id: Cow::Borrowed("EXS-LOG-005"),
    title: Cow::Borrowed("Virtual directory set with a script and reset (CVE-2021-27065, Test-ProxyLogon check 4)"),
    severity: Severity::Critical,
    class: Class::Compromise,
    category: Cow::Borrowed("exploitation"),
    references: Cow::Borrowed(&[CVE_27065, WEB_SHELL, TEST_PROXYLOGON]),
    why: Cow::Borrowed("Setting a virtual directory's URL to a script and resetting it writes that script to a file of the \
          attacker's choosing: the China Chopper drop of March 2021."),
    action: Cow::Borrowed("Find the file the reset wrote (the OAB dump shell), check the OAB virtual directory's ExternalUrl in \
             Active Directory (a later reset re-drops the shell), then treat the server as compromised."),
};

pub static PROXYLOGON_TRACE: Check = Check {
    id: Cow::Borrowed("EXS-LOG-006"),
    title: Cow::Borrowed("ProxyLogon exploit trace"),
    severity: Severity::High,
    class: Class::Compromise,
    category: Cow::Borrowed("exploitation"),
    references: Cow::Borrowed(&[CVE_26855, CVE_27065, EXPLOIT_PUBLIC_APP, VOLEXITY]),
    why: Cow::Borrowed("Public ProxyLogon exploits use X-BEResource / X-AnonResource-Backend cookies, requests to tiny .js \
          names under /ecp, /owa/auth/x.js, /ecp/default.flt or /ecp/main.css, and status 241 on proxyLogon.ecp."),
    action: Cow::Borrowed(INVESTIGATE),
};

pub static WEB_SHELL_REQUEST: Check = Check {
    id: Cow::Borrowed("EXS-LOG-007"),
    title: Cow::Borrowed("Request for a page where none should be (web-shell use or probing)"),
    severity: Severity::High,
    class: Class::Compromise,
    category: Cow::Borrowed("webshell"),
    references: Cow::Borrowed(&[WEB_SHELL, VOLEXITY]),
    why: Cow::Borrowed("aspnet_client and the build folders hold no pages, owa\\auth and ecp\\auth only their fixed ones: a \
          page there that answers is a web shell in use; requests that get a 404 are someone looking for one."),
    action: Cow::Borrowed("Find the file behind the URL (exsweep's file sweep reports it), preserve it, and trace the source IP."),
};

pub static PROXYSHELL: Check = Check {
    id: Cow::Borrowed("EXS-LOG-008"),
    title: Cow::Borrowed("ProxyShell / ProxyNotShell autodiscover path confusion"),
    severity: Severity::Critical,
    class: Class::Compromise,
    category: Cow::Borrowed("exploitation"),
    references: Cow::Borrowed(&[
        Reference::cve("CVE-2021-34473"),
        Reference::cve("CVE-2021-34523"),
        Reference::cve("CVE-2021-31207"),
        Reference::cve("CVE-2022-41040"),
        Reference::cve("CVE-2022-41082"),
        EXPLOIT_PUBLIC_APP,
    ]),
    why: Cow::Borrowed("A request to /autodiscover/autodiscover.json that reaches /powershell, /mapi/nspi or /EWS (or carries \
          X-Rps-CAT or Email=autodiscover) is the path confusion into the back end's remote PowerShell."),
    action: Cow::Borrowed("Look for New-MailboxExportRequest and role assignments in MSExchange Management, PST-shaped .aspx \
             files (exsweep reports them), and follow the source IP."),
};

pub static OWASSRF: Check = Check {
    id: Cow::Borrowed("EXS-LOG-009"),
    title: Cow::Borrowed("OWASSRF request to remote PowerShell through OWA (CVE-2022-41080)"),
    severity: Severity::High,
    class: Class::Compromise,
    category: Cow::Borrowed("exploitation"),
    references: Cow::Borrowed(&[Reference::cve("CVE-2022-41080"), Reference::cve("CVE-2022-41082"), EXPLOIT_PUBLIC_APP]),
    why: Cow::Borrowed("POST /owa/<mailbox>/powershell reaches remote PowerShell through OWA, bypassing the ProxyNotShell URL rewrite \
          mitigation; the back end's Rps_Http log then shows a client other than WinRM or Exchange's probes."),
    action: Cow::Borrowed(INVESTIGATE),
};

pub static KNOWN_ATTACKER_IP: Check = Check {
    id: Cow::Borrowed("EXS-LOG-010"),
    title: Cow::Borrowed("Request from an address used in the Exchange campaigns"),
    severity: Severity::High,
    class: Class::Suspicious,
    category: Cow::Borrowed("indicator"),
    references: Cow::Borrowed(&[VOLEXITY, Reference::url("https://www.cisa.gov/news-events/cybersecurity-advisories/aa21-062a")]),
    why: Cow::Borrowed("Volexity and CISA published the addresses that exploited Exchange in early 2021; they were VPS and VPN \
          exits, so a hit dates activity rather than naming the actor."),
    action: Cow::Borrowed(INVESTIGATE),
};

pub static SUSPICIOUS_USER_AGENT: Check = Check {
    id: Cow::Borrowed("EXS-LOG-011"),
    title: Cow::Borrowed("User agent seen in Exchange exploitation"),
    severity: Severity::Medium,
    class: Class::Suspicious,
    category: Cow::Borrowed("indicator"),
    references: Cow::Borrowed(&[VOLEXITY]),
    why: Cow::Borrowed("Exploit scripts announce themselves (python-requests, ExchangeServicesClient/0.0.0.0, antSword); crawler \
          names on /owa/auth/Current were forged by the March 2021 attackers."),
    action: Cow::Borrowed("Check what else the same address requested and whether any of it succeeded."),
};

pub static SHELL_ACCESS: Check = Check {
    id: Cow::Borrowed("EXS-LOG-012"),
    title: Cow::Borrowed("Requests to a web shell found on disk"),
    severity: Severity::Critical,
    class: Class::Compromise,
    category: Cow::Borrowed("webshell"),
    references: Cow::Borrowed(&[WEB_SHELL]),
    why: Cow::Borrowed("The URL of a file the sweep flagged was requested: the shell was used, by these addresses, at these times."),
    action: Cow::Borrowed("Preserve the logs of those times, list every address that used the shell, and follow each one."),
};

pub static SHELL_COMMAND_REQUEST: Check = Check {
    id: Cow::Borrowed("EXS-LOG-018"),
    title: Cow::Borrowed("OS command in a request (web-shell use)"),
    severity: Severity::High,
    class: Class::Compromise,
    category: Cow::Borrowed("webshell"),
    references: Cow::Borrowed(&[WEB_SHELL, Reference::attack("T1059.003"), Reference::attack("T1087")]),
 why: Cow::Borrowed("Shells that take their command in the URL leave it in the query string: whoami, net user, dsquery, certutil, powershell -enc. No Exchange or IIS page takes a command line."),
 action: Cow::Borrowed("Find the page the request went to (a shell), list every command sent to it, and follow the source IP."),
};

pub static WEB_TUNNEL: Check = Check {
 id: Cow::Borrowed("EXS-LOG-019"),
 title: Cow::Borrowed("Web tunnel traffic (reGeorg, Neo-reGeorg, Tunna)"),
 severity: Severity::High,
 class: Class::Compromise,
 category: Cow::Borrowed("webshell"),
 references: Cow::Borrowed(&[WEB_SHELL, Reference::attack("T1090.001"), Reference::attack("T1572")]),
 why: Cow::Borrowed("A tunnel page relays the attacker's connections from the web server into the internal network (RDP, SMB); reGeorg and Tunna say so in their query strings, and all three ship pages of fixed names."),
 action: Cow::Borrowed("Find and preserve the tunnel page, then look for the internal connections it made (Sysmon 3, firewall logs) at the times of these requests."),
};

/// The log checks, in ID order.
pub static LOG_CHECKS: &[&Check] = &[
    &PROXYLOGON_SSRF,
    &PROXYLOGON_PROBE,
    &UM_DESERIALIZATION,
    &OAB_FILE_WRITE,
    &VIRTUAL_DIRECTORY_WRITE,
    &PROXYLOGON_TRACE,
    &WEB_SHELL_REQUEST,
    &PROXYSHELL,
    &OWASSRF,
    &KNOWN_ATTACKER_IP,
    &SUSPICIOUS_USER_AGENT,
    &SHELL_ACCESS,
    &SHELL_COMMAND_REQUEST,
    &WEB_TUNNEL,
];

/// Addresses Volexity saw exploiting Exchange (CISA AA21-062A).
pub const VOLEXITY_IPS: [&str; 15] = [
    "103.77.192.219",
    "104.140.114.110",
    "104.250.191.110",
    "108.61.246.56",
    "149.28.14.163",
    "157.230.221.198",
    "167.99.168.251",
    "185.250.151.72",
    "192.81.208.169",
    "203.160.69.66",
    "211.56.98.146",
    "5.254.43.18",
    "5.2.69.14",
    "80.92.205.81",
    "91.192.103.43",
];
const TOOL_AGENTS: [&str; 3] = [
    "exchangeservicesclient/0.0.0.0",
    "python-requests",
    "antsword",
];
const CRAWLER_AGENTS: [&str; 7] = [
    "duckduckbot",
    "googlebot",
    "baiduspider",
    "bingbot",
    "yandexbot",
    "facebookexternalhit",
    "slurp",
];

/// The literals that select the lines of a log worth parsing, or `None` when every line
/// is (the remote PowerShell log: each row is a session whose client matters). Each
/// kind of log gets only the needles its checks need.
pub fn needles(source: &LogSource) -> Option<Vec<Needle>> {
    let only = |text: &str| Some(vec![Needle::plain(text)]);
    match source {
        LogSource::HttpProxy { .. } | LogSource::Iis => Some(request_needles(source)),
        LogSource::EcpServer | LogSource::EcpActivity => only("virtualdirectory"),
        LogSource::OabGenerator => only("download failed and temporary file"),
        LogSource::RpsHttp => None,
    }
}

/// The needles of the request logs (HttpProxy, IIS): every request check fires only on
/// a line holding one of them. A busy server's benign traffic must not be parsed, and the
/// SIMD search (Teddy) slows with every needle and with every benign line a needle hits:
/// past 32 needles it searches half as many bytes at a time, past 64 it is off. So: few
/// needles of four bytes at least (it screens on as many bytes as the shortest has),
/// each starting with bytes benign lines rarely hold, and a second condition where
/// benign traffic shares a needle (`/ecp/`, `/owa/auth/`, `autodiscover.json`, `cmd=`).
/// Each log gets only what its checks can see there: the HttpProxy columns
/// (`AnchorMailbox`, `RoutingHint`) only in HttpProxy logs; the attacker IPs, searched
/// from their second octet on (`.77.192.219`: leading digits are everywhere in a log),
/// only in IIS logs, which log every front-end request HttpProxy proxies; on HttpProxy
/// lines selected otherwise, the IP check still runs. The commands a shell takes in
/// its query are searched by the ones recon starts with; the checks know more
/// (`ipconfig`, `tasklist`, `cmd /c` ...) on lines selected otherwise.
fn request_needles(source: &LogSource) -> Vec<Needle> {
    let http_proxy = matches!(source, LogSource::HttpProxy { .. });
    let mut n: Vec<Needle> = Vec::new();
    if http_proxy {
        n.extend(
            ["serverinfo~", "x-beresource", "x-anonresource", "?proxy"]
                .into_iter()
                .map(Needle::plain),
        );
    }
    n.extend(
        [
            "/aspnet_client/",
            // `/powershell` (OWASSRF, ProxyShell, whose `X-Rps-CAT` follows it) and
            // `powershell -enc` in a query.
            "powershell",
            // `exchangeservicesclient/0.0.0.0`, from its rarer part.
            "client/0.0.0.0",
            "python-requests",
            "antsword",
            "whoami",
            "dsquery",
            "certutil",
            "nltest",
            // Tunnel pages by their default names (`tunnel.aspx`, `tunnel.ashx`).
            "tunnel.as",
            "/conn.aspx",
        ]
        .into_iter()
        .map(Needle::plain),
    );
    // `net user`, `net group`, `net localgroup`, the space in either encoding
    // (`.NET+CLR` in user agents shares the needle, not the condition).
    for text in ["net+", "net%20"] {
        n.push(Needle {
            text: text.into(),
            confirm: Some(|text, needle| {
                let rest = &text[needle.end..];
                ["user", "group", "localgroup"]
                    .iter()
                    .any(|w| rest.starts_with(w.as_bytes()))
            }),
        });
    }
    // `cmd=` (reGeorg, shells) but not ActiveSync's `Cmd=Sync`.
    n.push(Needle {
        text: "cmd=".into(),
        confirm: Some(|text, needle| {
            let value = url_stem_at(text, needle.end);
            let value = value.split(|&b| b == b'&').next().unwrap_or(value);
            !ACTIVESYNC_COMMANDS.iter().any(|c| c.as_bytes() == value)
        }),
    });
    // Tunna's `?proxy` query (HttpProxy's `?` is among its needles above, as its
    // every row holds `,Proxy,`): after the IIS stem's space, alone or followed by
    // its parameters.
    n.push(Needle {
        text: " proxy".into(),
        confirm: Some(|text, needle| {
            matches!(
                text.get(needle.end),
                None | Some(b'&' | b' ' | b'\r' | b'\n')
            )
        }),
    });
    n.push(Needle {
        text: "/ecp/".into(),
        confirm: Some(|text, needle| {
            let stem = url_stem_at(text, needle.end);
            ["default.flt", "main.css", "auth/"]
                .iter()
                .any(|p| stem.starts_with(p.as_bytes()))
                || stem.ends_with(b"proxylogon.ecp")
                || stem
                    .strip_suffix(b".js")
                    .is_some_and(|name| (1..=3).contains(&name.len()) && !name.contains(&b'/'))
                || page_in_build_folder(text, needle.start, stem)
        }),
    });
    n.push(Needle {
        text: "/owa/auth/".into(),
        confirm: Some(|text, needle| {
            let stem = url_stem_at(text, needle.end);
            stem == b"x.js"
                || stem.starts_with(b"current")
                || is_post(text, needle.start)
                || (is_server_page(stem)
                    && (stem.contains(&b'/')
                        || !OWA_AUTH_PAGES.iter().any(|p| p.as_bytes() == stem)))
        }),
    });
    n.push(Needle {
        text: "/owa/1".into(),
        confirm: Some(|text, needle| {
            let stem = url_stem_at(text, needle.start + "/owa/".len());
            page_in_build_folder(text, needle.start, stem)
        }),
    });
    if !http_proxy {
        n.extend(VOLEXITY_IPS.iter().map(|ip| {
            let from_second_octet = ip.find('.').expect("dotted quad");
            Needle::plain(&ip[from_second_octet..])
        }));
    }
    n.push(Needle {
        text: "autodiscover.json".into(),
        confirm: Some(|text, needle| {
            let rest = &text[needle.end..];
            ["?@", " @", "%3f@"]
                .iter()
                .any(|p| rest.starts_with(p.as_bytes()))
        }),
    });
    n
}

/// ActiveSync's commands, which its every request carries as `Cmd=`.
const ACTIVESYNC_COMMANDS: [&str; 24] = [
    "sync",
    "sendmail",
    "smartforward",
    "smartreply",
    "getattachment",
    "gethierarchy",
    "createcollection",
    "deletecollection",
    "movecollection",
    "foldersync",
    "foldercreate",
    "folderdelete",
    "folderupdate",
    "moveitems",
    "getitemestimate",
    "meetingresponse",
    "search",
    "settings",
    "ping",
    "itemoperations",
    "provision",
    "resolverecipients",
    "validatecert",
    "find",
];

/// Whether the request at `at` is a POST, as IIS writes it (`POST /...`) and as
/// HttpProxy's `Method` column would not show here: HttpProxy rows are selected by
/// their other needles.
fn is_post(text: &[u8], at: usize) -> bool {
    text[..at].ends_with(b"post ")
}

/// Whether a URL path's last segment names a page IIS runs.
fn is_server_page(stem: &[u8]) -> bool {
    let name = stem.rsplit(|&b| b == b'/').next().unwrap_or(stem);
    name.rsplit(|&b| b == b'.')
        .next()
        .filter(|ext| ext.len() < name.len())
        .is_some_and(|ext| SERVER_EXECUTED.iter().any(|e| e.as_bytes() == ext))
}

/// Whether `stem` (what follows `/owa/` or `/ecp/`) lies in a build folder and names a
/// page or is posted to.
fn page_in_build_folder(text: &[u8], at: usize, stem: &[u8]) -> bool {
    let Some(slash) = stem.iter().position(|&b| b == b'/') else {
        return false;
    };
    std::str::from_utf8(&stem[..slash]).is_ok_and(is_build)
        && (is_post(text, at) || is_server_page(stem))
}

/// The rest of a URL path from `at` on, up to the end of its log field (or line).
fn url_stem_at(text: &[u8], at: usize) -> &[u8] {
    let rest = &text[at..];
    let end = rest
        .iter()
        .position(|b| matches!(b, b' ' | b',' | b'?' | b'"' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// What the log checks need to know about the server.
pub struct LogContext<'a> {
    /// Exchange's install root (Windows path), for the OAB check.
    pub exchange_root: &'a str,
    /// IIS's URLs and folders, to look a requested page up among the indicators.
    pub web_map: &'a WebMap,
    pub indicators: &'a IndicatorSet,
}

fn lower(v: &Option<String>) -> String {
    v.as_deref().unwrap_or("").to_ascii_lowercase()
}

fn succeeded(status: &Option<String>) -> bool {
    matches!(status.as_deref(), Some(s) if s.starts_with('2') || s.starts_with('3'))
}

static RESET_VDIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^serverinfo~.*/.*reset.*virtualdirectory#$").expect("static regex")
});
// Test-ProxyLogon's pattern `Set-.+VirtualDirectory.+?(?=Url).+<\w+.*>(.*?)<\/\w+>.+?(?=VirtualDirectory)`
// without its look-aheads (Rust's regex has none), matching the same lines: after
// `(?=Url)` the `.+` must run over `Url` itself to reach a `<`, so it is `Url.*<` (the
// tag may follow `Url` at once), and a look-ahead at the end only asks that the text
// be there.
static ECP_SET_VDIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)Set-.+VirtualDirectory.+?Url.*<\w+.*>(.*?)</\w+>.+?VirtualDirectory")
        .expect("static regex")
});
static OAB_DOWNLOAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)Download failed and temporary file (.*?) needs to be removed")
        .expect("static regex")
});
static ECP_TINY_JS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^/ecp/[^/]{1,3}\.js$").expect("static regex"));
static OWA_POWERSHELL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^/owa/[^/]+@[^/]+/powershell").expect("static regex"));

/// Runs every log check on one parsed line.
pub fn check_line(
    source: &LogSource,
    fields: &Fields,
    raw: &str,
    ctx: &LogContext,
    out: &mut Vec<Hit>,
) {
    match source {
        LogSource::HttpProxy { protocol } => {
            test_proxylogon_ssrf(protocol, fields, out);
            request_checks(fields, ctx, out);
        }
        LogSource::Iis => request_checks(fields, ctx, out),
        LogSource::EcpServer | LogSource::EcpActivity => ecp_checks(raw, out),
        LogSource::OabGenerator => oab_check(raw, ctx, out),
        LogSource::RpsHttp => rps_check(fields, out),
    }
}

/// How Test-ProxyLogon's CVE-2021-26855 check reads an `AnchorMailbox`.
#[derive(Debug, PartialEq, Eq)]
enum Anchor {
    /// Not a `ServerInfo~*/*` anchor: no part of the check.
    Other,
    /// A row the script reports.
    Reported,
    /// A `ServerInfo~` anchor the script excludes: a scanner's probe.
    Excluded,
}

/// Test-ProxyLogon's row condition, its `-like` patterns with PowerShell's semantics
/// (the whole value matched, `*` any run of characters, case ignored; ASCII case
/// folding here, which is all the prefix and exclusions spell):
/// `-like 'ServerInfo~*/*' -and -notlike 'ServerInfo~*/autodiscover*'
/// -and -notlike 'ServerInfo~localhost*/*'`. The autodiscover exclusion follows any
/// slash, not only the first.
fn read_anchor(anchor: &str) -> Anchor {
    let Some(rest) = anchor
        .get(..PREFIX.len())
        .filter(|p| p.eq_ignore_ascii_case(PREFIX))
        .map(|_| &anchor[PREFIX.len()..])
    else {
        return Anchor::Other;
    };
    if !rest.contains('/') {
        return Anchor::Other;
    }
    let rest = rest.to_ascii_lowercase();
    let localhost = rest
        .strip_prefix("localhost")
        .is_some_and(|after| after.contains('/'));
    if localhost || rest.contains("/autodiscover") {
        Anchor::Excluded
    } else {
        Anchor::Reported
    }
}
const PREFIX: &str = "ServerInfo~";

/// What a finding of one of Test-ProxyLogon's checks says first, so that a reader
/// comparing the two tools sees which rows the script would have reported.
const TPL_HIT: &str = "Test-ProxyLogon reports this";

/// Test-ProxyLogon checks 1 and 4 on HttpProxy rows, and the probes it drops. Every
/// row the script reports is an EXS-LOG-001 finding, graded by the answer: a 401 is
/// an attempt, a success critical.
fn test_proxylogon_ssrf(protocol: &str, fields: &Fields, out: &mut Vec<Hit>) {
    let original = fields.anchor_mailbox.as_deref().unwrap_or("");
    let status = fields.status.as_deref().unwrap_or("?");
    match read_anchor(original) {
        Anchor::Other => return,
        Anchor::Excluded => out.push(PROXYLOGON_PROBE.hit(format!(
            "AnchorMailbox {original} (HTTP {status}): a ProxyLogon probe (Test-ProxyLogon leaves it out), not a successful request."
        ))),
        Anchor::Reported if status == "401" => out.push(PROXYLOGON_SSRF.attempt(
            Severity::Medium,
            format!("{TPL_HIT} row (CVE-2021-26855): AnchorMailbox {original} was refused with HTTP 401, a failed attempt."),
        )),
        Anchor::Reported => {
            let severity = if succeeded(&fields.status) || status == "241" {
                Severity::Critical
            } else {
                Severity::High
            };
            out.push(PROXYLOGON_SSRF.hit_at(severity, format!(
                "{TPL_HIT} row (CVE-2021-26855): AnchorMailbox {original} answered HTTP {status}, the front end forwarded an attacker-chosen request to the back end."
            )));
        }
    }
    // `-like 'ServerInfo~*/*Reset*VirtualDirectory#' -and $_.HttpStatus -eq 200`, in
    // `HttpProxy\Ecp` (for loose extracts with no folder, by the row's `Protocol`).
    let protocol = match protocol {
        "" => fields.protocol.as_deref().unwrap_or(""),
        folder => folder,
    };
    if protocol.eq_ignore_ascii_case("ecp")
        && RESET_VDIR.is_match(original)
        && fields.status.as_deref() == Some("200")
    {
        out.push(VIRTUAL_DIRECTORY_WRITE.hit(format!(
            "{TPL_HIT} row (CVE-2021-27065): HttpProxy\\Ecp request with AnchorMailbox {original} and HTTP 200, a virtual directory reset through the SSRF."
        )));
    }
}

/// The back end's remote PowerShell log: clients other than Exchange's own are OWASSRF
/// or ProxyNotShell sessions arriving through the front end.
fn rps_check(fields: &Fields, out: &mut Vec<Hit>) {
    let client = fields.text.as_deref().unwrap_or("").trim();
    if client.is_empty()
        || ["microsoft winrm client", "exchange backend probes"]
            .contains(&client.to_ascii_lowercase().as_str())
    {
        return;
    }
    let user = fields.user.as_deref().unwrap_or("?");
    let ip = fields.client_ip.as_deref().unwrap_or("?");
    out.push(OWASSRF.hit(format!(
        "Remote PowerShell session for {user} from {ip} with client {client}: not a client Exchange uses itself."
    )));
}

fn ecp_checks(raw: &str, out: &mut Vec<Hit>) {
    if let Some(cap) = ECP_SET_VDIR.captures(raw) {
        out.push(VIRTUAL_DIRECTORY_WRITE.hit(format!(
            "{TPL_HIT} line (CVE-2021-27065): a Set-*VirtualDirectory command put markup in a URL ({}).",
            exsweep_model::printable(cap.get(1).map_or("", |m| m.as_str()).as_bytes())
        )));
    }
}

fn oab_check(raw: &str, ctx: &LogContext, out: &mut Vec<Hit>) {
    let Some(cap) = OAB_DOWNLOAD.captures(raw) else {
        return;
    };
    let path = cap[1].to_string();
    let expected = format!(
        "'{}\\clientaccess\\oab",
        ctx.exchange_root.trim_end_matches('\\')
    )
    .to_lowercase();
    if !path.to_lowercase().starts_with(&expected) {
        let mut hit = OAB_FILE_WRITE.hit(format!(
            "{TPL_HIT} line (CVE-2021-26858): the OAB generator removed a temporary file at {path}, outside ClientAccess\\OAB."
        ));
        hit.names_file = Some(path.trim_matches('\'').to_string());
        out.push(hit);
    }
}

/// Checks on HTTP requests, common to HttpProxy and IIS logs.
fn request_checks(fields: &Fields, ctx: &LogContext, out: &mut Vec<Hit>) {
    let stem = url_path_key(fields.url_stem.as_deref().unwrap_or(""));
    let query = lower(&fields.url_query);
    let method = lower(&fields.method);
    let status = fields.status.as_deref().unwrap_or("?");
    let agent = lower(&fields.user_agent);
    let url = format!(
        "{} {}{}",
        method.to_uppercase(),
        fields.url_stem.as_deref().unwrap_or(""),
        if query.is_empty() {
            String::new()
        } else {
            format!("?{}", fields.url_query.as_deref().unwrap_or(""))
        }
    );

    // ProxyLogon traces.
    let cookie = format!(
        "{} {}",
        lower(&fields.routing_hint),
        lower(&fields.backend_cookie)
    );
    if cookie.contains("x-beresource-cookie") || cookie.contains("x-anonresource-backend-cookie") {
        out.push(PROXYLOGON_TRACE.hit(format!(
            "Routing by an X-BEResource / X-AnonResource-Backend cookie ({url}, HTTP {status})."
        )));
    } else if stem.ends_with("/proxylogon.ecp") && status == "241" {
        out.push(PROXYLOGON_TRACE.hit_at(
            Severity::Critical,
            format!("{url} answered 241: the ProxyLogon exploit obtained an ECP session."),
        ));
    } else if ECP_TINY_JS.is_match(&stem)
        || stem == "/owa/auth/x.js"
        || stem == "/ecp/default.flt"
        || stem == "/ecp/main.css"
    {
        let detail = format!("{url} (HTTP {status}): a URL public ProxyLogon exploits use.");
        out.push(if method == "post" {
            PROXYLOGON_TRACE.hit_at(Severity::High, detail)
        } else {
            PROXYLOGON_TRACE.attempt(Severity::Medium, detail)
        });
    }

    page_where_none_should_be(&stem, &method, status, &url, ctx, out);
    // The query as a shell or tunnel reads it, decoded once for both.
    let decoded_query = query_text(&query);
    shell_command(&decoded_query, status, &url, out);
    tunnel(&stem, &decoded_query, status, &url, out);

    // ProxyShell / ProxyNotShell.
    let full = format!("{stem}?{query}");
    if full.contains("autodiscover.json")
        && [
            "/powershell",
            "x-rps-cat",
            "/mapi/nspi",
            "/ews/",
            "email=autodiscover/autodiscover.json",
        ]
        .iter()
        .any(|n| full.contains(n))
    {
        let authenticated = fields.user.is_some();
        let variant = if authenticated {
            "ProxyNotShell (authenticated)"
        } else {
            "ProxyShell"
        };
        out.push(if succeeded(&fields.status) {
            PROXYSHELL.hit(format!(
                "{variant} request {url} succeeded (HTTP {status})."
            ))
        } else {
            PROXYSHELL.attempt(
                Severity::Medium,
                format!("{variant} request {url} was refused: an attempt (HTTP {status})."),
            )
        });
    }

    if OWA_POWERSHELL.is_match(&stem) {
        let detail = format!("{url} answered HTTP {status}.");
        out.push(if succeeded(&fields.status) {
            OWASSRF.hit_at(Severity::Critical, detail)
        } else {
            OWASSRF.attempt(Severity::High, detail)
        });
    }

    if let Some(ip) = fields.client_ip.as_deref() {
        if VOLEXITY_IPS.contains(&ip) {
            out.push(KNOWN_ATTACKER_IP.hit(format!("{ip} requested {url} (HTTP {status}).")));
        }
    }
    if let Some(tool) = TOOL_AGENTS.iter().find(|t| agent.contains(*t)) {
        out.push(SUSPICIOUS_USER_AGENT.hit(format!(
            "User agent {tool} requested {url} (HTTP {status})."
        )));
    } else if stem.starts_with("/owa/auth/current") {
        if let Some(bot) = CRAWLER_AGENTS.iter().find(|b| agent.contains(*b)) {
            out.push(SUSPICIOUS_USER_AGENT.hit(format!(
                "A {bot} user agent requested {url}: crawlers never see this folder."
            )));
        }
    }
}

/// What a request's answer says of the page it asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// 2xx: the page exists and ran.
    Ran,
    /// 500: the page exists; it failed as it ran.
    Failed,
    /// Not logged (a record short of its status).
    Unknown,
    /// Anything else: no such page answered (404), or it was refused.
    Refused,
}

fn answer(status: &str) -> Answer {
    match status.trim() {
        "" | "?" | "-" => Answer::Unknown,
        "500" => Answer::Failed,
        s if s.starts_with('2') => Answer::Ran,
        _ => Answer::Refused,
    }
}

/// The folders that hold no page a request may reach beyond a fixed set.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PageFolder {
    /// An IIS root's `aspnet_client`: no pages at all.
    AspnetClient,
    /// The front end's `owa\auth`: its fixed logon pages.
    OwaAuth,
    /// The front end's `ecp\auth`: one page.
    EcpAuth,
    /// A build folder or `Current` (`/owa/auth/15.2.858.5/`, `/owa/auth/Current/`,
    /// `/ecp/15.2.858/`): static files only.
    Static,
}

/// A build number as a folder name: `15.2.858` or `15.2.858.5`.
fn is_build(segment: &str) -> bool {
    let parts: Vec<&str> = segment.split('.').collect();
    (3..=4).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn page_folder(stem: &str) -> Option<PageFolder> {
    if stem.starts_with("/aspnet_client/") {
        return Some(PageFolder::AspnetClient);
    }
    if stem == "/owa/auth/current" {
        return Some(PageFolder::Static);
    }
    if let Some(rest) = stem.strip_prefix("/owa/auth/") {
        return Some(if rest.contains('/') {
            PageFolder::Static
        } else {
            PageFolder::OwaAuth
        });
    }
    if stem.starts_with("/ecp/auth/") {
        return Some(PageFolder::EcpAuth);
    }
    ["/owa/", "/ecp/"].iter().find_map(|app| {
        let (first, _) = stem.strip_prefix(app)?.split_once('/')?;
        is_build(first).then_some(PageFolder::Static)
    })
}

/// What the indicators say of the file a URL would run, if anything.
fn known_shell(stem: &str, ctx: &LogContext) -> Option<String> {
    ctx.web_map.files_of(stem).iter().find_map(|file| {
        let hit = ctx
            .indicators
            .path_hits(file, Some(ctx.exchange_root), true)
            .into_iter()
            .next()?;
        Some(format!(
            "; the {} is a known web shell's ({}: {})",
            hit.what, hit.provenance.source, hit.provenance.comment
        ))
    })
}

/// Web-shell use or probing: a request for a page in a folder that holds none (or only
/// fixed ones), GET or POST, and any POST into a static folder (Volexity saw POSTs to
/// `.css` names there). The answer grades it: a page that ran is a shell in use, a
/// 404 a probe.
fn page_where_none_should_be(
    stem: &str,
    method: &str,
    status: &str,
    url: &str,
    ctx: &LogContext,
    out: &mut Vec<Hit>,
) {
    let Some(folder) = page_folder(stem) else {
        return;
    };
    let name = stem.rsplit('/').next().unwrap_or("");
    let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
    let fixed_page = match folder {
        PageFolder::OwaAuth => OWA_AUTH_PAGES.contains(&name),
        PageFolder::EcpAuth => ECP_AUTH_PAGES.contains(&name),
        PageFolder::AspnetClient | PageFolder::Static => false,
    };
    let page = SERVER_EXECUTED.contains(&extension) && !fixed_page;
    let post = method == "post";
    let post_to_static = post && matches!(folder, PageFolder::AspnetClient | PageFolder::Static);
    if !page && !post_to_static {
        return;
    }
    let known = known_shell(stem, ctx).unwrap_or_default();
    out.push(match answer(status) {
        Answer::Ran => WEB_SHELL_REQUEST.hit_at(
            if post || !known.is_empty() {
                Severity::Critical
            } else {
                Severity::High
            },
            format!("{url} answered HTTP {status}: a page where none should be exists and ran{known}."),
        ),
        Answer::Failed => WEB_SHELL_REQUEST.hit(format!(
            "{url} answered HTTP 500: a page where none should be exists (it failed as it ran){known}."
        )),
        Answer::Unknown => WEB_SHELL_REQUEST.hit(format!(
            "{url}, its answer not logged: a request for a page where none should be{known}."
        )),
        Answer::Refused => WEB_SHELL_REQUEST.attempt(
            if post || !known.is_empty() {
                Severity::Medium
            } else {
                Severity::Low
            },
            format!("{url} answered HTTP {status}: no page ran; someone probed for a web shell{known}."),
        ),
    });
}

/// OS commands as web shells take them in a query string, after decoding.
static SHELL_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(whoami|net1? +(user|group|localgroup)\b|dsquery|certutil|nltest|systeminfo|ipconfig|tasklist|rundll32|cmd\.exe|cmd +/[ck]\b|powershell(\.exe)? +[-/])",
    )
    .expect("static regex")
});

/// An OS command in a request's query string: a shell taking its command in the URL
/// (`?cmd=whoami`, `?c=powershell -enc ...`); `query` is decoded ([`query_text`]).
fn shell_command(query: &str, status: &str, url: &str, out: &mut Vec<Hit>) {
    let Some(command) = SHELL_COMMAND.find(query) else {
        return;
    };
    let command = command.as_str().trim();
    out.push(match answer(status) {
        Answer::Refused => SHELL_COMMAND_REQUEST.attempt(
            Severity::Medium,
            format!(
                "{url} answered HTTP {status}: the query carries the command `{command}`, refused."
            ),
        ),
        Answer::Ran => SHELL_COMMAND_REQUEST.hit_at(
            Severity::Critical,
            format!("{url} answered HTTP {status}: the page took the command `{command}` and ran."),
        ),
        _ => SHELL_COMMAND_REQUEST.hit(format!(
            "{url} answered HTTP {status}: the query carries the command `{command}`."
        )),
    });
}

/// The default page names of the public tunnels: reGeorg and Neo-reGeorg
/// (`tunnel.aspx`, `tunnel.ashx`, `tunnel.nosocket.aspx`), Tunna (`conn.aspx`).
const TUNNEL_PAGES: [&str; 4] = [
    "tunnel.aspx",
    "tunnel.ashx",
    "tunnel.nosocket.aspx",
    "conn.aspx",
];
/// reGeorg's commands (`?cmd=connect&target=...&port=...`, then read, forward,
/// disconnect); ActiveSync's `Cmd=` takes none of them.
const REGEORG_COMMANDS: [&str; 4] = ["connect", "read", "forward", "disconnect"];

/// The query shapes of the public web tunnels, and their default page names.
fn tunnel_shape(name: &str, query: &str) -> Option<&'static str> {
    let params: Vec<(&str, &str)> = query
        .trim_start_matches('?')
        .split('&')
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    let cmd = params.iter().find(|(k, _)| *k == "cmd").map(|(_, v)| *v);
    if cmd.is_some_and(|c| REGEORG_COMMANDS.contains(&c)) {
        return Some("reGeorg's cmd=connect/read/forward/disconnect");
    }
    // Tunna: `?proxy`, `?proxy&port=..&ip=..`, `?proxy&close`, `?proxy&file&upload`.
    if params
        .first()
        .is_some_and(|(k, v)| *k == "proxy" && v.is_empty())
    {
        return Some("Tunna's ?proxy");
    }
    TUNNEL_PAGES
        .contains(&name)
        .then_some("the default page name of reGeorg, Neo-reGeorg or Tunna")
}

/// Traffic through a web tunnel: the attacker reaching the internal network through
/// the web server; `query` is decoded ([`query_text`]).
fn tunnel(stem: &str, query: &str, status: &str, url: &str, out: &mut Vec<Hit>) {
    let name = stem.rsplit('/').next().unwrap_or("");
    let Some(shape) = tunnel_shape(name, query) else {
        return;
    };
    out.push(match answer(status) {
        Answer::Refused => WEB_TUNNEL.attempt(
            Severity::Medium,
            format!("{url} answered HTTP {status}: {shape}, refused."),
        ),
        Answer::Ran => WEB_TUNNEL.hit_at(
            Severity::Critical,
            format!("{url} answered HTTP {status}: {shape}, answered: the tunnel is in use."),
        ),
        _ => WEB_TUNNEL.hit(format!("{url} answered HTTP {status}: {shape}.")),
    });
}

/// The context of a server at Exchange's default paths with the built-in indicators.
#[cfg(test)]
pub(crate) fn test_context() -> LogContext<'static> {
    use exsweep_evidence::known::DEFAULT_EXCHANGE_ROOT;
    static SERVER: LazyLock<(WebMap, IndicatorSet)> = LazyLock::new(|| {
        (
            WebMap::defaults(DEFAULT_EXCHANGE_ROOT),
            IndicatorSet::builtin(),
        )
    });
    LogContext {
        exchange_root: DEFAULT_EXCHANGE_ROOT,
        web_map: &SERVER.0,
        indicators: &SERVER.1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(anchor: &str, status: &str) -> Fields {
        Fields {
            anchor_mailbox: Some(anchor.into()),
            status: Some(status.into()),
            ..Fields::default()
        }
    }

    fn ids(source: LogSource, fields: &Fields, raw: &str) -> Vec<(&'static str, Severity)> {
        let mut out = Vec::new();
        check_line(&source, fields, raw, &test_context(), &mut out);
        out.iter()
            .map(|f| (crate::checks::builtin_id(f), f.severity))
            .collect()
    }

    /// The (check, severity) pairs a case must raise.
    type Expected<'a> = &'a [(&'a str, Severity)];

    fn proxy(protocol: &str) -> LogSource {
        LogSource::HttpProxy {
            protocol: protocol.into(),
        }
    }

    #[test]
    fn test_proxylogon_check_one_and_its_exclusions() {
        let critical = [("EXS-LOG-001", Severity::Critical)];
        let high = [("EXS-LOG-001", Severity::High)];
        let probe = [("EXS-LOG-002", Severity::Medium)];
        let refused = [("EXS-LOG-001", Severity::Medium)];
        let cases: [(&str, &str, &str, Expected); 10] = [
            (
                "Ecp",
                "ServerInfo~a]@exch01.corp:444/ecp/y.js",
                "200",
                &critical,
            ),
            ("Owa", "SERVERINFO~x/y", "500", &high),
            (
                "Autodiscover",
                "ServerInfo~a/autodiscover/autodiscover.xml",
                "200",
                &probe,
            ),
            ("Ecp", "ServerInfo~localhost~1942062522/ecp", "200", &probe),
            // The script reports 401s too: an attempt here.
            ("Owa", "ServerInfo~a/b", "401", &refused),
            // Its autodiscover exclusion follows any slash; localhost needs one.
            ("Owa", "ServerInfo~a/ecp/AutoDiscover/x", "200", &probe),
            ("Owa", "ServerInfo~localhostx/ecp", "200", &probe),
            ("Owa", "ServerInfo~/", "200", &critical),
            ("Owa", "ServerInfo~nopath", "200", &[]),
            ("Owa", "smtp:alice@corp.example", "200", &[]),
        ];
        for (protocol, anchor, status, expected) in cases {
            assert_eq!(
                ids(proxy(protocol), &http(anchor, status), ""),
                expected,
                "{protocol} {anchor} {status}"
            );
        }
    }

    #[test]
    fn test_proxylogon_check_four() {
        let f = http("ServerInfo~a]@exch01:444/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory#", "200");
        let got = ids(proxy("Ecp"), &f, "");
        assert!(
            got.contains(&("EXS-LOG-005", Severity::Critical)),
            "{got:?}"
        );
        assert!(!ids(proxy("Owa"), &f, "")
            .iter()
            .any(|(id, _)| *id == "EXS-LOG-005"));
        let line = "2021-03-03T02:50:00.000Z,EXCH01,ECP.Request,\"S:TIME=120;S:SID=x;S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/<script language=\"\"JScript\"\" runat=\"\"server\"\">function Page_Load(){}</script>''.Identity=''x''.Name=''OAB (Default Web Site)'';S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory\"";
        assert_eq!(
            ids(LogSource::EcpServer, &Fields::default(), line),
            vec![("EXS-LOG-005", Severity::Critical)]
        );
        let benign = "S:CMD=Set-OabVirtualDirectory.ExternalUrl=''https://mail.corp.example/OAB''.Identity=''OAB (Default Web Site)''";
        assert!(ids(LogSource::EcpServer, &Fields::default(), benign).is_empty());
    }

    #[test]
    fn test_proxylogon_check_three() {
        let bad = "Download failed and temporary file 'C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx' needs to be removed";
        assert_eq!(
            ids(LogSource::OabGenerator, &Fields::default(), bad),
            vec![("EXS-LOG-004", Severity::Critical)]
        );
        let ok = "Download failed and temporary file 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\OAB\\Temp\\a.lzx' needs to be removed";
        assert!(ids(LogSource::OabGenerator, &Fields::default(), ok).is_empty());
    }

    fn request(method: &str, stem: &str, query: &str, status: &str, agent: &str) -> Fields {
        Fields {
            method: Some(method.into()),
            url_stem: Some(stem.into()),
            url_query: (!query.is_empty()).then(|| query.into()),
            status: Some(status.into()),
            user_agent: Some(agent.into()),
            client_ip: Some("198.51.100.7".into()),
            ..Fields::default()
        }
    }

    #[test]
    fn request_checks_fire_on_traces_and_not_on_benign_traffic() {
        const BROWSER: &str = "Mozilla/5.0";
        let shell_post = [("EXS-LOG-007", Severity::Critical)];
        type Case<'a> = (
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a [(&'a str, Severity)],
        );
        let cases: [Case; 13] = [
            ("POST", "/owa/auth/Current/themes/resources/logon.css", "", "200", BROWSER, &shell_post),
            ("POST", "/aspnet_client/discover.aspx", "", "200", BROWSER, &shell_post),
            ("POST", "/ecp/y.js", "", "200", BROWSER, &[("EXS-LOG-006", Severity::High)]),
            (
                "GET",
                "/autodiscover/autodiscover.json",
                "@evil.com/powershell/?X-Rps-CAT=x&Email=autodiscover/autodiscover.json%3F@evil.com",
                "200",
                "python-requests/2.25.1",
                &[("EXS-LOG-008", Severity::Critical), ("EXS-LOG-011", Severity::Medium)],
            ),
            (
                "GET",
                "/autodiscover/autodiscover.json",
                "@x/mapi/nspi",
                "401",
                BROWSER,
                &[("EXS-LOG-008", Severity::Medium)],
            ),
            (
                "POST",
                "/owa/alice@corp.example/powershell",
                "",
                "200",
                BROWSER,
                &[("EXS-LOG-009", Severity::Critical)],
            ),
            (
                "GET",
                "/owa/auth/Current/themes/resources/a.css",
                "",
                "200",
                "Mozilla/5.0+(compatible;+Googlebot/2.1)",
                &[("EXS-LOG-011", Severity::Medium)],
            ),
            // Benign: logon, static resources, a crawler on the logon page, ECP use.
            ("POST", "/owa/auth.owa", "", "302", BROWSER, &[]),
            ("GET", "/owa/auth/15.2.858.5/themes/resources/logon.css", "", "200", BROWSER, &[]),
            ("GET", "/owa/auth/logon.aspx", "", "200", "Googlebot/2.1", &[]),
            ("POST", "/ecp/DDI/DDIService.svc/GetList", "", "200", BROWSER, &[]),
            (
                "GET",
                "/autodiscover/autodiscover.json",
                "Email=alice@corp.example&Protocol=ActiveSync",
                "200",
                "Outlook",
                &[],
            ),
            ("GET", "/owa/", "", "200", "x", &[]),
        ];
        for (method, stem, query, status, agent, expected) in cases {
            assert_eq!(
                ids(
                    LogSource::Iis,
                    &request(method, stem, query, status, agent),
                    ""
                ),
                expected,
                "{method} {stem}?{query} {status} {agent}"
            );
        }
        let mut volexity = request("GET", "/owa/", "", "200", "x");
        volexity.client_ip = Some("5.2.69.14".into());
        assert_eq!(
            ids(LogSource::Iis, &volexity, ""),
            vec![("EXS-LOG-010", Severity::High)]
        );
    }

    #[test]
    fn needles_select_the_attack_lines_and_pass_over_benign_traffic() {
        let needles = exsweep_logs::lines::Needles::new(&request_needles(&LogSource::Iis));
        let proxy_needles = exsweep_logs::lines::Needles::new(&request_needles(&proxy("Ecp")));
        for wanted in [
            "2021-03-03 POST /ecp/y.js - 443",
            "2021-03-03,GET,/ECP/Default.flt,",
            "x /ecp/main.css x",
            "x /ecp/proxyLogon.ecp x",
            "x POST /ecp/auth/shell.aspx - 443",
            "x POST /owa/auth/15.2.858/themes/x.aspx - 443",
            "x GET /owa/auth/Current/themes/resources/x.gif - 443 Googlebot",
            "x GET /owa/auth/x.js - 443",
            "x GET /autodiscover/autodiscover.json @evil.com/powershell x",
            "x,/autodiscover/autodiscover.json?@evil.com/mapi/nspi,x",
            "x /autodiscover/autodiscover.json%3F@evil.com x",
            "x ?&Email=Autodiscover/autodiscover.json%3f@evil.com x",
            "x GET /owa/ - 443 - 104.250.191.110 Mozilla",
            "x python-requests/2.25 x",
            "x GET /owa/x.aspx cmd=whoami 443",
            "x GET /owa/x.aspx c=net+user+/domain 443",
            "x GET /owa/x.aspx c=NET%20GROUP%20%22domain+admins%22 443",
            "x POST /ecp/x.aspx cmd=connect&target=10.0.0.9&port=3389 443",
            "x POST /owa/x.aspx proxy&port=445&ip=10.0.0.9 443",
            "x POST /owa/x.aspx proxy 443",
            "x GET /owa/tunnel.ashx - 443",
            "x GET /owa/15.2.858.5/x.aspx - 443",
        ] {
            assert!(needles.selects(wanted.as_bytes()), "{wanted}");
        }
        for wanted in [
            "x,ServerInfo~a]@exch:444/mapi/x,x",
            "x,/owa/x.aspx,?proxy&port=445,x",
            "x,X-BEResource-Cookie,x",
        ] {
            assert!(proxy_needles.selects(wanted.as_bytes()), "{wanted}");
        }
        for benign in [
            "2021-03-03T00:00:00.000Z,r1,15,2,858,5,,Mapi,mail,/mapi/emsmdb/,,Negotiate,True,alice,,smtp:alice@corp,Outlook,10.0.0.9,EXCH01,200,200,,POST,Proxy,exch01.corp,15.02.0858.005,x",
            "x,/Microsoft-Server-ActiveSync/default.eas,?Cmd=Sync&User=alice,x",
        ] {
            assert!(!proxy_needles.selects(benign.as_bytes()), "{benign}");
        }
        for benign in [
            "x POST /ecp/DDI/DDIService.svc/GetList reqId=1 443",
            "x GET /ecp/scripts/abc.js - 443",
            "x GET /ecp/ - 443",
            "x GET /owa/auth/15.2.858.5/themes/resources/logon.css - 443",
            "x POST /owa/auth.owa - 443",
            "x GET /autodiscover/autodiscover.json Email=alice%40corp.example&Protocol=ActiveSync 443",
            "x GET /owa/ - 443 - 10.104.250.19 Mozilla",
            "x POST /Microsoft-Server-ActiveSync/default.eas Cmd=Sync&User=alice 443",
            "x GET /owa/ - 443 - 10.0.0.9 Mozilla/4.0+(compatible;+.NET+CLR+4.0.30319) 200",
            "x GET /owa/15.2.858.5/scripts/premium/boot.js - 443",
        ] {
            assert!(!needles.selects(benign.as_bytes()), "{benign}");
        }
    }
}
