//! Elastic Common Schema: one alert document per finding (NDJSON), nested as ECS
//! defines its fields, so that Elastic imports the file as it is (`event.kind:
//! alert`, `@timestamp`, `rule.*`, `file.*`, `source.ip`, `threat.technique.id`,
//! `vulnerability.id`). Only values of the types ECS maps are written: `source.ip` only
//! when the text is an IP address, times only as RFC 3339.

use crate::jsonl::{finding_time, write_record};
use crate::timeline::incident_of;
use exsweep_model::{rfc3339, Class, Evidence, Finding, Reference, Report, Severity};
use serde_json::{json, Map, Value};
use std::io::{self, Write};
use std::net::IpAddr;

/// The ECS release the documents follow.
pub const ECS_VERSION: &str = "8.11.0";

/// Elastic's risk-score bands, as its detection rules use them.
fn numeric_severity(s: Severity) -> u8 {
    match s {
        Severity::Info => 0,
        Severity::Low => 21,
        Severity::Medium => 47,
        Severity::High => 73,
        Severity::Critical => 99,
    }
}

/// ECS's `event.category` values for what the finding is about.
fn categories(f: &Finding) -> Vec<&'static str> {
    if f.class == Class::Exposure {
        return vec!["vulnerability"];
    }
    match f.evidence {
        Evidence::File(_) => vec!["file", "intrusion_detection"],
        Evidence::LogLine(_) => vec!["web", "intrusion_detection"],
        Evidence::EventRecord(_) => vec!["intrusion_detection"],
        Evidence::Config(_) => vec!["configuration"],
        Evidence::Remote(_) => vec!["network", "vulnerability"],
    }
}

/// Puts `value` at the dotted `path` of `doc`, creating the objects on the way;
/// nulls and empty arrays are left out.
fn put(doc: &mut Map<String, Value>, path: &str, value: Value) {
    if value.is_null() || value.as_array().is_some_and(Vec::is_empty) {
        return;
    }
    let mut at = doc;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            at.insert(part.to_string(), value);
            return;
        }
        at = at
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("paths never put a value where an object goes");
    }
}

fn document(report: &Report, f: &Finding, incident: Option<&str>) -> Value {
    let mut doc = Map::new();
    let (timestamp, _) = finding_time(report, f);
    let refs = |want: fn(&Reference) -> Option<String>| -> Vec<String> {
        f.references.iter().filter_map(want).collect()
    };
    put(&mut doc, "@timestamp", json!(timestamp));
    put(&mut doc, "ecs.version", json!(ECS_VERSION));
    put(
        &mut doc,
        "message",
        json!(format!("{}: {}", f.title, f.detail)),
    );
    put(&mut doc, "event.kind", json!("alert"));
    put(&mut doc, "event.category", json!(categories(f)));
    put(&mut doc, "event.type", json!(["indicator"]));
    put(&mut doc, "event.id", json!(f.id));
    put(
        &mut doc,
        "event.severity",
        json!(numeric_severity(f.severity)),
    );
    put(&mut doc, "event.risk_score", json!(f.score));
    put(&mut doc, "event.reason", json!(f.detail));
    put(&mut doc, "event.dataset", json!("exsweep.finding"));
    put(&mut doc, "event.module", json!("exsweep"));
    put(&mut doc, "event.created", json!(rfc3339(report.finished)));
    put(&mut doc, "rule.id", json!(f.check_id));
    put(&mut doc, "rule.name", json!(f.title));
    put(&mut doc, "rule.description", json!(f.why));
    put(&mut doc, "rule.category", json!(f.category));
    put(
        &mut doc,
        "rule.ruleset",
        json!(f.rule.as_ref().map(|r| r.id.clone())),
    );
    put(
        &mut doc,
        "rule.reference",
        json!(refs(|r| match r {
            Reference::Url(u) => Some(u.to_string()),
            _ => None,
        })
        .join(" ")),
    );
    put(
        &mut doc,
        "rule.author",
        json!(refs(|r| match r {
            Reference::Author(a) => Some(a.to_string()),
            _ => None,
        })),
    );
    put(&mut doc, "host.name", json!(report.host));
    put(&mut doc, "observer.vendor", json!("exsweep"));
    put(&mut doc, "observer.product", json!("exsweep"));
    put(
        &mut doc,
        "observer.version",
        json!(env!("CARGO_PKG_VERSION")),
    );
    let techniques = refs(|r| match r {
        Reference::Attack(id) => Some(id.to_string()),
        _ => None,
    });
    if !techniques.is_empty() {
        put(&mut doc, "threat.framework", json!("MITRE ATT&CK"));
        put(&mut doc, "threat.technique.id", json!(techniques));
    }
    put(
        &mut doc,
        "vulnerability.id",
        json!(refs(|r| match r {
            Reference::Cve(id) => Some(id.to_string()),
            _ => None,
        })),
    );
    let e = &f.entities;
    let ip = e
        .client_ip
        .as_deref()
        .filter(|ip| ip.parse::<IpAddr>().is_ok());
    put(&mut doc, "source.ip", json!(ip));
    put(&mut doc, "user.name", json!(e.user));
    put(&mut doc, "user_agent.original", json!(e.user_agent));
    put(&mut doc, "url.original", json!(e.url));
    put(&mut doc, "http.request.id", json!(e.request_id));
    put(&mut doc, "process.name", json!(e.process));
    match &f.evidence {
        Evidence::File(file) => {
            let name = file.windows_path.rsplit('\\').next().unwrap_or("");
            put(&mut doc, "file.path", json!(file.windows_path));
            put(&mut doc, "file.name", json!(name));
            put(&mut doc, "file.size", json!(file.size));
            put(&mut doc, "file.hash.md5", json!(file.md5));
            put(&mut doc, "file.hash.sha1", json!(file.sha1));
            put(&mut doc, "file.hash.sha256", json!(file.sha256));
            let t = |t: Option<std::time::SystemTime>| json!(t.map(rfc3339));
            put(&mut doc, "file.mtime", t(file.times.modified));
            put(&mut doc, "file.accessed", t(file.times.accessed));
            put(&mut doc, "file.created", t(file.times.created));
        }
        Evidence::LogLine(line) => {
            put(&mut doc, "log.file.path", json!(line.windows_path));
            put(&mut doc, "event.original", json!(line.excerpt));
            put(&mut doc, "http.request.method", json!(line.method));
            put(
                &mut doc,
                "http.response.status_code",
                json!(line.status.as_deref().and_then(|s| s.parse::<u16>().ok())),
            );
        }
        Evidence::EventRecord(record) => {
            put(&mut doc, "log.file.path", json!(record.windows_path));
            put(&mut doc, "winlog.record_id", json!(record.record_id));
        }
        Evidence::Config(item) => {
            put(&mut doc, "file.path", json!(item.windows_path));
        }
        Evidence::Remote(_) => {}
    }
    if let Some(path) = e.windows_path.as_deref().filter(|_| f.file().is_none()) {
        put(&mut doc, "file.path", json!(path));
    }
    put(&mut doc, "labels.exsweep_class", json!(f.class.as_str()));
    put(&mut doc, "labels.exsweep_scan_id", json!(report.scan_id));
    put(&mut doc, "labels.exsweep_incident", json!(incident));
    Value::Object(doc)
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let incident_of = incident_of(report);
    for f in &report.findings {
        write_record(
            out,
            &document(report, f, incident_of.get(f.id.as_str()).copied()),
        )?;
    }
    Ok(())
}
