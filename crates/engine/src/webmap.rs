//! IIS's map between URLs and folders: the sites, applications and virtual
//! directories of `applicationHost.config`, or Exchange's layout when the evidence
//! lacks it. A file the sweep flags gets the URLs it answers at (a back-end shell in
//! `ClientAccess\Owa\auth` answers at `/owa/auth/...` on the back-end site, which
//! the front end proxies to), and a requested URL the files it would run, to look
//! them up among the indicators' paths.

use crate::iis_config::IisConfig;
use exsweep_evidence::known::DEFAULT_WEB_ROOT;
use exsweep_evidence::winpath;

/// One virtual directory: a URL path and the folder it serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualDir {
    pub site: String,
    /// Lower case, no trailing `/`; empty for a site's root.
    pub url: String,
    /// The folder's Windows path key ([`winpath::key`]).
    pub folder: String,
}

/// The virtual directories of every site, and where they were read from.
#[derive(Clone, Debug, Default)]
pub struct WebMap {
    dirs: Vec<VirtualDir>,
    /// True when read from `applicationHost.config`, false for Exchange's defaults.
    pub from_config: bool,
}

impl WebMap {
    /// The virtual directories IIS's configuration declares, in its order.
    pub fn from_config(config: &IisConfig) -> WebMap {
        let dirs = config
            .dirs()
            .filter(|(site, dir)| !site.name.is_empty() && winpath::split(&dir.physical).is_some())
            .map(|(site, dir)| VirtualDir {
                site: site.name.clone(),
                url: dir.url.clone(),
                folder: winpath::key(&dir.physical),
            })
            .collect();
        WebMap {
            dirs,
            from_config: true,
        }
    }

    /// Exchange's layout: the default site's root, the front end's applications
    /// (each a folder of `FrontEnd\HttpProxy` named as its URL) and the back end's
    /// (likewise below `ClientAccess`).
    pub fn defaults(exchange_root: &str) -> WebMap {
        let dir = |site: &str, url: &str, folder: String| VirtualDir {
            site: site.into(),
            url: url.into(),
            folder: winpath::key(&folder),
        };
        WebMap {
            dirs: vec![
                dir("Default Web Site", "", DEFAULT_WEB_ROOT.into()),
                dir(
                    "Default Web Site",
                    "",
                    format!(r"{exchange_root}\FrontEnd\HttpProxy"),
                ),
                dir(
                    "Exchange Back End",
                    "",
                    format!(r"{exchange_root}\ClientAccess"),
                ),
            ],
            from_config: false,
        }
    }

    /// The map of the evidence: its `applicationHost.config` when that declares any
    /// virtual directory, else Exchange's defaults.
    pub fn read(config: Option<&IisConfig>, exchange_root: &str) -> WebMap {
        config
            .map(WebMap::from_config)
            .filter(|m| !m.dirs.is_empty())
            .unwrap_or_else(|| WebMap::defaults(exchange_root))
    }

    /// The URL paths (lower case) a file answers at: per site, by the virtual
    /// directory with the longest folder that holds it.
    pub fn urls_of(&self, windows_path: &str) -> Vec<String> {
        let key = winpath::key(windows_path);
        best_per_site(self.dirs.iter().filter_map(|dir| {
            let rest = key.strip_prefix(dir.folder.as_str())?;
            rest.starts_with('\\').then(|| {
                let url = format!("{}{}", dir.url, rest.replace('\\', "/"));
                (dir.site.as_str(), dir.folder.len(), url)
            })
        }))
    }

    /// The files a URL path (lower case, decoded) would run: per site, by the
    /// virtual directory with the longest URL that holds it.
    pub fn files_of(&self, url: &str) -> Vec<String> {
        best_per_site(self.dirs.iter().filter_map(|dir| {
            let rest = url.strip_prefix(dir.url.as_str())?;
            rest.starts_with('/').then(|| {
                let file = format!("{}{}", dir.folder, rest.replace('/', "\\"));
                (dir.site.as_str(), dir.url.len(), file)
            })
        }))
    }
}

/// Of (site, match length, result) candidates, the results of the longest match of
/// each site (all of them where several tie), sorted.
fn best_per_site<'a>(candidates: impl Iterator<Item = (&'a str, usize, String)>) -> Vec<String> {
    let candidates: Vec<(&str, usize, String)> = candidates.collect();
    let mut out: Vec<String> = candidates
        .iter()
        .filter(|(site, len, _)| {
            candidates
                .iter()
                .all(|(other, other_len, _)| other != site || other_len <= len)
        })
        .map(|(_, _, result)| result.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EX: &str = r"C:\Program Files\Microsoft\Exchange Server\V15";

    const CONFIG: &str = r#"<configuration><system.applicationHost>
      <sites>
        <site name="Default Web Site" id="1" serverAutoStart="true">
          <application path="/" applicationPool="DefaultAppPool">
            <virtualDirectory path="/" physicalPath="%SystemDrive%\inetpub\wwwroot" />
          </application>
          <application path="/owa" applicationPool="MSExchangeOWAAppPool">
            <virtualDirectory path="/" physicalPath="C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa" />
          </application>
        </site>
        <site name="Exchange Back End" id="2">
          <application path="/owa" applicationPool="MSExchangeOWAAppPool">
            <virtualDirectory path="/" physicalPath="D:\Exchange\ClientAccess\Owa" />
            <virtualDirectory path="/Calendar" physicalPath="D:\Exchange\ClientAccess\Owa\Calendar" />
          </application>
          <application path="/ecp">
            <virtualDirectory path="/" physicalPath="D:\Exchange\ClientAccess\ecp" />
          </application>
        </site>
        <applicationDefaults applicationPool="DefaultAppPool" />
        <virtualDirectoryDefaults allowSubDirConfig="true" />
      </sites></system.applicationHost></configuration>"#;

    #[test]
    fn a_back_end_shell_gets_its_real_url() {
        let map = WebMap::read(Some(&IisConfig::read(CONFIG, Some(EX))), EX);
        assert!(map.from_config);
        assert_eq!(
            map.urls_of(r"D:\Exchange\ClientAccess\Owa\auth\shell.aspx"),
            ["/owa/auth/shell.aspx"]
        );
        assert_eq!(
            map.urls_of(r"C:\inetpub\wwwroot\aspnet_client\system_web\x.aspx"),
            ["/aspnet_client/system_web/x.aspx"]
        );
        assert_eq!(
            map.urls_of(&format!(r"{EX}\FrontEnd\HttpProxy\owa\auth\x.aspx")),
            ["/owa/auth/x.aspx"]
        );
        assert!(map.urls_of(r"D:\Other\x.aspx").is_empty());
        assert_eq!(
            map.files_of("/owa/auth/x.aspx"),
            [
                winpath::key(&format!(r"{EX}\FrontEnd\HttpProxy\owa\auth\x.aspx")),
                winpath::key(r"D:\Exchange\ClientAccess\Owa\auth\x.aspx"),
            ]
        );
    }

    #[test]
    fn without_a_config_exchanges_layout_is_assumed() {
        let garbage = IisConfig::read("<garbage", Some(EX));
        for map in [WebMap::read(None, EX), WebMap::read(Some(&garbage), EX)] {
            assert!(!map.from_config);
            assert_eq!(
                map.urls_of(&format!(r"{EX}\ClientAccess\Owa\auth\x.aspx")),
                ["/owa/auth/x.aspx"]
            );
            let files = map.files_of("/aspnet_client/x.aspx");
            assert!(files.contains(&winpath::key(r"C:\inetpub\wwwroot\aspnet_client\x.aspx")));
        }
    }
}
