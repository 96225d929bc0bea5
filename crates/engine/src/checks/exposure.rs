//! Exposure: which of the Exchange CVE families this server is still open to, from
//! the build the evidence shows ([`served_build`]: `ExSetup.exe`'s file version, else
//! the newest build folder below `owa\auth`, which each security update adds, else
//! the registry's CU-level `Msi*` values) and the updates the registry lists as
//! installed. The knowledge is `exsweep-exposure`'s; this module
//! turns its assessment into findings of class `exposure`, which say the server is
//! open, never that it was entered.

use super::{CVE_2021_26855, CVE_2021_26858, CVE_2021_27065};
use crate::inventory::Inventory;
use exsweep_evidence::Evidence as EvidenceSource;
use exsweep_exposure::builds::Build;
use exsweep_exposure::cves::{self, Precision, Status, UpdateEvidence};
use exsweep_model::{Check, Class, ConfigItem, Entities, Evidence, Finding, Reference, Severity};
use std::borrow::Cow;

const BUILD_LIST: Reference = Reference::url(
    "https://learn.microsoft.com/en-us/exchange/new-features/build-numbers-and-release-dates",
);
const HEALTH_CHECKER: Reference =
    Reference::url("https://microsoft.github.io/CSS-Exchange/Diagnostics/HealthChecker/");
const PATCH: &str = "Install the latest Cumulative Update and its latest Security Update (the build list names them), \
     then re-run exsweep or the Exchange Health Checker; until then, apply Microsoft's mitigations and keep the server \
     off the Internet.";

pub static PROXYLOGON_OPEN: Check = Check {
    id: Cow::Borrowed("EXS-EXP-001"),
    title: Cow::Borrowed("Still open to ProxyLogon (CVE-2021-26855, -26857, -26858, -27065)"),
    severity: Severity::High,
    class: Class::Exposure,
    category: Cow::Borrowed("exposure"),
    references: Cow::Borrowed(&[
        CVE_2021_26855,
        Reference::cve("CVE-2021-26857"),
        CVE_2021_26858,
        CVE_2021_27065,
        BUILD_LIST,
    ]),
    why: Cow::Borrowed("ProxyLogon gives anyone who can reach OWA code execution as SYSTEM without credentials; it was exploited on a quarter of a million servers within days of March 2021."),
    action: Cow::Borrowed(PATCH),
};

pub static PROXYSHELL_OPEN: Check = Check {
    id: Cow::Borrowed("EXS-EXP-002"),
    title: Cow::Borrowed("Still open to ProxyShell (CVE-2021-34473, -34523, -31207)"),
    severity: Severity::High,
    class: Class::Exposure,
    category: Cow::Borrowed("exposure"),
    references: Cow::Borrowed(&[
        Reference::cve("CVE-2021-34473"),
        Reference::cve("CVE-2021-34523"),
        Reference::cve("CVE-2021-31207"),
        BUILD_LIST,
    ]),
    why: Cow::Borrowed("ProxyShell chains an autodiscover path confusion into remote PowerShell and writes a web shell through a mailbox export, without credentials; mass exploitation began in August 2021."),
    action: Cow::Borrowed(PATCH),
};

pub static PROXYNOTSHELL_OPEN: Check = Check {
    id: Cow::Borrowed("EXS-EXP-003"),
    title: Cow::Borrowed("Still open to ProxyNotShell / OWASSRF (CVE-2022-41040, -41082, -41080)"),
    severity: Severity::High,
    class: Class::Exposure,
    category: Cow::Borrowed("exposure"),
    references: Cow::Borrowed(&[
        Reference::cve("CVE-2022-41040"),
        Reference::cve("CVE-2022-41082"),
        Reference::cve("CVE-2022-41080"),
        BUILD_LIST,
    ]),
    why: Cow::Borrowed("Any mailbox user (a phished password is enough) reaches remote PowerShell and runs code on the server; the URL rewrite mitigation was bypassed through OWA (OWASSRF) before the November 2022 update."),
    action: Cow::Borrowed(PATCH),
};

pub static UNSUPPORTED_CU: Check = Check {
    id: Cow::Borrowed("EXS-EXP-004"),
    title: Cow::Borrowed("The server's cumulative update no longer receives security updates"),
    severity: Severity::Medium,
    class: Class::Exposure,
    category: Cow::Borrowed("exposure"),
    references: Cow::Borrowed(&[BUILD_LIST, HEALTH_CHECKER]),
    why: Cow::Borrowed("Microsoft ships security updates for the newest cumulative updates only: every vulnerability fixed since this CU's last update is open, whatever exsweep checks by name."),
    action: Cow::Borrowed("Install the current Cumulative Update of this Exchange version, then its latest Security Update."),
};

pub static EXPOSURE_UNKNOWN: Check = Check {
    id: Cow::Borrowed("EXS-EXP-005"),
    title: Cow::Borrowed("Exposure to an Exchange CVE family could not be determined"),
    severity: Severity::Low,
    class: Class::Exposure,
    category: Cow::Borrowed("exposure"),
    references: Cow::Borrowed(&[BUILD_LIST, HEALTH_CHECKER]),
    why: Cow::Borrowed("The evidence gives the build only to the cumulative update, or a build Microsoft's list does not have: whether the security update is installed is not known, so the server may be open."),
    action: Cow::Borrowed("Check the installed Security Update on the server (Get-Command ExSetup | % FileVersionInfo, or the Health Checker), or collect the SOFTWARE hive and the Exchange front end's owa\\auth folder."),
};

pub static EXPOSURE_CHECKS: &[&Check] = &[
    &PROXYLOGON_OPEN,
    &PROXYSHELL_OPEN,
    &PROXYNOTSHELL_OPEN,
    &UNSUPPORTED_CU,
    &EXPOSURE_UNKNOWN,
];

/// Where the build came from, most precise first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildSource {
    /// The file version of `Bin\ExSetup.exe`, which every update stamps (what
    /// Microsoft's Health Checker reads): the exact build.
    ExSetup,
    /// The newest build folder below the front end's `owa\auth`: the exact build.
    BuildFolder,
    /// The SOFTWARE hive's `Msi*` values, which security updates leave alone: the CU.
    Registry,
}

impl BuildSource {
    fn describe(self) -> &'static str {
        match self {
            BuildSource::ExSetup => "file version of Bin\\ExSetup.exe",
            BuildSource::BuildFolder => "newest build folder below owa\\auth",
            BuildSource::Registry => "registry's Msi* build values",
        }
    }
}

/// `ExSetup.exe` is a few megabytes; a file far larger is not it.
const MAX_EXSETUP: u64 = 64 << 20;

/// The build the server runs and where it came from: `ExSetup.exe`'s file version,
/// else the newest build folder below the front end's `owa\auth`, else the
/// registry's version.
pub fn served_build(
    evidence: &EvidenceSource,
    inventory: &Inventory,
) -> Option<(String, BuildSource)> {
    let exchange = inventory.exchange.as_ref()?;
    let exsetup = format!(r"{}\Bin\ExSetup.exe", exchange.root);
    if let Some(build) = evidence
        .read_path(&exsetup, MAX_EXSETUP)
        .and_then(Result::ok)
        .and_then(|image| pe_file_version(&image))
    {
        return Some((build.to_string(), BuildSource::ExSetup));
    }
    let auth = format!(r"{}\FrontEnd\HttpProxy\owa\auth", exchange.root);
    let newest_folder = evidence
        .subdirs(&auth)
        .iter()
        .filter_map(|name| Build::parse(name))
        .max();
    match newest_folder {
        Some(build) => Some((build.to_string(), BuildSource::BuildFolder)),
        None => exchange.version.clone().map(|v| (v, BuildSource::Registry)),
    }
}

fn check_of_family(family: &str) -> &'static Check {
    match family {
        "ProxyLogon" => &PROXYLOGON_OPEN,
        "ProxyShell" => &PROXYSHELL_OPEN,
        _ => &PROXYNOTSHELL_OPEN,
    }
}

/// The exposure findings for the evidence: one per CVE family that is open (or not
/// known to be fixed), and one when the CU is out of updates. None without an
/// Exchange build to go on (the coverage says the install was not found).
pub fn findings(evidence: &EvidenceSource, inventory: &Inventory) -> Vec<Finding> {
    let Some(exchange) = inventory.exchange.as_ref() else {
        return Vec::new();
    };
    let Some((build_text, from)) = served_build(evidence, inventory) else {
        return Vec::new();
    };
    let Some(build) = Build::parse(&build_text) else {
        return Vec::new();
    };
    let source = from.describe();
    let windows_path = match from {
        BuildSource::ExSetup => format!(r"{}\Bin\ExSetup.exe", exchange.root),
        BuildSource::BuildFolder => format!(
            r"{}\FrontEnd\HttpProxy\owa\auth\{build_text}",
            exchange.root
        ),
        BuildSource::Registry => r"C:\Windows\System32\config\SOFTWARE".to_string(),
    };
    let assessment = cves::assess(&UpdateEvidence {
        build,
        precision: if from == BuildSource::Registry {
            Precision::CuOnly
        } else {
            Precision::Exact
        },
        source: source.to_string(),
        installed_kbs: exchange.updates.clone(),
    });
    let release = assessment.release.or(assessment.cu).map_or_else(
        || format!("build {build}"),
        |r| format!("{} ({build})", r.name),
    );
    let kbs = if exchange.updates.is_empty() {
        "the registry lists no installed Exchange update".to_string()
    } else {
        format!("installed updates: {}", exchange.updates.join(", "))
    };
    let config = || {
        Evidence::Config(ConfigItem {
            windows_path: windows_path.clone(),
            item: "Exchange build".into(),
            value: format!("{build} (from the {source}; {kbs})"),
            ..ConfigItem::default()
        })
    };
    let mitigations = super::mitigations::find(evidence, inventory);
    let mut out = Vec::new();
    for (family, of_family) in assessment.by_family() {
        let open_ids: Vec<&str> = of_family
            .iter()
            .filter(|c| matches!(c.status, Status::Open(_)))
            .map(|c| c.cve.id)
            .collect();
        let open: Vec<String> = of_family
            .iter()
            .filter_map(|c| match &c.status {
                Status::Open(why) => Some(format!("{}: {why}", c.cve.id)),
                _ => None,
            })
            .collect();
        let unknown: Vec<String> = of_family
            .iter()
            .filter_map(|c| match &c.status {
                Status::Unknown(why) => Some(format!("{}: {why}", c.cve.id)),
                _ => None,
            })
            .collect();
        let hit = if !open.is_empty() {
            let detail = format!("{release} is open to {family}. {}", open.join("; "));
            let check = check_of_family(family);
            match (family, &mitigations.proxylogon, &mitigations.proxynotshell) {
                ("ProxyLogon", Some(at), _) => check.hit_at(
                    Severity::Medium,
                    format!("{detail}. Mitigated meanwhile by the EOMT {at}: it stops the request forgery the chain starts with, but it is not a fix, and a CU upgrade removes it."),
                ),
                ("ProxyNotShell/OWASSRF", _, Some(at)) => check.hit(format!(
                    "{detail}. The ProxyNotShell mitigation ({at}) is in place, but OWASSRF (CVE-2022-41080) reaches remote PowerShell through OWA around it: still open."
                )),
                _ => check.hit(detail),
            }
        } else if !unknown.is_empty() {
            EXPOSURE_UNKNOWN.hit(format!(
                "{release}: {family} status unknown. {}",
                unknown.join("; ")
            ))
        } else {
            continue;
        };
        let mut finding = Finding::new(hit, config(), Entities::default());
        // The references name the CVEs that are open, not the whole family: the
        // verdict line lists them.
        finding
            .references
            .to_mut()
            .retain(|r| !matches!(r, Reference::Cve(id) if !open_ids.contains(&id.as_ref())));
        out.push(finding);
    }
    if let Some(why) = &assessment.unsupported {
        out.push(Finding::new(
            UNSUPPORTED_CU.hit(format!("{release}: {why}.")),
            config(),
            Entities::default(),
        ));
    }
    out
}

/// The file version in a PE image's version resource (`VS_FIXEDFILEINFO`), as
/// Exchange stamps its build on `ExSetup.exe`. `None` for anything that is not a PE
/// with one; hostile images are rejected by the parser, never trusted.
pub fn pe_file_version(image: &[u8]) -> Option<Build> {
    use object::read::pe::{PeFile32, PeFile64, ResourceDirectoryEntryData};
    use object::LittleEndian as LE;
    let (directory, sections) = match PeFile64::parse(image) {
        Ok(pe) => (
            pe.data_directories()
                .resource_directory(image, &pe.section_table())
                .ok()??,
            pe.section_table(),
        ),
        Err(_) => {
            let pe = PeFile32::parse(image).ok()?;
            (
                pe.data_directories()
                    .resource_directory(image, &pe.section_table())
                    .ok()??,
                pe.section_table(),
            )
        }
    };
    let root = directory.root().ok()?;
    let version_type = root
        .entries
        .iter()
        .find(|e| e.name_or_id().id() == Some(object::pe::RT_VERSION))?;
    let mut table = version_type.data(directory).ok()?.table()?;
    // Name, then language: the first entry of each.
    let data_entry = loop {
        match table.entries.first()?.data(directory).ok()? {
            ResourceDirectoryEntryData::Table(next) => table = next,
            ResourceDirectoryEntryData::Data(entry) => break entry,
        }
    };
    let rva = data_entry.offset_to_data.get(LE);
    let size = data_entry.size.get(LE) as usize;
    let (offset, _) = sections.pe_file_range_at(rva)?;
    let data = image.get(offset as usize..(offset as usize).checked_add(size)?)?;
    let signature = 0xFEEF_04BDu32.to_le_bytes();
    let at = data.windows(4).position(|w| w == signature)?;
    let word = |i: usize| -> Option<u32> {
        Some(u32::from_le_bytes(
            data.get(at + i..at + i + 4)?.try_into().ok()?,
        ))
    };
    let (ms, ls) = (word(8)?, word(12)?);
    Some(Build([ms >> 16, ms & 0xffff, ls >> 16, ls & 0xffff]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_version_of_a_pe_built_at_test_time_is_read() {
        let image = exsweep_testkit::pe::with_file_version([15, 2, 1118, 20]);
        assert_eq!(pe_file_version(&image), Build::parse("15.2.1118.20"));
        assert_eq!(pe_file_version(b"MZ not a PE"), None);
        let mut damaged = image.clone();
        damaged.truncate(0x210);
        assert_eq!(pe_file_version(&damaged), None);
    }
}
