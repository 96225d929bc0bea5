//! The report a person reads: the verdict first, then the findings grouped by
//! severity with their evidence, then what was and was not assessed.

use crate::findings::{printable, rfc3339, Finding, Report, Severity, Verdict};
use std::collections::HashMap;
use std::io::{self, Write};

/// Warnings beyond this many are counted, not listed.
const WARNINGS_SHOWN: usize = 20;

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

/// The findings about one file (or one finding without a file), shown together.
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

/// Groups findings by file, keeping the report's order (most severe first).
fn group_by_file(findings: &[Finding]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for f in findings {
        match f.file.as_ref().map(|e| e.windows_path.as_str()) {
            Some(path) => match index.get(path) {
                Some(&i) => groups[i].findings.push(f),
                None => {
                    index.insert(path, groups.len());
                    groups.push(Group { findings: vec![f] });
                }
            },
            None => groups.push(Group { findings: vec![f] }),
        }
    }
    groups
}

fn write_group(group: &Group, out: &mut dyn Write) -> io::Result<()> {
    let first = group.findings[0];
    match &first.file {
        Some(file) => {
            writeln!(out, "  {}", printable(file.windows_path.as_bytes()))?;
            writeln!(
                out,
                "      read from: {}",
                printable(file.local_path.as_bytes())
            )?;
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
        None => writeln!(out, "  {}", first.title)?,
    }
    for f in &group.findings {
        writeln!(out, "    - [{} {}] {}", f.check_id, f.severity, f.title)?;
        writeln!(out, "        what:    {}", printable(f.detail.as_bytes()))?;
        writeln!(out, "        why:     {}", f.why)?;
        if let Some(rule) = &f.rule {
            writeln!(out, "        rule:    {}", printable(rule.as_bytes()))?;
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

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let cov = &report.coverage;
    writeln!(
        out,
        "exsweep {} — scan {} of {}",
        env!("CARGO_PKG_VERSION"),
        report.scan_id,
        printable(report.host.as_bytes())
    )?;
    writeln!(
        out,
        "evidence: {} ({})",
        printable(cov.evidence_root.as_bytes()),
        cov.layout
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
    let gaps = cov.gaps().count();
    write!(out, "VERDICT: {}", report.verdict.label())?;
    if counts.is_empty() {
        writeln!(out)?;
    } else {
        writeln!(out, " ({})", counts.join(", "))?;
    }
    match (report.verdict, gaps) {
        (Verdict::NoIndicatorsFound, 0) => writeln!(
            out,
            "  Nothing in the assessed folders matched. That is not proof of a clean server: check the logs too."
        )?,
        (Verdict::NoIndicatorsFound, n) => writeln!(
            out,
            "  NOT A CLEAN BILL OF HEALTH: {n} expected area(s) were missing from the evidence and were not assessed (see Coverage)."
        )?,
        (_, 0) => {}
        (_, n) => writeln!(out, "  The assessment is incomplete: {n} expected area(s) were missing (see Coverage).")?,
    }
    writeln!(out)?;

    let groups = group_by_file(&report.findings);
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
        for group in level {
            write_group(group, out)?;
        }
    }

    writeln!(out, "COVERAGE")?;
    match &cov.exchange_install {
        Some(root) => writeln!(
            out,
            "  Exchange install: {root} (found by {})",
            cov.exchange_install_source.as_deref().unwrap_or("?")
        )?,
        None => writeln!(out, "  Exchange install: not found")?,
    }
    for area in &cov.areas {
        match &area.consequence {
            None => writeln!(out, "  [ok]      {}: {}", area.area, area.windows_path)?,
            Some(c) => writeln!(
                out,
                "  [MISSING] {}: {} — {c}",
                area.area, area.windows_path
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
