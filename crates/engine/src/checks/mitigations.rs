//! Microsoft's interim mitigations, read from IIS's configuration: the URL Rewrite
//! rules that the Exchange On-premises Mitigation Tool (EOMT, March 2021) and the
//! ProxyNotShell guidance (September 2022) add, in `applicationHost.config` or a site's
//! `web.config`. A rule counts when it is enabled, aborts the request, matches on the
//! input and pattern Microsoft published, and is not undone by a later `<clear/>` in
//! the same rule collection. A mitigation is not a fix: a CU upgrade removes the rules,
//! and OWASSRF (CVE-2022-41080) goes around the ProxyNotShell one.

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

/// A rewrite rule as it matters here.
struct Rule {
    name: String,
    /// (input, pattern) of the match and its conditions, lower case.
    tests: Vec<(String, String)>,
}

/// The effective rules of one configuration file: enabled, aborting the request, in
/// collections read in order so that a `<clear/>` drops the rules before it.
fn effective_rules(xml: &str) -> Vec<Rule> {
    let Ok(doc) = roxmltree::Document::parse(xml) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for collection in doc
        .descendants()
        .filter(|n| matches!(n.tag_name().name(), "rules" | "globalRules"))
        .filter(|n| n.ancestors().any(|a| a.tag_name().name() == "rewrite"))
    {
        let mut rules = Vec::new();
        for child in collection.children().filter(|c| c.is_element()) {
            match child.tag_name().name() {
                "clear" => rules.clear(),
                "rule" => rules.push(child),
                _ => {}
            }
        }
        for rule in rules {
            let enabled = rule
                .attribute("enabled")
                .is_none_or(|v| !v.eq_ignore_ascii_case("false"));
            let aborts = rule.children().any(|c| {
                c.tag_name().name() == "action"
                    && c.attribute("type")
                        .is_some_and(|t| t.eq_ignore_ascii_case("AbortRequest"))
            });
            if !enabled || !aborts {
                continue;
            }
            let tests = rule
                .descendants()
                .filter(|n| matches!(n.tag_name().name(), "add" | "match"))
                .filter_map(|n| {
                    let pattern = n.attribute("pattern").or(n.attribute("url"))?;
                    let input = n.attribute("input").unwrap_or("URL");
                    Some((input.to_ascii_lowercase(), pattern.to_ascii_lowercase()))
                })
                .collect();
            out.push(Rule {
                name: rule.attribute("name").unwrap_or("(unnamed)").to_string(),
                tests,
            });
        }
    }
    out
}

fn tests_for(rules: &[Rule], input: &str, words: &[&str]) -> Option<String> {
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
        inventory.iis_config.clone(),
    )];
    for root in &inventory.web_roots {
        let file = format!(r"{root}\web.config");
        let text = evidence
            .read_path(&file, MAX_CONFIG)
            .and_then(Result::ok)
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        configs.push((file, text));
    }
    let mut found = Mitigations::default();
    for (file, text) in configs {
        let Some(text) = text else {
            continue;
        };
        let rules = effective_rules(&text);
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

    const EOMT: &str = exsweep_testkit::iis::MITIGATION_RULES;

    #[test]
    fn the_published_rules_are_recognised() {
        let rules = effective_rules(EOMT);
        assert_eq!(rules.len(), 2);
        assert_eq!(
            tests_for(&rules, "http_cookie", &["x-anonresource-backend"]).as_deref(),
            Some("EOMT Cookie")
        );
        assert_eq!(
            tests_for(&rules, "request_uri", &["autodiscover", "powershell"]).as_deref(),
            Some("PowerShell - inbound")
        );
    }

    #[test]
    fn disabled_rules_rules_that_do_not_abort_and_cleared_rules_do_not_count() {
        let disabled = EOMT.replace(
            r#"<rule name="EOMT Cookie""#,
            r#"<rule name="EOMT Cookie" enabled="false""#,
        );
        assert!(tests_for(
            &effective_rules(&disabled),
            "http_cookie",
            &["x-beresource"]
        )
        .is_none());
        let logging = EOMT.replace("AbortRequest", "None");
        assert!(effective_rules(&logging).is_empty());
        let cleared = EOMT.replace("</rules>", "<clear /></rules>");
        assert!(effective_rules(&cleared).is_empty());
        assert!(
            effective_rules("<configuration><rewrite>").is_empty(),
            "broken XML is no rule"
        );
    }
}
