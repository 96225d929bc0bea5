//! Context scoring: what a file's place and history add to what its content says.
//!
//! Each file with a content detection (rules, heuristics) is one finding. Its score
//! starts at the strongest detection's points; every other detection on the same file
//! adds [`CORROBORATION`] (at most twice); then the context adds or takes away:
//!
//! | context | points |
//! |---|---|
//! | in `owa\auth`, `ecp\auth` or an IIS root's `aspnet_client` (attackers' favourite places, scripts there are never legitimate additions) | +15 |
//! | elsewhere in an Exchange web folder or an IIS web root (IIS serves it) | +10 |
//! | hidden or system attribute, where the evidence records attributes | +10 |
//! | modified or created inside a mass-exploitation window (ProxyLogon, ProxyShell, ProxyNotShell) | +10 |
//! | requested in the IIS or HttpProxy logs (see `correlate`) | +20 |
//! | in a vendor's program folder (`Program Files`, not Exchange's) | -20 |
//! | an ASP.NET page whose only server code is data binding (`<%# Eval("x") %>`), which runs nothing of its own ([`binds_data_only`](crate::checks::inert::binds_data_only)) | -50 |
//! | a classic ASP page whose server code only queries its database, never with the request itself, or also fetches web pages from URLs the request does not name and converts their text, or writes files it names itself with static extensions, request data only into ones that are not markup ([`runs_application_code_only`](crate::checks::inert::runs_application_code_only)) | -50 |
//!
//! The score is clamped to 0-100 and the severity follows it
//! ([`Severity::from_score`](exsweep_model::Severity::from_score): 40 medium, 75 high,
//! 100 critical), so a high rule in `owa\auth` that the logs show in use is critical.
//! Every step is a reason in the finding. Checks of a fixed fact (an indicator, a
//! page a clean `owa\auth` never holds, a dump's magic) keep their own severity: their
//! place is already their reason.

use crate::checks::heuristics::Assessment;
use crate::checks::inert::InertPage;
use crate::checks::WEB_SHELL_TRAITS;
use crate::inventory::Zone;
use exsweep_evidence::winpath;
use exsweep_model::{Entities, Evidence, FileTimes, Finding, Hit, Severity};
use std::cmp::Reverse;
use std::time::SystemTime;

/// What each further detection on the same file adds, and how many count.
pub const CORROBORATION: i16 = 5;
pub const MAX_CORROBORATIONS: usize = 2;
pub const LOG_USE: i16 = 20;
/// What a page that runs nothing a request could steer loses ([`InertPage`]): enough
/// to take a rule written for script shells (signature-base's generic ASP rules score
/// 75 to 85) from high to low, where the finding still lists the match.
pub const INERT_PAGE: i16 = -50;

/// The months of mass exploitation, from the first public reports to the months after:
/// name, start and end (exclusive) in seconds since 1970, UTC.
const CAMPAIGNS: [(&str, u64, u64); 3] = [
    // 2021-01-01 to 2021-04-30.
    ("ProxyLogon (Hafnium)", 1_609_459_200, 1_619_827_200),
    // 2021-08-01 to 2021-10-31.
    ("ProxyShell", 1_627_776_000, 1_635_724_800),
    // 2022-09-01 to 2022-12-31.
    ("ProxyNotShell", 1_661_990_400, 1_672_531_200),
];

/// The campaign whose window holds `time`.
fn campaign_at(time: SystemTime) -> Option<&'static str> {
    let secs = time.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
    CAMPAIGNS
        .iter()
        .find_map(|(name, from, to)| (*from..*to).contains(&secs).then_some(*name))
}

/// True for a path in a program folder that is not Exchange's.
fn in_vendor_folder(windows_path: &str, exchange_root: Option<&str>) -> bool {
    let key = winpath::key(windows_path);
    let in_program_files = ["\\program files\\", "\\program files (x86)\\"]
        .iter()
        .any(|p| key.contains(p));
    in_program_files
        && !exchange_root.is_some_and(|root| winpath::is_within(&key, &winpath::key(root)))
}

/// The hit of the heuristics, when their signals add up to a finding.
pub fn heuristic_hit(assessment: &Assessment) -> Option<Hit> {
    let score = assessment.score()?;
    let traits: Vec<&str> = assessment.fired.iter().map(|s| s.because).collect();
    let weights: Vec<String> = assessment
        .fired
        .iter()
        .map(|s| format!("{} {}", s.id, s.weight))
        .collect();
    let mut hit = WEB_SHELL_TRAITS.hit_at(
        Severity::from_score(score.into()),
        format!("The page's server code shows {}.", traits.join("; ")),
    );
    hit.score = Some((
        score,
        format!("web-shell traits: {}", weights.join(" + ")).into(),
    ));
    Some(hit)
}

fn points(hit: &Hit) -> u8 {
    hit.score
        .as_ref()
        .map_or(hit.severity.default_score(), |(points, _)| *points)
}

/// How a further detection is named in the finding: the rule, or for the heuristics
/// their signals, with the points it would have had alone.
fn name(hit: &Hit) -> String {
    let what = match (&hit.rule, &hit.score) {
        (Some(rule), _) => format!("rule {}", rule.name),
        (None, Some((_, because))) => because.to_string(),
        (None, None) => hit.check.title.to_string(),
    };
    format!("{what} ({})", points(hit))
}

/// One finding for every content detection on a file: the strongest is the finding,
/// the others are named in it (`other_rules`, the detail, their matched strings) and
/// each of the first [`MAX_CORROBORATIONS`] adds [`CORROBORATION`].
pub fn content_finding(mut hits: Vec<Hit>, evidence: Evidence, entities: Entities) -> Finding {
    // Strongest first; between equals, the one that saw more of what it describes
    // (more matched strings), then the rule's ID, so every scan picks the same one.
    hits.sort_by_cached_key(|h| {
        (
            Reverse(points(h)),
            Reverse(h.matches.len()),
            h.rule.as_ref().map(|r| r.id.clone()),
        )
    });
    let others = hits.split_off(1);
    let primary = hits.pop().expect("a content finding has a detection");
    let mut finding = Finding::new(primary, evidence, entities);
    if others.is_empty() {
        return finding;
    }
    let names: Vec<String> = others.iter().map(name).collect();
    let sentence_end = if finding.detail.ends_with('.') {
        ""
    } else {
        "."
    };
    finding.detail = format!(
        "{}{sentence_end} Also matched: {}.",
        finding.detail,
        names.join(", ")
    );
    for other_name in names.iter().take(MAX_CORROBORATIONS) {
        finding.rescore(CORROBORATION, format!("also matched {other_name}"));
    }
    for other in others {
        finding.other_rules.extend(other.rule);
        finding.matches.extend(other.matches);
    }
    finding
}

/// Adds the context reasons of a file to its content finding.
pub fn score_file(
    finding: &mut Finding,
    zone: Zone,
    exchange_root: Option<&str>,
    times: &FileTimes,
    hidden_or_system: bool,
    inert_page: Option<InertPage>,
) {
    match zone {
        Zone::FrontEndOwaAuth
        | Zone::FrontEndOwaAuthStatic
        | Zone::FrontEndEcpAuth
        | Zone::AspnetClient => finding.rescore(
            15,
            "in owa\\auth, ecp\\auth or aspnet_client, where Exchange attackers put their shells",
        ),
        Zone::ExchangeWeb | Zone::IisWebRoot => finding.rescore(10, "in a web folder IIS serves"),
        _ => {}
    }
    let windows_path = finding
        .file()
        .map(|f| f.windows_path.clone())
        .unwrap_or_default();
    if !zone.is_web() && in_vendor_folder(&windows_path, exchange_root) {
        finding.rescore(
            -20,
            "in a vendor's program folder, where products ship their own pages",
        );
    }
    match inert_page {
        Some(InertPage::BindsDataOnly) => finding.rescore(
            INERT_PAGE,
            "the page's only server code is data binding (<%# %>) that reads no request and starts nothing: \
             markup that runs no code of its own",
        ),
        Some(InertPage::QueriesDatabaseOnly) => finding.rescore(
            INERT_PAGE,
            "the page's server code only queries its database (Execute and Open of ADODB objects, \
             never given the request itself) and creates no object beyond database, dictionary and mail: \
             the code of an ordinary classic ASP application",
        ),
        Some(InertPage::FetchesPagesOnly) => finding.rescore(
            INERT_PAGE,
            "the page's server code only queries its database, fetches web pages (XMLHTTP, \
             never at a URL the request names) and converts text with an ADODB.Stream it never \
             saves to or loads from a file, and creates no other object: it runs no code and writes no file",
        ),
        Some(InertPage::WritesOwnStaticFilesOnly) => finding.rescore(
            INERT_PAGE,
            "the page's server code only queries its database, fetches pages and writes files it \
             names itself, each with a static extension (.html, .txt, .xml ...) that IIS serves and never \
             runs, writing request data only into files that are not markup: it runs no code and manages \
             no files",
        ),
        None => {}
    }
    if hidden_or_system {
        finding.rescore(
            10,
            "hidden or system attribute set, as attackers hide their shells",
        );
    }
    let campaign = [times.modified, times.created]
        .into_iter()
        .flatten()
        .find_map(campaign_at);
    if let Some(name) = campaign {
        finding.rescore(
            10,
            format!("written during the {name} mass-exploitation window"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsweep_model::{Entities, Evidence, FileEvidence, Severity};
    use std::time::Duration;

    fn finding(path: &str, severity: Severity) -> Finding {
        Finding::new(
            crate::checks::RULE_MATCH.hit_at(severity, "test".into()),
            Evidence::File(FileEvidence {
                windows_path: path.into(),
                ..FileEvidence::default()
            }),
            Entities::default(),
        )
    }

    /// Scores a file outside Exchange and IIS, with no attribute or time that counts.
    fn score_outside_web_roots(f: &mut Finding, inert_page: Option<InertPage>) {
        score_file(
            f,
            Zone::Other,
            None,
            &FileTimes::default(),
            false,
            inert_page,
        );
    }

    #[test]
    fn place_and_time_move_the_score_and_the_severity() {
        let path =
            r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\x.aspx";
        let mut f = finding(path, Severity::High);
        let march_2021 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_614_902_400);
        let times = FileTimes {
            modified: Some(march_2021),
            ..FileTimes::default()
        };
        score_file(
            &mut f,
            Zone::FrontEndOwaAuth,
            Some(r"C:\Program Files\Microsoft\Exchange Server\V15"),
            &times,
            false,
            None,
        );
        assert_eq!(f.score, 100);
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.score_reasons.len(), 3);
        assert!(f.score_reasons[2].because.contains("ProxyLogon"));
    }

    #[test]
    fn vendor_folders_lower_the_score_and_exchange_is_not_a_vendor() {
        let mut f = finding(
            r"C:\Program Files (x86)\Acme\Web\admin.aspx",
            Severity::High,
        );
        score_outside_web_roots(&mut f, None);
        assert_eq!((f.score, f.severity), (55, Severity::Medium));
        let mut ex = finding(
            r"C:\Program Files\Microsoft\Exchange Server\V15\Bin\x.aspx",
            Severity::High,
        );
        score_file(
            &mut ex,
            Zone::Other,
            Some(r"C:\Program Files\Microsoft\Exchange Server\V15"),
            &FileTimes::default(),
            true,
            None,
        );
        assert_eq!(ex.score, 85, "{:?}", ex.score_reasons);
    }

    #[test]
    fn an_inert_page_drops_from_high_to_low() {
        for (page, kind, because) in [
            ("list.aspx", InertPage::BindsDataOnly, "data binding"),
            (
                "news.asp",
                InertPage::QueriesDatabaseOnly,
                "queries its database",
            ),
            ("seo.asp", InertPage::FetchesPagesOnly, "fetches web pages"),
            (
                "make.asp",
                InertPage::WritesOwnStaticFilesOnly,
                "static extension",
            ),
        ] {
            let mut f = finding(&format!(r"C:\Samples\{page}"), Severity::High);
            score_outside_web_roots(&mut f, Some(kind));
            assert_eq!((f.score, f.severity), (25, Severity::Low));
            assert!(f.score_reasons.last().unwrap().because.contains(because));
        }
    }

    #[test]
    fn outside_the_windows_time_adds_nothing() {
        let june_2023 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_685_577_600);
        assert_eq!(campaign_at(june_2023), None);
        let last_day = SystemTime::UNIX_EPOCH + Duration::from_secs(1_619_783_999);
        assert_eq!(campaign_at(last_day), Some("ProxyLogon (Hafnium)"));
    }
}
