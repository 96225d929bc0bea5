//! What moving files cannot fix, as a checklist with the findings that call for each
//! item: Exchange configuration the exploit changed, mailbox exports and role grants
//! made through it, the updates that close the holes used, the credentials an LSASS
//! dump exposed, and whether the server can still be trusted at all.

use crate::findings::FindingRef;
pub use exsweep_model::ChecklistItem;
use std::collections::BTreeSet;

fn mentions(finding: &FindingRef, words: &[&str]) -> bool {
    let detail = finding.detail.to_ascii_lowercase();
    words.iter().any(|w| detail.contains(w))
}

/// The checklist the findings call for, in a fixed order.
pub fn build(findings: &[FindingRef]) -> Vec<ChecklistItem> {
    let mut out = Vec::new();
    let mut add = |id: &str, title: &str, why: String, how: &str, called_by: Vec<&FindingRef>| {
        if !called_by.is_empty() {
            out.push(ChecklistItem {
                id: id.into(),
                title: title.into(),
                why,
                how: how.into(),
                finding_ids: called_by.iter().map(|f| f.id.clone()).collect(),
            });
        }
    };
    let vdir: Vec<&FindingRef> = findings
        .iter()
        .filter(|f| {
            f.check_id == "EXS-LOG-005"
                || (f.check_id == "EXS-LOG-013"
                    && mentions(f, &["virtualdirectory", "externalurl", "internalurl"]))
        })
        .collect();
    add(
        "EXS-TODO-001",
        "Reset the OAB (and any other) virtual directory's InternalUrl and ExternalUrl",
        "A script was put into a virtual directory's URL (CVE-2021-27065): the value stays in Active Directory and is written out again on the next reset.".into(),
        "Get-OabVirtualDirectory | fl Server,Name,InternalUrl,ExternalUrl; then Set-OabVirtualDirectory -Identity <id> -ExternalUrl <the real URL or $null> -InternalUrl <the real URL>; check the ECP, OWA and EWS virtual directories the same way",
        vdir,
    );
    let exports: Vec<&FindingRef> = findings
        .iter()
        .filter(|f| {
            f.check_id == "EXS-FILE-007"
                || (f.check_id == "EXS-LOG-013" && mentions(f, &["mailboxexportrequest"]))
        })
        .collect();
    add(
        "EXS-TODO-002",
        "Remove mailbox export requests and look for the PST files they wrote",
        "Mailbox exports were used to write a web shell (ProxyShell) or to take mail; finished requests stay listed and name the file they wrote.".into(),
        "Get-MailboxExportRequest | fl Mailbox,FilePath,Status; Get-MailboxExportRequest | Remove-MailboxExportRequest; quarantine any PST or script the FilePath names",
        exports,
    );
    let roles: Vec<&FindingRef> = findings
        .iter()
        .filter(|f| {
            f.check_id == "EXS-LOG-013"
                && mentions(
                    f,
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
    let exploited: Vec<&FindingRef> = findings
        .iter()
        .filter(|f| f.class == "compromise" && f.cves().next().is_some())
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
    let lsass: Vec<&FindingRef> = findings
        .iter()
        .filter(|f| f.check_id == "EXS-FILE-005" || f.check_id == "EXS-LOG-015")
        .collect();
    add(
        "EXS-TODO-005",
        "Reset the credentials of everyone who logged on to the server, and krbtgt twice if a domain admin did",
        "LSASS memory was dumped: it holds the password hashes and Kerberos tickets of every account logged on to the server since it started, Exchange's own machine account included.".into(),
        "Reset the passwords of the accounts logged on to this server (Security log events 4624); if a domain administrator logged on, reset the krbtgt account twice, a replication interval apart, and reset the Exchange servers' machine accounts",
        lsass,
    );
    let shells: Vec<&FindingRef> = findings
        .iter()
        .filter(|f| f.class == "compromise" && f.severity >= exsweep_model::Severity::Critical)
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

    fn finding(check: &str, severity: &str, detail: &str, cves: &[&str]) -> FindingRef {
        let refs: Vec<serde_json::Value> = cves
            .iter()
            .map(|c| serde_json::json!({"kind": "cve", "id": c}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "id": format!("f-{check}"), "check_id": check, "title": "t", "severity": severity,
            "class": "compromise", "detail": detail, "references": refs,
            "evidence": {"kind": "log_line"},
        }))
        .unwrap()
    }

    #[test]
    fn each_item_comes_with_the_findings_that_call_for_it() {
        let findings = [
            finding(
                "EXS-LOG-005",
                "critical",
                "Set-OabVirtualDirectory ExternalUrl",
                &["CVE-2021-27065"],
            ),
            finding(
                "EXS-LOG-013",
                "high",
                "New-MailboxExportRequest -FilePath \\\\x\\c$\\s.aspx",
                &[],
            ),
            finding("EXS-LOG-015", "critical", "comsvcs.dll MiniDump", &[]),
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
        assert_eq!(list[0].finding_ids, ["f-EXS-LOG-005"]);
        assert!(list[2].why.contains("CVE-2021-27065"));
        assert!(build(&[]).is_empty(), "a clean scan asks for nothing");
    }
}
