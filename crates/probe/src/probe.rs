//! One target, start to end: the passive requests, the build they give, the opt-in
//! active checks, and the verdict per CVE family, in a [`ProbeResult`].

use crate::fingerprint::{self, Method};
use crate::http::{Answer, Client, Extras, FetchError, Peer};
use crate::targets::{Scheme, Target};
use exsweep_exposure::builds::{self, Build};
use exsweep_exposure::cves::{self, Precision, Status, UpdateEvidence};
use serde::Serialize;

/// Redirects followed to reach the logon page, on the same host.
const MAX_REDIRECTS: usize = 5;

/// What one target showed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ProbeResult {
    /// When the probe of this target finished (UTC, RFC 3339).
    pub time: String,
    /// The target as probed: `https://host:443`.
    pub target: String,
    pub host: String,
    /// The address that answered.
    pub ip: Option<String>,
    pub port: u16,
    pub scheme: &'static str,
    /// Whether the answers were Exchange's.
    pub exchange: bool,
    pub build: Option<String>,
    /// Microsoft's name for the build, or its CU: `Exchange 2019 CU12 Nov22SU`.
    pub release: Option<String>,
    /// `exact` (a build in Microsoft's list), `su-range` (a full build the list does
    /// not have: between two of its updates), `cu` (the CU only).
    pub precision: Option<&'static str>,
    /// `x-owa-version`, `exporttool-manifest` or `logon-build-path`.
    pub method: Option<&'static str>,
    /// One verdict per CVE family, when the build or a check gave one.
    pub verdicts: Vec<FamilyVerdict>,
    /// The CVEs open, for a CERT's list.
    pub open_cves: Vec<&'static str>,
    /// Set when the CU no longer receives security updates.
    pub unsupported: Option<String>,
    /// Server names leaked in headers (`X-FEServer`, `X-CalculatedBETarget` ...).
    pub server_names: Vec<String>,
    /// HTTPS only: `trusted`, or why the certificate would not have been trusted.
    pub tls: Option<String>,
    /// The `--active` checks run, and what each found.
    pub active: Vec<ActiveCheck>,
    /// Things worth knowing that did not stop the probe.
    pub notes: Vec<String>,
    /// Why the target could not be assessed.
    pub error: Option<String>,
}

/// `fixed`, `open`, `mitigated` or `unknown`, for one family.
#[derive(Clone, Debug, Serialize)]
pub struct FamilyVerdict {
    pub family: &'static str,
    pub verdict: &'static str,
    /// `fixed`: the family's CVEs; `open`: the open ones; `unknown`: the ones the
    /// build leaves unsettled; `mitigated`: the ones the mitigation leaves open on a
    /// build known to be vulnerable (none when the build is unknown).
    pub cves: Vec<&'static str>,
    pub why: String,
}

/// One active check and its outcome.
#[derive(Clone, Debug, Serialize)]
pub struct ActiveCheck {
    /// `proxylogon-ssrf`, `proxyshell-ssrf`, `proxynotshell-mitigation`.
    pub check: &'static str,
    pub family: &'static str,
    /// `vulnerable`, `not-vulnerable`, `mitigated` or `inconclusive`.
    pub outcome: &'static str,
    pub detail: String,
}

impl ProbeResult {
    fn new(target: &Target) -> ProbeResult {
        ProbeResult {
            target: target.origin(),
            host: target.host.clone(),
            // An address target is its own IP even when it never answers.
            ip: target
                .host
                .parse::<std::net::IpAddr>()
                .ok()
                .map(|ip| ip.to_string()),
            port: target.port,
            scheme: target.scheme.as_str(),
            ..ProbeResult::default()
        }
    }

    /// The verdict of one family, when there is one.
    pub fn verdict(&self, family: &str) -> Option<&'static str> {
        self.verdicts
            .iter()
            .find(|v| v.family == family)
            .map(|v| v.verdict)
    }

    fn note_peer(&mut self, peer: &Peer) {
        if self.ip.is_none() {
            self.ip = peer.ip.map(|ip| ip.to_string());
        }
        if self.scheme == "https" && self.tls.is_none() {
            self.tls = Some(match &peer.untrusted_certificate {
                None => "trusted".into(),
                Some(why) => format!("untrusted certificate accepted ({why})"),
            });
        }
    }

    fn note_names(&mut self, answer: &Answer) {
        for (name, value) in &answer.headers {
            if fingerprint::NAME_HEADERS.contains(&name.as_str()) {
                for server in value
                    .split([',', ';'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                {
                    if !self
                        .server_names
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(server))
                    {
                        self.server_names.push(server.to_string());
                    }
                }
            }
        }
        if answer.body_truncated {
            self.notes.push(format!(
                "an answer's body was cut at {} KiB",
                crate::http::MAX_BODY >> 10
            ));
        }
    }
}

/// Probes `target`; `active` adds the non-destructive exploitation checks.
pub async fn probe(client: &Client, target: &Target, active: bool) -> ProbeResult {
    let mut result = ProbeResult::new(target);
    let (target, logon) = match logon_page(client, target, &mut result).await {
        Ok(found) => found,
        Err(e) => {
            result.error = Some(e);
            result.time = now();
            return result;
        }
    };
    let mut exchange = logon
        .headers
        .iter()
        .any(|(n, _)| fingerprint::is_exchange_header(n))
        || logon.body.contains("/owa/auth/");
    let mut found = logon
        .header("x-owa-version")
        .and_then(fingerprint::from_owa_version)
        .map(|b| (b, Method::OwaVersionHeader));
    if found.is_none() {
        match client
            .get(
                &target,
                fingerprint::EXPORT_TOOL_MANIFEST,
                Extras::default(),
            )
            .await
        {
            Ok((answer, peer)) => {
                result.note_peer(&peer);
                result.note_names(&answer);
                exchange |= answer
                    .headers
                    .iter()
                    .any(|(n, _)| fingerprint::is_exchange_header(n));
                found = (answer.status == 200)
                    .then(|| fingerprint::from_export_tool_manifest(&answer.body))
                    .flatten()
                    .map(|b| (b, Method::ExportToolManifest));
            }
            Err(e) => result
                .notes
                .push(format!("the export tool's manifest: {e}")),
        }
    }
    if found.is_none() {
        found = fingerprint::from_logon_page(&logon.body).map(|b| (b, Method::LogonPagePath));
    }
    exchange |= found.is_some();
    result.exchange = exchange;
    if !exchange {
        result.notes.push(format!(
            "no Exchange answer: {} gave HTTP {} without OWA's headers or paths",
            fingerprint::LOGON_PAGE,
            logon.status
        ));
        result.time = now();
        return result;
    }
    if let Some((build, method)) = found {
        assess(&mut result, build, method);
    } else {
        result.notes.push(
            "Exchange answered, but none of its answers gave the build (X-OWA-Version, the export tool's manifest, logon.aspx's paths)".into(),
        );
    }
    if active {
        run_active_checks(client, &target, &mut result).await;
    }
    result.open_cves = result
        .verdicts
        .iter()
        .filter(|v| matches!(v.verdict, "open" | "mitigated"))
        .flat_map(|v| v.cves.iter().copied())
        .collect();
    result.time = now();
    result
}

/// GETs OWA's logon page, following redirects on the same host (IIS sends `http://`
/// to `https://`, `/` to `/owa`). Returns the origin that answered with the answer.
async fn logon_page(
    client: &Client,
    target: &Target,
    result: &mut ProbeResult,
) -> Result<(Target, Answer), String> {
    let mut at = target.clone();
    let mut path = fingerprint::LOGON_PAGE.to_string();
    let mut seen = vec![(at.origin(), path.clone())];
    for _ in 0..=MAX_REDIRECTS {
        let (answer, peer) = client
            .get(&at, &path, Extras::default())
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        result.note_peer(&peer);
        result.note_names(&answer);
        let location = answer
            .header("location")
            .filter(|_| (300..400).contains(&answer.status));
        let Some(location) = location else {
            return Ok((at, answer));
        };
        let (next, next_path) = follow(&at, location)
            .ok_or_else(|| format!("GET {path}: redirected off the host, to {location}"))?;
        // A redirect to the logon page with a query (`?url=...`) is the same page.
        if seen
            .iter()
            .any(|(o, p)| *o == next.origin() && *p == next_path)
        {
            return Err(format!("GET {path}: a redirect loop (back to {location})"));
        }
        result
            .notes
            .push(format!("{}{path} redirects to {location}", at.origin()));
        seen.push((next.origin(), next_path.clone()));
        at = next;
        path = next_path;
    }
    Err(format!(
        "more than {MAX_REDIRECTS} redirects from {}",
        fingerprint::LOGON_PAGE
    ))
}

/// Where a `Location` leads, when it stays on the target's host.
fn follow(from: &Target, location: &str) -> Option<(Target, String)> {
    if location.starts_with('/') && !location.starts_with("//") {
        return Some((from.clone(), location.to_string()));
    }
    let (scheme, rest) = location.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return None,
    };
    let split = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = (&rest[..split], &rest[split..]);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
            (h.trim_matches(['[', ']']), p.parse().ok()?)
        }
        _ => (
            authority.trim_matches(['[', ']']),
            if scheme == Scheme::Http { 80 } else { 443 },
        ),
    };
    if !host.eq_ignore_ascii_case(&from.host) {
        return None;
    }
    let path = if path.is_empty() { "/" } else { path };
    // The base path stays where it was: the new path is absolute.
    Some((
        Target {
            scheme,
            host: from.host.clone(),
            port,
            base: String::new(),
        },
        path.to_string(),
    ))
}

/// Turns the build into a verdict per family.
fn assess(result: &mut ProbeResult, build: Build, method: Method) {
    let (precision, label) = match method {
        Method::LogonPagePath => (Precision::CuOnly, "cu"),
        _ if builds::release(build).is_some() => (Precision::Exact, "exact"),
        _ => (Precision::Exact, "su-range"),
    };
    let assessment = cves::assess(&UpdateEvidence {
        build,
        precision,
        source: method.describe().into(),
        installed_kbs: Vec::new(),
    });
    result.build = Some(match precision {
        Precision::CuOnly => {
            let [a, b, c] = build.cu();
            format!("{a}.{b}.{c}")
        }
        Precision::Exact => build.to_string(),
    });
    result.release = assessment
        .release
        .or(assessment.cu)
        .map(|r| r.name.to_string());
    result.precision = Some(label);
    result.method = Some(method.as_str());
    result.unsupported = assessment.unsupported.clone();
    if label == "su-range" {
        result.notes.push(format!(
            "{build} is not in Microsoft's build list (as of {}); it is judged by the updates of its CU",
            builds::newest()
        ));
    }
    for (family, of_family) in assessment.by_family() {
        let pick = |wanted: fn(&Status) -> bool| of_family.iter().find(|c| wanted(&c.status));
        let (verdict, chosen) = if let Some(c) = pick(|s| matches!(s, Status::Open(_))) {
            ("open", c)
        } else if let Some(c) = pick(|s| matches!(s, Status::Unknown(_))) {
            ("unknown", c)
        } else {
            ("fixed", &of_family[0])
        };
        let why = match &chosen.status {
            Status::Fixed(w) | Status::Open(w) | Status::Unknown(w) => w.clone(),
        };
        let why = if precision == Precision::CuOnly && verdict == "unknown" {
            format!("CU vulnerable / possibly patched: {why}")
        } else {
            why
        };
        result.verdicts.push(FamilyVerdict {
            family,
            verdict,
            cves: of_family
                .iter()
                .filter(|c| verdict == "fixed" || !matches!(c.status, Status::Fixed(_)))
                .map(|c| c.cve.id)
                .collect(),
            why,
        });
    }
}

/// The checks of reference §6, each a single GET that reads back what the server
/// did with a crafted path or cookie. None makes the server contact anything else.
async fn run_active_checks(client: &Client, target: &Target, result: &mut ProbeResult) {
    // ProxyLogon in Microsoft's `localhost` form: the SSRF is confirmed when the
    // front end computed `localhost` as the back end.
    const PROXYLOGON_COOKIE: &str = "X-AnonResource=true; X-AnonResource-Backend=localhost/ecp/default.flt?~3; X-BEResource=localhost/owa/auth/logon.aspx?~3;";
    let proxylogon = client
        .get(
            target,
            "/owa/auth/x.js",
            Extras {
                cookie: Some(PROXYLOGON_COOKIE),
            },
        )
        .await;
    let check = match &proxylogon {
        Ok((answer, _)) if answer
            .header("x-calculatedbetarget")
            .is_some_and(|t| t.to_ascii_lowercase().contains("localhost")) => active(
            "proxylogon-ssrf", "ProxyLogon", "vulnerable",
            "the front end took the X-BEResource cookie and proxied to localhost (X-CalculatedBETarget: localhost): CVE-2021-26855 is open".into(),
        ),
        Ok((answer, _)) => active(
            "proxylogon-ssrf", "ProxyLogon", "not-vulnerable",
            format!("HTTP {} without a localhost back end", answer.status),
        ),
        Err(FetchError::NoAnswer(_)) => active(
            "proxylogon-ssrf", "ProxyLogon", "mitigated",
            "the request with the SSRF cookie was dropped, as the EOMT URL Rewrite rule does".into(),
        ),
        Err(e) => active("proxylogon-ssrf", "ProxyLogon", "inconclusive", e.to_string()),
    };
    apply(result, check);

    // ProxyShell: the autodiscover path confusion reaching the back end's MAPI page.
    let proxyshell = client
        .get(target, &autodiscover_ssrf("mapi/nspi"), Extras::default())
        .await;
    let check = match &proxyshell {
        Ok((answer, _)) if answer.status == 200
            && answer.body.contains("Exchange MAPI/HTTP Connectivity Endpoint") => active(
            "proxyshell-ssrf", "ProxyShell", "vulnerable",
            "autodiscover.json with an @ path reached the back end's MAPI endpoint without credentials: CVE-2021-34473 is open".into(),
        ),
        Ok((answer, _)) => active(
            "proxyshell-ssrf", "ProxyShell", "not-vulnerable",
            format!("HTTP {} without the back end's MAPI page", answer.status),
        ),
        Err(e) => active("proxyshell-ssrf", "ProxyShell", "inconclusive", e.to_string()),
    };
    apply(result, check);

    // ProxyNotShell: the mitigation aborts any autodiscover request naming powershell;
    // without it the back end's PowerShell asks for credentials (401).
    let notshell = client
        .get(target, &autodiscover_ssrf("powershell"), Extras::default())
        .await;
    let check = match &notshell {
        Err(FetchError::NoAnswer(_)) => active(
            "proxynotshell-mitigation", "ProxyNotShell/OWASSRF", "mitigated",
            "the request was aborted, as the URL Rewrite mitigation for CVE-2022-41040 does; it does not stop OWASSRF (CVE-2022-41080): only the November 2022 update does".into(),
        ),
        Ok((answer, _)) if answer.status == 401 => active(
            "proxynotshell-mitigation", "ProxyNotShell/OWASSRF", "vulnerable",
            "no mitigation: the autodiscover SSRF reached the back end's PowerShell, which asked for credentials (HTTP 401)".into(),
        ),
        Ok((answer, _)) => active(
            "proxynotshell-mitigation", "ProxyNotShell/OWASSRF", "not-vulnerable",
            format!("HTTP {}: the SSRF did not reach PowerShell", answer.status),
        ),
        Err(e) => active("proxynotshell-mitigation", "ProxyNotShell/OWASSRF", "inconclusive", e.to_string()),
    };
    apply(result, check);
}

/// The autodiscover path confusion both ProxyShell and ProxyNotShell use, aimed at a
/// back-end path; the `@` host is a reserved name, so nothing could ever call out.
fn autodiscover_ssrf(back_end_path: &str) -> String {
    format!("/autodiscover/autodiscover.json?@exsweep.invalid/{back_end_path}/?&Email=autodiscover/autodiscover.json%3F@exsweep.invalid")
}

fn active(
    check: &'static str,
    family: &'static str,
    outcome: &'static str,
    detail: String,
) -> ActiveCheck {
    ActiveCheck {
        check,
        family,
        outcome,
        detail,
    }
}

/// The CVEs Microsoft's URL Rewrite mitigations stop: the two unauthenticated SSRFs.
const MITIGATED_BY_REWRITE: [&str; 2] = ["CVE-2021-26855", "CVE-2022-41040"];

/// Folds an active check into its family's verdict: a confirmed hole is open
/// whatever the build said; a mitigation turns an open or unknown build into
/// `mitigated`, not `fixed`.
fn apply(result: &mut ProbeResult, check: ActiveCheck) {
    let ids: Vec<&'static str> = cves::CVES
        .iter()
        .filter(|c| c.family == check.family)
        .map(|c| c.id)
        .collect();
    let verdict = match result
        .verdicts
        .iter_mut()
        .find(|v| v.family == check.family)
    {
        Some(v) => v,
        None => {
            result.verdicts.push(FamilyVerdict {
                family: check.family,
                verdict: "unknown",
                cves: ids.clone(),
                why: "the build is unknown".into(),
            });
            result.verdicts.last_mut().expect("just pushed")
        }
    };
    match check.outcome {
        "vulnerable" if check.check != "proxynotshell-mitigation" || verdict.verdict != "fixed" => {
            verdict.verdict = "open";
            verdict.cves = ids;
            verdict.why = format!("confirmed by the active check: {}", check.detail);
        }
        "mitigated" if verdict.verdict != "fixed" => {
            // The rewrite rules stop one SSRF; what they leave stays open when the
            // build is: EOMT's cookie rule leaves ProxyLogon's post-authentication
            // bugs, the autodiscover rule leaves OWASSRF (41080 to 41082 through OWA).
            let stopped = MITIGATED_BY_REWRITE;
            verdict.cves = match verdict.verdict {
                "open" => ids.into_iter().filter(|c| !stopped.contains(c)).collect(),
                _ => Vec::new(),
            };
            verdict.verdict = "mitigated";
            verdict.why = format!("{}; the build: {}", check.detail, verdict.why);
        }
        _ => {}
    }
    result.active.push(check);
}

fn now() -> String {
    exsweep_model::rfc3339(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(scheme: Scheme, port: u16) -> Target {
        Target {
            scheme,
            host: "mail.example.org".into(),
            port,
            base: String::new(),
        }
    }

    #[test]
    fn redirects_are_followed_on_the_same_host_only() {
        let http = target(Scheme::Http, 80);
        let (next, path) =
            follow(&http, "https://MAIL.example.org/owa/auth/logon.aspx?url=x").unwrap();
        assert_eq!(
            (next.origin(), path.as_str()),
            (
                "https://mail.example.org:443".into(),
                "/owa/auth/logon.aspx?url=x"
            )
        );
        let (next, path) = follow(&http, "/owa/").unwrap();
        assert_eq!((next.port, path.as_str()), (80, "/owa/"));
        assert!(follow(&http, "https://evil.example.net/").is_none());
        assert!(follow(&http, "//evil.example.net/").is_none());
        assert_eq!(
            follow(&http, "http://mail.example.org:8080/x")
                .unwrap()
                .0
                .port,
            8080
        );
    }

    #[test]
    fn a_cu_only_build_is_possibly_patched_and_an_exact_one_is_judged() {
        let mut cu = ProbeResult::default();
        assess(&mut cu, Build([15, 2, 1118, 0]), Method::LogonPagePath);
        assert_eq!(cu.precision, Some("cu"));
        assert_eq!(cu.build.as_deref(), Some("15.2.1118"));
        let pns = cu
            .verdicts
            .iter()
            .find(|v| v.family == "ProxyNotShell/OWASSRF")
            .unwrap();
        assert_eq!(pns.verdict, "unknown");
        assert!(
            pns.why.starts_with("CU vulnerable / possibly patched"),
            "{}",
            pns.why
        );
        assert_eq!(cu.verdict("ProxyLogon"), Some("fixed"));

        let mut old = ProbeResult::default();
        assess(
            &mut old,
            Build([15, 1, 2176, 2]),
            Method::ExportToolManifest,
        );
        assert_eq!(old.precision, Some("exact"));
        assert!(
            old.verdicts.iter().all(|v| v.verdict == "open"),
            "{:#?}",
            old.verdicts
        );
    }
}
