//! Windows event log (EVTX) records as the `evtx` crate renders them, flattened to
//! their provider, event ID, level, time and `EventData` values.

use serde_json::Value;
use std::io::{Read, Seek};
use std::time::SystemTime;

/// What reading one record gave.
pub enum RecordRead {
    /// A record, flattened.
    Event(EventRecord),
    /// A record without the `System` fields every event has.
    Unrecognised,
    /// A damaged chunk or record, with the parser's message; the reading goes on.
    Damaged(String),
}

/// Reads every record of an EVTX file in order. `Err` when the file is not EVTX at all.
pub fn read_records<R: Read + Seek>(
    reader: R,
    mut visit: impl FnMut(RecordRead),
) -> Result<(), String> {
    let mut parser = evtx::EvtxParser::from_read_seek(reader).map_err(|e| e.to_string())?;
    for record in parser.records_json_value() {
        visit(match record {
            Ok(r) => match record_from_json(r.event_record_id, &r.data) {
                Some(event) => RecordRead::Event(event),
                None => RecordRead::Unrecognised,
            },
            Err(e) => RecordRead::Damaged(e.to_string()),
        });
    }
    Ok(())
}

/// The channel (`System/Channel`) of the first readable record, which names the log
/// an exported EVTX of any file name came from.
pub fn first_channel<R: Read + Seek>(reader: R) -> Option<String> {
    let mut parser = evtx::EvtxParser::from_read_seek(reader).ok()?;
    let channel = parser
        .records_json_value()
        .filter_map(Result::ok)
        .take(16)
        .find_map(|r| {
            r.data
                .pointer("/Event/System/Channel")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    channel
}

/// One event record, flattened.
#[derive(Debug, Default)]
pub struct EventRecord {
    pub record_id: u64,
    pub time: Option<SystemTime>,
    pub provider: String,
    pub event_id: u64,
    pub level: u8,
    /// `System/Channel`: the log the record was written to.
    pub channel: String,
    /// `System/Computer`: the machine that wrote it.
    pub computer: String,
    /// The rest of `System`, flattened by attribute name (`Version`, `Task`,
    /// `Keywords`, `ProcessID`, `ThreadID`, `UserID`, `Provider_Guid` ...), for Sigma.
    pub system: Vec<(String, String)>,
    /// `EventData` / `UserData` values with their names (empty for unnamed `Data`).
    pub data: Vec<(String, String)>,
}

impl EventRecord {
    /// The value of a named field, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.data
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The n-th value, named or not (MSExchange CmdletLogs puts the cmdlet first).
    pub fn value(&self, index: usize) -> Option<&str> {
        self.data.get(index).map(|(_, v)| v.as_str())
    }

    /// Every value, for matching a command line or message anywhere in the record.
    pub fn text(&self) -> String {
        self.data
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(o) => o.get("#text").and_then(scalar),
        _ => None,
    }
}

fn flatten(name: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten(name, i, out)),
        Value::Object(map) if !map.contains_key("#text") => {
            for (k, child) in map {
                if k != "#attributes" {
                    // `Data` entries are unnamed values; anything else names its value.
                    let key = if k == "Data" { name } else { k.as_str() };
                    flatten(key, child, out);
                }
            }
        }
        Value::Object(map) => match map.get("#text") {
            Some(Value::Array(items)) => items.iter().for_each(|i| flatten(name, i, out)),
            Some(text) => flatten(name, text, out),
            None => {}
        },
        other => {
            if let Some(s) = scalar(other) {
                out.push((name.to_string(), s));
            }
        }
    }
}

/// Flattens one record's JSON (as the `evtx` crate renders it).
pub fn record_from_json(record_id: u64, json: &Value) -> Option<EventRecord> {
    let event = json.get("Event")?;
    let system = event.get("System")?;
    let provider = system
        .pointer("/Provider/#attributes/Name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let event_id = system.get("EventID").and_then(scalar)?.parse().ok()?;
    let level = system
        .get("Level")
        .and_then(scalar)
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let time = system
        .pointer("/TimeCreated/#attributes/SystemTime")
        .and_then(Value::as_str)
        .and_then(super::parse::parse_timestamp);
    let text_of = |name: &str| system.get(name).and_then(scalar).unwrap_or_default();
    let mut system_rest = Vec::new();
    if let Some(fields) = system.as_object() {
        for (name, value) in fields {
            match (name.as_str(), value) {
                ("EventID" | "Level" | "Channel" | "Computer" | "EventRecordID", _) => {}
                (_, Value::Object(o)) if !o.contains_key("#text") => {
                    // Attributes: `Execution ProcessID=...`, `Provider Guid=...`.
                    if let Some(Value::Object(attrs)) = o.get("#attributes") {
                        for (attr, v) in attrs {
                            let key = match (name.as_str(), attr.as_str()) {
                                ("Provider", "Name") => continue,
                                ("Provider", other) => format!("Provider_{other}"),
                                ("TimeCreated", "SystemTime") => "TimeCreated".to_string(),
                                (_, other) => other.to_string(),
                            };
                            system_rest.extend(scalar(v).map(|v| (key, v)));
                        }
                    }
                }
                (_, v) => system_rest.extend(scalar(v).map(|v| (name.clone(), v))),
            }
        }
    }
    let mut data = Vec::new();
    for section in ["EventData", "UserData"] {
        if let Some(v) = event.get(section) {
            flatten("", v, &mut data);
        }
    }
    Some(EventRecord {
        record_id,
        time,
        provider,
        event_id,
        level,
        channel: text_of("Channel"),
        computer: text_of("Computer"),
        system: system_rest,
        data,
    })
}
