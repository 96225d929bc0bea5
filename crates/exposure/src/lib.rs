//! Is this Exchange server still open? From its build (and the updates installed, when
//! the registry lists them) to the status of each CVE family exsweep knows: fixed,
//! open or unknown, each with the evidence, and whether the server's cumulative update
//! still receives security updates.
//!
//! - [`builds`]: Microsoft's build list (`data/exchange-builds/builds.tsv`, generated
//!   by `regen.py` there from CSS-Exchange's CSV, MIT), compiled in.
//! - [`cves`]: the CVEs, the update that fixed each, and the assessment.
//!
//! No I/O: the engine reads the evidence and the probe the network; both ask here.

pub mod builds;
pub mod cves;
