//! Log-source routing: which Sigma `logsource` each record or line exsweep reads
//! stands for, and how its fields are named for the rules. The routes are data
//! (`data/routing.yml`, built in; `--sigma-routing FILE` replaces it), so a
//! responder can read what feeds which rules and extend it.

use serde::Deserialize;
use std::collections::BTreeMap;

/// The routes exsweep ships.
pub const BUILT_IN: &str = include_str!("../data/routing.yml");

/// A Sigma logsource: the three fields rules select on.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct LogSource {
    pub product: Option<String>,
    pub service: Option<String>,
    pub category: Option<String>,
}

impl LogSource {
    /// Whether a rule asking for `rule` takes records of this logsource: every field
    /// the rule names is this one's (case-insensitively); fields it leaves out match.
    pub fn satisfies(&self, rule: &LogSource) -> bool {
        let fits = |want: &Option<String>, have: &Option<String>| match (want, have) {
            (None, _) => true,
            (Some(w), Some(h)) => w.eq_ignore_ascii_case(h),
            (Some(_), None) => false,
        };
        fits(&rule.product, &self.product)
            && fits(&rule.service, &self.service)
            && fits(&rule.category, &self.category)
    }

    /// The engine's form of it, for its logsource pruning.
    pub(crate) fn engine_form(&self) -> rsigma_parser::LogSource {
        rsigma_parser::LogSource {
            product: self.product.clone(),
            service: self.service.clone(),
            category: self.category.clone(),
            ..Default::default()
        }
    }

    pub fn describe(&self) -> String {
        [
            ("product", &self.product),
            ("service", &self.service),
            ("category", &self.category),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}")))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// One EVTX route.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvtxRoute {
    pub channel: String,
    pub provider: Option<String>,
    pub event_ids: Option<Vec<u64>>,
    /// Product and service (a channel's route).
    pub logsource: Option<LogSource>,
    /// The categories the records are (an event's route).
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    #[serde(default)]
    pub hex: Vec<String>,
    /// Fields whose names hold spaces (Defender's `Threat Name`) are also given
    /// under the name without them (`ThreatName`), as Sigma rules write them.
    #[serde(default)]
    pub despace: bool,
    /// The record's unnamed `Data` values joined with spaces, as one more field of
    /// this name: a keyword rule's `|all` keywords must meet in one value, and MSExchange
    /// Management logs a cmdlet and its parameters as two (`New-MailboxExportRequest`,
    /// `-Mailbox "x" -FilePath ...`), which together read as the command was typed.
    #[serde(default)]
    pub join_data: Option<String>,
}

/// One text-log route.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextRoute {
    /// exsweep's name for the source (`IIS`, `HttpProxy`, `ECP Server`).
    pub source: String,
    pub logsource: LogSource,
    /// Columns (lower case, as the header names them) given under Sigma's name too.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// Fields (after renaming) whose `+` stands for a space, as IIS writes them.
    #[serde(default)]
    pub decode_plus: Vec<String>,
    /// A column of `KEY=value` pairs (ECP's `EventData`, `S:URL=...;S:CMD=...`) whose
    /// keys become fields of their own (lower case, prefix dropped), before renaming.
    #[serde(default)]
    pub pairs: Option<Pairs>,
    /// A field holding a whole URL (path and query), split into `cs-uri-stem` and
    /// `cs-uri-query` after renaming.
    #[serde(default)]
    pub url: Option<String>,
}

/// How a column holds its `KEY=value` pairs.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pairs {
    pub column: String,
    /// What starts each key (`S:`); a pair ends where `;` and the next start meet, so
    /// a `;` inside a value (a script in a URL) stays in it.
    pub key_prefix: String,
}

/// The routing table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    #[serde(default)]
    pub evtx: Vec<EvtxRoute>,
    #[serde(default)]
    pub text: Vec<TextRoute>,
}

/// What the routes make of one EVTX record: the logsources to evaluate it as, and
/// the renames and hex fields that apply.
#[derive(Debug, Default, PartialEq)]
pub struct EvtxRouting<'r> {
    pub logsources: Vec<LogSource>,
    pub rename: Vec<(&'r str, &'r str)>,
    pub hex: Vec<&'r str>,
    pub despace: bool,
    pub join_data: Option<&'r str>,
}

impl Routing {
    pub fn parse(text: &str) -> Result<Routing, String> {
        yaml_serde::from_str(text).map_err(|e| format!("the Sigma routing file: {e}"))
    }

    /// The routing in `path`, else the built-in one (`--sigma-routing`).
    pub fn from_file_or_built_in(path: Option<&std::path::Path>) -> Result<Routing, String> {
        match path {
            Some(path) => Routing::parse(
                &std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
            ),
            None => Ok(Routing::built_in()),
        }
    }

    pub fn built_in() -> Routing {
        Routing::parse(BUILT_IN).expect("the built-in routing parses (a unit test holds it)")
    }

    /// The routes for a record of `channel` from `provider` with `event_id`.
    pub fn evtx(&self, channel: &str, provider: &str, event_id: u64) -> EvtxRouting<'_> {
        let mut base = LogSource::default();
        let mut categories: Vec<&str> = Vec::new();
        let mut out = EvtxRouting::default();
        let fits = |r: &EvtxRoute| {
            r.channel.eq_ignore_ascii_case(channel)
                && r.provider
                    .as_ref()
                    .is_none_or(|p| p.eq_ignore_ascii_case(provider))
                && r.event_ids
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&event_id))
        };
        let mut any = false;
        for route in self.evtx.iter().filter(|r| fits(r)) {
            any = true;
            if let Some(ls) = &route.logsource {
                base.product = base.product.or_else(|| ls.product.clone());
                base.service = base.service.or_else(|| ls.service.clone());
                if let Some(c) = &ls.category {
                    categories.push(c);
                }
            }
            categories.extend(route.categories.iter().map(String::as_str));
            out.rename
                .extend(route.rename.iter().map(|(a, b)| (a.as_str(), b.as_str())));
            out.hex.extend(route.hex.iter().map(String::as_str));
            out.despace |= route.despace;
            out.join_data = out.join_data.or(route.join_data.as_deref());
        }
        if !any {
            return out;
        }
        out.logsources = if categories.is_empty() {
            vec![base]
        } else {
            categories
                .iter()
                .map(|c| LogSource {
                    category: Some(c.to_string()),
                    ..base.clone()
                })
                .collect()
        };
        out
    }

    /// The route of a text log exsweep names `source`.
    pub fn text(&self, source: &str) -> Option<&TextRoute> {
        self.text
            .iter()
            .find(|r| r.source.eq_ignore_ascii_case(source))
    }

    /// Every logsource a route can give a record or line: a rule whose logsource none
    /// of them satisfies has no source in what exsweep reads.
    pub fn all_logsources(&self) -> Vec<LogSource> {
        let mut all: Vec<LogSource> = self.text.iter().map(|r| r.logsource.clone()).collect();
        for route in &self.evtx {
            let ids: Vec<u64> = route.event_ids.clone().unwrap_or_else(|| vec![u64::MAX]);
            for id in ids {
                let provider = route.provider.as_deref().unwrap_or("");
                all.extend(self.evtx(&route.channel, provider, id).logsources);
            }
        }
        all.sort();
        all.dedup();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(product: Option<&str>, service: Option<&str>, category: Option<&str>) -> LogSource {
        LogSource {
            product: product.map(Into::into),
            service: service.map(Into::into),
            category: category.map(Into::into),
        }
    }

    #[test]
    fn the_built_in_routes_give_sysmon_and_security_their_categories() {
        let routing = Routing::built_in();
        let sysmon = routing.evtx(
            "Microsoft-Windows-Sysmon/Operational",
            "Microsoft-Windows-Sysmon",
            13,
        );
        assert_eq!(
            sysmon.logsources,
            [
                ls(Some("windows"), Some("sysmon"), Some("registry_set")),
                ls(Some("windows"), Some("sysmon"), Some("registry_event")),
            ]
        );
        let audit = routing.evtx("Security", "Microsoft-Windows-Security-Auditing", 4688);
        assert_eq!(
            audit.logsources,
            [ls(
                Some("windows"),
                Some("security"),
                Some("process_creation")
            )]
        );
        assert!(audit.rename.contains(&("NewProcessName", "Image")));
        assert_eq!(audit.hex, ["ProcessId", "ParentProcessId"]);
        let logon = routing.evtx("security", "x", 4624);
        assert_eq!(
            logon.logsources,
            [ls(Some("windows"), Some("security"), None)]
        );
        assert!(routing.evtx("Nowhere", "x", 1).logsources.is_empty());
        let iis = routing.text("IIS").unwrap();
        assert_eq!(iis.logsource, ls(None, None, Some("webserver")));
        assert_eq!(iis.rename["cs(user-agent)"], "cs-user-agent");
    }

    #[test]
    fn a_rule_takes_what_names_everything_it_asks_for() {
        let event = ls(Some("windows"), Some("sysmon"), Some("process_creation"));
        assert!(event.satisfies(&ls(Some("windows"), None, Some("process_creation"))));
        assert!(event.satisfies(&ls(Some("Windows"), Some("sysmon"), None)));
        assert!(!event.satisfies(&ls(Some("linux"), None, Some("process_creation"))));
        let iis = ls(None, None, Some("webserver"));
        assert!(!iis.satisfies(&ls(Some("windows"), None, Some("webserver"))));
        let all = Routing::built_in().all_logsources();
        assert!(all.iter().any(|l| l.satisfies(&ls(
            Some("windows"),
            Some("msexchange-management"),
            None
        ))));
        assert!(!all
            .iter()
            .any(|l| l.satisfies(&ls(Some("linux"), None, None))));
    }

    #[test]
    fn a_routing_file_with_an_unknown_key_is_refused_by_name() {
        let err = Routing::parse("evtx:\n  - { channel: X, categry: [a] }\n").unwrap_err();
        assert!(err.contains("categry"), "{err}");
    }
}
