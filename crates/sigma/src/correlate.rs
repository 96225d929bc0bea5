//! Correlation rules (`event_count`, `value_count`, `temporal`, `temporal_ordered`
//! and the rest of the spec's types) over one scan's events. The detection rules run
//! on each record as it is read, in parallel and in no time order; a record that a
//! correlation's rule matched leaves a small [`CorrelationInput`] (the fields the
//! correlations group and count by, and which of their rules matched). After the
//! scan, [`SigmaRules::correlate`] feeds the inputs to rsigma's correlation engine
//! oldest first, so windows see events in the order they happened.

use crate::load::{RuleInfo, Skipped, SkippedKind};
use crate::SigmaRules;
use rsigma_eval::{
    CorrelationAction, CorrelationConfig, CorrelationEngine, CorrelationEventMode, EvaluationResult,
};
use rsigma_parser::{CorrelationCondition, CorrelationRule, SigmaRule};
use std::collections::{HashMap, HashSet};

/// What a record gives the correlations: the values of the fields they group or
/// count by, and the detection rules of theirs that matched it.
#[derive(Clone, Debug, Default)]
pub struct CorrelationInput {
    pub(crate) fields: Vec<(String, String)>,
    /// Indices into [`Correlations::feeders`].
    pub(crate) rules: Vec<u32>,
}

impl CorrelationInput {
    /// Adds what a second pass over the same line found (a text line is evaluated
    /// twice when some rules name `cs-uri-stem`).
    pub(crate) fn merge(&mut self, more: CorrelationInput) {
        for rule in more.rules {
            if !self.rules.contains(&rule) {
                self.rules.push(rule);
            }
        }
        for field in more.fields {
            if !self.fields.iter().any(|(k, _)| *k == field.0) {
                self.fields.push(field);
            }
        }
    }
}

/// A correlation that fired: the first firing of each (rule, group), with how often
/// it fired and its largest aggregate.
#[derive(Debug)]
pub struct CorrelationHit<'r> {
    pub rule: &'r RuleInfo,
    /// `event_count`, `value_count`, `temporal`, `temporal_ordered` ...
    pub kind: String,
    /// The group-by fields and their values.
    pub group: Vec<(String, String)>,
    /// The count (or other aggregate) that met the condition, at its largest.
    pub value: f64,
    pub timespan_secs: u64,
    /// How many times the condition was met for this group.
    pub firings: usize,
    /// The input that first met it, as an index into the slice given.
    pub fired_by: usize,
    /// The inputs in its window then, oldest first (at most ten).
    pub events: Vec<usize>,
}

/// The correlation rules loaded, and what the scan must keep for them.
#[derive(Default)]
pub(crate) struct Correlations {
    rules: Vec<CorrelationRule>,
    /// The detection rules they reference, as parsed (the correlation engine is built
    /// afresh for each scan from these).
    referenced: Vec<SigmaRule>,
    /// The engine key (id, else title) of each referenced rule, by index.
    feeders: Vec<String>,
    feeder_index: HashMap<String, u32>,
    /// Keys of the rules referenced only by correlations with `generate: false`:
    /// the spec says their own matches are not reported.
    pub(crate) silent: HashSet<String>,
    /// The fields a correlation groups or counts by, in any rule's events.
    fields: HashSet<String>,
    /// Each correlation's metadata, by its key.
    pub(crate) info: HashMap<String, RuleInfo>,
}

fn rule_key(id: Option<&String>, title: &str) -> String {
    id.cloned().unwrap_or_else(|| title.to_string())
}

impl Correlations {
    /// Keeps the correlations whose references resolve to loaded rules (or to each
    /// other), recording the others in `skipped`. `loaded` are the detection rules
    /// that compiled, with the file of each correlation alongside it.
    pub(crate) fn build(
        loaded: &[&SigmaRule],
        mut correlations: Vec<(String, CorrelationRule)>,
        skipped: &mut Vec<Skipped>,
    ) -> Correlations {
        for (_, corr) in &mut correlations {
            all_rules_by_default(corr);
        }
        let mut by_ref: HashMap<&str, &SigmaRule> = HashMap::new();
        for rule in loaded {
            if let Some(id) = &rule.id {
                by_ref.insert(id, rule);
            }
            if let Some(name) = &rule.name {
                by_ref.insert(name, rule);
            }
        }
        let correlation_refs: HashSet<&str> = correlations
            .iter()
            .flat_map(|(_, c)| [c.id.as_deref(), c.name.as_deref()])
            .flatten()
            .collect();
        let mut out = Correlations::default();
        let mut loud = HashSet::new();
        for (file, corr) in &correlations {
            let missing: Vec<&str> = corr
                .rules
                .iter()
                .map(String::as_str)
                .filter(|r| !by_ref.contains_key(r) && !correlation_refs.contains(r))
                .collect();
            let anonymous = corr
                .rules
                .iter()
                .filter_map(|r| by_ref.get(r.as_str()))
                .any(|rule| rule.id.is_none());
            let reason = if !missing.is_empty() {
                Some(format!(
                    "references rules not loaded: {}",
                    missing.join(", ")
                ))
            } else if anonymous {
                // The engine knows a detection by its rule's id.
                Some("references a rule without an id".to_string())
            } else {
                CorrelationEngine::new(CorrelationConfig::default())
                    .add_correlation(corr)
                    .err()
                    .map(|e| e.to_string())
            };
            if let Some(reason) = reason {
                skipped.push(Skipped {
                    file: file.clone(),
                    rule: Some(corr.title.clone()),
                    kind: SkippedKind::Unsupported,
                    reason,
                });
                continue;
            }
            for reference in &corr.rules {
                let Some(rule) = by_ref.get(reference.as_str()) else {
                    continue; // another correlation: chained by the engine
                };
                let key = rule_key(rule.id.as_ref(), &rule.title);
                if corr.generate {
                    loud.insert(key.clone());
                } else {
                    out.silent.insert(key.clone());
                }
                if !out.feeder_index.contains_key(&key) {
                    out.feeder_index
                        .insert(key.clone(), out.feeders.len() as u32);
                    out.feeders.push(key);
                    out.referenced.push((*rule).clone());
                }
            }
            out.fields.extend(corr.group_by.iter().cloned());
            if let CorrelationCondition::Threshold {
                field: Some(fields),
                ..
            } = &corr.condition
            {
                out.fields.extend(fields.iter().cloned());
            }
            for alias in &corr.aliases {
                out.fields.extend(alias.mapping.values().cloned());
            }
            out.info.insert(
                rule_key(corr.id.as_ref(), &corr.title),
                RuleInfo {
                    title: corr.title.clone(),
                    id: corr.id.clone(),
                    level: crate::load::level_text(corr.level.as_ref()),
                    author: corr.author.clone(),
                    description: corr.description.clone(),
                    references: corr.references.clone(),
                    tags: corr.tags.clone(),
                    file: file.clone(),
                    logsource: Default::default(),
                },
            );
            out.rules.push(corr.clone());
        }
        // A rule another correlation reports on its own is reported.
        out.silent.retain(|k| !loud.contains(k));
        out
    }

    pub(crate) fn len(&self) -> usize {
        self.rules.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The input a record leaves when rules of these correlations matched it: the
    /// event's values of the correlation fields, and which rules. `None` when no
    /// matched rule feeds a correlation.
    pub(crate) fn input<'k>(
        &self,
        matched: impl Iterator<Item = &'k str>,
        field: impl Fn(&str) -> Option<String>,
    ) -> Option<CorrelationInput> {
        let rules: Vec<u32> = matched
            .filter_map(|k| self.feeder_index.get(k).copied())
            .collect();
        if rules.is_empty() {
            return None;
        }
        let fields = self
            .fields
            .iter()
            .filter_map(|f| field(f).map(|v| (f.clone(), v)))
            .collect();
        Some(CorrelationInput { fields, rules })
    }

    fn engine(&self) -> CorrelationEngine {
        let mut engine = CorrelationEngine::new(CorrelationConfig {
            // Refs carry the input's index back (as its `id`), to name the records.
            correlation_event_mode: CorrelationEventMode::Refs,
            // A group's window starts again once it fires: a brute force of a
            // thousand attempts over a threshold of ten fires a hundred times, not
            // nine hundred and ninety.
            action_on_match: CorrelationAction::Reset,
            ..CorrelationConfig::default()
        });
        for rule in &self.referenced {
            // Checked when the rule joined the detection engine.
            let _ = engine.add_rule(rule);
        }
        for corr in &self.rules {
            let _ = engine.add_correlation(corr);
        }
        engine
    }
}

/// A `temporal` rule without a condition means all its rules within the time span
/// (the spec: "all events defined by the rules referred"; pySigma's default). The
/// parser gives it `gte: 1` instead, which fires on any one of them; an explicit
/// `gte: 1` would mean the same non-correlation, so both become the rule count.
fn all_rules_by_default(corr: &mut CorrelationRule) {
    if corr.correlation_type != rsigma_parser::CorrelationType::Temporal {
        return;
    }
    if let CorrelationCondition::Threshold {
        predicates,
        field: None,
        ..
    } = &mut corr.condition
    {
        if predicates.as_slice() == [(rsigma_parser::ConditionOperator::Gte, 1)] {
            predicates[0].1 = corr.rules.len() as u64;
        }
    }
}

/// A detection as the correlation engine wants it: only its rule's id counts.
fn detection(rule_id: &str) -> EvaluationResult {
    EvaluationResult {
        header: rsigma_eval::RuleHeader {
            rule_title: String::new(),
            rule_id: Some(rule_id.to_string()),
            level: None,
            tags: Vec::new(),
            custom_attributes: Default::default(),
            enrichments: None,
        },
        body: rsigma_eval::ResultBody::Detection(rsigma_eval::DetectionBody {
            matched_selections: Vec::new(),
            matched_fields: Vec::new(),
            event: None,
        }),
    }
}

impl SigmaRules {
    /// How many correlation rules are loaded.
    pub fn correlation_count(&self) -> usize {
        self.correlations.len()
    }

    /// Runs the correlation rules over `inputs` (each with its time in Unix
    /// seconds), oldest first; indices in the hits are into `inputs`.
    pub fn correlate(&self, inputs: &[(i64, &CorrelationInput)]) -> Vec<CorrelationHit<'_>> {
        if inputs.is_empty() || self.correlations.is_empty() {
            return Vec::new();
        }
        let correlations = &self.correlations;
        let mut engine = correlations.engine();
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.sort_by_key(|&i| inputs[i].0);
        let mut hits: Vec<CorrelationHit> = Vec::new();
        let mut seen: HashMap<(String, Vec<(String, String)>), usize> = HashMap::new();
        for i in order {
            let (time, input) = inputs[i];
            let mut event: serde_json::Map<String, serde_json::Value> = input
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into()))
                .collect();
            event.insert("id".into(), i.to_string().into());
            let event = serde_json::Value::Object(event);
            let detections = input
                .rules
                .iter()
                .filter_map(|&r| correlations.feeders.get(r as usize))
                .map(|key| detection(key))
                .collect();
            let results = engine.process_with_detections(
                &rsigma_eval::JsonEvent::borrow(&event),
                detections,
                time,
            );
            for result in results {
                let Some(body) = result.as_correlation() else {
                    continue;
                };
                let key = rule_key(result.header.rule_id.as_ref(), &result.header.rule_title);
                let Some(rule) = correlations.info.get(&key) else {
                    continue;
                };
                match seen.get(&(key.clone(), body.group_key.clone())) {
                    Some(&at) => {
                        hits[at].firings += 1;
                        hits[at].value = hits[at].value.max(body.aggregated_value);
                    }
                    None => {
                        seen.insert((key, body.group_key.clone()), hits.len());
                        let events = body
                            .event_refs
                            .iter()
                            .flatten()
                            .filter_map(|r| r.id.as_deref()?.parse().ok())
                            .collect();
                        hits.push(CorrelationHit {
                            rule,
                            kind: body.correlation_type.as_str().to_string(),
                            group: body.group_key.clone(),
                            value: body.aggregated_value,
                            timespan_secs: body.timespan_secs,
                            firings: 1,
                            fired_by: i,
                            events,
                        });
                    }
                }
            }
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Routing;

    const RULES: &str = r#"
title: Step one
id: 7f1c0000-0000-4000-8000-000000000001
name: one
logsource: {product: windows, service: security}
detection: {sel: {EventID: 1}, condition: sel}
---
title: Step two
id: 7f1c0000-0000-4000-8000-000000000002
name: two
logsource: {product: windows, service: security}
detection: {sel: {EventID: 2}, condition: sel}
---
title: One then two
id: 7f1c0000-0000-4000-8000-000000000010
correlation: {type: temporal_ordered, rules: [one, two], group-by: [Host], timespan: 1m}
level: high
---
title: One and two
id: 7f1c0000-0000-4000-8000-000000000011
correlation: {type: temporal, rules: [one, two], group-by: [Host], timespan: 1m}
"#;

    fn rules() -> SigmaRules {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("steps.yml"), RULES).unwrap();
        SigmaRules::load(&[dir.path().to_path_buf()], Routing::built_in())
    }

    fn input(rules: &SigmaRules, step: &str, host: &str) -> CorrelationInput {
        rules
            .correlations
            .input(std::iter::once(step), |f| {
                (f == "Host").then(|| host.into())
            })
            .unwrap()
    }

    #[test]
    fn inputs_are_correlated_in_time_order_whatever_order_they_come_in() {
        let rules = rules();
        assert_eq!(rules.correlation_count(), 2);
        // `generate` is false: the steps are counted, not reported alone.
        assert!(rules
            .correlations
            .silent
            .contains("7f1c0000-0000-4000-8000-000000000001"));
        let one = input(&rules, "7f1c0000-0000-4000-8000-000000000001", "A");
        let two = input(&rules, "7f1c0000-0000-4000-8000-000000000002", "A");
        // Read newest first (another file, another thread): still one, then two.
        let hits = rules.correlate(&[(110, &two), (100, &one)]);
        let titles: Vec<&str> = hits.iter().map(|h| h.rule.title.as_str()).collect();
        assert_eq!(titles.len(), 2, "{titles:?}");
        assert!(titles.contains(&"One then two") && titles.contains(&"One and two"));
        let ordered = hits
            .iter()
            .find(|h| h.rule.title == "One then two")
            .unwrap();
        assert_eq!(ordered.group, vec![("Host".to_string(), "A".to_string())]);
        assert_eq!(ordered.fired_by, 0, "the later record completes it");
        assert_eq!(ordered.events, vec![1, 0], "oldest first");
        // Two before one: only the unordered rule.
        let hits = rules.correlate(&[(100, &two), (110, &one)]);
        let titles: Vec<&str> = hits.iter().map(|h| h.rule.title.as_str()).collect();
        assert_eq!(titles, ["One and two"]);
    }

    #[test]
    fn a_temporal_rule_without_a_condition_needs_all_its_rules() {
        let rules = rules();
        let one = input(&rules, "7f1c0000-0000-4000-8000-000000000001", "A");
        let other_host = input(&rules, "7f1c0000-0000-4000-8000-000000000002", "B");
        let too_late = input(&rules, "7f1c0000-0000-4000-8000-000000000002", "A");
        assert!(rules.correlate(&[(100, &one)]).is_empty());
        assert!(rules
            .correlate(&[(100, &one), (101, &other_host)])
            .is_empty());
        assert!(rules.correlate(&[(100, &one), (200, &too_late)]).is_empty());
    }
}
