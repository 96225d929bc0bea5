//! Log checks: exploitation and web-shell use as Exchange, IIS and event logs record
//! them. Test-ProxyLogon's five checks are reproduced with exactly its conditions
//! (case-insensitive, as PowerShell's `-like` and `Select-String`); what that script
//! throws away (probes, failed attempts) is kept as separate, lower findings.

use super::files::WEB_SCRIPT_EXTENSIONS;
use exsweep_logs::lines::Needle;
use exsweep_logs::parse::{url_path_key, Fields};
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
    title: Cow::Borrowed("POST to a script where no page should be (web-shell use)"),
    severity: Severity::High,
    class: Class::Compromise,
    category: Cow::Borrowed("webshell"),
    references: Cow::Borrowed(&[WEB_SHELL, VOLEXITY]),
    why: Cow::Borrowed("aspnet_client, owa\\auth's build folders and unknown pages in owa\\auth or ecp\\auth receive no POSTs on \
          a clean server; attackers post commands to their shells there."),
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
        LogSource::HttpProxy { .. } | LogSource::Iis => Some(request_needles()),
        LogSource::EcpServer | LogSource::EcpActivity => only("virtualdirectory"),
        LogSource::OabGenerator => only("download failed and temporary file"),
        LogSource::RpsHttp => None,
    }
}

/// The needles of the request logs (HttpProxy, IIS): every request check fires only on
/// a line holding one of them. A busy server's benign traffic must not be parsed, and the
/// SIMD search slows with every needle and with every benign line a needle hits, so:
/// few needles, each starting with bytes benign lines rarely hold (the search screens on
/// a needle's first bytes), and a second condition where benign traffic shares a
/// needle (`/ecp/`, `/owa/auth/`, `autodiscover.json`). The web-shell POSTs are found as
/// IIS writes them (`cs-method cs-uri-stem`, adjacent in its default layout). The
/// attacker IPs are searched from their second octet on (`.77.192.219`): leading digits
/// are everywhere in a log and would make the search screen far more.
fn request_needles() -> Vec<Needle> {
    let mut n: Vec<Needle> = Vec::new();
    n.extend(
        [
            "serverinfo~",
            "x-beresource",
            "x-anonresource",
            "/aspnet_client/",
            "email=autodiscover",
            "x-rps-cat",
            "/powershell",
            // `exchangeservicesclient/0.0.0.0`, from its rarer part.
            "client/0.0.0.0",
            "python-requests",
            "antsword",
        ]
        .into_iter()
        .map(Needle::plain),
    );
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
        }),
    });
    n.push(Needle {
        text: "/owa/auth/".into(),
        confirm: Some(|text, needle| {
            let stem = url_stem_at(text, needle.end);
            stem == b"x.js"
                || stem.starts_with(b"current")
                || text[..needle.start].ends_with(b"post ")
        }),
    });
    n.extend(VOLEXITY_IPS.iter().map(|ip| {
        let from_second_octet = ip.find('.').expect("dotted quad");
        Needle::plain(&ip[from_second_octet..])
    }));
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
// Test-ProxyLogon's pattern without its look-aheads (Rust's regex has none): `.+?(?=Url).+`
// matches exactly when `.+?Url.*` does followed by one more character, and likewise at the end.
static ECP_SET_VDIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)Set-.+VirtualDirectory.+?Url.+<\w+.*>(.*?)</\w+>.+?VirtualDirectory")
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
            request_checks(fields, out);
        }
        LogSource::Iis => request_checks(fields, out),
        LogSource::EcpServer | LogSource::EcpActivity => ecp_checks(raw, out),
        LogSource::OabGenerator => oab_check(raw, ctx, out),
        LogSource::RpsHttp => rps_check(fields, out),
    }
}

/// Test-ProxyLogon checks 1 and 4 on HttpProxy rows, and the probes it drops.
fn test_proxylogon_ssrf(protocol: &str, fields: &Fields, out: &mut Vec<Hit>) {
    let anchor = lower(&fields.anchor_mailbox);
    let Some(rest) = anchor.strip_prefix("serverinfo~") else {
        return;
    };
    let Some(slash) = rest.find('/') else {
        return;
    };
    let probe = rest[slash..].starts_with("/autodiscover") || rest.starts_with("localhost");
    let original = fields.anchor_mailbox.as_deref().unwrap_or("");
    let status = fields.status.as_deref().unwrap_or("?");
    if probe || status == "401" {
        out.push(PROXYLOGON_PROBE.hit(format!(
            "AnchorMailbox {original} (HTTP {status}): a ProxyLogon probe or failed attempt, not a successful request."
        )));
    } else {
        let severity = if succeeded(&fields.status) || status == "241" {
            Severity::Critical
        } else {
            Severity::High
        };
        out.push(PROXYLOGON_SSRF.hit_at(severity,
            format!("AnchorMailbox {original} answered HTTP {status}: the front end forwarded an attacker-chosen request to the back end."),
        ));
    }
    if protocol.eq_ignore_ascii_case("ecp")
        && RESET_VDIR.is_match(&anchor)
        && fields.status.as_deref() == Some("200")
    {
        out.push(VIRTUAL_DIRECTORY_WRITE.hit(format!(
            "HttpProxy\\Ecp request with AnchorMailbox {original} and HTTP 200: a virtual directory reset through the SSRF."
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
            "ECP Server log: a Set-*VirtualDirectory command put markup in a URL ({}).",
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
        out.push(OAB_FILE_WRITE.hit(format!(
            "The OAB generator removed a temporary file at {path}, outside ClientAccess\\OAB."
        )));
    }
}

const CLEAN_AUTH_PAGES: [&str; 11] = [
    "/owa/auth/errorfe.aspx",
    "/owa/auth/expiredpassword.aspx",
    "/owa/auth/frowny.aspx",
    "/owa/auth/logoff.aspx",
    "/owa/auth/logon.aspx",
    "/owa/auth/outlookcn.aspx",
    "/owa/auth/redirsuiteserviceproxy.aspx",
    "/owa/auth/signout.aspx",
    "/owa/auth/svmfeedback.aspx",
    "/owa/auth/getidtoken.htm",
    "/ecp/auth/timeoutlogout.aspx",
];

/// Checks on HTTP requests, common to HttpProxy and IIS logs.
fn request_checks(fields: &Fields, out: &mut Vec<Hit>) {
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

    // Web-shell use: POSTs where only static files or fixed pages live.
    if method == "post" {
        let name = stem.rsplit('/').next().unwrap_or("");
        let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
        let in_static = stem.starts_with("/aspnet_client/")
            || stem.starts_with("/owa/auth/current/")
            || (stem.starts_with("/owa/auth/15.") || stem.starts_with("/owa/auth/14."));
        let unknown_page = (stem.starts_with("/owa/auth/") || stem.starts_with("/ecp/auth/"))
            && WEB_SCRIPT_EXTENSIONS.contains(&ext)
            && !CLEAN_AUTH_PAGES.contains(&stem.as_str());
        if in_static || unknown_page || stem == "/owa/auth/current" {
            out.push(WEB_SHELL_REQUEST.hit(format!("{url} answered HTTP {status}.")));
        }
    }

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
        check_line(
            &source,
            fields,
            raw,
            &LogContext {
                exchange_root: r"C:\Program Files\Microsoft\Exchange Server\V15",
            },
            &mut out,
        );
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
        let cases: [(&str, &str, &str, Expected); 7] = [
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
            ("Owa", "ServerInfo~a/b", "401", &probe),
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
        let shell_post = [("EXS-LOG-007", Severity::High)];
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
        let needles = exsweep_logs::lines::Needles::new(&request_needles());
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
            "x,ServerInfo~a]@exch:444/ecp/y.js,x",
            "x python-requests/2.25 x",
        ] {
            assert!(needles.selects(wanted.as_bytes()), "{wanted}");
        }
        for benign in [
            "x POST /ecp/DDI/DDIService.svc/GetList reqId=1 443",
            "x GET /ecp/scripts/abc.js - 443",
            "x GET /ecp/ - 443",
            "x GET /owa/auth/15.2.858.5/themes/resources/logon.css - 443",
            "x POST /owa/auth.owa - 443",
            "x GET /autodiscover/autodiscover.json Email=alice%40corp.example&Protocol=ActiveSync 443",
            "x GET /owa/ - 443 - 10.104.250.19 Mozilla",
        ] {
            assert!(!needles.selects(benign.as_bytes()), "{benign}");
        }
    }
}
