//! The overview of many hosts' saved scans: which servers are compromised, and what
//! ties them together (attacker IPs and web-shell hashes seen on more than one).
//!
//! It is built record by record ([`Overview::add`]) from any number of JSONL files
//! and keeps, per host, a summary row (verdict, counts, incident span, the three
//! most severe findings) plus the IPs and hashes, never the findings themselves: its
//! memory grows with the hosts, not with their findings. A host adds at most
//! [`VALUES_PER_HOST`] IPs and as many hashes, so no one host's scan can swell it.
//!
//! Everything in it came from the evidence: the console escapes every value with
//! [`printable`], the HTML page is built by maud (escaped by construction) under a
//! policy that allows no script at all.

use crate::saved::Record;
use crate::timeline::time_text;
use exsweep_model::{printable, rfc3339, Class, Severity, VerdictLevel};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};
use std::net::IpAddr;
use std::time::SystemTime;

/// Distinct attacker IPs, and distinct shell hashes, one host may add.
pub const VALUES_PER_HOST: usize = 1000;

/// Findings named per host row.
const TOP_FINDINGS: usize = 3;

/// Hosts and paths named per shared IP or hash; the count says how many in all.
const NAMES_SHOWN: usize = 25;

/// One scan's row.
#[derive(Debug)]
pub struct HostRow {
    pub host: String,
    pub scan_id: String,
    /// The file it was read from.
    pub source: String,
    pub started: Option<SystemTime>,
    /// From the summary record; none when the file ends before it.
    pub verdict: Option<VerdictLevel>,
    pub headline: String,
    /// The CVEs its exposure findings say it is still open to.
    pub still_open: Vec<String>,
    pub not_assessed: Vec<String>,
    /// Findings per severity, `Severity as usize`.
    pub by_severity: [u64; 5],
    pub incidents: u64,
    /// The span of its incidents: first and last attacker activity.
    pub attack_span: Option<(SystemTime, SystemTime)>,
    /// Its most severe findings (the JSONL lists the most severe first), one line each.
    pub top: Vec<String>,
    ips_added: usize,
    hashes_added: usize,
}

impl HostRow {
    /// Most serious first: compromised, suspicious, exposed, incomplete, clean.
    fn rank(&self) -> u8 {
        match self.verdict {
            Some(VerdictLevel::Compromised) => 0,
            Some(VerdictLevel::Suspicious) => 1,
            Some(VerdictLevel::Exposed) => 2,
            None => 3,
            Some(VerdictLevel::NoIndicatorsFound) => 4,
        }
    }

    /// The verdict as shown: a host whose file ended before its summary is
    /// incomplete, never clean.
    pub fn verdict_label(&self) -> &'static str {
        self.verdict
            .map_or("INCOMPLETE (no summary record)", VerdictLevel::label)
    }

    /// The style of the worst verdict: as the single report's verdict box.
    fn verdict_class(&self) -> &'static str {
        match self.rank() {
            0 => "compromised",
            1 => "suspicious",
            2 => "exposed",
            _ => "",
        }
    }
}

/// A file seen on several hosts, by its SHA-256.
#[derive(Debug, Default)]
pub struct SharedFile {
    pub hosts: BTreeSet<u32>,
    /// The paths it had, at most [`NAMES_SHOWN`].
    pub paths: BTreeSet<String>,
    /// The first finding's title about it.
    pub title: String,
}

/// The overview being built.
#[derive(Debug, Default)]
pub struct Overview {
    pub rows: Vec<HostRow>,
    by_scan: HashMap<String, u32>,
    /// Attacker IP → the hosts (row indices) it was seen on.
    pub ips: BTreeMap<String, BTreeSet<u32>>,
    /// Shell SHA-256 → where it was seen.
    pub files: BTreeMap<String, SharedFile>,
    pub files_read: u64,
    pub records: u64,
    pub warnings: Vec<String>,
}

/// An address worth joining hosts on: loopback and unspecified ones say nothing
/// about an attacker.
fn attacker_ip(text: &str) -> Option<String> {
    let ip: IpAddr = text.trim().parse().ok()?;
    (!ip.is_loopback() && !ip.is_unspecified()).then(|| ip.to_string())
}

impl Overview {
    fn row(&mut self, record: &Record, source: &str) -> u32 {
        if let Some(&at) = self.by_scan.get(record.scan_id()) {
            return at;
        }
        let at = self.rows.len() as u32;
        self.rows.push(HostRow {
            host: record.host().to_string(),
            scan_id: record.scan_id().to_string(),
            source: source.to_string(),
            started: None,
            verdict: None,
            headline: String::new(),
            still_open: Vec::new(),
            not_assessed: Vec::new(),
            by_severity: [0; 5],
            incidents: 0,
            attack_span: None,
            top: Vec::new(),
            ips_added: 0,
            hashes_added: 0,
        });
        self.by_scan.insert(record.scan_id().to_string(), at);
        at
    }

    fn add_ip(&mut self, at: u32, text: &str) {
        let Some(ip) = attacker_ip(text) else { return };
        let row = &mut self.rows[at as usize];
        if row.ips_added >= VALUES_PER_HOST {
            return;
        }
        if self.ips.entry(ip).or_default().insert(at) {
            row.ips_added += 1;
        }
    }

    /// Takes in one record of the file `source`.
    pub fn add(&mut self, record: Record, source: &str) {
        self.records += 1;
        let at = self.row(&record, source);
        match record {
            Record::Finding(f) => {
                let f = &f.item;
                let row = &mut self.rows[at as usize];
                row.by_severity[f.severity as usize] += 1;
                if row.top.len() < TOP_FINDINGS && f.severity >= Severity::Medium {
                    let place = crate::html::place(f);
                    row.top.push(format!(
                        "{} {}: {} ({place})",
                        f.severity, f.check_id, f.title
                    ));
                }
                if f.class == Class::Exposure {
                    return;
                }
                if let Some(ip) = &f.entities.client_ip {
                    self.add_ip(at, ip);
                }
                if let (Some(file), Class::Compromise | Class::Suspicious) = (f.file(), f.class) {
                    if let Some(sha256) = &file.sha256 {
                        let row = &mut self.rows[at as usize];
                        let known = self.files.contains_key(sha256);
                        if !known && row.hashes_added >= VALUES_PER_HOST {
                            return;
                        }
                        let shared = self.files.entry(sha256.clone()).or_default();
                        if shared.title.is_empty() {
                            shared.title = f.title.to_string();
                        }
                        if shared.hosts.insert(at) {
                            row.hashes_added += 1;
                        }
                        if shared.paths.len() < NAMES_SHOWN {
                            shared.paths.insert(file.windows_path.clone());
                        }
                    }
                }
            }
            Record::Incident(i) => {
                let incident = i.item;
                let row = &mut self.rows[at as usize];
                row.incidents += 1;
                row.attack_span = Some(match row.attack_span {
                    Some((first, last)) => (first.min(incident.first), last.max(incident.last)),
                    None => (incident.first, incident.last),
                });
                for ip in &incident.attacker_ips {
                    self.add_ip(at, ip);
                }
            }
            Record::Checklist(_) => {}
            Record::Summary(s) => {
                let verdict = s.verdict();
                let row = &mut self.rows[at as usize];
                row.started = Some(s.started);
                row.verdict = Some(s.verdict);
                row.headline = verdict.headline();
                row.not_assessed = verdict.not_assessed;
                row.still_open = verdict.still_open;
            }
        }
    }

    /// Notes what reading one file met.
    pub fn file_read(&mut self, warnings: impl Iterator<Item = String>) {
        self.files_read += 1;
        self.warnings.extend(warnings);
    }

    /// The rows, most serious first, then by host name.
    pub fn sorted_rows(&self) -> Vec<&HostRow> {
        let mut rows: Vec<&HostRow> = self.rows.iter().collect();
        rows.sort_by(|a, b| (a.rank(), &a.host, &a.scan_id).cmp(&(b.rank(), &b.host, &b.scan_id)));
        rows
    }

    /// IPs seen on more than one host, the most widely seen first.
    pub fn shared_ips(&self) -> Vec<(&str, &BTreeSet<u32>)> {
        let mut shared: Vec<(&str, &BTreeSet<u32>)> = self
            .ips
            .iter()
            .filter(|(_, hosts)| hosts.len() > 1)
            .map(|(ip, hosts)| (ip.as_str(), hosts))
            .collect();
        shared.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        shared
    }

    /// Files seen on more than one host, the most widely seen first.
    pub fn shared_files(&self) -> Vec<(&str, &SharedFile)> {
        let mut shared: Vec<(&str, &SharedFile)> = self
            .files
            .iter()
            .filter(|(_, f)| f.hosts.len() > 1)
            .map(|(sha, f)| (sha.as_str(), f))
            .collect();
        shared.sort_by(|a, b| b.1.hosts.len().cmp(&a.1.hosts.len()).then(a.0.cmp(b.0)));
        shared
    }

    /// How many hosts have each verdict, most serious first: `3 COMPROMISED, ...`.
    pub fn tally(&self) -> String {
        let mut counts: BTreeMap<(u8, &str), usize> = BTreeMap::new();
        for row in &self.rows {
            *counts.entry((row.rank(), row.verdict_label())).or_default() += 1;
        }
        counts
            .iter()
            .map(|((_, label), n)| format!("{n} {label}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The hosts a set of rows names, at most [`NAMES_SHOWN`], and how many more.
    pub fn host_names(&self, hosts: &BTreeSet<u32>) -> String {
        let names: Vec<&str> = hosts
            .iter()
            .take(NAMES_SHOWN)
            .map(|&at| self.rows[at as usize].host.as_str())
            .collect();
        match hosts.len().saturating_sub(NAMES_SHOWN) {
            0 => names.join(", "),
            more => format!("{} and {more} more", names.join(", ")),
        }
    }
}

/// The last part of a path, for a narrow column (the full path is its title).
fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn text(s: &str) -> String {
    printable(s.as_bytes())
}

fn span_text(span: Option<(SystemTime, SystemTime)>) -> String {
    span.map(|(first, last)| format!("{} to {}", rfc3339(first), rfc3339(last)))
        .unwrap_or_default()
}

fn severity_counts(row: &HostRow) -> String {
    let parts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter(|s| row.by_severity[**s as usize] > 0)
        .map(|s| format!("{} {s}", row.by_severity[*s as usize]))
        .collect();
    if parts.is_empty() {
        "no findings".into()
    } else {
        parts.join(", ")
    }
}

/// The overview for a terminal.
pub fn write_console(overview: &Overview, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "OVERVIEW: {} scan(s) from {} file(s): {}",
        overview.rows.len(),
        overview.files_read,
        overview.tally()
    )?;
    writeln!(out, "\nHOSTS (most serious first)")?;
    for row in overview.sorted_rows() {
        let headline = if row.headline.is_empty() {
            row.verdict_label().to_string()
        } else {
            row.headline.clone()
        };
        writeln!(
            out,
            "  {}  {}  ({}; {} incident(s){})",
            text(&row.host),
            text(&headline),
            severity_counts(row),
            row.incidents,
            match span_text(row.attack_span) {
                s if s.is_empty() => s,
                s => format!(", attacker activity {s}"),
            }
        )?;
        for top in &row.top {
            writeln!(out, "      {}", text(top))?;
        }
        if !row.not_assessed.is_empty() {
            writeln!(
                out,
                "      NOT ASSESSED: {}",
                text(&row.not_assessed.join(", "))
            )?;
        }
        writeln!(
            out,
            "      scan {} from {}",
            text(&row.scan_id),
            text(&row.source)
        )?;
    }
    let ips = overview.shared_ips();
    writeln!(
        out,
        "\nATTACKER IPS ON MORE THAN ONE HOST: {} (of {} seen)",
        ips.len(),
        overview.ips.len()
    )?;
    for (ip, hosts) in ips {
        writeln!(
            out,
            "  {}  {} hosts: {}",
            text(ip),
            hosts.len(),
            text(&overview.host_names(hosts))
        )?;
    }
    let files = overview.shared_files();
    writeln!(
        out,
        "\nFILES ON MORE THAN ONE HOST (by SHA-256): {} (of {} seen)",
        files.len(),
        overview.files.len()
    )?;
    for (sha, file) in files {
        writeln!(
            out,
            "  {}  {} hosts: {}\n      {}\n      as {}",
            text(sha),
            file.hosts.len(),
            text(&overview.host_names(&file.hosts)),
            text(&file.title),
            text(&file.paths.iter().cloned().collect::<Vec<_>>().join(", "))
        )?;
    }
    if !overview.warnings.is_empty() {
        writeln!(out, "\nWARNINGS")?;
        for w in &overview.warnings {
            writeln!(out, "  {}", text(w))?;
        }
    }
    Ok(())
}

/// The overview as one self-contained page: no script, so the policy allows none.
pub fn page(overview: &Overview) -> Markup {
    let rows = overview.sorted_rows();
    let ips = overview.shared_ips();
    let files = overview.shared_files();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(crate::html::style_only_policy());
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { "exsweep overview: " (overview.rows.len()) " scans" }
                style { (PreEscaped(crate::html::STYLE)) }
            }
            body {
                header {
                    h1 { "exsweep overview: " (overview.rows.len()) " scans" }
                    p.meta { (overview.files_read) " file(s), " (overview.records) " records · exsweep " (env!("CARGO_PKG_VERSION")) }
                }
                section class={"verdict " (rows.first().map_or("", |r| r.verdict_class()))} {
                    h2 { (overview.tally()) }
                    p { (ips.len()) " attacker IP(s) and " (files.len()) " file(s) were seen on more than one host." }
                }
                nav {
                    a href="#hosts" { "Hosts (" (rows.len()) ")" }
                    a href="#shared-ips" { "Shared IPs (" (ips.len()) ")" }
                    a href="#shared-files" { "Shared files (" (files.len()) ")" }
                    @if !overview.warnings.is_empty() { a href="#warnings" { "Warnings (" (overview.warnings.len()) ")" } }
                }
                section #hosts {
                    h2 { "Hosts, most serious first" }
                    table {
                        thead { tr { th { "host" } th { "verdict" } th { "findings" } th { "incidents" } th { "attacker activity (UTC)" } th { "most severe" } th { "not assessed" } th { "scan" } } }
                        tbody {
                            @for row in &rows {
                                tr class={"host r" (row.rank())} {
                                    td.mono.nowrap { (row.host) }
                                    td { b { (row.verdict_label()) } @if !row.still_open.is_empty() { div.small { "still open to " (row.still_open.join(", ")) } } }
                                    td.small { (severity_counts(row)) }
                                    td { (row.incidents) }
                                    td.mono.small { @if let Some((first, last)) = row.attack_span { (rfc3339(first)) br; (rfc3339(last)) } }
                                    td.small { @for top in &row.top { div { (top) } } }
                                    td.gaps.small { (row.not_assessed.join("; ")) }
                                    td.mono.small title=(row.source) { (file_name(&row.source)) br; (time_text(row.started)) }
                                }
                            }
                        }
                    }
                }
                section #shared-ips {
                    h2 { "Attacker IPs seen on more than one host" }
                    p { (ips.len()) " of " (overview.ips.len()) " IPs seen (client addresses of compromise, attempt and suspicious findings and of incidents)." }
                    table {
                        thead { tr { th { "IP" } th { "hosts" } th { "on" } } }
                        tbody { @for (ip, hosts) in &ips { tr { td.mono { (ip) } td { (hosts.len()) } td.mono { (overview.host_names(hosts)) } } } }
                    }
                }
                section #shared-files {
                    h2 { "Files seen on more than one host" }
                    p { (files.len()) " of " (overview.files.len()) " compromise and suspicious files seen, by SHA-256." }
                    table {
                        thead { tr { th { "SHA-256" } th { "what" } th { "hosts" } th { "on" } th { "as" } } }
                        tbody { @for (sha, file) in &files { tr {
                            td.mono { (sha) } td { (file.title) } td { (file.hosts.len()) }
                            td.mono { (overview.host_names(&file.hosts)) }
                            td.mono { @for p in &file.paths { div { (p) } } }
                        } } }
                    }
                }
                @if !overview.warnings.is_empty() {
                    section #warnings {
                        h2 { "Warnings" }
                        ul { @for w in &overview.warnings { li.mono { (w) } } }
                    }
                }
                footer { "Written by exsweep " (env!("CARGO_PKG_VERSION")) ". This page makes no network requests and runs no script. One host's full report: exsweep report HOST.jsonl --html FILE." }
            }
        }
    }
}

pub fn write_html(overview: &Overview, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(page(overview).into_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An incident record of `scan` naming `ips`.
    fn incident(scan: &str, ips: &[String]) -> String {
        serde_json::json!({
            "record": "incident", "schema_version": 3, "scan_id": scan, "host": scan.to_uppercase(),
            "id": "INC-1", "story": "s", "first": "2021-03-03T00:00:00Z", "last": "2021-03-04T00:00:00Z",
            "attacker_ips": ips, "user_agents": [], "users": [], "files": [], "cves": [], "techniques": [],
            "confidence": "high", "confidence_reason": "r", "steps": []
        })
        .to_string()
    }

    fn overview(lines: &[String]) -> Overview {
        let mut overview = Overview::default();
        let text = lines.join("\n");
        crate::saved::records_from(&mut text.as_bytes(), "t.jsonl", 1 << 20, |r| {
            overview.add(r, "t.jsonl")
        });
        overview
    }

    #[test]
    fn hosts_join_on_attacker_ips_but_not_on_loopback() {
        let ips = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = overview(&[
            incident("a", &ips(&["127.0.0.1", "198.51.100.7", "not an ip"])),
            incident("b", &ips(&["127.0.0.1", "198.51.100.7", "::1"])),
            incident("c", &ips(&["203.0.113.1"])),
        ]);
        let shared: Vec<&str> = o.shared_ips().iter().map(|(ip, _)| *ip).collect();
        assert_eq!(shared, ["198.51.100.7"]);
        assert_eq!(o.host_names(o.shared_ips()[0].1), "A, B");
        assert_eq!(o.ips.len(), 2);
        let row = &o.rows[0];
        assert_eq!(
            (row.incidents, row.verdict_label()),
            (1, "INCOMPLETE (no summary record)")
        );
        assert!(row.attack_span.is_some());
    }

    #[test]
    fn one_host_adds_a_bounded_number_of_ips() {
        let many: Vec<String> = (0..VALUES_PER_HOST + 50)
            .map(|i| format!("10.{}.{}.1", i / 250, i % 250))
            .collect();
        let o = overview(&[incident("a", &many)]);
        assert_eq!(o.ips.len(), VALUES_PER_HOST);
    }
}
