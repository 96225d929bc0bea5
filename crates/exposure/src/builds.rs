//! Microsoft's list of Exchange builds, compiled in: every release (cumulative update,
//! security update, hotfix update) with its build number, date and KB article.

use std::fmt;
use std::sync::OnceLock;

const TABLE: &str = include_str!("../../../data/exchange-builds/builds.tsv");

/// A build number, `15.2.1118.20`: product major and minor, the CU's build, the revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Build(pub [u32; 4]);

impl Build {
    /// Parses `15.2.1118.20` (leading zeros allowed, as some sources write them).
    pub fn parse(text: &str) -> Option<Build> {
        let mut parts = [0u32; 4];
        let mut fields = text.trim().split('.');
        for part in &mut parts {
            *part = fields.next()?.trim().parse().ok()?;
        }
        fields.next().is_none().then_some(Build(parts))
    }

    /// The cumulative update it belongs to: the first three numbers.
    pub fn cu(self) -> [u32; 3] {
        [self.0[0], self.0[1], self.0[2]]
    }
}

impl fmt::Display for Build {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// One release of Exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    pub build: Build,
    /// `Exchange 2019 CU12 Nov22SU`.
    pub name: &'static str,
    /// `YYYY-MM-DD`, so that dates compare as text.
    pub date: &'static str,
    /// `KB5019758`; empty for a few early releases.
    pub kb: &'static str,
}

impl Release {
    /// `Exchange 2019`, `Exchange SE`: the product line it belongs to.
    pub fn product(&self) -> &'static str {
        let mut end = 0;
        for (n, (i, _)) in self.name.match_indices(' ').enumerate() {
            if n == 1 {
                end = i;
                break;
            }
        }
        if end == 0 {
            self.name
        } else {
            &self.name[..end]
        }
    }
}

/// Every release, sorted by build.
pub fn releases() -> &'static [Release] {
    static RELEASES: OnceLock<Vec<Release>> = OnceLock::new();
    RELEASES.get_or_init(|| {
        let mut out: Vec<Release> = TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|line| {
                let mut fields = line.split('\t');
                let mut next = || fields.next().unwrap_or("");
                let build = Build::parse(next()).expect("builds.tsv holds valid builds");
                Release {
                    build,
                    name: next(),
                    date: next(),
                    kb: next(),
                }
            })
            .collect();
        out.sort_by_key(|r| r.build);
        out
    })
}

/// The releases of a build's cumulative update, oldest first: the CU itself, then
/// its security and hotfix updates.
pub fn releases_of_cu(build: Build) -> &'static [Release] {
    let all = releases();
    let cu = build.cu();
    let start = all.partition_point(|r| r.build.cu() < cu);
    let end = all.partition_point(|r| r.build.cu() <= cu);
    &all[start..end]
}

/// The release with exactly this build.
pub fn release(build: Build) -> Option<&'static Release> {
    releases_of_cu(build).iter().find(|r| r.build == build)
}

/// The newest release date of a product line (`Exchange 2019`).
pub fn newest_of_product(product: &str) -> Option<&'static str> {
    releases()
        .iter()
        .filter(|r| r.product() == product)
        .map(|r| r.date)
        .max()
}

/// The newest date in the list: how current exsweep's knowledge is.
pub fn newest() -> &'static str {
    releases().iter().map(|r| r.date).max().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_complete_and_sorted() {
        let all = releases();
        assert!(all.len() > 250, "{}", all.len());
        assert!(all.windows(2).all(|w| w[0].build <= w[1].build));
        assert!(newest() >= "2026-08-11");
    }

    #[test]
    fn a_cu_and_its_updates_are_found_together() {
        let cu12 = releases_of_cu(Build::parse("15.2.1118.20").unwrap());
        assert_eq!(cu12[0].name, "Exchange 2019 CU12");
        assert!(cu12
            .iter()
            .any(|r| r.kb == "KB5019758" && r.build.0[3] == 20));
        assert_eq!(cu12[0].product(), "Exchange 2019");
        assert_eq!(Build::parse("15.01.2176.002"), Build::parse("15.1.2176.2"));
        assert_eq!(Build::parse("15.1.2176"), None);
        let se = release(Build::parse("15.2.2562.17").unwrap()).unwrap();
        assert_eq!(se.product(), "Exchange SE");
    }
}
