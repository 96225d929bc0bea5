//! Sigma rules as checks: a rule's hit becomes a finding of [`SIGMA_MATCH`] that
//! carries the rule's own title, level, author, references and file, and the fields
//! that matched; a correlation rule's firing one of [`SIGMA_CORRELATION`], with its
//! group and count. The rules themselves are the user's (`--sigma DIR`); the engine
//! behind them sits in `exsweep-sigma`.

use exsweep_logs::evtx::EventRecord;
use exsweep_model::{Check, Class, Hit, Reference, RuleInfo, Severity};
use exsweep_sigma::{CorrelationHit, EvtxRecord, RuleInfo as SigmaRule, SigmaHit};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

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

pub static SIGMA_CORRELATION: Check = Check {
    id: Cow::Borrowed("EXS-SIGMA-002"),
    title: Cow::Borrowed("Sigma correlation rule matched"),
    severity: Severity::Medium,
    class: Class::Suspicious,
    category: Cow::Borrowed("rule"),
    references: Cow::Borrowed(&[Reference::url(
        "https://github.com/SigmaHQ/sigma-specification/blob/main/specification/sigma-correlation-rules-specification.md",
    )]),
    why: Cow::Borrowed("A Sigma correlation rule loaded with --sigma matched a set of records: enough of them, \
          enough distinct values, or its rules in the order it names, within its time span (a brute force, a \
          spray, a chain of steps)."),
    action: Cow::Borrowed("Read the records of the group it names (the account, host or address) in that time \
             span: who was behind them, and whether they succeeded."),
};

/// The Sigma checks, for `exsweep checks`.
pub static SIGMA_CHECKS: &[&Check] = &[&SIGMA_MATCH, &SIGMA_CORRELATION];

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

/// `check` named for `rule`, with the rule's references: made once per rule and
/// check, then kept for the rest of the run (the rule set lives as long), so that the
/// hundreds of findings a noisy rule keeps borrow one title and one list of references
/// instead of each holding a copy.
fn rule_check(check: &'static Check, rule: &SigmaRule) -> Check {
    /// By check ID, rule file and rule key (its id, else its title): looked up with
    /// borrowed text, so a hit allocates nothing once its rule's check is made.
    type Made = HashMap<&'static str, HashMap<String, HashMap<String, Check>>>;
    static MADE: OnceLock<Mutex<Made>> = OnceLock::new();
    let key = rule.id.as_deref().unwrap_or(&rule.title);
    let mut made = MADE.get_or_init(Default::default).lock().unwrap();
    let of_check = made.entry(&*check.id).or_default();
    if let Some(done) = of_check.get(rule.file.as_str()).and_then(|m| m.get(key)) {
        return done.clone();
    }
    let mut references = check.references.to_vec();
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
    let title = format!("{}: {}", check.title, rule.title);
    let done = Check {
        title: Cow::Borrowed(Box::leak(title.into_boxed_str())),
        references: Cow::Borrowed(Box::leak(references.into_boxed_slice())),
        ..check.clone()
    };
    of_check
        .entry(rule.file.clone())
        .or_default()
        .insert(key.to_string(), done.clone());
    done
}

/// `check` named for `rule`, with the rule's references, its level's severity and
/// class, `detail`, and the rule itself.
fn rule_hit(check: &'static Check, rule: &SigmaRule, detail: String) -> Hit {
    let check = rule_check(check, rule);
    let (severity, class) = severity(rule.level.as_deref());
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

/// A matched value is shown up to this many characters: the record's excerpt beside
/// it has the rest, and a rule keeps up to a hundred findings.
const MATCHED_VALUE_CHARS: usize = 160;

fn matched_value(value: &str) -> String {
    match value.char_indices().nth(MATCHED_VALUE_CHARS) {
        Some((cut, _)) => format!("{}…", exsweep_model::excerpt(&value[..cut])),
        None => exsweep_model::excerpt(value),
    }
}

/// The finding's hit for one Sigma hit.
pub fn sigma_hit(hit: &SigmaHit) -> Hit {
    let rule = hit.rule;
    let matched: Vec<String> = hit
        .matched
        .iter()
        .map(|(field, value)| format!("{field}={}", matched_value(value)))
        .collect();
    // The rule's description travels once, in `rule.description`.
    let mut detail = format!("{} ({}).", rule.title, rule.file);
    if !matched.is_empty() {
        detail.push_str(&format!(" Matched: {}.", matched.join("; ")));
    }
    rule_hit(&SIGMA_MATCH, rule, detail)
}

/// The finding's hit for a correlation that fired; `records` names the records in
/// its window (`Security record 7 at ...`).
pub fn correlation_hit(hit: &CorrelationHit, records: &[String]) -> Hit {
    let group: Vec<String> = hit
        .group
        .iter()
        .map(|(field, value)| format!("{field}={}", exsweep_model::excerpt(value)))
        .collect();
    let value = hit.value;
    let measured = match hit.kind.as_str() {
        "event_count" => format!("{value} events"),
        "value_count" => format!("{value} distinct values"),
        "temporal" => format!("{value} of its rules"),
        "temporal_ordered" => format!("{value} of its rules in order"),
        other => format!("{other} {value}"),
    };
    let mut detail = format!(
        "{} ({}, {}): {measured} within {} s",
        hit.rule.title, hit.rule.file, hit.kind, hit.timespan_secs
    );
    if !group.is_empty() {
        detail.push_str(&format!(" for {}", group.join(", ")));
    }
    if hit.firings > 1 {
        detail.push_str(&format!("; met {} times", hit.firings));
    }
    detail.push('.');
    if !records.is_empty() {
        detail.push_str(&format!(" Records: {}.", records.join("; ")));
    }
    rule_hit(&SIGMA_CORRELATION, hit.rule, detail)
}
