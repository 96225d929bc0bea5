//! The HTML report: one self-contained page for a person (no CDN, no fonts, no
//! requests): the verdict and what it rests on, the incidents as stories with their
//! timeline drawn, a findings table that sorts and filters, each finding's evidence,
//! the exposure, the coverage and the checklist. Printable.
//!
//! Everything from the evidence is hostile (shells hold `<script>`, log lines what
//! attackers typed, file names markup): maud escapes every value by construction,
//! and nothing from the evidence is ever given to `PreEscaped`. A strict
//! Content-Security-Policy allows only this page's own style and script, by their
//! SHA-256, so an injected handler or remote load would not run even if markup got
//! through; the script reads the page's cells as text and never writes markup.

use exsweep_model::{
    rfc3339, Class, Evidence, Finding, Incident, Phase, Reference, Report, Severity,
};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::time::SystemTime;

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// `'sha256-…'` of an inline element's text, for the CSP.
fn csp_hash(text: &str) -> String {
    use base64::Engine as _;
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The policy: nothing but this page's own style and script; no frames, forms,
/// base URL or plugins; images only as data URLs.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; script-src {}; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    )
}

fn time(t: Option<SystemTime>) -> String {
    t.map(rfc3339).unwrap_or_default()
}

fn millis(t: Option<SystemTime>) -> String {
    t.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_millis().to_string())
        .unwrap_or_else(|| "0".into())
}

fn severity_rank(s: Severity) -> u8 {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0) as u8
}

/// Where a finding was seen, in one line.
fn place(f: &Finding) -> String {
    match &f.evidence {
        Evidence::File(file) => file.windows_path.clone(),
        Evidence::LogLine(l) => format!("{} line {}", l.windows_path, l.line),
        Evidence::EventRecord(e) => format!("{} record {}", e.windows_path, e.record_id),
        Evidence::Config(c) => format!("{} {}", c.windows_path, c.item),
        Evidence::Remote(r) => r.target.clone(),
    }
}

fn reference(r: &Reference) -> Markup {
    match r {
        Reference::Url(url) => html! { span.ref { (url) } },
        other => html! { span.ref { (other.to_string()) } },
    }
}

fn evidence(f: &Finding) -> Markup {
    html! {
        dl.evidence {
            @match &f.evidence {
                Evidence::File(file) => {
                    dt { "file" } dd.mono { (file.windows_path) }
                    dt { "read from" } dd.mono { (file.local.display()) }
                    dt { "size" } dd { (file.size) " bytes" }
                    @if let Some(h) = &file.sha256 { dt { "SHA-256" } dd.mono { (h) } }
                    @if let Some(t) = file.times.modified { dt { "modified" } dd { (rfc3339(t)) } }
                    @if let Some(t) = file.times.created { dt { "created" } dd { (rfc3339(t)) } }
                }
                Evidence::LogLine(l) => {
                    dt { "log" } dd.mono { (l.source) " " (l.windows_path) " line " (l.line) }
                    dt { "line" } dd { pre { (l.excerpt) } }
                }
                Evidence::EventRecord(e) => {
                    dt { "event" } dd.mono { (e.provider) " " (e.event_id) ", record " (e.record_id) " in " (e.windows_path) }
                    dt { "record" } dd { pre { (e.excerpt) } }
                }
                Evidence::Config(c) => {
                    dt { "configuration" } dd.mono { (c.windows_path) }
                    dt { "item" } dd.mono { (c.item) }
                    dt { "value" } dd { pre { (c.value) } }
                }
                Evidence::Remote(r) => {
                    dt { "target" } dd.mono { (r.target) }
                    dt { "observed" } dd { pre { (r.observed) } }
                }
            }
            @let e = &f.entities;
            @for (name, value) in [("client IP", &e.client_ip), ("user", &e.user), ("user agent", &e.user_agent), ("URL", &e.url), ("RequestId", &e.request_id), ("process", &e.process)] {
                @if let Some(v) = value { dt { (name) } dd.mono { (v) } }
            }
        }
    }
}

fn finding_row(f: &Finding, incident: Option<&str>) -> Markup {
    let sev = f.severity.as_str();
    html! {
        tr.finding data-severity=(severity_rank(f.severity)) data-time=(millis(f.time())) data-score=(f.score) {
            td { span class={"sev " (sev)} { (sev) } }
            td.mono { (f.check_id) }
            td {
                details {
                    summary { (f.title) }
                    p { (f.detail) }
                    p { b { "Why it matters: " } (f.why) }
                    p { b { "What to do: " } (f.action) }
                    @if let Some(rule) = &f.rule {
                        p { b { "Rule: " } (rule.name) @if let Some(a) = &rule.author { " by " (a) } }
                    }
                    p.refs { @for r in &f.references { (reference(r)) " " } }
                    (evidence(f))
                    p.reasons { "score " (f.score) ": " @for r in &f.score_reasons { (r.because) " (" (r.points) "); " } }
                }
            }
            td.mono.where { (place(f)) }
            td.mono { (time(f.time())) }
            td { (f.score) }
            td { (f.class.as_str()) }
            td { (incident.unwrap_or("")) }
        }
    }
}

fn phase_class(p: Phase) -> &'static str {
    p.as_str()
}

/// The incident's steps drawn on a line from its first to its last activity.
fn timeline(incident: &Incident) -> Markup {
    const WIDTH: f64 = 900.0;
    const PAD: f64 = 20.0;
    let start = incident.first;
    let span = incident
        .last
        .duration_since(start)
        .unwrap_or_default()
        .as_secs_f64()
        .max(1.0);
    let x = |t: Option<SystemTime>| -> f64 {
        let at = t
            .and_then(|t| t.duration_since(start).ok())
            .map_or(0.0, |d| d.as_secs_f64());
        PAD + (at / span).clamp(0.0, 1.0) * (WIDTH - 2.0 * PAD)
    };
    html! {
        svg.timeline viewBox={"0 0 " (WIDTH) " 60"} role="img" aria-label={"timeline of " (incident.id)} {
            line x1=(PAD) y1="30" x2=(WIDTH - PAD) y2="30" class="axis" {}
            @for (i, step) in incident.steps.iter().enumerate() {
                circle cx=(format!("{:.1}", x(step.time))) cy=(18 + (i % 3) * 12) r="5" class=(phase_class(step.phase)) {
                    title { (time(step.time)) " " (step.phase.as_str()) ": " (step.summary) }
                }
            }
            text x=(PAD) y="56" class="tick" { (rfc3339(incident.first)) }
            text x=(WIDTH - PAD) y="56" class="tick end" { (rfc3339(incident.last)) }
        }
    }
}

fn incident_section(incident: &Incident) -> Markup {
    html! {
        article.incident id=(incident.id) {
            h3 { (incident.id) " · confidence " (incident.confidence.as_str()) }
            p.story { (incident.story) }
            (timeline(incident))
            p.legend {
                @for p in [Phase::Exploitation, Phase::Planting, Phase::Implant, Phase::Use, Phase::Aftermath] {
                    span class={"dot " (phase_class(p))} {} (p.as_str()) " "
                }
            }
            dl.facts {
                @for (name, values) in [("attacker IPs", &incident.attacker_ips), ("user agents", &incident.user_agents), ("accounts", &incident.users), ("files", &incident.files), ("CVEs", &incident.cves), ("ATT&CK", &incident.techniques)] {
                    @if !values.is_empty() { dt { (name) } dd.mono { (values.join(", ")) } }
                }
                dt { "why this chain" } dd { (incident.confidence_reason) }
            }
            details {
                summary { (incident.steps.len()) " steps" }
                table.steps {
                    thead { tr { th { "time" } th { "phase" } th { "check" } th { "what" } th { "joined by" } } }
                    tbody {
                        @for s in &incident.steps {
                            tr { td.mono { (time(s.time)) } td { (s.phase.as_str()) } td.mono { (s.check_id) } td { (s.summary) } td.mono { (s.joined_by) } }
                        }
                    }
                }
            }
        }
    }
}

/// The whole page.
pub fn page(report: &Report) -> Markup {
    let incident_of = crate::timeline::incident_of(report);
    let verdict = &report.verdict;
    let exposure: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.class == Class::Exposure)
        .collect();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(content_security_policy());
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { "exsweep: " (report.host) " — " (verdict.headline()) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "exsweep report: " (report.host) }
                    p.meta { "scan " (report.scan_id) " · " (rfc3339(report.started)) " · exsweep " (env!("CARGO_PKG_VERSION")) " · evidence " span.mono { (report.coverage.evidence_root) } " (" (report.coverage.layout) ")" }
                }
                section class={"verdict " (verdict.level.label().to_lowercase().replace(" ", "-"))} {
                    h2 { "VERDICT: " (verdict.headline()) }
                    p { (verdict.explanation()) "." }
                    @if !verdict.not_assessed.is_empty() {
                        p.gaps { b { "Not assessed: " } (verdict.not_assessed.join("; ")) }
                    }
                }
                nav {
                    a href="#incidents" { "Incidents (" (report.incidents.len()) ")" }
                    a href="#findings" { "Findings (" (report.findings.len()) ")" }
                    a href="#exposure" { "Exposure" }
                    a href="#coverage" { "Coverage" }
                    a href="#checklist" { "To do" }
                }
                section #incidents {
                    h2 { "Incidents" }
                    @if report.incidents.is_empty() { p { "No findings joined into an attack chain." } }
                    @for incident in &report.incidents { (incident_section(incident)) }
                }
                section #findings {
                    h2 { "Findings" }
                    div.controls {
                        label { "filter " input #filter type="search" placeholder="text in any column"; }
                        label { "at least " select #minsev {
                            @for s in Severity::ALL.iter() { option value=(severity_rank(*s)) { (s.as_str()) } }
                        } }
                        span #shown {}
                    }
                    table #table {
                        thead { tr {
                            th data-sort="severity" { "severity" } th data-sort="text" { "check" } th data-sort="text" { "finding" }
                            th data-sort="text" { "where" } th data-sort="time" { "time (UTC)" } th data-sort="score" { "score" }
                            th data-sort="text" { "class" } th data-sort="text" { "incident" }
                        } }
                        tbody {
                            @for f in &report.findings { (finding_row(f, incident_of.get(f.id.as_str()).copied())) }
                        }
                    }
                }
                section #exposure {
                    h2 { "Exposure" }
                    @if verdict.still_open.is_empty() && exposure.is_empty() {
                        p { "No open CVE or unsupported update level was found on the evidence." }
                    } @else {
                        @if !verdict.still_open.is_empty() { p { b { "Still open: " } (verdict.still_open.join(", ")) } }
                        ul { @for f in &exposure { li { b { (f.title) } ": " (f.detail) } } }
                    }
                }
                section #coverage {
                    h2 { "Coverage: what was and was not assessed" }
                    table.coverage {
                        thead { tr { th { "area" } th { "path" } th { "status" } } }
                        tbody {
                            @for a in report.coverage.areas.iter().chain(&report.coverage.configs) {
                                tr class=(if a.consequence.is_some() { "missing" } else { "ok" }) {
                                    td { (a.area) } td.mono { (a.windows_path) }
                                    td { @match &a.consequence { Some(c) => { "missing: " (c) }, None => { "read" } } }
                                }
                            }
                        }
                    }
                    table.coverage {
                        thead { tr { th { "log" } th { "path" } th { "status" } th { "files" } th { "lines" } th { "first" } th { "last" } } }
                        tbody {
                            @for l in &report.coverage.logs {
                                tr class=(l.status.as_str()) {
                                    td { (l.source) } td.mono { (l.windows_path) }
                                    td { (l.status.as_str()) @if let Some(c) = &l.consequence { ": " (c) } }
                                    td { (l.files) } td { (l.lines) } td.mono { (time(l.first)) } td.mono { (time(l.last)) }
                                }
                            }
                        }
                    }
                    @if !report.coverage.warnings.is_empty() {
                        details { summary { (report.coverage.warnings.len()) " warning(s)" }
                            ul { @for w in &report.coverage.warnings { li.mono { (w) } } }
                        }
                    }
                }
                section #checklist {
                    h2 { "What to do" }
                    @if report.checklist.is_empty() { p { "Nothing beyond the findings' own actions." } }
                    ol { @for item in &report.checklist {
                        li { b { (item.title) } p { (item.why) } p.how { (item.how) } }
                    } }
                }
                footer { "Written by exsweep " (env!("CARGO_PKG_VERSION")) ". This page makes no network requests." }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(page(report).into_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csp_hash_is_standard_base64_of_sha256() {
        // echo -n "" | openssl dgst -sha256 -binary | base64
        assert_eq!(
            csp_hash(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
        assert_eq!(
            csp_hash("abc"),
            "'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='"
        );
    }
}
