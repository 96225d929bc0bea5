//! The report a person reads: the verdict first, then the incidents (the attack
//! chains, a short story each), then the findings grouped by severity with their
//! evidence, then what was and was not assessed.

use exsweep_model::{
    printable, rfc3339, AreaCoverage, ChecklistItem, Entities, Evidence, Finding, Incident,
    LogStatus, RecognisedGroup, Report, Severity, VerdictLevel,
};
use std::collections::HashMap;
use std::io::{self, Write};

/// Log findings of one check beyond this many per severity are counted, not shown.
const LOG_FINDINGS_SHOWN: usize = 10;
/// Warnings beyond this many are counted, not listed.
const WARNINGS_SHOWN: usize = 20;
/// Loose files named per kind they were taken for; the rest are counted.
const CONSOLE_NAMES_PER_GROUP: usize = 10;

/// `1 file`, `2 files`: a count with its noun, so sentences read right for any count.
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The findings about one file, log line or record, shown together.
struct Group<'a> {
    findings: Vec<&'a Finding>,
}

impl Group<'_> {
    fn severity(&self) -> Severity {
        self.findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Info)
    }
}

/// Groups findings by what they are about: one file, or one log line or record,
/// keeping the report's order (most severe first).
fn group_by_subject(findings: &[Finding]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for f in findings {
        let key = f.evidence.location();
        match index.get(&key) {
            Some(&i) => groups[i].findings.push(f),
            None => {
                index.insert(key, groups.len());
                groups.push(Group { findings: vec![f] });
            }
        }
    }
    groups
}

/// The entities of a finding as `label value` pairs, for the evidence line.
fn entity_facts(
    entities: &Entities,
    method: Option<&String>,
    status: Option<&String>,
) -> Vec<String> {
    let mut facts = Vec::new();
    for (label, value) in [
        ("client", entities.client_ip.as_ref()),
        ("method", method),
        ("url", entities.url.as_ref()),
        ("status", status),
        ("user", entities.user.as_ref()),
        ("agent", entities.user_agent.as_ref()),
        ("request", entities.request_id.as_ref()),
        ("process", entities.process.as_ref()),
    ] {
        if let Some(v) = value {
            facts.push(format!("{label} {}", printable(v.as_bytes())));
        }
    }
    facts
}

fn when(time: Option<std::time::SystemTime>) -> String {
    time.map(rfc3339).unwrap_or_else(|| "time unknown".into())
}

fn write_evidence(first: &Finding, out: &mut dyn Write) -> io::Result<()> {
    match &first.evidence {
        Evidence::File(file) => {
            writeln!(out, "  {}", printable(file.windows_path.as_bytes()))?;
            writeln!(out, "      read from: {}", file.local.display())?;
            let mut facts = vec![format!("{} bytes", file.size)];
            if let Some(t) = file.times.modified {
                facts.push(format!("modified {}", rfc3339(t)));
            }
            if let Some(t) = file.times.created {
                facts.push(format!("created {}", rfc3339(t)));
            }
            writeln!(out, "      file:      {}", facts.join(", "))?;
            if let Some(sha) = &file.sha256 {
                writeln!(out, "      sha256:    {sha}")?;
            }
        }
        Evidence::LogLine(log) => {
            writeln!(
                out,
                "  {} {} line {} ({})",
                log.source,
                printable(log.windows_path.as_bytes()),
                log.line,
                when(log.time)
            )?;
            let facts = entity_facts(&first.entities, log.method.as_ref(), log.status.as_ref());
            if !facts.is_empty() {
                writeln!(out, "      request:   {}", facts.join(", "))?;
            }
            writeln!(out, "      line:      {}", log.excerpt)?;
        }
        Evidence::EventRecord(event) => {
            writeln!(
                out,
                "  {} {} record {} ({})",
                event.source,
                printable(event.windows_path.as_bytes()),
                event.record_id,
                when(event.time)
            )?;
            let facts = entity_facts(&first.entities, None, None);
            if !facts.is_empty() {
                writeln!(out, "      names:     {}", facts.join(", "))?;
            }
            writeln!(out, "      record:    {}", event.excerpt)?;
        }
        Evidence::Config(item) => {
            writeln!(
                out,
                "  {} in {}",
                printable(item.item.as_bytes()),
                printable(item.windows_path.as_bytes())
            )?;
            writeln!(out, "      value:     {}", item.value)?;
        }
        Evidence::Remote(seen) => {
            writeln!(
                out,
                "  {} ({})",
                printable(seen.target.as_bytes()),
                when(seen.time)
            )?;
            writeln!(
                out,
                "      answered:  {}",
                printable(seen.observed.as_bytes())
            )?;
        }
    }
    Ok(())
}

fn write_group(group: &Group, out: &mut dyn Write) -> io::Result<()> {
    write_evidence(group.findings[0], out)?;
    for f in &group.findings {
        writeln!(out, "    - [{} {}] {}", f.check_id, f.severity, f.title)?;
        writeln!(out, "        what:    {}", printable(f.detail.as_bytes()))?;
        writeln!(out, "        why:     {}", f.why)?;
        // A score with more than its severity behind it shows how it was reached.
        if f.score_reasons.len() > 1 {
            let steps: Vec<String> = f
                .score_reasons
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let sign = if i > 0 && r.points >= 0 { "+" } else { "" };
                    format!("{sign}{} {}", r.points, printable(r.because.as_bytes()))
                })
                .collect();
            writeln!(out, "        score:   {} = {}", f.score, steps.join(", "))?;
        }
        if let Some(rule) = &f.rule {
            let meta_id = rule
                .meta_id
                .as_deref()
                .map(|id| format!(" ({})", printable(id.as_bytes())))
                .unwrap_or_default();
            writeln!(
                out,
                "        rule:    {}{meta_id}",
                printable(rule.id.as_bytes())
            )?;
        }
        for m in &f.matches {
            writeln!(
                out,
                "        matched: {} at offset {}: {}",
                m.identifier, m.offset, m.data
            )?;
        }
        if !f.references.is_empty() {
            let refs: Vec<String> = f
                .references
                .iter()
                .map(|r| printable(r.to_string().as_bytes()))
                .collect();
            writeln!(out, "        refs:    {}", refs.join(", "))?;
        }
    }
    let most_severe = group
        .findings
        .iter()
        .max_by_key(|f| f.severity)
        .expect("a group is never empty");
    writeln!(out, "      action:    {}", most_severe.action)?;
    writeln!(out)
}

/// Text that may come from the evidence (paths from the registry or IIS's
/// configuration, user folder names), escaped for the terminal.
fn text(s: &str) -> String {
    printable(s.as_bytes())
}

/// Folders or files the scan expected, present or not, one line each.
fn write_places(places: &[AreaCoverage], missing: &str, out: &mut dyn Write) -> io::Result<()> {
    for place in places {
        match &place.consequence {
            None => writeln!(
                out,
                "  [ok]      {}: {}",
                place.area,
                text(&place.windows_path)
            )?,
            Some(c) => writeln!(
                out,
                "  {missing} {}: {} — {}",
                place.area,
                text(&place.windows_path),
                text(c)
            )?,
        }
    }
    Ok(())
}

/// The attack chains, each a short story with its span, actors and files, before
/// the findings they are made of.
fn write_incidents(incidents: &[Incident], out: &mut dyn Write) -> io::Result<()> {
    if incidents.is_empty() {
        return Ok(());
    }
    writeln!(out, "INCIDENTS ({})", incidents.len())?;
    for incident in incidents {
        writeln!(
            out,
            "  [{}] {} to {} — confidence {}",
            incident.id,
            rfc3339(incident.first),
            rfc3339(incident.last),
            incident.confidence.as_str()
        )?;
        writeln!(out, "      {}", text(&incident.story))?;
        let facts = [
            ("attacker IPs", &incident.attacker_ips),
            ("user agents", &incident.user_agents),
            ("accounts", &incident.users),
            ("files", &incident.files),
            ("ATT&CK", &incident.techniques),
        ];
        for (name, values) in facts.iter().filter(|(_, v)| !v.is_empty()) {
            writeln!(out, "      {name}: {}", text(&values.join(", ")))?;
        }
        writeln!(
            out,
            "      why this chain: {} ({} findings)",
            text(&incident.confidence_reason),
            incident.steps.len()
        )?;
    }
    writeln!(out)
}

/// What the findings call for that moving files cannot fix; nothing when they call
/// for nothing. `exsweep quarantine` prints the same section.
pub fn write_checklist(items: &[ChecklistItem], out: &mut dyn Write) -> io::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(out, "TO DO BY HAND (what moving files does not fix)")?;
    for item in items {
        writeln!(out, "  [{}] {}", item.id, item.title)?;
        writeln!(out, "      why: {}", item.why)?;
        writeln!(out, "      how: {}", item.how)?;
        writeln!(out, "      findings: {}", item.finding_ids.join(", "))?;
    }
    writeln!(out)
}

/// Loose logs: each group of files, what they were taken for and why, and the first
/// few names.
fn write_recognised(groups: &[RecognisedGroup], out: &mut dyn Write) -> io::Result<()> {
    if groups.is_empty() {
        return Ok(());
    }
    writeln!(out, "  loose files, each recognised by its content:")?;
    for group in groups {
        writeln!(
            out,
            "    {} → {} ({})",
            count(group.count, "file"),
            group.taken_for,
            text(&group.by)
        )?;
        for file in group.files.iter().take(CONSOLE_NAMES_PER_GROUP) {
            writeln!(out, "      {}", text(file))?;
        }
        let unnamed = group.count.saturating_sub(CONSOLE_NAMES_PER_GROUP as u64);
        if unnamed > 0 {
            writeln!(
                out,
                "      … and {unnamed} more (the JSONL summary names the first {})",
                group.files.len()
            )?;
        }
    }
    Ok(())
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let cov = &report.coverage;
    writeln!(
        out,
        "exsweep {} — scan {} of {}",
        env!("CARGO_PKG_VERSION"),
        report.scan_id,
        printable(report.host.as_bytes())
    )?;
    let drives = if cov.drives.is_empty() {
        String::new()
    } else {
        format!("; drives {}", cov.drives.join(" "))
    };
    writeln!(
        out,
        "evidence: {} ({}{drives})",
        printable(cov.evidence_root.as_bytes()),
        cov.layout,
    )?;
    writeln!(out)?;

    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| {
            let n = report.findings.iter().filter(|f| f.severity == *s).count();
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    let gaps = cov.gaps().count() + cov.log_gaps().count();
    write!(out, "VERDICT: {}", report.verdict.headline())?;
    if counts.is_empty() {
        writeln!(out)?;
    } else {
        writeln!(out, " ({})", counts.join(", "))?;
    }
    writeln!(
        out,
        "  {}.",
        printable(report.verdict.explanation().as_bytes())
    )?;
    match (report.verdict.level, gaps) {
        (VerdictLevel::NoIndicatorsFound, 0) => writeln!(
            out,
            "  Nothing in the assessed folders matched. That is not proof of a clean server: check the logs too."
        )?,
        (VerdictLevel::NoIndicatorsFound, n) => writeln!(
            out,
            "  NOT A CLEAN BILL OF HEALTH: {n} expected area(s) or log source(s) were missing from the evidence and were not assessed (see Coverage)."
        )?,
        // The explanation above names what was not assessed.
        _ => {}
    }
    writeln!(out)?;
    write_incidents(&report.incidents, out)?;

    let groups = group_by_subject(&report.findings);
    for severity in Severity::ALL.iter().rev() {
        let level: Vec<&Group> = groups
            .iter()
            .filter(|g| g.severity() == *severity)
            .collect();
        if level.is_empty() {
            continue;
        }
        let noun = if level.len() == 1 { "item" } else { "items" };
        writeln!(
            out,
            "{} ({} {noun})",
            severity.as_str().to_uppercase(),
            level.len()
        )?;
        let mut shown: HashMap<&str, usize> = HashMap::new();
        for group in level {
            let first = group.findings[0];
            if first.file().is_none() {
                let n = shown.entry(&first.check_id).or_default();
                *n += 1;
                if *n > LOG_FINDINGS_SHOWN {
                    continue;
                }
            }
            write_group(group, out)?;
        }
        for (id, n) in shown.iter().filter(|(_, n)| **n > LOG_FINDINGS_SHOWN) {
            writeln!(
                out,
                "  ... and {} more {id} finding(s) at this severity (all of them in --format jsonl or csv)\n",
                n - LOG_FINDINGS_SHOWN
            )?;
        }
    }

    write_checklist(&report.checklist, out)?;

    if !report.trail.is_empty() {
        writeln!(
            out,
            "TRAIL ({} logged request(s), oldest first)",
            report.trail.len()
        )?;
        for t in &report.trail {
            let when = t.line.time.map(rfc3339).unwrap_or_else(|| "?".into());
            let field = |v: &Option<String>| {
                v.as_deref()
                    .map(|s| printable(s.as_bytes()))
                    .unwrap_or_else(|| "-".into())
            };
            writeln!(
                out,
                "  {when} {:<13} {} {} {} {} {}",
                t.line.source,
                field(&t.entities.client_ip),
                field(&t.line.method),
                field(&t.entities.url),
                field(&t.line.status),
                field(&t.entities.request_id)
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out, "COVERAGE")?;
    match &cov.exchange_install {
        Some(root) => writeln!(
            out,
            "  Exchange install: {} (found by {})",
            text(root),
            cov.exchange_install_source.as_deref().unwrap_or("?")
        )?,
        None => writeln!(out, "  Exchange install: not found")?,
    }
    write_places(&cov.areas, "[MISSING]", out)?;
    write_places(&cov.configs, "[absent] ", out)?;
    write_recognised(&cov.recognised, out)?;
    for log in &cov.logs {
        let span = match (log.first, log.last) {
            (Some(a), Some(b)) => format!("{} to {}", rfc3339(a), rfc3339(b)),
            _ => "no dated entries".into(),
        };
        let read = format!(
            "{}, {}, {}, {span}; {} unparsable",
            count(log.files, "file"),
            count(log.lines, "line"),
            human_bytes(log.bytes),
            log.parse_failures
        );
        let consequence = log.consequence.as_deref().map(text).unwrap_or_default();
        match log.status {
            LogStatus::Ok => writeln!(out, "  [ok]      {} logs: {read}", log.source)?,
            LogStatus::Missing => writeln!(
                out,
                "  [MISSING] {} logs ({}): {consequence}",
                log.source,
                text(&log.windows_path)
            )?,
            LogStatus::Damaged => writeln!(
                out,
                "  [DAMAGED] {} logs: {read} — {consequence}",
                log.source
            )?,
            LogStatus::Short => writeln!(
                out,
                "  [SHORT]   {} logs: {read} — {consequence}",
                log.source
            )?,
        }
    }
    writeln!(
        out,
        "  files: {} listed, {} read ({}), {} empty, {} unreadable",
        cov.files_seen,
        cov.files_scanned,
        human_bytes(cov.bytes_scanned),
        cov.empty_files,
        cov.unreadable
    )?;
    if cov.over_size_cap > 0 {
        writeln!(
            out,
            "  {} file(s) over the {} size cap: name and header checks only, no rules or hashes (raise --max-file-size to scan them)",
            cov.over_size_cap,
            human_bytes(cov.size_cap)
        )?;
    }
    if cov.symlinks_not_followed + cov.special_files + cov.odd_names + cov.rule_timeouts > 0 {
        writeln!(
            out,
            "  skipped: {} symbolic link(s) not followed, {} special file(s); {} unusual name(s); {} rule timeout(s)",
            cov.symlinks_not_followed, cov.special_files, cov.odd_names, cov.rule_timeouts
        )?;
    }
    writeln!(
        out,
        "  checks: {} YARA rules, {} indicators",
        cov.rules_loaded, cov.indicators_loaded
    )?;
    if let Some(sigma) = &cov.sigma {
        writeln!(
            out,
            "  sigma: {} (exsweep sigma check lists each)",
            printable(sigma.summary().as_bytes())
        )?;
    }
    if !cov.warnings.is_empty() {
        writeln!(out, "  warnings ({}):", cov.warnings.len())?;
        for w in cov.warnings.iter().take(WARNINGS_SHOWN) {
            writeln!(out, "    - {}", printable(w.as_bytes()))?;
        }
        if cov.warnings.len() > WARNINGS_SHOWN {
            writeln!(
                out,
                "    ... {} more in --format jsonl",
                cov.warnings.len() - WARNINGS_SHOWN
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_of_loose_files_names_ten_and_counts_the_rest() {
        let mut group = RecognisedGroup::new("EVTX Security".into(), "its records".into());
        for i in 0..12 {
            group.add(&format!("host-{i:02}.evtx"));
        }
        let mut out = Vec::new();
        write_recognised(&[group], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("12 files → EVTX Security (its records)"),
            "{text}"
        );
        assert!(
            text.contains("host-09.evtx") && !text.contains("host-10.evtx"),
            "{text}"
        );
        assert!(
            text.contains("… and 2 more (the JSONL summary names the first 12)"),
            "{text}"
        );
    }
}
