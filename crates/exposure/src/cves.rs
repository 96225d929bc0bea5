//! The Exchange CVEs exsweep assesses, the security update that fixed each, and the
//! assessment of a server from its build and its installed updates.
//!
//! A build is fixed for a CVE when its cumulative update was released after the fix
//! (CUs carry every earlier fix), or when its revision is at least that of the fixing
//! update for its CU. A CU older than the fix with no update for it stays open. A
//! build known only to the CU (the registry's `Msi*` values, which security updates
//! do not change) cannot tell a patched CU from an unpatched one: unknown, unless an
//! installed update says otherwise. An installed KB is the strongest evidence and
//! wins over the build; the result says so when they disagree.

use crate::builds::{self, Build, Release};

/// A CVE and the update that fixed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cve {
    pub id: &'static str,
    /// `ProxyLogon`, `ProxyShell`, `ProxyNotShell/OWASSRF`.
    pub family: &'static str,
    /// The security update that fixed it, on every CU that got one.
    pub kb: &'static str,
    /// That update's release date (`YYYY-MM-DD`).
    pub fixed_on: &'static str,
}

/// The CVEs assessed: the families exploited at scale in 2021-2022 (reference §6).
pub const CVES: [Cve; 10] = [
    cve("CVE-2021-26855", "ProxyLogon", "KB5000871", "2021-03-02"),
    cve("CVE-2021-26857", "ProxyLogon", "KB5000871", "2021-03-02"),
    cve("CVE-2021-26858", "ProxyLogon", "KB5000871", "2021-03-02"),
    cve("CVE-2021-27065", "ProxyLogon", "KB5000871", "2021-03-02"),
    cve("CVE-2021-34473", "ProxyShell", "KB5001779", "2021-04-13"),
    cve("CVE-2021-34523", "ProxyShell", "KB5001779", "2021-04-13"),
    cve("CVE-2021-31207", "ProxyShell", "KB5003435", "2021-05-11"),
    cve(
        "CVE-2022-41040",
        "ProxyNotShell/OWASSRF",
        "KB5019758",
        "2022-11-08",
    ),
    cve(
        "CVE-2022-41082",
        "ProxyNotShell/OWASSRF",
        "KB5019758",
        "2022-11-08",
    ),
    cve(
        "CVE-2022-41080",
        "ProxyNotShell/OWASSRF",
        "KB5019758",
        "2022-11-08",
    ),
];

const fn cve(
    id: &'static str,
    family: &'static str,
    kb: &'static str,
    fixed_on: &'static str,
) -> Cve {
    Cve {
        id,
        family,
        kb,
        fixed_on,
    }
}

/// How precisely the build is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// The full build (a build folder below `owa\auth`, a file version, `X-OWA-Version`).
    Exact,
    /// The CU only (the registry's `Msi*` values, the build path in `logon.aspx`).
    CuOnly,
}

/// What the evidence says about the server's update level.
#[derive(Clone, Debug)]
pub struct UpdateEvidence {
    pub build: Build,
    pub precision: Precision,
    /// Where the build came from, for the findings (`the newest build folder below owa\auth`).
    pub source: String,
    /// KB articles of the Exchange updates the registry lists as installed.
    pub installed_kbs: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Fixed(String),
    Open(String),
    Unknown(String),
}

/// One CVE's status on the server.
#[derive(Clone, Debug)]
pub struct CveStatus {
    pub cve: Cve,
    pub status: Status,
}

/// The server's assessment.
#[derive(Clone, Debug)]
pub struct Assessment {
    /// The release the build is, when Microsoft's list has it.
    pub release: Option<&'static Release>,
    /// The CU's own release (its first build), when the list has the CU.
    pub cu: Option<&'static Release>,
    pub cves: Vec<CveStatus>,
    /// Set when the CU no longer receives security updates: why.
    pub unsupported: Option<String>,
}

impl Assessment {
    /// The CVEs' statuses by family, families in the table's order.
    pub fn by_family(&self) -> Vec<(&'static str, Vec<&CveStatus>)> {
        let mut out: Vec<(&'static str, Vec<&CveStatus>)> = Vec::new();
        for status in &self.cves {
            match out.iter_mut().find(|(f, _)| *f == status.cve.family) {
                Some((_, of_family)) => of_family.push(status),
                None => out.push((status.cve.family, vec![status])),
            }
        }
        out
    }
}

fn from_build(evidence: &UpdateEvidence, cve: &Cve, cu: &[Release]) -> Status {
    let build = evidence.build;
    let Some(base) = cu.first() else {
        return Status::Unknown(format!(
            "build {build} is not in Microsoft's build list (as of {})",
            builds::newest()
        ));
    };
    if base.date >= cve.fixed_on {
        return Status::Fixed(format!(
            "{} ({}, {}) was released after the fix and includes it",
            base.name, base.build, base.date
        ));
    }
    let Some(fix) = cu.iter().find(|r| r.kb == cve.kb) else {
        return Status::Open(format!(
            "{} ({}) is older than the fix ({}, {}) and no update for it fixes this: only a newer CU does",
            base.name, base.date, cve.kb, cve.fixed_on
        ));
    };
    match evidence.precision {
        Precision::Exact if build >= fix.build => Status::Fixed(format!(
            "build {build} is at or after {} ({}, {})",
            fix.name, fix.build, fix.kb
        )),
        Precision::Exact => Status::Open(format!(
            "build {build} is before {} ({}, {})",
            fix.name, fix.build, fix.kb
        )),
        Precision::CuOnly => Status::Unknown(format!(
            "{} is vulnerable unless {} ({}, {}) is installed; the {} gives the CU only",
            base.name, fix.name, fix.build, fix.kb, evidence.source
        )),
    }
}

/// Whether an installed update fixes `cve`: its own KB, or a later update of the
/// same CU (updates carry the earlier ones).
fn installed_fix(evidence: &UpdateEvidence, cve: &Cve, cu: &[Release]) -> Option<String> {
    let fix_build = cu.iter().find(|r| r.kb == cve.kb).map(|r| r.build);
    evidence.installed_kbs.iter().find_map(|kb| {
        if kb.eq_ignore_ascii_case(cve.kb) {
            return Some(kb.clone());
        }
        let later = cu
            .iter()
            .find(|r| r.kb.eq_ignore_ascii_case(kb))
            .is_some_and(|r| fix_build.is_some_and(|f| r.build >= f));
        later.then(|| kb.clone())
    })
}

/// Assesses every CVE of [`CVES`] for the server.
pub fn assess(evidence: &UpdateEvidence) -> Assessment {
    let cu = builds::releases_of_cu(evidence.build);
    let cves = CVES
        .iter()
        .map(|cve| {
            let by_build = from_build(evidence, cve, cu);
            let status = match (installed_fix(evidence, cve, cu), by_build) {
                (Some(kb), Status::Fixed(why)) => Status::Fixed(format!("{why}; {kb} is installed")),
                (Some(kb), Status::Open(why) | Status::Unknown(why)) => Status::Fixed(format!(
                    "{kb} is installed, which fixes it; the build alone said otherwise ({why}), and an installed update is the stronger evidence"
                )),
                (None, status) => status,
            };
            CveStatus { cve: *cve, status }
        })
        .collect();
    let unsupported = cu.first().and_then(|base| {
        let product = base.product();
        let newest_here = cu.iter().map(|r| r.date).max()?;
        let newest_product = builds::newest_of_product(product)?;
        (newest_here < newest_product).then(|| {
            format!(
                "the newest update for {} was released {newest_here}; {product} has had updates since ({newest_product}) that this CU did not get",
                base.name
            )
        })
    });
    Assessment {
        release: builds::release(evidence.build),
        cu: cu.first(),
        cves,
        unsupported,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(build: &str, precision: Precision, kbs: &[&str]) -> Assessment {
        assess(&UpdateEvidence {
            build: Build::parse(build).unwrap(),
            precision,
            source: "test".into(),
            installed_kbs: kbs.iter().map(|k| k.to_string()).collect(),
        })
    }

    fn status_of(a: &Assessment, id: &str) -> Status {
        a.cves
            .iter()
            .find(|c| c.cve.id == id)
            .unwrap()
            .status
            .clone()
    }

    fn is_open(s: &Status) -> bool {
        matches!(s, Status::Open(_))
    }

    #[test]
    fn an_unpatched_cu8_is_open_to_everything_and_its_march_update_closes_proxylogon() {
        let bare = at("15.2.792.3", Precision::Exact, &[]);
        assert!(
            bare.cves.iter().all(|c| is_open(&c.status)),
            "{:#?}",
            bare.cves
        );
        let march = at("15.2.792.10", Precision::Exact, &[]);
        assert!(matches!(
            status_of(&march, "CVE-2021-26855"),
            Status::Fixed(_)
        ));
        assert!(is_open(&status_of(&march, "CVE-2021-34473")));
        assert!(
            bare.unsupported.is_some(),
            "CU8 stopped getting updates in 2021"
        );
    }

    #[test]
    fn a_cu_released_after_a_fix_includes_it() {
        // 2019 CU9 (15.2.858.5, March 2021) carries the March fix, not April's.
        let cu9 = at("15.2.858.5", Precision::CuOnly, &[]);
        assert!(matches!(
            status_of(&cu9, "CVE-2021-26855"),
            Status::Fixed(_)
        ));
        assert!(matches!(
            status_of(&cu9, "CVE-2021-34473"),
            Status::Unknown(_)
        ));
        let cu9_may = at("15.2.858.12", Precision::Exact, &[]);
        assert!(matches!(
            status_of(&cu9_may, "CVE-2021-31207"),
            Status::Fixed(_)
        ));
        assert!(
            is_open(&status_of(&cu9_may, "CVE-2022-41040")),
            "no Nov22 SU for CU9"
        );
    }

    #[test]
    fn an_installed_update_wins_over_the_build_and_says_so() {
        let cu12 = at("15.2.1118.7", Precision::CuOnly, &["KB5019758"]);
        match status_of(&cu12, "CVE-2022-41082") {
            Status::Fixed(why) => assert!(why.contains("stronger evidence"), "{why}"),
            other => panic!("{other:?}"),
        }
        // A later update of the same CU carries the earlier one.
        let later = at("15.2.1118.7", Precision::CuOnly, &["KB5022188"]);
        assert!(matches!(
            status_of(&later, "CVE-2022-41082"),
            Status::Fixed(_)
        ));
    }

    #[test]
    fn the_current_cu_is_supported_and_fixed_and_an_unknown_build_is_unknown() {
        let cu15 = at("15.2.1748.49", Precision::Exact, &[]);
        assert!(cu15
            .cves
            .iter()
            .all(|c| matches!(c.status, Status::Fixed(_))));
        assert_eq!(cu15.unsupported, None);
        let odd = at("15.2.9999.1", Precision::Exact, &[]);
        assert!(odd
            .cves
            .iter()
            .all(|c| matches!(c.status, Status::Unknown(_))));
        assert!(odd.release.is_none() && odd.cu.is_none());
    }
}
