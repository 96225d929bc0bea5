//! The checks: what exsweep looks for. Each check has a stable ID, a title, a default
//! severity and class, references and a recommended action; [`CATALOG`] and the log
//! and event catalogs list them all and `exsweep checks` prints them. Checks return
//! [`Hit`]s; the sweep and the hunt turn them into findings where they were seen. File
//! checks run on one read of each file ([`files::check_file`]); rule matches come from
//! one compiled YARA-X rule set as [`rule_hit`]s.

pub mod baseline;
pub mod events;
pub mod exposure;
pub mod files;
pub mod heuristics;
pub mod iis;
pub mod inert;
pub mod logs;
pub mod mitigations;
pub mod sigma;

use exsweep_model::{Check, Class, Hit, Reference, RuleInfo, Severity};
use std::borrow::Cow;

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
    id: Cow::Borrowed("EXS-FILE-001"),
    title: Cow::Borrowed("File matches a known-malicious hash"),
    severity: Severity::Critical,
    class: Class::Compromise,
    category: Cow::Borrowed("indicator"),
    references: Cow::Borrowed(&[WEB_SHELL, CISA_AA21_062A, MS_HAFNIUM]),
    why: Cow::Borrowed("The file's content is byte-for-byte a sample published by Microsoft, CISA or a loaded feed."),
    action: Cow::Borrowed(ISOLATE_SHELL),
};

pub static PATH_INDICATOR: Check = Check {
    id: Cow::Borrowed("EXS-FILE-002"),
    title: Cow::Borrowed("File path or name matches an indicator"),
    severity: Severity::High,
    class: Class::Suspicious,
    category: Cow::Borrowed("indicator"),
    references: Cow::Borrowed(&[WEB_SHELL, CISA_AA21_062A, MS_HAFNIUM]),
    why: Cow::Borrowed("Attackers reused these names and paths for web shells and tools; the name alone is not proof, \
          the content decides."),
    action: Cow::Borrowed("Open the file read-only and compare it with a clean server of the same build; \
             treat it as a web shell until proven otherwise."),
};

pub static UNEXPECTED_AUTH_FILE: Check = Check {
    id: Cow::Borrowed("EXS-FILE-003"),
    title: Cow::Borrowed("Unexpected file in Exchange's front-end auth folder"),
    severity: Severity::High,
    class: Class::Compromise,
    category: Cow::Borrowed("webshell"),
    references: Cow::Borrowed(&[CVE_2021_26855, CVE_2021_27065, WEB_SHELL, MS_HAFNIUM]),
    why: Cow::Borrowed("The front end's owa\\auth and ecp\\auth folders hold a fixed set of pages on every clean \
          install; they are reachable without logging on, the favourite drop place of ProxyLogon shells."),
    action: Cow::Borrowed(ISOLATE_SHELL),
};

pub static SCRIPT_IN_STATIC_FOLDER: Check = Check {
    id: Cow::Borrowed("EXS-FILE-004"),
    title: Cow::Borrowed("Server-side script in a folder that holds only static content"),
    severity: Severity::High,
    class: Class::Compromise,
    category: Cow::Borrowed("webshell"),
    references: Cow::Borrowed(&[CVE_2021_26858, CVE_2021_27065, WEB_SHELL, CISA_AA21_062A]),
    why: Cow::Borrowed("aspnet_client, owa\\auth\\Current and the owa\\auth build folders hold no executable pages on a \
          clean server; a page there runs with the web server's rights for anyone who knows its URL."),
    action: Cow::Borrowed(ISOLATE_SHELL),
};

pub static LSASS_DUMP: Check = Check {
    id: Cow::Borrowed("EXS-FILE-005"),
    title: Cow::Borrowed("LSASS memory dump"),
    severity: Severity::Critical,
    class: Class::Compromise,
    category: Cow::Borrowed("credential-access"),
    references: Cow::Borrowed(&[Reference::attack("T1003.001"), MS_HAFNIUM]),
    why: Cow::Borrowed("A dump of LSASS holds the credentials of everyone logged on to the server; Hafnium dumped \
          LSASS with comsvcs.dll or procdump right after dropping shells."),
    action: Cow::Borrowed("Treat every account that logged on to this server as compromised: reset passwords \
             (krbtgt twice if a domain admin logged on), then quarantine the dump."),
};

pub static MEMORY_DUMP_IN_STAGING: Check = Check {
    id: Cow::Borrowed("EXS-FILE-006"),
    title: Cow::Borrowed("Memory dump in a staging or web folder"),
    severity: Severity::High,
    class: Class::Compromise,
    category: Cow::Borrowed("credential-access"),
    references: Cow::Borrowed(&[Reference::attack("T1003.001")]),
    why: Cow::Borrowed("A minidump (MDMP) outside Windows Error Reporting's folders, or under a name that hides it, \
          is how process memory is carried off the server."),
    action: Cow::Borrowed("Identify which process was dumped (the dump's module list names it); if LSASS, \
             reset the credentials as for a credential dump."),
};

pub static MAILBOX_EXPORT_SHELL: Check = Check {
    id: Cow::Borrowed("EXS-FILE-007"),
    title: Cow::Borrowed("Web script that is a mailbox or certificate export (ProxyShell web shell)"),
    severity: Severity::Critical,
    class: Class::Compromise,
    category: Cow::Borrowed("webshell"),
    references: Cow::Borrowed(&[
        Reference::cve("CVE-2021-34473"),
        Reference::cve("CVE-2021-34523"),
        Reference::cve("CVE-2021-31207"),
        WEB_SHELL,
    ]),
    why: Cow::Borrowed("ProxyShell writes its shell with New-MailboxExportRequest (a PST, magic !BDN) or a certificate \
          export (DER) under a script name; no legitimate page has that content."),
    action: Cow::Borrowed(ISOLATE_SHELL),
};

pub static STAGING_ARCHIVE: Check = Check {
    id: Cow::Borrowed("EXS-FILE-008"),
    title: Cow::Borrowed("Archive in ProgramData"),
    severity: Severity::Low,
    class: Class::Suspicious,
    category: Cow::Borrowed("collection"),
    references: Cow::Borrowed(&[Reference::attack("T1560.001"), MS_HAFNIUM]),
    why: Cow::Borrowed("Attackers staged stolen data as .zip/.7z/.rar in ProgramData; antivirus and VMware Tools \
          leave archives there too, so alone this is only worth a look."),
    action: Cow::Borrowed("Check who wrote the archive and when; if it appeared after exploitation, list its content \
             (without extracting on the server) to see what was taken."),
};

pub static RULE_MATCH: Check = Check {
    id: Cow::Borrowed("EXS-FILE-009"),
    title: Cow::Borrowed("YARA rule match"),
    severity: Severity::High,
    class: Class::Compromise,
    category: Cow::Borrowed("rule"),
    references: Cow::Borrowed(&[WEB_SHELL]),
    why: Cow::Borrowed("The file's content matches a detection rule; the rule's description and references say what it detects."),
    action: Cow::Borrowed(ISOLATE_SHELL),
};

pub static WEB_SHELL_TRAITS: Check = Check {
    id: Cow::Borrowed("EXS-FILE-010"),
    title: Cow::Borrowed("Page whose server code has web-shell traits"),
    severity: Severity::Medium,
    class: Class::Suspicious,
    category: Cow::Borrowed("webshell"),
    references: Cow::Borrowed(&[
        WEB_SHELL,
        Reference::attack("T1027"),
        Reference::url("https://www.microsoft.com/en-us/security/blog/2021/02/11/web-shell-attacks-continue-to-rise/"),
    ]),
    why: Cow::Borrowed("No known rule describes this page, but its server code does what web shells do: request data \
          reaching an execution sink, code hidden by string joins, character codes, encoded blobs or the Script Encoder. \
          The reasons list each trait and its weight; ordinary pages rarely show two."),
    action: Cow::Borrowed("Read the page's server code: if it runs what a request sends, treat it as a web shell (isolate, \
             preserve, look for its use in the logs); if it is a known application's page, compare it with the vendor's copy."),
};

const BASELINES: Reference =
    Reference::url("https://github.com/microsoft/CSS-Exchange/tree/main/Security/Baselines");

pub static UNLISTED_EXCHANGE_FILE: Check = Check {
    id: Cow::Borrowed("EXS-FILE-011"),
    title: Cow::Borrowed("File in Exchange's web folders that the build does not ship"),
    severity: Severity::High,
    class: Class::Suspicious,
    category: Cow::Borrowed("baseline"),
    references: Cow::Borrowed(&[WEB_SHELL, BASELINES, MS_HAFNIUM]),
    why: Cow::Borrowed("The known-good baseline of the server's build lists every file Microsoft ships in the front- and \
          back-end web folders; a page that is not among them was put there after setup, by an administrator, a product \
          or an attacker."),
    action: Cow::Borrowed("Find out who wrote it and when (its timestamps, the IIS logs of requests to it); a page nobody \
             installed is to be treated as a web shell."),
};

pub static MODIFIED_EXCHANGE_FILE: Check = Check {
    id: Cow::Borrowed("EXS-FILE-012"),
    title: Cow::Borrowed("Exchange file that differs from the shipped one"),
    severity: Severity::High,
    class: Class::Suspicious,
    category: Cow::Borrowed("baseline"),
    references: Cow::Borrowed(&[WEB_SHELL, BASELINES, MS_HAFNIUM]),
    why: Cow::Borrowed("Attackers trojanise Exchange's own pages (RedirSuiteServiceProxy.aspx, errorFE.aspx) so that the shell \
          keeps a legitimate name; a shipped page whose content is not the shipped one has been edited."),
    action: Cow::Borrowed("Compare the file with a clean copy of the same build (or run the matching Security Update \
             again, which rewrites it); preserve this copy first, and read what was added."),
};

pub static RENAMED_EXCHANGE_FILE: Check = Check {
    id: Cow::Borrowed("EXS-FILE-013"),
    title: Cow::Borrowed("Shipped Exchange file under another path"),
    severity: Severity::Medium,
    class: Class::Suspicious,
    category: Cow::Borrowed("baseline"),
    references: Cow::Borrowed(&[BASELINES, Reference::attack("T1036.005")]),
    why: Cow::Borrowed("A copy of a legitimate Exchange file where Exchange does not put it: a decoy, a staging copy, or a \
          backup someone made; harmless in itself, it shows someone worked in these folders."),
    action: Cow::Borrowed("Check who copied it and when; it is harmless by content, so look at what else changed then."),
};

/// A rule match as a hit of [`RULE_MATCH`]: the rule's description, severity, score
/// and references win over the check's defaults, and the title names the rule.
pub fn rule_hit(rule: exsweep_rules::RuleHit) -> Hit {
    let mut check = RULE_MATCH.clone();
    check.title = Cow::Owned(format!("YARA rule {} matched", rule.identifier));
    let mut references = check.references.into_owned();
    for reference in &rule.references {
        if !references.contains(reference) {
            references.push(reference.clone());
        }
    }
    check.references = Cow::Owned(references);
    let author = rule.references.iter().find_map(|r| match r {
        Reference::Author(who) => Some(who.to_string()),
        _ => None,
    });
    let mut hit = check.hit(
        rule.description
            .clone()
            .unwrap_or_else(|| format!("The content matches rule {}.", rule.identifier)),
    );
    if let Some((severity, score)) = rule.severity {
        hit.severity = severity;
        hit.score = Some((
            score,
            Cow::Owned(format!("{severity} rule {}", rule.identifier)),
        ));
    }
    hit.rule = Some(RuleInfo {
        id: rule.rule,
        name: rule.identifier,
        meta_id: rule.meta_id,
        description: rule.description,
        author,
    });
    hit.matches = rule.matches;
    hit
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
    &WEB_SHELL_TRAITS,
    &UNLISTED_EXCHANGE_FILE,
    &MODIFIED_EXCHANGE_FILE,
    &RENAMED_EXCHANGE_FILE,
];

/// The ID of a built-in check's hit, which is static text (tests compare lists of them).
#[cfg(test)]
pub(crate) fn builtin_id(hit: &Hit) -> &'static str {
    match hit.check.id {
        Cow::Borrowed(id) => id,
        Cow::Owned(_) => panic!("not a built-in check: {}", hit.check.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_sorted() {
        let ids: Vec<&str> = CATALOG.iter().map(|c| &*c.id).collect();
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
