//! An incident: findings joined into one attack chain (the exploitation requests, the
//! change that planted a shell, the shell, its uses, what followed), with its span,
//! its actors, what it touched, and how sure the join is. The engine's `incidents`
//! stage builds them; the findings stay in the report as they are, and an incident
//! names its findings by ID.

use crate::text::{de_opt_time, de_time, ser_opt_time, ser_time};
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// Where a finding stands in an attack chain, in the order attacks go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Requests that exploit the server (SSRF, path confusion, deserialization).
    Exploitation,
    /// The change that writes a shell: a virtual directory's URL, an OAB download, a
    /// mailbox export.
    Planting,
    /// What was left on disk: shells, implants.
    Implant,
    /// Requests to what was left.
    Use,
    /// What followed: credential dumps, archives, accounts, commands.
    Aftermath,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Exploitation => "exploitation",
            Phase::Planting => "planting",
            Phase::Implant => "implant",
            Phase::Use => "use",
            Phase::Aftermath => "aftermath",
        }
    }
}

/// How sure the join is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// One finding's place in an incident.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IncidentStep {
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_time",
        deserialize_with = "de_opt_time",
        default
    )]
    pub time: Option<SystemTime>,
    pub phase: Phase,
    pub finding_id: String,
    pub check_id: String,
    /// The finding's title and where it was seen, in a line.
    pub summary: String,
    /// What joined it to the chain: `client IP 5.2.69.14`, `file C:\...`, `time`.
    pub joined_by: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Incident {
    /// `INC-1`, `INC-2` ... in the order of their first activity.
    pub id: String,
    /// A short story: what happened, in order, in plain words.
    pub story: String,
    #[serde(serialize_with = "ser_time", deserialize_with = "de_time")]
    pub first: SystemTime,
    #[serde(serialize_with = "ser_time", deserialize_with = "de_time")]
    pub last: SystemTime,
    pub attacker_ips: Vec<String>,
    pub user_agents: Vec<String>,
    pub users: Vec<String>,
    /// Windows paths of the files it wrote or used.
    pub files: Vec<String>,
    pub cves: Vec<String>,
    /// ATT&CK technique IDs.
    pub techniques: Vec<String>,
    pub confidence: Confidence,
    pub confidence_reason: String,
    /// Oldest first; ties in the order of the phases.
    pub steps: Vec<IncidentStep>,
}
