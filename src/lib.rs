//! exsweep: tells an incident responder whether a Microsoft Exchange / IIS server was
//! compromised, from the server itself or from evidence collected from it.
//!
//! The flow, one module each (see ARCHITECTURE.md):
//! [`evidence`] (where the bytes are) → [`inventory`] (what is on it) →
//! [`checks`] run by [`sweep`] (what is looked for) → [`findings`] (what was seen) →
//! [`output`] (how it is shown). [`scan`] wires one run together; [`demo`] builds a
//! compromised server to try it on.

pub mod checks;
pub mod demo;
pub mod evidence;
pub mod findings;
pub mod inventory;
pub mod logs;
pub mod output;
pub mod scan;
pub mod sweep;
