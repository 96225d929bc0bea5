//! What moving files cannot fix, as a checklist with the findings that call for each
//! item: Exchange configuration the exploit changed, mailbox exports and role grants
//! made through it, the updates that close the holes used, the credentials an LSASS
//! dump exposed, and whether the server can still be trusted at all.

use crate::findings::FindingRef;
pub use exsweep_model::ChecklistItem;
use exsweep_model::{Class, Finding, Reference, Severity};
use std::collections::BTreeSet;

/// What the checklist reads of a finding: a scan's own [`Finding`] (the scan's
/// checklist) or a [`FindingRef`] read back from its JSONL (a plan's), where they are:
/// a big scan keeps tens of thousands of findings, and turning each into a
/// `FindingRef` (through JSON) to read five of its fields copied all of them.
pub trait Called {
    fn id(&self) -> &str;
    fn check_id(&self) -> &str;
    fn is_compromise(&self) -> bool;
    fn severity(&self) -> Severity;
    fn detail(&self) -> &str;
    fn cves(&self) -> impl Iterator<Item = &str>;
}

impl Called for Finding {
    fn id(&self) -> &str {
        &self.id
    }
    fn check_id(&self) -> &str {
        &self.check_id
    }
    fn is_compromise(&self) -> bool {
        self.class == Class::Compromise
    }
    fn severity(&self) -> Severity {
        self.severity
    }
    fn detail(&self) -> &str {
        &self.detail
    }
    fn cves(&self) -> impl Iterator<Item = &str> {
        self.references.iter().filter_map(|r| match r {
            Reference::Cve(id) => Some(id.as_ref()),
            _ => None,
        })
    }
}

impl Called for FindingRef {
    fn id(&self) -> &str {
        &self.id
    }
    fn check_id(&self) -> &str {
        &self.check_id
    }
    fn is_compromise(&self) -> bool {
        self.class == "compromise"
    }
    fn severity(&self) -> Severity {
        self.severity
    }
    fn detail(&self) -> &str {
        &self.detail
    }
    fn cves(&self) -> impl Iterator<Item = &str> {
        FindingRef::cves(self)
    }
}

fn mentions(finding: &impl Called, words: &[&str]) -> bool {
    let detail = finding.detail().to_ascii_lowercase();
    words.iter().any(|w| detail.contains(w))
}

/// The checklist the findings call for, in a fixed order.
pub fn build<F: Called>(findings: &[F]) -> Vec<ChecklistItem> {
    let mut out = Vec::new();
    let mut add = |id: &str, title: &str, why: String, how: &str, called_by: Vec<&F>| {
        if !called_by.is_empty() {
            out.push(ChecklistItem {
                id: id.into(),
                title: title.into(),
                why,
                how: how.into(),
                finding_ids: called_by.iter().map(|f| f.id().to_string()).collect(),
            });
        }
    };
    let vdir: Vec<&F> = findings
        .iter()
        .filter(|f| {
            f.check_id() == "EXS-LOG-005"
                || (f.check_id() == "EXS-LOG-013"
                    && mentions(*f, &["virtualdirectory", "externalurl", "internalurl"]))
        })
        .collect();
    add(
        "EXS-TODO-001",
        "Reset the OAB (and any other) virtual directory's InternalUrl and ExternalUrl",
        "A script was put into a virtual directory's URL (CVE-2021-27065): the value stays in Active Directory and is written out again on the next reset.".into(),
        "Get-OabVirtualDirectory | fl Server,Name,InternalUrl,ExternalUrl; then Set-OabVirtualDirectory -Identity <id> -ExternalUrl <the real URL or $null> -InternalUrl <the real URL>; check the ECP, OWA and EWS virtual directories the same way",
        vdir,
    );
    let exports: Vec<&F> = findings
        .iter()
        .filter(|f| {
            f.check_id() == "EXS-FILE-007"
                || (f.check_id() == "EXS-LOG-013" && mentions(*f, &["mailboxexportrequest"]))
        })
        .collect();
    add(
        "EXS-TODO-002",
        "Remove mailbox export requests and look for the PST files they wrote",
        "Mailbox exports were used to write a web shell (ProxyShell) or to take mail; finished requests stay listed and name the file they wrote.".into(),
        "Get-MailboxExportRequest | fl Mailbox,FilePath,Status; Get-MailboxExportRequest | Remove-MailboxExportRequest; quarantine any PST or script the FilePath names",
        exports,
    );
    let roles: Vec<&F> = findings
        .iter()
        .filter(|f| {
            f.check_id() == "EXS-LOG-013"
                && mentions(
                    *f,
                    &[
                        "managementroleassignment",
                        "rolegroupmember",
                        "mailbox import export",
                    ],
                )
        })
        .collect();
    add(
        "EXS-TODO-003",
        "Remove role assignments the attacker made",
        "A management role (Mailbox Import Export is the one attackers grant) was assigned through Exchange; the grant survives patching.".into(),
        "Get-ManagementRoleAssignment -Role \"Mailbox Import Export\" | fl Name,RoleAssigneeName,WhenCreated; Remove-ManagementRoleAssignment <name> for every grant nobody asked for; review Organization Management membership",
        roles,
    );
    let exploited: Vec<&F> = findings
        .iter()
        .filter(|f| f.is_compromise() && f.cves().next().is_some())
        .collect();
    let cves: BTreeSet<&str> = exploited.iter().flat_map(|f| f.cves()).collect();
    add(
        "EXS-TODO-004",
        "Install the Exchange update that fixes the vulnerabilities used",
        format!(
            "The findings show {} exploited on this server; until the server runs a build that fixes them, the attacker can come back the same way.",
            cves.into_iter().collect::<Vec<_>>().join(", ")
        ),
        "Install the latest Cumulative Update and the Security Update for it (https://learn.microsoft.com/exchange/new-features/build-numbers-and-release-dates), then run the Exchange Health Checker",
        exploited,
    );
    let lsass: Vec<&F> = findings
        .iter()
        .filter(|f| f.check_id() == "EXS-FILE-005" || f.check_id() == "EXS-LOG-015")
        .collect();
    add(
        "EXS-TODO-005",
        "Reset the credentials of everyone who logged on to the server, and krbtgt twice if a domain admin did",
        "LSASS memory was dumped: it holds the password hashes and Kerberos tickets of every account logged on to the server since it started, Exchange's own machine account included.".into(),
        "Reset the passwords of the accounts logged on to this server (Security log events 4624); if a domain administrator logged on, reset the krbtgt account twice, a replication interval apart, and reset the Exchange servers' machine accounts",
        lsass,
    );
    let shells: Vec<&F> = findings
        .iter()
        .filter(|f| f.is_compromise() && f.severity() >= Severity::Critical)
        .collect();
    add(
        "EXS-TODO-006",
        "Consider rebuilding the server",
        "The server ran attacker code with SYSTEM or web-server rights; what it did beyond the files and logs exsweep reads (scheduled tasks, services, accounts, implants in memory) cannot be ruled out from them.".into(),
        "Build a new Exchange server at the current update, move the mailboxes, and retire this one; at least, check scheduled tasks, services, local accounts and IIS modules by hand",
        shells,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsweep_model::{Check, Entities, Evidence, LogLine};
    use std::borrow::Cow;

    fn finding(
        check: &'static str,
        severity: Severity,
        detail: &str,
        cves: &[&'static str],
    ) -> Finding {
        let check = Check {
            id: check.into(),
            title: "t".into(),
            severity,
            class: Class::Compromise,
            category: "test".into(),
            references: Cow::Owned(cves.iter().map(|c| Reference::cve(c)).collect()),
            why: "".into(),
            action: "".into(),
        };
        Finding::new(
            check.hit(detail.into()),
            Evidence::LogLine(LogLine::default()),
            Entities::default(),
        )
    }

    #[test]
    fn each_item_comes_with_the_findings_that_call_for_it() {
        let findings = [
            finding(
                "EXS-LOG-005",
                Severity::Critical,
                "Set-OabVirtualDirectory ExternalUrl",
                &["CVE-2021-27065"],
            ),
            finding(
                "EXS-LOG-013",
                Severity::High,
                "New-MailboxExportRequest -FilePath \\\\x\\c$\\s.aspx",
                &[],
            ),
            finding(
                "EXS-LOG-015",
                Severity::Critical,
                "comsvcs.dll MiniDump",
                &[],
            ),
        ];
        let list = build(&findings);
        let ids: Vec<&str> = list.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "EXS-TODO-001",
                "EXS-TODO-002",
                "EXS-TODO-004",
                "EXS-TODO-005",
                "EXS-TODO-006"
            ]
        );
        assert_eq!(list[0].finding_ids, [findings[0].id.clone()]);
        assert!(list[2].why.contains("CVE-2021-27065"));
        assert!(
            build::<Finding>(&[]).is_empty(),
            "a clean scan asks for nothing"
        );
        // A plan builds it from the findings read back from JSONL: the same list.
        let read_back: Vec<FindingRef> = findings.iter().map(FindingRef::from_finding).collect();
        assert_eq!(build(&read_back), list);
    }
}
