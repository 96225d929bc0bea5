//! Reading the Exchange build from what a server answers, most precise first
//! (reference §6): the `X-OWA-Version` header (the full build, on builds from mid-2021),
//! the eDiscovery export tool's ClickOnce manifest (`assemblyIdentity version`, the full
//! build), the `/owa/auth/<x.y.z>/` paths in `logon.aspx` (the CU only). And the
//! server names Exchange leaks in its headers.

use exsweep_exposure::builds::Build;

/// The path of the export tool's manifest, below the server.
pub const EXPORT_TOOL_MANIFEST: &str =
    "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application";
/// OWA's logon page.
pub const LOGON_PAGE: &str = "/owa/auth/logon.aspx";

/// Which answer gave the build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    OwaVersionHeader,
    ExportToolManifest,
    LogonPagePath,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::OwaVersionHeader => "x-owa-version",
            Method::ExportToolManifest => "exporttool-manifest",
            Method::LogonPagePath => "logon-build-path",
        }
    }

    /// How it reads in a sentence.
    pub fn describe(self) -> &'static str {
        match self {
            Method::OwaVersionHeader => "the X-OWA-Version header",
            Method::ExportToolManifest => "the eDiscovery export tool's manifest",
            Method::LogonPagePath => "the build path in logon.aspx",
        }
    }
}

/// `X-OWA-Version: 15.2.1118.20`.
pub fn from_owa_version(value: &str) -> Option<Build> {
    Build::parse(value).filter(is_exchange_15)
}

/// The manifest's `<assemblyIdentity name="microsoft.exchange.ediscovery.exporttool.application" version="15.2.1118.20" .../>`.
pub fn from_export_tool_manifest(body: &str) -> Option<Build> {
    let document = roxmltree::Document::parse(body.trim_start_matches('\u{feff}')).ok()?;
    document
        .descendants()
        .filter(|node| node.tag_name().name() == "assemblyIdentity")
        .find_map(|node| node.attribute("version").and_then(Build::parse))
        .filter(is_exchange_15)
}

/// The highest `/owa/auth/15.x.y/` (or `/owa/15.x.y/`) path in the logon page: the
/// CU's build, with the revision unknown (returned as 0).
pub fn from_logon_page(body: &str) -> Option<Build> {
    let mut best: Option<Build> = None;
    for (at, _) in body.match_indices("/owa/") {
        let rest = &body[at + 5..];
        let rest = rest.strip_prefix("auth/").unwrap_or(rest);
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if !rest[end..].starts_with('/') {
            continue;
        }
        let mut parts = rest[..end].split('.');
        let numbers: Option<Vec<u32>> = parts.by_ref().take(3).map(|p| p.parse().ok()).collect();
        if let Some([a, b, c]) = numbers.as_deref() {
            let build = Build([*a, *b, *c, 0]);
            if is_exchange_15(&build) && best.is_none_or(|b| build > b) {
                best = Some(build);
            }
        }
    }
    best
}

/// Exchange 2013 and later are 15.x; anything else is not a build this knows.
fn is_exchange_15(build: &Build) -> bool {
    build.0[0] == 15 && build.0[1] <= 2
}

/// Headers in which Exchange names its front-end and back-end servers.
pub const NAME_HEADERS: [&str; 4] = [
    "x-feserver",
    "x-beserver",
    "x-calculatedbetarget",
    "x-diaginfo",
];

/// Headers only Exchange sends: an answer with one of them is from Exchange.
pub fn is_exchange_header(name: &str) -> bool {
    NAME_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h))
        || name.eq_ignore_ascii_case("x-owa-version")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_sources_read_their_builds() {
        assert_eq!(
            from_owa_version(" 15.2.1118.20 "),
            Some(Build([15, 2, 1118, 20]))
        );
        assert_eq!(from_owa_version("8.5.1"), None);
        let manifest = r#"<?xml version="1.0" encoding="utf-8"?>
<asmv1:assembly xmlns:asmv1="urn:schemas-microsoft-com:asm.v1" xmlns="urn:schemas-microsoft-com:asm.v2" manifestVersion="1.0">
  <assemblyIdentity name="microsoft.exchange.ediscovery.exporttool.application" version="15.1.2176.2" publicKeyToken="b8b8b8b8b8b8b8b8" language="neutral" processorArchitecture="msil" xmlns="urn:schemas-microsoft-com:asm.v1" />
</asmv1:assembly>"#;
        assert_eq!(
            from_export_tool_manifest(manifest),
            Some(Build([15, 1, 2176, 2]))
        );
        assert_eq!(from_export_tool_manifest("<html>404</html"), None);
        let logon = r#"<link rel="shortcut icon" href="/owa/auth/15.1.2176/themes/resources/favicon.ico" type="image/x-icon">
<script src="/owa/auth/15.1.2044/scripts/premium/flogon.js"></script><a href="/owa/auth/15.x/">"#;
        assert_eq!(from_logon_page(logon), Some(Build([15, 1, 2176, 0])));
        assert_eq!(from_logon_page("<html>nothing</html>"), None);
    }
}
