//! The HTML report: one self-contained page for a person (no CDN, no fonts, no
//! requests): the verdict and what it rests on, the incidents as stories with their
//! timeline drawn, a findings table that sorts and filters, each finding's evidence,
//! the exposure, the coverage and the checklist. Printable.
//!
//! Everything from the evidence is hostile (shells hold `<script>`, log lines what
//! attackers typed, file names markup): maud escapes every value by construction;
//! the findings travel in a JSON data block whose `<`, `>` and `&` are `\u`
//! escapes, and the script shows them with `textContent` only. A strict
//! Content-Security-Policy allows only this page's own style and script, by their
//! SHA-256, so an injected handler or remote load would not run even if markup got
//! through. The findings table renders a page of rows at a time from that block, so
//! a scan of tens of thousands of findings opens at once.

use crate::timeline::time_text;
use exsweep_model::{rfc3339, Class, Evidence, Finding, Incident, Phase, Report, Severity};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::time::SystemTime;

pub(crate) const STYLE: &str = include_str!("html/report.css");
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

/// The policy: nothing but this page's own style and the script `script_src` allows;
/// no frames, forms, base URL or plugins; images only as data URLs.
fn policy(script_src: &str) -> String {
    format!(
        "default-src 'none'; style-src {}; script-src {script_src}; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        csp_hash(STYLE)
    )
}

/// The report's policy: its own style and script, by their hashes.
pub fn content_security_policy() -> String {
    policy(&csp_hash(SCRIPT))
}

/// The policy of a page without script (the overview): its own style only.
pub(crate) fn style_only_policy() -> String {
    policy("'none'")
}

/// 0 for info up to 4 for critical: the declaration order.
fn severity_rank(s: Severity) -> u8 {
    s as u8
}

/// Where a finding was seen, in one line.
pub(crate) fn place(f: &Finding) -> String {
    match &f.evidence {
        Evidence::File(file) => file.windows_path.clone(),
        Evidence::LogLine(l) => format!("{} line {}", l.windows_path, l.line),
        Evidence::EventRecord(e) => format!("{} record {}", e.windows_path, e.record_id),
        Evidence::Config(c) => format!("{} {}", c.windows_path, c.item),
        Evidence::Remote(r) => r.target.clone(),
    }
}

/// A finding's evidence as (label, value) pairs, for the page's script to show.
fn evidence(f: &Finding) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    match &f.evidence {
        Evidence::File(file) => {
            out.push(("file", file.windows_path.clone()));
            out.push(("read from", file.local.display()));
            out.push(("size", format!("{} bytes", file.size)));
            out.extend(file.sha256.clone().map(|h| ("SHA-256", h)));
            out.extend(file.times.modified.map(|t| ("modified", rfc3339(t))));
            out.extend(file.times.created.map(|t| ("created", rfc3339(t))));
        }
        Evidence::LogLine(l) => {
            out.push((
                "log",
                format!("{} {} line {}", l.source, l.windows_path, l.line),
            ));
            out.push(("line", l.excerpt.clone()));
        }
        Evidence::EventRecord(e) => {
            out.push((
                "event",
                format!(
                    "{} {}, record {} in {}",
                    e.provider, e.event_id, e.record_id, e.windows_path
                ),
            ));
            out.push(("record", e.excerpt.clone()));
        }
        Evidence::Config(c) => {
            out.push(("configuration", c.windows_path.clone()));
            out.push(("item", c.item.clone()));
            out.push(("value", c.value.clone()));
        }
        Evidence::Remote(r) => {
            out.push(("target", r.target.clone()));
            out.push(("observed", r.observed.clone()));
        }
    }
    let e = &f.entities;
    for (name, value) in [
        ("client IP", &e.client_ip),
        ("user", &e.user),
        ("user agent", &e.user_agent),
        ("URL", &e.url),
        ("RequestId", &e.request_id),
        ("process", &e.process),
    ] {
        out.extend(value.clone().map(|v| (name, v)));
    }
    out
}

/// One finding as the page's script reads it: short keys, as the data block holds
/// tens of thousands of them.
#[derive(serde::Serialize)]
struct Row<'a> {
    /// Severity rank (0 info .. 4 critical) and name.
    s: u8,
    sv: &'static str,
    c: &'a str,
    t: &'a str,
    w: String,
    tm: String,
    ms: u64,
    sc: u8,
    cl: &'static str,
    i: &'a str,
    d: &'a str,
    /// Why it matters and what to do: indices into the block's `texts`, as every
    /// finding of a check shares them.
    y: usize,
    a: usize,
    r: Vec<String>,
    ru: String,
    rs: String,
    ev: Vec<(&'static str, String)>,
}

/// Strings many findings share, stored once.
#[derive(Default)]
struct Texts<'a> {
    list: Vec<&'a str>,
    index: std::collections::HashMap<&'a str, usize>,
}

impl<'a> Texts<'a> {
    fn intern(&mut self, text: &'a str) -> usize {
        *self.index.entry(text).or_insert_with(|| {
            self.list.push(text);
            self.list.len() - 1
        })
    }
}

fn row<'a>(f: &'a Finding, incident: Option<&'a str>, texts: &mut Texts<'a>) -> Row<'a> {
    Row {
        s: severity_rank(f.severity),
        sv: f.severity.as_str(),
        c: &f.check_id,
        t: &f.title,
        w: place(f),
        tm: time_text(f.time()),
        ms: f
            .time()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as u64),
        sc: f.score,
        cl: f.class.as_str(),
        i: incident.unwrap_or(""),
        d: &f.detail,
        y: texts.intern(&f.why),
        a: texts.intern(&f.action),
        r: f.references.iter().map(ToString::to_string).collect(),
        ru: f
            .rule
            .as_ref()
            .map(|r| match &r.author {
                Some(a) => format!("{} by {a}", r.name),
                None => r.name.clone(),
            })
            .unwrap_or_default(),
        rs: f
            .score_reasons
            .iter()
            .map(|r| format!("{} ({:+})", r.because, r.points))
            .collect::<Vec<_>>()
            .join("; "),
        ev: evidence(f),
    }
}

/// The findings as a JSON data block's text. `<`, `>` and `&` (only ever inside JSON
/// strings) are written as `\u` escapes, so no text from the evidence can close the
/// block or open markup; `JSON.parse` gives the same strings back.
fn findings_json(report: &Report) -> String {
    let incident_of = crate::timeline::incident_of(report);
    let mut texts = Texts::default();
    let rows: Vec<Row> = report
        .findings
        .iter()
        .map(|f| row(f, incident_of.get(f.id.as_str()).copied(), &mut texts))
        .collect();
    serde_json::to_string(&serde_json::json!({ "texts": texts.list, "rows": rows }))
        .expect("rows serialise")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Steps drawn and listed per incident, and values listed per fact: an incident of
/// thousands of findings stays readable (and the page small); the JSONL has all.
const STEPS_SHOWN: usize = 300;
const VALUES_SHOWN: usize = 25;

fn shown(values: &[String]) -> String {
    match values.len() {
        n if n > VALUES_SHOWN => format!(
            "{} and {} more",
            values[..VALUES_SHOWN].join(", "),
            n - VALUES_SHOWN
        ),
        _ => values.join(", "),
    }
}

/// The incident's steps drawn on a line from its first to its last activity (an
/// even sample of them when there are many).
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
            @for (i, step) in incident.steps.iter().enumerate().step_by(incident.steps.len().div_ceil(STEPS_SHOWN).max(1)) {
                circle cx=(format!("{:.1}", x(step.time))) cy=(18 + (i % 3) * 12) r="5" class=(step.phase.as_str()) {
                    title { (time_text(step.time)) " " (step.phase.as_str()) ": " (step.summary) }
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
                    span class={"dot " (p.as_str())} {} (p.as_str()) " "
                }
            }
            dl.facts {
                @for (name, values) in [("attacker IPs", &incident.attacker_ips), ("user agents", &incident.user_agents), ("accounts", &incident.users), ("files", &incident.files), ("CVEs", &incident.cves), ("ATT&CK", &incident.techniques)] {
                    @if !values.is_empty() { dt { (name) } dd.mono { (shown(values)) } }
                }
                dt { "why this chain" } dd { (incident.confidence_reason) }
            }
            details {
                summary { (incident.steps.len()) " steps" }
                table.steps {
                    thead { tr { th { "time" } th { "phase" } th { "check" } th { "what" } th { "joined by" } } }
                    tbody {
                        @for s in incident.steps.iter().take(STEPS_SHOWN) {
                            tr { td.mono { (time_text(s.time)) } td { (s.phase.as_str()) } td.mono { (s.check_id) } td { (s.summary) } td.mono { (s.joined_by) } }
                        }
                        @if incident.steps.len() > STEPS_SHOWN {
                            tr { td colspan="5" { "… and " (incident.steps.len() - STEPS_SHOWN) " more steps in the JSONL output (--format jsonl)" } }
                        }
                    }
                }
            }
        }
    }
}

/// The whole page.
pub fn page(report: &Report) -> Markup {
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
                            th data-sort="s" { "severity" } th data-sort="c" { "check" } th data-sort="t" { "finding" }
                            th data-sort="w" { "where" } th data-sort="ms" { "time (UTC)" } th data-sort="sc" { "score" }
                            th data-sort="cl" { "class" } th data-sort="i" { "incident" }
                        } }
                        tbody {}
                    }
                    p { button #more type="button" { "show more" } }
                    noscript { p { "The findings table needs JavaScript; the JSONL output holds every finding." } }
                    // Data, not code: the browser never runs a JSON block, and the
                    // policy allows no script but the page's own.
                    script #findings-data type="application/json" { (PreEscaped(findings_json(report))) }
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
                                    td { (l.files) } td { (l.lines) } td.mono { (time_text(l.first)) } td.mono { (time_text(l.last)) }
                                }
                            }
                        }
                    }
                    p { "Checks: " (report.coverage.rules_loaded) " YARA rules, " (report.coverage.indicators_loaded) " indicators." }
                    @if let Some(sigma) = &report.coverage.sigma {
                        details { summary { (sigma.summary()) }
                            ul { @for s in &sigma.skipped { li.mono { (s.kind) ": " (s.file) @if let Some(r) = &s.rule { " (" (r) ")" } ": " (s.reason) } } }
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
