//! The events the rules see: an EVTX record as one flat JSON object (its `System`
//! fields, `EventID`, `Channel`, `Provider_Name`, `Computer`, `EventRecordID`, and its
//! `EventData` / `UserData` values by name, unnamed ones kept in order under `Data`),
//! with the route's renames and hex fields applied, evaluated once per logsource the
//! routes give it.

use crate::correlate::CorrelationInput;
use crate::load::RuleInfo;
use crate::routing::{EvtxRouting, TextRoute};
use crate::LinePasses;
use crate::SigmaRules;
use serde_json::{Map, Value};

/// One EVTX record, as the caller read it.
pub struct EvtxRecord<'a> {
    pub channel: &'a str,
    pub provider: &'a str,
    pub event_id: u64,
    pub record_id: u64,
    pub computer: &'a str,
    /// The rest of `System`, flattened (`Version`, `Level`, `Task`, `ProcessID` ...).
    pub system: &'a [(String, String)],
    /// `EventData` / `UserData` values with their names (empty for unnamed `Data`).
    pub data: &'a [(String, String)],
}

/// What the rules made of one record or line: the hits to report, and what the
/// correlations keep of it.
#[derive(Debug, Default)]
pub struct Evaluation<'r> {
    pub hits: Vec<SigmaHit<'r>>,
    /// Set when a rule a correlation counts matched it: keep it (with its time) for
    /// [`SigmaRules::correlate`].
    pub correlation: Option<CorrelationInput>,
}

/// A rule that matched, and the fields that made it.
#[derive(Debug)]
pub struct SigmaHit<'r> {
    pub rule: &'r RuleInfo,
    /// `(field, value)` of each match (`keyword` for a keyword rule's).
    pub matched: Vec<(String, String)>,
}

/// `0x1f4` → `500`; anything else as it is.
fn decimal(value: &str) -> String {
    value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .map_or_else(|| value.to_string(), |n| n.to_string())
}

fn put(map: &mut Map<String, Value>, key: &str, value: Value) {
    match map.get_mut(key) {
        // A name given twice keeps both, in order.
        Some(Value::Array(items)) => items.push(value),
        Some(first) => *first = Value::Array(vec![first.take(), value]),
        None => {
            map.insert(key.to_string(), value);
        }
    }
}

impl EvtxRecord<'_> {
    fn event(&self, routing: &EvtxRouting) -> Value {
        let mut map = Map::new();
        for (k, v) in self.system {
            map.insert(k.clone(), Value::String(v.clone()));
        }
        map.insert("EventID".into(), self.event_id.into());
        map.insert("EventRecordID".into(), self.record_id.into());
        map.insert("Channel".into(), self.channel.into());
        map.insert("Provider_Name".into(), self.provider.into());
        map.insert("Computer".into(), self.computer.into());
        let mut unnamed = Vec::new();
        for (k, v) in self.data {
            if k.is_empty() {
                unnamed.push(Value::String(v.clone()));
            } else {
                put(&mut map, k, Value::String(v.clone()));
            }
        }
        if let (Some(field), false) = (routing.join_data, unnamed.is_empty()) {
            let joined: Vec<&str> = unnamed.iter().filter_map(Value::as_str).collect();
            map.insert(field.into(), joined.join(" ").into());
        }
        if !unnamed.is_empty() {
            map.insert("Data".into(), Value::Array(unnamed));
        }
        if routing.despace {
            let spaced: Vec<(String, Value)> = map
                .iter()
                .filter(|(k, _)| k.contains(' '))
                .map(|(k, v)| (k.replace(' ', ""), v.clone()))
                .collect();
            for (k, v) in spaced {
                map.entry(k).or_insert(v);
            }
        }
        // Renamed after all are in, from the originals, so `A→B, B→C` does not chain.
        let renamed: Vec<(String, Value)> = routing
            .rename
            .iter()
            .filter_map(|(from, to)| map.get(*from).map(|v| (to.to_string(), v.clone())))
            .collect();
        for (to, value) in renamed {
            map.insert(to, value);
        }
        for field in &routing.hex {
            if let Some(Value::String(s)) = map.get_mut(*field) {
                *s = decimal(s);
            }
        }
        Value::Object(map)
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The field that holds a text-log line whole, for keyword rules: no rule names it.
const LINE_FIELD: &str = "exsweep-line";

/// `S:TIME=87;S:URL=/ecp/x?a=1;b;S:CMD=...` as `[("time", "87"), ("url", "/ecp/x?a=1;b"),
/// ...]`: a pair ends only where `;` and the next key's prefix meet.
fn split_pairs<'v>(held: &'v str, prefix: &str) -> Vec<(String, &'v str)> {
    let Some(rest) = held.strip_prefix(prefix) else {
        return Vec::new();
    };
    let boundary = format!(";{prefix}");
    rest.split(boundary.as_str())
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.to_ascii_lowercase(), value))
        .collect()
}

/// A text-log line as the rules see it: its columns by the header's names, the
/// route's pairs, renames and URL split, `+` decoded where the route says, and the line
/// whole for keyword rules.
fn text_event(route: &TextRoute, columns: &[(&str, &str)], line: &str) -> Map<String, Value> {
    let mut map: Map<String, Value> = columns
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    if let Some(pairs) = &route.pairs {
        let held = columns.iter().find(|(k, _)| *k == pairs.column);
        for (key, value) in held.map_or(Vec::new(), |(_, v)| split_pairs(v, &pairs.key_prefix)) {
            map.entry(key).or_insert(Value::String(value.to_string()));
        }
    }
    for (from, to) in &route.rename {
        if let Some(v) = map.get(from).cloned() {
            map.insert(to.clone(), v);
        }
    }
    for field in &route.decode_plus {
        if let Some(Value::String(s)) = map.get_mut(field) {
            *s = s.replace('+', " ");
        }
    }
    if let Some(Value::String(url)) = route.url.as_ref().and_then(|f| map.get(f)) {
        let (stem, query) = url.split_once('?').unwrap_or((url, "-"));
        let (stem, query) = (stem.to_string(), query.to_string());
        map.insert("cs-uri-stem".into(), Value::String(stem));
        map.insert("cs-uri-query".into(), Value::String(query));
    }
    map.insert(LINE_FIELD.into(), line.into());
    map
}

/// `event` with `cs-uri-query` holding the stem and the query together, as rules that
/// do not name `cs-uri-stem` expect a web server's URI.
fn with_whole_uri(mut event: Map<String, Value>) -> Map<String, Value> {
    let part = |m: &Map<String, Value>, k: &str| {
        m.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty() && *v != "-")
            .map(str::to_string)
    };
    if let Some(stem) = part(&event, "cs-uri-stem") {
        let uri = match part(&event, "cs-uri-query") {
            Some(query) => format!("{stem}?{query}"),
            None => stem,
        };
        event.insert("cs-uri-query".into(), Value::String(uri));
    }
    event
}

impl SigmaRules {
    /// The rules that match `line` of the text log exsweep names `source`, given its
    /// columns by their (lower-case) header names; each rule once. Keyword rules
    /// search the whole line too, as Sigma's keywords search a log's message. Only
    /// the events `passes` asks for are built ([`SigmaRules::line_passes`] says which
    /// a rule may match; [`LinePasses::BOTH`] evaluates all).
    pub fn evaluate_text(
        &self,
        source: &str,
        line: &str,
        columns: &[(&str, &str)],
        passes: LinePasses,
    ) -> Evaluation<'_> {
        let Some(route) = self.routing.text(source) else {
            return Evaluation::default();
        };
        let ls = route.logsource.engine_form();
        let mut out = Evaluation::default();
        // Rules that do not name the stem see the whole URI in the query; those that
        // do see the two as logged. Each event is built only if asked for.
        let stem_pass = passes.as_logged && !self.uses_stem.is_empty();
        let events = match (passes.whole_uri, stem_pass) {
            (false, false) => return Evaluation::default(),
            (true, false) => [Some(with_whole_uri(text_event(route, columns, line))), None],
            (false, true) => [None, Some(text_event(route, columns, line))],
            (true, true) => {
                let as_logged = text_event(route, columns, line);
                [Some(with_whole_uri(as_logged.clone())), Some(as_logged)]
            }
        };
        for (event, whole_uri) in events.into_iter().zip([true, false]) {
            let Some(event) = event.map(Value::Object) else {
                continue;
            };
            let results = self
                .engine
                .evaluate_with_logsource(&rsigma_eval::JsonEvent::borrow(&event), &ls);
            self.collect(results, &mut out, &event, |key| {
                self.uses_stem.contains(key) != whole_uri
            });
        }
        out
    }

    /// Turns the engine's results for `event` into hits, once per rule, keeping the
    /// rules `keep` takes by key; those a correlation counts go to its input.
    fn collect<'r>(
        &'r self,
        results: Vec<rsigma_eval::EvaluationResult>,
        out: &mut Evaluation<'r>,
        event: &Value,
        keep: impl Fn(&str) -> bool,
    ) {
        let mut matched = Vec::new();
        for result in results {
            let key = result
                .header
                .rule_id
                .clone()
                .unwrap_or_else(|| result.header.rule_title.clone());
            if !keep(&key) {
                continue;
            }
            let Some(rule) = self.rules.get(&key) else {
                continue;
            };
            matched.push(key.clone());
            if self.correlations.silent.contains(&key) {
                continue; // counted by a correlation, not reported alone
            }
            if out.hits.iter().any(|h| std::ptr::eq(h.rule, rule)) {
                continue; // a rule that fits two of the record's logsources
            }
            let mut fields: Vec<(String, String)> = result
                .as_detection()
                .map(|d| {
                    d.matched_fields
                        .iter()
                        .map(|m| (m.field.clone(), text(&m.value)))
                        .collect()
                })
                .unwrap_or_default();
            // The engine lists them in the order of a hash map's selections: sorted,
            // the same record gives the same finding in every run.
            fields.sort();
            fields.dedup();
            out.hits.push(SigmaHit {
                rule,
                matched: fields,
            });
        }
        if self.correlations.is_empty() {
            return;
        }
        let input = self
            .correlations
            .input(matched.iter().map(String::as_str), |field| {
                event.get(field).map(text)
            });
        match (&mut out.correlation, input) {
            (Some(kept), Some(more)) => kept.merge(more),
            (kept, input) => *kept = kept.take().or(input),
        }
    }

    /// The rules that match `record`, each once.
    pub fn evaluate_evtx(&self, record: &EvtxRecord) -> Evaluation<'_> {
        let routing = self
            .routing
            .evtx(record.channel, record.provider, record.event_id);
        let mut out = Evaluation::default();
        if routing.logsources.is_empty() || self.report.loaded == 0 {
            return out;
        }
        let event = record.event(&routing);
        for ls in &routing.logsources {
            let ls = ls.engine_form();
            let results = self
                .engine
                .evaluate_with_logsource(&rsigma_eval::JsonEvent::borrow(&event), &ls);
            self.collect(results, &mut out, &event, |_| true);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iis_columns_get_sigma_names_and_the_whole_uri_goes_to_rules_without_the_stem() {
        let routing = crate::Routing::built_in();
        let route = routing.text("IIS").unwrap();
        let columns = [
            ("cs-uri-stem", "/ecp/y.js"),
            ("cs-uri-query", "a=1"),
            ("cs(user-agent)", "Mozilla/5.0+(Windows)"),
        ];
        let as_logged = text_event(route, &columns, "the line");
        assert_eq!(as_logged["cs-uri-query"], "a=1");
        assert_eq!(as_logged[LINE_FIELD], "the line");
        let whole = with_whole_uri(as_logged);
        assert_eq!(whole["cs-uri-query"], "/ecp/y.js?a=1");
        assert_eq!(whole["cs-user-agent"], "Mozilla/5.0 (Windows)");
        let no_query = with_whole_uri(text_event(
            route,
            &[("cs-uri-stem", "/owa/"), ("cs-uri-query", "-")],
            "",
        ));
        assert_eq!(no_query["cs-uri-query"], "/owa/");
    }

    #[test]
    fn ecp_server_pairs_become_fields_and_its_url_a_stem_and_query() {
        let routing = crate::Routing::built_in();
        let route = routing.text("ECP Server").unwrap();
        let data = "S:TIME=87;S:USR=corp/Users/eve;S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/<script>a();b()</script>'';S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory&msExchEcpCanary=x";
        let columns = [
            ("timestamp", "2021-03-03T01:02:03.000Z"),
            ("servername", "EXCH01"),
            ("eventdata", data),
        ];
        let event = text_event(route, &columns, "");
        assert_eq!(
            event["cmd"],
            "Set-OabVirtualDirectory.ExternalUrl=''http://f/<script>a();b()</script>''"
        );
        assert_eq!(event["cs-username"], "corp/Users/eve");
        assert_eq!(event["cs-uri-stem"], "/ecp/DDI/DDIService.svc/SetObject");
        assert_eq!(
            event["cs-uri-query"],
            "schema=OABVirtualDirectory&msExchEcpCanary=x"
        );
        let whole = with_whole_uri(event);
        assert_eq!(
            whole["cs-uri-query"],
            "/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory&msExchEcpCanary=x"
        );
        assert!(split_pairs("no pairs here", "S:").is_empty());
    }

    #[test]
    fn keyword_rules_search_within_values_and_across_a_text_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("k.yml"),
            r#"
title: Reset over POST
id: 3c3c0000-0000-4000-8000-000000000001
logsource: {category: webserver}
detection:
    keywords: {'|all': ['POST', 200, 'schema=Reset']}
    condition: keywords
---
title: Cmdlet and parameter
id: 3c3c0000-0000-4000-8000-000000000002
logsource: {product: windows, service: msexchange-management}
detection:
    keywords: {'|all': ['Set-Mailbox', ' -ForwardingSmtpAddress ']}
    condition: keywords
"#,
        )
        .unwrap();
        let rules = SigmaRules::load(&[dir.path().to_path_buf()], crate::Routing::built_in());
        assert_eq!(rules.report.loaded, 2, "{:?}", rules.report.skipped);
        let line = "2021-03-03 14:52:48 POST /ecp/y.js schema=ResetOABVirtualDirectory 200";
        let columns = [
            ("cs-method", "POST"),
            ("cs-uri-stem", "/ecp/y.js"),
            ("sc-status", "200"),
        ];
        let titles = |e: Evaluation| -> Vec<String> {
            e.hits.iter().map(|h| h.rule.title.clone()).collect()
        };
        assert_eq!(
            titles(rules.evaluate_text("IIS", line, &columns, LinePasses::BOTH)),
            ["Reset over POST"]
        );
        assert!(
            titles(rules.evaluate_text("IIS", "GET /owa/ 200", &columns, LinePasses::BOTH))
                .is_empty()
        );
        let data = [
            (String::new(), "Set-Mailbox".to_string()),
            (
                String::new(),
                r#"-Identity "a" -ForwardingSmtpAddress "smtp:x@y""#.to_string(),
            ),
        ];
        let record = EvtxRecord {
            channel: "MSExchange Management",
            provider: "MSExchange CmdletLogs",
            event_id: 1,
            record_id: 1,
            computer: "EXCH01",
            system: &[],
            data: &data,
        };
        assert_eq!(
            titles(rules.evaluate_evtx(&record)),
            ["Cmdlet and parameter"]
        );
    }

    #[test]
    fn renames_keep_the_original_and_hex_turns_decimal() {
        let data = vec![
            (
                "NewProcessName".to_string(),
                r"C:\Windows\System32\cmd.exe".to_string(),
            ),
            ("NewProcessId".to_string(), "0x1f4".to_string()),
            ("ProcessId".to_string(), "0x10".to_string()),
            ("Threat Name".to_string(), "EICAR".to_string()),
            (String::new(), "Set-Mailbox".to_string()),
            (String::new(), "-Identity x".to_string()),
        ];
        let record = EvtxRecord {
            channel: "Security",
            provider: "Microsoft-Windows-Security-Auditing",
            event_id: 4688,
            record_id: 7,
            computer: "EXCH01",
            system: &[],
            data: &data,
        };
        let event = record.event(&EvtxRouting {
            logsources: Vec::new(),
            rename: vec![
                ("NewProcessName", "Image"),
                ("ProcessId", "ParentProcessId"),
                ("NewProcessId", "ProcessId"),
            ],
            hex: vec!["ProcessId", "ParentProcessId"],
            despace: true,
            join_data: Some("DataText"),
        });
        assert_eq!(event["Image"], event["NewProcessName"]);
        assert_eq!(event["ProcessId"], "500");
        assert_eq!(event["ParentProcessId"], "16");
        assert_eq!(event["EventID"], 4688);
        assert_eq!(event["ThreatName"], "EICAR");
        assert_eq!(
            event["Data"],
            serde_json::json!(["Set-Mailbox", "-Identity x"])
        );
        assert_eq!(event["DataText"], "Set-Mailbox -Identity x");
    }
}
