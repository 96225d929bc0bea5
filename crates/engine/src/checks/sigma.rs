//! Sigma rules as a check: a rule's hit becomes a finding of [`SIGMA_MATCH`] that
//! carries the rule's own title, level, author, references and file, and the fields
//! that matched. The rules themselves are the user's (`--sigma DIR`); the engine
//! behind them sits in `exsweep-sigma`.

use exsweep_logs::evtx::EventRecord;
use exsweep_model::{Check, Class, Hit, Reference, RuleInfo, Severity};
use exsweep_sigma::{EvtxRecord, SigmaHit};
use std::borrow::Cow;

pub static SIGMA_MATCH: Check = Check {
    id: Cow::Borrowed("EXS-SIGMA-001"),
    title: Cow::Borrowed("Sigma rule matched"),
    severity: Severity::Medium,
    class: Class::Suspicious,
    category: Cow::Borrowed("rule"),
    references: Cow::Borrowed(&[Reference::url("https://github.com/SigmaHQ/sigma-specification")]),
    why: Cow::Borrowed("A Sigma rule loaded with --sigma matched this record or line: the community's description of \
          an attacker's technique, with the rule's own level and references."),
    action: Cow::Borrowed("Read the rule's description and false positives, then the record: who ran what, from \
             which process, and what happened around it on this server."),
};

/// A record as the Sigma rules read it.
pub fn evtx_record(event: &EventRecord) -> EvtxRecord<'_> {
    EvtxRecord {
        channel: &event.channel,
        provider: &event.provider,
        event_id: event.event_id,
        record_id: event.record_id,
        computer: &event.computer,
        system: &event.system,
        data: &event.data,
    }
}

/// A Sigma level as a severity, and whether a hit of it says compromise: `critical`
/// and `high` rules describe an attacker's act, lower ones what is worth a look.
fn severity(level: Option<&str>) -> (Severity, Class) {
    match level.unwrap_or("medium") {
        "critical" => (Severity::Critical, Class::Compromise),
        "high" => (Severity::High, Class::Compromise),
        "low" => (Severity::Low, Class::Suspicious),
        "informational" => (Severity::Info, Class::Suspicious),
        _ => (Severity::Medium, Class::Suspicious),
    }
}

/// The finding's hit for one Sigma hit.
pub fn sigma_hit(hit: &SigmaHit) -> Hit {
    let rule = hit.rule;
    let mut check = SIGMA_MATCH.clone();
    check.title = Cow::Owned(format!("Sigma rule matched: {}", rule.title));
    let mut references = check.references.into_owned();
    references.extend(rule.cves().into_iter().map(|c| Reference::Cve(c.into())));
    references.extend(
        rule.techniques()
            .into_iter()
            .map(|t| Reference::Attack(t.into())),
    );
    references.extend(
        rule.references
            .iter()
            .map(|r| Reference::Url(r.clone().into())),
    );
    // The Detection Rule License asks that the author be shown with every match.
    references.extend(rule.author.clone().map(|a| Reference::Author(a.into())));
    check.references = Cow::Owned(references);
    let (severity, class) = severity(rule.level.as_deref());
    let matched: Vec<String> = hit
        .matched
        .iter()
        .map(|(field, value)| format!("{field}={}", exsweep_model::excerpt(value)))
        .collect();
    // The rule's description travels once, in `rule.description`.
    let mut detail = format!("{} ({}).", rule.title, rule.file);
    if !matched.is_empty() {
        detail.push_str(&format!(" Matched: {}.", matched.join("; ")));
    }
    let mut out = check.hit_at(severity, detail);
    out.class = class;
    out.rule = Some(RuleInfo {
        id: format!("sigma:{}", rule.id.as_deref().unwrap_or(&rule.title)),
        name: rule.title.clone(),
        meta_id: rule.id.clone(),
        description: rule.description.clone(),
        author: rule.author.clone(),
    });
    out
}
