//! `exsweep probe`: is this Exchange server, seen from the network, still open? The
//! build it shows (most precise method first), the CVE families that build leaves
//! open, and, with `--active`, the non-destructive checks that confirm or rule out
//! the SSRFs and the ProxyNotShell mitigation.
//!
//! - [`targets`]: hosts, `host:port`, URLs, CIDR ranges and list files, expanded lazily.
//! - [`http`]: one request on hyper and rustls, within limits a hostile server cannot break.
//! - [`fingerprint`]: the build from `X-OWA-Version`, the export tool's manifest, `logon.aspx`.
//! - [`probe`]: one target, start to end, into a [`probe::ProbeResult`].
//! - [`run`]: many targets at bounded concurrency on a tokio runtime.
//! - [`output`]: console, JSONL and CSV, written as results arrive.
//!
//! The assessment of a build is `exsweep-exposure`'s, the same the local scan uses.

pub mod fingerprint;
pub mod http;
pub mod output;
pub mod probe;
pub mod run;
pub mod targets;
