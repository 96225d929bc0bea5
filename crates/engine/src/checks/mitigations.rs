//! Microsoft's interim mitigations, read from IIS's configuration: the URL Rewrite
//! rules that the Exchange On-premises Mitigation Tool (EOMT, March 2021) and the
//! ProxyNotShell guidance (September 2022) add, in `applicationHost.config` or a site's
//! `web.config`. A rule counts when it is enabled, aborts the request, matches on the
//! input and pattern Microsoft published, and is not undone by a later `<clear/>` in
//! the same rule collection. A mitigation is not a fix: a CU upgrade removes the rules,
//! and OWASSRF (CVE-2022-41080) goes around the ProxyNotShell one.

use crate::iis_config::{abort_rules_of, AbortRule};
use crate::inventory::Inventory;
use exsweep_evidence::Evidence;

/// IIS configuration files are small; anything far larger is not one.
const MAX_CONFIG: u64 = 16 << 20;

/// Where each mitigation was found (`rule "EOMT Cookie" in C:\...\web.config`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mitigations {
    pub proxylogon: Option<String>,
    pub proxynotshell: Option<String>,
}

fn tests_for(rules: &[AbortRule], input: &str, words: &[&str]) -> Option<String> {
    rules.iter().find_map(|r| {
        r.tests
            .iter()
            .any(|(i, p)| i.contains(input) && words.iter().all(|w| p.contains(w)))
            .then(|| r.name.clone())
    })
}

/// The mitigations in force on the evidence's IIS configuration.
pub fn find(evidence: &Evidence, inventory: &Inventory) -> Mitigations {
    // applicationHost.config as the inventory read it, then each site's web.config.
    let mut configs = vec![(
        exsweep_evidence::known::APPLICATION_HOST.to_string(),
        inventory
            .iis
            .as_ref()
            .map(|c| c.abort_rules.clone())
            .unwrap_or_default(),
    )];
    for root in &inventory.web_roots {
        let file = format!(r"{root}\web.config");
        if let Some(Ok(bytes)) = evidence.read_path(&file, MAX_CONFIG) {
            configs.push((file, abort_rules_of(&String::from_utf8_lossy(&bytes))));
        }
    }
    let mut found = Mitigations::default();
    for (file, rules) in configs {
        let at = |name: String| format!("URL Rewrite rule \"{name}\" in {file}");
        // EOMT's two cookie rules: both are needed to stop the SSRF.
        let backend = tests_for(&rules, "http_cookie", &["x-anonresource-backend"]);
        let beresource = tests_for(&rules, "http_cookie", &["x-beresource"]);
        if let (Some(a), Some(b), None) = (&backend, &beresource, &found.proxylogon) {
            found.proxylogon = Some(if a == b {
                at(a.clone())
            } else {
                format!("{} and \"{b}\"", at(a.clone()))
            });
        }
        if found.proxynotshell.is_none() {
            found.proxynotshell =
                tests_for(&rules, "request_uri", &["autodiscover", "powershell"]).map(at);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_rules_are_recognised() {
        let rules = abort_rules_of(exsweep_testkit::iis::MITIGATION_RULES);
        assert_eq!(
            tests_for(&rules, "http_cookie", &["x-anonresource-backend"]).as_deref(),
            Some("EOMT Cookie")
        );
        assert_eq!(
            tests_for(&rules, "http_cookie", &["x-beresource"]).as_deref(),
            Some("EOMT Cookie")
        );
        assert_eq!(
            tests_for(&rules, "request_uri", &["autodiscover", "powershell"]).as_deref(),
            Some("PowerShell - inbound")
        );
        assert_eq!(tests_for(&rules, "request_uri", &["mapi"]), None);
    }
}
