//! The checks: what exsweep looks for. Each check has a stable ID, a title, a default
//! severity, references and a recommended action; [`CATALOG`] lists them all and
//! `exsweep checks` prints it. File checks run on one read of each file
//! ([`files::check_file`]); rule matches come from one compiled YARA-X rule set.

pub mod events;
pub mod files;
pub mod logs;

use exsweep_model::{Finding, Reference, Severity};

/// Static description of a check. Findings copy it, so every finding is explained.
#[derive(Debug)]
pub struct Check {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub category: &'static str,
    pub references: &'static [Reference],
    /// Why a hit matters, for the console and `exsweep checks`.
    pub why: &'static str,
    pub action: &'static str,
}

impl Check {
    /// A finding of this check at another severity than its default (an attempt rather
    /// than a success, a less dangerous variant).
    pub fn finding_at(&'static self, severity: Severity, detail: String) -> Finding {
        let mut f = self.finding(detail);
        f.severity = severity;
        f.score = severity.default_score();
        f
    }

    /// A finding of this check with its default severity.
    pub fn finding(&'static self, detail: String) -> Finding {
        Finding {
            check_id: self.id,
            title: self.title.to_string(),
            severity: self.severity,
            score: self.severity.default_score(),
            category: self.category,
            references: self.references.to_vec(),
            detail,
            file: None,
            log: None,
            matches: Vec::new(),
            why: self.why,
            action: self.action,
            rule: None,
        }
    }
}

const WEB_SHELL: Reference = Reference::attack("T1505.003");
const CISA_AA21_062A: Reference =
    Reference::url("https://www.cisa.gov/news-events/cybersecurity-advisories/aa21-062a");
const MS_HAFNIUM: Reference = Reference::url(
    "https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/",
);
const CVE_2021_26855: Reference = Reference::cve("CVE-2021-26855");
const CVE_2021_26858: Reference = Reference::cve("CVE-2021-26858");
const CVE_2021_27065: Reference = Reference::cve("CVE-2021-27065");

const ISOLATE_SHELL: &str = "Isolate the server from the Internet, preserve the file with its timestamps (copy it, never delete it), \
     look for its use in the IIS and HttpProxy logs, then patch, reset credentials and rebuild trust in the host.";

pub static HASH_INDICATOR: Check = Check {
    id: "EXS-FILE-001",
    title: "File matches a known-malicious hash",
    severity: Severity::Critical,
    category: "indicator",
    references: &[WEB_SHELL, CISA_AA21_062A, MS_HAFNIUM],
    why: "The file's content is byte-for-byte a sample published by Microsoft, CISA or a loaded feed.",
    action: ISOLATE_SHELL,
};

pub static PATH_INDICATOR: Check = Check {
    id: "EXS-FILE-002",
    title: "File path or name matches an indicator",
    severity: Severity::High,
    category: "indicator",
    references: &[WEB_SHELL, CISA_AA21_062A, MS_HAFNIUM],
    why: "Attackers reused these names and paths for web shells and tools; the name alone is not proof, \
          the content decides.",
    action: "Open the file read-only and compare it with a clean server of the same build; \
             treat it as a web shell until proven otherwise.",
};

pub static UNEXPECTED_AUTH_FILE: Check = Check {
    id: "EXS-FILE-003",
    title: "Unexpected file in Exchange's front-end auth folder",
    severity: Severity::High,
    category: "webshell",
    references: &[CVE_2021_26855, CVE_2021_27065, WEB_SHELL, MS_HAFNIUM],
    why: "The front end's owa\\auth and ecp\\auth folders hold a fixed set of pages on every clean \
          install; they are reachable without logging on, the favourite drop place of ProxyLogon shells.",
    action: ISOLATE_SHELL,
};

pub static SCRIPT_IN_STATIC_FOLDER: Check = Check {
    id: "EXS-FILE-004",
    title: "Server-side script in a folder that holds only static content",
    severity: Severity::High,
    category: "webshell",
    references: &[CVE_2021_26858, CVE_2021_27065, WEB_SHELL, CISA_AA21_062A],
    why: "aspnet_client, owa\\auth\\Current and the owa\\auth build folders hold no executable pages on a \
          clean server; a page there runs with the web server's rights for anyone who knows its URL.",
    action: ISOLATE_SHELL,
};

pub static LSASS_DUMP: Check = Check {
    id: "EXS-FILE-005",
    title: "LSASS memory dump",
    severity: Severity::Critical,
    category: "credential-access",
    references: &[Reference::attack("T1003.001"), MS_HAFNIUM],
    why:
        "A dump of LSASS holds the credentials of everyone logged on to the server; Hafnium dumped \
          LSASS with comsvcs.dll or procdump right after dropping shells.",
    action: "Treat every account that logged on to this server as compromised: reset passwords \
             (krbtgt twice if a domain admin logged on), then quarantine the dump.",
};

pub static MEMORY_DUMP_IN_STAGING: Check = Check {
    id: "EXS-FILE-006",
    title: "Memory dump in a staging or web folder",
    severity: Severity::High,
    category: "credential-access",
    references: &[Reference::attack("T1003.001")],
    why: "A minidump (MDMP) outside Windows Error Reporting's folders, or under a name that hides it, \
          is how process memory is carried off the server.",
    action: "Identify which process was dumped (the dump's module list names it); if LSASS, \
             reset the credentials as for a credential dump.",
};

pub static MAILBOX_EXPORT_SHELL: Check = Check {
    id: "EXS-FILE-007",
    title: "Web script that is a mailbox or certificate export (ProxyShell web shell)",
    severity: Severity::Critical,
    category: "webshell",
    references: &[
        Reference::cve("CVE-2021-34473"),
        Reference::cve("CVE-2021-34523"),
        Reference::cve("CVE-2021-31207"),
        WEB_SHELL,
    ],
    why: "ProxyShell writes its shell with New-MailboxExportRequest (a PST, magic !BDN) or a certificate \
          export (DER) under a script name; no legitimate page has that content.",
    action: ISOLATE_SHELL,
};

pub static STAGING_ARCHIVE: Check = Check {
    id: "EXS-FILE-008",
    title: "Archive in ProgramData",
    severity: Severity::Low,
    category: "collection",
    references: &[Reference::attack("T1560.001"), MS_HAFNIUM],
    why:
        "Attackers staged stolen data as .zip/.7z/.rar in ProgramData; antivirus and VMware Tools \
          leave archives there too, so alone this is only worth a look.",
    action:
        "Check who wrote the archive and when; if it appeared after exploitation, list its content \
             (without extracting on the server) to see what was taken.",
};

pub static RULE_MATCH: Check = Check {
    id: "EXS-FILE-009",
    title: "YARA rule match",
    severity: Severity::High,
    category: "rule",
    references: &[WEB_SHELL],
    why: "The file's content matches a detection rule; the rule's description and references say what it detects.",
    action: ISOLATE_SHELL,
};

/// A rule match as a finding: the rule's description, severity and references win
/// over the check's defaults.
pub fn rule_finding(hit: exsweep_rules::RuleHit) -> Finding {
    let mut finding = RULE_MATCH.finding(
        hit.description
            .unwrap_or_else(|| format!("The content matches rule {}.", hit.identifier)),
    );
    finding.title = format!("YARA rule {} matched", hit.identifier);
    if let Some((severity, score)) = hit.severity {
        finding.severity = severity;
        finding.score = score;
    }
    for reference in hit.references {
        if !finding.references.contains(&reference) {
            finding.references.push(reference);
        }
    }
    finding.rule = Some(hit.rule);
    finding.matches = hit.matches;
    finding
}

/// Every check exsweep runs, in ID order.
pub static CATALOG: &[&Check] = &[
    &HASH_INDICATOR,
    &PATH_INDICATOR,
    &UNEXPECTED_AUTH_FILE,
    &SCRIPT_IN_STATIC_FOLDER,
    &LSASS_DUMP,
    &MEMORY_DUMP_IN_STAGING,
    &MAILBOX_EXPORT_SHELL,
    &STAGING_ARCHIVE,
    &RULE_MATCH,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_sorted() {
        let ids: Vec<&str> = CATALOG.iter().map(|c| c.id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn every_check_is_explained() {
        for c in CATALOG {
            assert!(
                !c.title.is_empty() && !c.why.is_empty() && !c.action.is_empty(),
                "{}",
                c.id
            );
            assert!(!c.references.is_empty(), "{} has no reference", c.id);
        }
    }
}
