//! IIS's configuration as one model: the sites of `applicationHost.config` with their
//! bindings, log folders, applications and virtual directories; the native modules,
//! handlers and managed modules IIS loads; and the URL Rewrite rules in force. The
//! inventory reads it once, and the web map, the log hunt's folders, the mitigation
//! and the persistence checks all take it from here.
//!
//! A damaged copy (truncated, bad encoding) is not XML: its sites and virtual
//! directories are then read tag by tag, so it still gives what it holds, and
//! `well_formed` tells the inventory to warn that modules and rules went unread.

use exsweep_evidence::winpath;
use regex::Regex;
use std::sync::LazyLock;

/// One site, as IIS runs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Site {
    pub name: String,
    pub id: Option<u32>,
    /// `protocol bindingInformation` (`https *:443:`).
    pub bindings: Vec<String>,
    /// The site's own `<logFile directory>`, expanded.
    pub log_dir: Option<String>,
    pub dirs: Vec<SiteDir>,
}

/// A virtual directory of an application of a site.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SiteDir {
    /// The application's path as written (`/owa`).
    pub application: String,
    /// The virtual directory's path within it as written (`/`, `/Calendar`).
    pub path: String,
    /// The URL path it answers at: lower case, `/`-separated, no trailing `/`.
    pub url: String,
    /// The physical path as IIS expands it (`%SystemDrive%` → `C:`).
    pub physical: String,
}

/// What a loaded piece of code is registered as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadedKind {
    /// `<globalModules><add image=...>`: a DLL in every worker process.
    NativeModule,
    /// `<handlers><add scriptProcessor=...>`: a DLL that answers some URLs.
    Handler,
    /// `<modules><add type=...>`: a .NET type in every request of its scope.
    ManagedModule,
}

impl LoadedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LoadedKind::NativeModule => "native module",
            LoadedKind::Handler => "handler",
            LoadedKind::ManagedModule => "managed module",
        }
    }
}

/// A module or handler IIS loads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    pub kind: LoadedKind,
    pub name: String,
    /// The DLL as written (an `image` or `scriptProcessor`), or the managed type.
    pub target: String,
    /// Where it is registered (`globalModules/add[@name='X']`).
    pub item: String,
}

/// A URL Rewrite rule that is in force: enabled, aborting the request, not dropped by
/// a later `<clear/>` of its collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbortRule {
    pub name: String,
    /// (input, pattern) of the match and its conditions, lower case.
    pub tests: Vec<(String, String)>,
}

/// `applicationHost.config`, read.
#[derive(Clone, Debug, Default)]
pub struct IisConfig {
    pub sites: Vec<Site>,
    /// `<siteDefaults><logFile directory>`, expanded: where sites without their own log.
    pub default_log_dir: Option<String>,
    pub loaded: Vec<Loaded>,
    pub abort_rules: Vec<AbortRule>,
    /// False when the file is not XML and only its sites were read, tag by tag.
    pub well_formed: bool,
}

/// A path as IIS expands it: `%SystemDrive%`, `%windir%`, `%ProgramFiles%` and
/// Exchange's `%ExchangeInstallPath%` (unexpanded when the install is not known).
pub fn expand(path: &str, exchange_root: Option<&str>) -> String {
    let mut out = path.trim().to_string();
    for (var, value) in [
        ("%windir%", Some(r"C:\Windows")),
        ("%systemroot%", Some(r"C:\Windows")),
        ("%systemdrive%", Some("C:")),
        ("%programfiles%", Some(r"C:\Program Files")),
        ("%programfiles(x86)%", Some(r"C:\Program Files (x86)")),
        ("%exchangeinstallpath%", exchange_root),
    ] {
        let Some(value) = value else { continue };
        if let Some(at) = out.to_ascii_lowercase().find(var) {
            // `%ExchangeInstallPath%` ends in `\` and is written `%ExchangeInstallPath%Bin`.
            let end = at + var.len();
            let joint = if end == out.len() || out[end..].starts_with(['\\', '/']) {
                ""
            } else {
                "\\"
            };
            out.replace_range(at..end, &format!("{}{joint}", value.trim_end_matches('\\')));
        }
    }
    out
}

/// A URL path as the web map keys it: lower case, `/`-separated, no trailing `/`.
pub fn url_key(path: &str) -> String {
    path.replace('\\', "/").trim_end_matches('/').to_lowercase()
}

fn site_dir(application: &str, path: &str, physical: &str, exchange_root: Option<&str>) -> SiteDir {
    SiteDir {
        application: application.to_string(),
        path: path.to_string(),
        url: url_key(&format!(
            "{}/{}",
            url_key(application),
            path.trim_start_matches('/')
        )),
        physical: expand(physical, exchange_root),
    }
}

impl IisConfig {
    /// Reads `applicationHost.config`; `exchange_root` expands `%ExchangeInstallPath%`.
    pub fn read(text: &str, exchange_root: Option<&str>) -> IisConfig {
        let Ok(doc) = roxmltree::Document::parse(text) else {
            return IisConfig {
                sites: sites_by_tags(text, exchange_root),
                ..IisConfig::default()
            };
        };
        let named = |name: &'static str| {
            move |n: &roxmltree::Node| n.is_element() && n.tag_name().name() == name
        };
        let mut config = IisConfig {
            well_formed: true,
            abort_rules: abort_rules(&doc),
            ..IisConfig::default()
        };
        for sites in doc.descendants().filter(named("sites")) {
            for child in sites.children().filter(|c| c.is_element()) {
                match child.tag_name().name() {
                    "site" => config.sites.push(site(child, exchange_root)),
                    "siteDefaults" => {
                        config.default_log_dir = child
                            .children()
                            .find(named("logFile"))
                            .and_then(|l| l.attribute("directory"))
                            .map(|d| expand(d, exchange_root));
                    }
                    _ => {}
                }
            }
        }
        for add in doc.descendants().filter(named("add")) {
            let Some(parent) = add.parent_element().map(|p| p.tag_name().name()) else {
                continue;
            };
            let (kind, target) = match parent {
                "globalModules" => (LoadedKind::NativeModule, add.attribute("image")),
                "handlers" => (LoadedKind::Handler, add.attribute("scriptProcessor")),
                "modules" => (LoadedKind::ManagedModule, add.attribute("type")),
                _ => continue,
            };
            let Some(target) = target.filter(|t| !t.trim().is_empty()) else {
                continue;
            };
            let name = add.attribute("name").unwrap_or("(unnamed)").to_string();
            config.loaded.push(Loaded {
                kind,
                item: format!("{parent}/add[@name='{name}']"),
                name,
                target: target.to_string(),
            });
        }
        config
    }

    /// Every virtual directory with its site's name.
    pub fn dirs(&self) -> impl Iterator<Item = (&Site, &SiteDir)> {
        self.sites
            .iter()
            .flat_map(|s| s.dirs.iter().map(move |d| (s, d)))
    }

    /// The folders IIS writes its W3C logs to, each once: each site's own, else the
    /// sites' default.
    pub fn log_dirs(&self) -> Vec<String> {
        let mut dirs: Vec<String> = Vec::new();
        let own = self.sites.iter().filter_map(|s| s.log_dir.clone());
        let default = self
            .sites
            .iter()
            .any(|s| s.log_dir.is_none())
            .then(|| self.default_log_dir.clone())
            .flatten();
        for dir in own.chain(default) {
            let dir = dir.trim_end_matches('\\').to_string();
            if winpath::split(&dir).is_some()
                && !dirs.iter().any(|d| winpath::key(d) == winpath::key(&dir))
            {
                dirs.push(dir);
            }
        }
        dirs
    }
}

fn site(node: roxmltree::Node, exchange_root: Option<&str>) -> Site {
    let mut site = Site {
        name: node.attribute("name").unwrap_or("").to_string(),
        id: node.attribute("id").and_then(|i| i.trim().parse().ok()),
        ..Site::default()
    };
    for child in node.children().filter(|c| c.is_element()) {
        match child.tag_name().name() {
            "application" => {
                let application = child.attribute("path").unwrap_or("/");
                for vdir in child
                    .children()
                    .filter(|c| c.tag_name().name() == "virtualDirectory")
                {
                    if let (Some(path), Some(physical)) =
                        (vdir.attribute("path"), vdir.attribute("physicalPath"))
                    {
                        site.dirs
                            .push(site_dir(application, path, physical, exchange_root));
                    }
                }
            }
            "bindings" => {
                site.bindings.extend(
                    child
                        .children()
                        .filter(|b| b.tag_name().name() == "binding")
                        .map(|b| {
                            format!(
                                "{} {}",
                                b.attribute("protocol").unwrap_or(""),
                                b.attribute("bindingInformation").unwrap_or("")
                            )
                        }),
                );
            }
            "logFile" => {
                site.log_dir = child
                    .attribute("directory")
                    .map(|d| expand(d, exchange_root));
            }
            _ => {}
        }
    }
    site
}

static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)<(site|application|virtualDirectory)[\s/>]([^>]*)>").expect("static regex")
});
static ATTRIBUTE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)([\w.-]+)\s*=\s*"([^"]*)""#).expect("static regex"));

fn attribute<'t>(attributes: &'t str, name: &str) -> Option<&'t str> {
    ATTRIBUTE
        .captures_iter(attributes)
        .find(|c| c[1].eq_ignore_ascii_case(name))
        .map(|c| c.get(2).map_or("", |m| m.as_str()))
}

/// The sites of a file that is not XML, tag by tag in sequence: a
/// `virtualDirectory` belongs to the `application` and `site` before it.
fn sites_by_tags(text: &str, exchange_root: Option<&str>) -> Vec<Site> {
    let mut sites: Vec<Site> = Vec::new();
    let mut application = String::from("/");
    for tag in TAG.captures_iter(text) {
        let attributes = tag.get(2).map_or("", |m| m.as_str());
        match tag[1].to_ascii_lowercase().as_str() {
            "site" => {
                sites.push(Site {
                    name: attribute(attributes, "name").unwrap_or("").to_string(),
                    id: attribute(attributes, "id").and_then(|i| i.parse().ok()),
                    ..Site::default()
                });
                application = "/".into();
            }
            "application" => {
                application = attribute(attributes, "path").unwrap_or("/").to_string();
            }
            _ => {
                let (Some(site), Some(path), Some(physical)) = (
                    sites.last_mut(),
                    attribute(attributes, "path"),
                    attribute(attributes, "physicalPath"),
                ) else {
                    continue;
                };
                site.dirs
                    .push(site_dir(&application, path, physical, exchange_root));
            }
        }
    }
    sites
}

/// The URL Rewrite rules in force in one configuration file (`applicationHost.config`
/// or a `web.config`); none when it is not XML.
pub fn abort_rules_of(xml: &str) -> Vec<AbortRule> {
    roxmltree::Document::parse(xml)
        .map(|doc| abort_rules(&doc))
        .unwrap_or_default()
}

/// Collections are read in order so that a `<clear/>` drops the rules before it.
fn abort_rules(doc: &roxmltree::Document) -> Vec<AbortRule> {
    let mut out = Vec::new();
    for collection in doc
        .descendants()
        .filter(|n| matches!(n.tag_name().name(), "rules" | "globalRules"))
        .filter(|n| n.ancestors().any(|a| a.tag_name().name() == "rewrite"))
    {
        let mut rules = Vec::new();
        for child in collection.children().filter(|c| c.is_element()) {
            match child.tag_name().name() {
                "clear" => rules.clear(),
                "rule" => rules.push(child),
                _ => {}
            }
        }
        for rule in rules {
            let enabled = rule
                .attribute("enabled")
                .is_none_or(|v| !v.eq_ignore_ascii_case("false"));
            let aborts = rule.children().any(|c| {
                c.tag_name().name() == "action"
                    && c.attribute("type")
                        .is_some_and(|t| t.eq_ignore_ascii_case("AbortRequest"))
            });
            if !enabled || !aborts {
                continue;
            }
            let tests = rule
                .descendants()
                .filter(|n| matches!(n.tag_name().name(), "add" | "match"))
                .filter_map(|n| {
                    let pattern = n.attribute("pattern").or(n.attribute("url"))?;
                    let input = n.attribute("input").unwrap_or("URL");
                    Some((input.to_ascii_lowercase(), pattern.to_ascii_lowercase()))
                })
                .collect();
            out.push(AbortRule {
                name: rule.attribute("name").unwrap_or("(unnamed)").to_string(),
                tests,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"<configuration>
      <system.applicationHost>
        <sites>
          <site name="Default Web Site" id="1">
            <application path="/">
              <virtualDirectory path="/" physicalPath="%SystemDrive%\inetpub\wwwroot" />
            </application>
            <application path="/owa">
              <virtualDirectory path="/" physicalPath="%ExchangeInstallPath%FrontEnd\HttpProxy\owa" />
              <virtualDirectory path="/Calendar" physicalPath="C:\Users\Public\cal" />
            </application>
            <bindings><binding protocol="https" bindingInformation="*:443:" /></bindings>
          </site>
          <site name="Exchange Back End" id="2">
            <application path="/ecp"><virtualDirectory path="/" physicalPath="D:\Ex\ClientAccess\ecp" /></application>
            <logFile directory="E:\IISLogs" />
          </site>
          <siteDefaults><logFile logFormat="W3C" directory="%SystemDrive%\inetpub\logs\LogFiles" /></siteDefaults>
        </sites>
        <globalModules>
          <add name="StaticFileModule" image="%windir%\System32\inetsrv\static.dll" />
          <add name="CacheCore" image="C:\ProgramData\cache.dll" />
        </globalModules>
      </system.applicationHost>
      <system.webServer>
        <handlers><add name="x" path="*.x" scriptProcessor="C:\Windows\Temp\h.dll" /></handlers>
        <modules><add name="Auth" type="Evil.Module, Evil" /><add name="StaticFileModule" /></modules>
      </system.webServer>
    </configuration>"#;

    #[test]
    fn sites_applications_virtual_directories_and_log_folders_are_read() {
        let config = IisConfig::read(CONFIG, Some(r"D:\Ex\"));
        assert!(config.well_formed);
        let dirs: Vec<(&str, &str, &str)> = config
            .dirs()
            .map(|(s, d)| (s.name.as_str(), d.url.as_str(), d.physical.as_str()))
            .collect();
        assert_eq!(
            dirs,
            [
                ("Default Web Site", "", r"C:\inetpub\wwwroot"),
                ("Default Web Site", "/owa", r"D:\Ex\FrontEnd\HttpProxy\owa"),
                ("Default Web Site", "/owa/calendar", r"C:\Users\Public\cal"),
                ("Exchange Back End", "/ecp", r"D:\Ex\ClientAccess\ecp"),
            ]
        );
        assert_eq!(config.sites[0].bindings, ["https *:443:"]);
        assert_eq!(config.sites[1].id, Some(2));
        assert_eq!(
            config.log_dirs(),
            [r"E:\IISLogs", r"C:\inetpub\logs\LogFiles"]
        );
    }

    #[test]
    fn modules_and_handlers_are_listed_with_their_registration() {
        let config = IisConfig::read(CONFIG, None);
        let loaded: Vec<(LoadedKind, &str, &str)> = config
            .loaded
            .iter()
            .map(|l| (l.kind, l.name.as_str(), l.target.as_str()))
            .collect();
        assert_eq!(
            loaded,
            [
                (
                    LoadedKind::NativeModule,
                    "StaticFileModule",
                    r"%windir%\System32\inetsrv\static.dll"
                ),
                (
                    LoadedKind::NativeModule,
                    "CacheCore",
                    r"C:\ProgramData\cache.dll"
                ),
                (LoadedKind::Handler, "x", r"C:\Windows\Temp\h.dll"),
                (LoadedKind::ManagedModule, "Auth", "Evil.Module, Evil"),
            ]
        );
        assert_eq!(
            config.loaded[1].item,
            "globalModules/add[@name='CacheCore']"
        );
    }

    #[test]
    fn a_damaged_file_still_gives_its_sites() {
        let cut = &CONFIG[..CONFIG.find("<siteDefaults").unwrap()];
        let config = IisConfig::read(cut, None);
        assert!(!config.well_formed);
        assert_eq!(config.sites.len(), 2);
        assert_eq!(config.dirs().count(), 4);
        assert!(config.loaded.is_empty() && config.abort_rules.is_empty());
        assert!(IisConfig::read("\u{0}\u{1}garbage", None).sites.is_empty());
    }

    #[test]
    fn abort_rules_count_only_when_enabled_aborting_and_not_cleared() {
        let eomt = exsweep_testkit::iis::MITIGATION_RULES;
        let names: Vec<String> = abort_rules_of(eomt).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["EOMT Cookie", "PowerShell - inbound"]);
        let disabled = eomt.replace(
            r#"<rule name="EOMT Cookie""#,
            r#"<rule name="EOMT Cookie" enabled="false""#,
        );
        assert_eq!(abort_rules_of(&disabled).len(), 1);
        assert!(abort_rules_of(&eomt.replace("AbortRequest", "None")).is_empty());
        assert!(abort_rules_of(&eomt.replace("</rules>", "<clear /></rules>")).is_empty());
        assert!(abort_rules_of("<configuration><rewrite>").is_empty());
    }
}
