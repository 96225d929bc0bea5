//! Joins what the stages found: the web shells the file sweep found become URLs the
//! log hunt looks for, and the hunt's requests to each shell become one finding per
//! shell (who used it, when, how often). Findings are joined on their fields (the
//! shell's Windows path), never on their text.

use crate::checks::logs::SHELL_ACCESS;
use crate::checks::{RULE_MATCH, WEB_SHELL_TRAITS};
use crate::context::LOG_USE;
use crate::inventory::Inventory;
use exsweep_model::{rfc3339, Evidence, Finding, Severity, Text};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A web shell on disk and the URL path it answers at (lower case).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ShellUrl {
    pub url: String,
    pub windows_path: String,
}

/// The URLs of the files the sweep flagged high or above, as IIS serves them (a
/// file may answer on the front end's site and on the back end's).
pub fn shell_urls(findings: &[Finding], inventory: &Inventory) -> Vec<ShellUrl> {
    let mut urls: Vec<ShellUrl> = findings
        .iter()
        .filter(|f| f.severity >= Severity::High)
        .filter_map(Finding::file)
        .flat_map(|file| {
            inventory
                .web_map
                .urls_of(&file.windows_path)
                .into_iter()
                .map(|url| ShellUrl {
                    url,
                    windows_path: file.windows_path.clone(),
                })
        })
        .collect();
    urls.sort();
    urls.dedup();
    urls
}

/// One request logged by IIS and by HttpProxy (the same RequestId: IIS writes it as
/// the query's `cafeReqId`) is one finding per check: the earliest by time and place
/// is kept, and says where else the request was logged.
pub fn merge_same_requests(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by_cached_key(|f| (f.time(), f.evidence.location()));
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut first_of: HashMap<(Text, String), usize> = HashMap::new();
    let mut also: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for f in findings {
        let key = match (&f.evidence, &f.entities.request_id) {
            (Evidence::LogLine(_), Some(id)) => Some((f.check_id.clone(), id.to_ascii_lowercase())),
            _ => None,
        };
        match key {
            Some(key) if first_of.contains_key(&key) => {
                if let Evidence::LogLine(line) = &f.evidence {
                    also.entry(first_of[&key]).or_default().push(format!(
                        "{} {} line {}",
                        line.source, line.windows_path, line.line
                    ));
                }
            }
            key => {
                if let Some(key) = key {
                    first_of.insert(key, out.len());
                }
                out.push(f);
            }
        }
    }
    for (at, places) in also {
        let f = &mut out[at];
        f.detail = format!(
            "{} The same request (RequestId {}) was also logged in {}.",
            f.detail,
            f.entities.request_id.as_deref().unwrap_or("?"),
            places.join(", ")
        );
    }
    out
}

/// Folds the per-request hits on each shell into one finding per shell: who used it,
/// when, and how often, shown with its first request. `capped`: only the first hits
/// were kept, so the count and the last time are lower bounds.
pub fn aggregate_shell_access(findings: Vec<Finding>, capped: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut by_shell: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for f in findings {
        match (&f.check_id, &f.entities.windows_path) {
            (id, Some(shell)) if *id == SHELL_ACCESS.id => {
                by_shell.entry(shell.clone()).or_default().push(f)
            }
            _ => out.push(f),
        }
    }
    for (shell, mut hits) in by_shell {
        hits.sort_by_key(|f| f.time());
        let mut ips: Vec<&str> = hits
            .iter()
            .filter_map(|f| f.entities.client_ip.as_deref())
            .collect();
        ips.sort();
        ips.dedup();
        let when = |f: &Finding| f.time().map(rfc3339).unwrap_or_else(|| "?".into());
        let detail = format!(
            "{shell} was requested {}{} time(s) between {} and {} from {}. The first request is shown.",
            if capped { "at least " } else { "" },
            hits.len(),
            when(&hits[0]),
            when(hits.last().expect("non-empty")),
            if ips.is_empty() { "unknown addresses".to_string() } else { ips.join(", ") }
        );
        let mut first = hits.swap_remove(0);
        first.detail = detail;
        out.push(first);
    }
    out
}

/// Raises the content finding of every shell the logs show in use by [`LOG_USE`]
/// (context scoring's last step: see `context`).
pub fn score_shells_in_use(findings: &mut [Finding]) {
    let used: HashSet<String> = findings
        .iter()
        .filter(|f| f.check_id == SHELL_ACCESS.id)
        .filter_map(|f| f.entities.windows_path.as_deref())
        .map(str::to_lowercase)
        .collect();
    if used.is_empty() {
        return;
    }
    for f in findings.iter_mut() {
        let is_content = f.check_id == RULE_MATCH.id || f.check_id == WEB_SHELL_TRAITS.id;
        let in_use = f
            .file()
            .is_some_and(|file| used.contains(&file.windows_path.to_lowercase()));
        if is_content && in_use {
            f.rescore(
                LOG_USE,
                "requested in the IIS or HttpProxy logs (see the shell-access finding)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsweep_model::{Entities, Evidence, LogLine};
    use std::time::{Duration, SystemTime};

    fn request(shell: &str, ip: &str, secs: u64) -> Finding {
        Finding::new(
            SHELL_ACCESS.hit(String::new()),
            Evidence::LogLine(LogLine {
                windows_path: r"C:\inetpub\logs\LogFiles\W3SVC1\u_ex210303.log".into(),
                line: secs,
                time: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_614_729_600 + secs)),
                ..LogLine::default()
            }),
            Entities {
                client_ip: Some(ip.into()),
                windows_path: Some(shell.into()),
                ..Entities::default()
            },
        )
    }

    #[test]
    fn a_shell_the_logs_show_in_use_scores_higher() {
        let shell = r"C:\inetpub\wwwroot\aspnet_client\a.aspx";
        let content = |path: &str| {
            Finding::new(
                RULE_MATCH.hit_at(Severity::High, "rule".into()),
                Evidence::File(exsweep_model::FileEvidence {
                    windows_path: path.into(),
                    ..Default::default()
                }),
                Entities::default(),
            )
        };
        let mut findings = vec![
            content(shell),
            content(r"C:\inetpub\wwwroot\b.aspx"),
            request(&shell.to_uppercase(), "192.0.2.1", 0),
        ];
        score_shells_in_use(&mut findings);
        assert_eq!(
            (findings[0].score, findings[0].severity),
            (95, Severity::High)
        );
        assert_eq!(findings[1].score, 75);
        assert_eq!(findings[2].score_reasons.len(), 1);
    }

    #[test]
    fn requests_fold_into_one_finding_per_shell() {
        let a = r"C:\inetpub\wwwroot\aspnet_client\a.aspx";
        let b = r"C:\inetpub\wwwroot\aspnet_client\b.aspx";
        let folded = aggregate_shell_access(
            vec![
                request(a, "192.0.2.2", 60),
                request(b, "192.0.2.9", 5),
                request(a, "192.0.2.1", 0),
                request(a, "192.0.2.1", 120),
            ],
            false,
        );
        assert_eq!(folded.len(), 2);
        let first = folded
            .iter()
            .find(|f| f.entities.windows_path.as_deref() == Some(a))
            .unwrap();
        assert_eq!(
            first.detail,
            format!(
                "{a} was requested 3 time(s) between 2021-03-03T00:00:00Z and 2021-03-03T00:02:00Z \
                 from 192.0.2.1, 192.0.2.2. The first request is shown."
            )
        );
        assert_eq!(first.entities.client_ip.as_deref(), Some("192.0.2.1"));
        let capped = aggregate_shell_access(vec![request(b, "192.0.2.9", 5)], true);
        assert!(capped[0].detail.contains("at least 1 time(s)"));
    }
}
