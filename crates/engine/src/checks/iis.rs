//! IIS persistence: native modules and handlers registered from where no product
//! installs them. A native IIS module sees and can answer every request before
//! Exchange does; backdoors built as IIS modules (RGDoor, IIS-Raid, the modules ESET
//! catalogued in 2021) are registered in `applicationHost.config`'s `<globalModules>`
//! with an `image` in a user-writable or odd folder, or as a handler's
//! `scriptProcessor`. IIS's own modules live in `inetsrv`, ASP.NET's in the
//! framework's folder, Exchange's in its install folder; anything else is named.

use super::WEB_SHELL;
use crate::inventory::Inventory;
use exsweep_evidence::{known::APPLICATION_HOST, winpath};
use exsweep_model::{Check, Class, ConfigItem, Entities, Evidence, Finding, Reference, Severity};
use std::borrow::Cow;

pub static UNUSUAL_IIS_MODULE: Check = Check {
    id: Cow::Borrowed("EXS-IIS-001"),
    title: Cow::Borrowed("IIS native module or handler loaded from an unusual folder"),
    severity: Severity::High,
    class: Class::Suspicious,
    category: Cow::Borrowed("persistence"),
    references: Cow::Borrowed(&[
        Reference::attack("T1505.004"),
        WEB_SHELL,
        Reference::url("https://www.welivesecurity.com/2021/08/06/anatomy-native-iis-malware/"),
    ]),
    why: Cow::Borrowed("A native IIS module runs inside every worker process and sees every request, credentials included, before Exchange does; IIS, ASP.NET and Exchange install theirs in their own folders, and modules registered from elsewhere are how IIS backdoors persist through patching and shell clean-ups."),
    action: Cow::Borrowed("Identify the DLL (vendor, signature, hash); if nobody installed it, preserve it, remove its <globalModules> entry with appcmd, restart IIS, and treat the server as compromised."),
};

pub static IIS_CHECKS: &[&Check] = &[&UNUSUAL_IIS_MODULE];

/// `%windir%\...` and friends, as IIS expands them.
fn expand(path: &str, exchange_root: Option<&str>) -> String {
    let mut out = path.to_string();
    for (var, value) in [
        ("%windir%", r"C:\Windows"),
        ("%systemroot%", r"C:\Windows"),
        ("%systemdrive%", "C:"),
        ("%programfiles%", r"C:\Program Files"),
        ("%programfiles(x86)%", r"C:\Program Files (x86)"),
        ("%exchangeinstallpath%", exchange_root.unwrap_or("")),
    ] {
        if let Some(at) = out.to_ascii_lowercase().find(var) {
            out.replace_range(at..at + var.len(), value.trim_end_matches('\\'));
        }
    }
    out
}

/// Folders IIS, ASP.NET, Exchange and IIS's own add-ons (URL Rewrite, ARR) install
/// modules in.
fn is_usual_folder(path_key: &str, exchange_root: Option<&str>) -> bool {
    let mut usual = vec![
        r"c:\windows\system32\inetsrv\".to_string(),
        r"c:\windows\syswow64\inetsrv\".to_string(),
        r"c:\windows\microsoft.net\framework".to_string(),
        r"c:\program files\iis\".to_string(),
        r"c:\program files (x86)\iis\".to_string(),
        r"c:\program files\microsoft\exchange server\".to_string(),
    ];
    if let Some(root) = exchange_root {
        usual.push(winpath::key(root) + "\\");
    }
    usual.iter().any(|u| path_key.starts_with(u.as_str()))
}

/// The modules and handlers of `applicationHost.config` whose DLL is in no usual
/// folder, as findings.
pub fn findings(inventory: &Inventory) -> Vec<Finding> {
    let Some(text) = inventory.iis_config.as_deref() else {
        return Vec::new();
    };
    let Ok(doc) = roxmltree::Document::parse(text) else {
        return Vec::new();
    };
    let exchange_root = inventory.exchange.as_ref().map(|e| e.root.as_str());
    let mut out = Vec::new();
    for node in doc.descendants().filter(|n| n.tag_name().name() == "add") {
        let parent = node.parent_element().map(|p| p.tag_name().name());
        let (what, dll) = match parent {
            Some("globalModules") => ("native module", node.attribute("image")),
            Some("handlers") => ("handler", node.attribute("scriptProcessor")),
            _ => continue,
        };
        let Some(dll) = dll.filter(|d| !d.trim().is_empty()) else {
            continue;
        };
        let expanded = expand(dll, exchange_root);
        if is_usual_folder(&winpath::key(&expanded), exchange_root) {
            continue;
        }
        let name = node.attribute("name").unwrap_or("(unnamed)");
        let detail = format!(
            "IIS loads the {what} \"{name}\" from {expanded}, a folder IIS, ASP.NET and Exchange do not install modules in."
        );
        out.push(Finding::new(
            UNUSUAL_IIS_MODULE.hit(detail),
            Evidence::Config(ConfigItem {
                windows_path: APPLICATION_HOST.to_string(),
                item: format!("{}/add[@name='{name}']", parent.unwrap_or("")),
                value: dll.to_string(),
                ..ConfigItem::default()
            }),
            Entities {
                windows_path: Some(expanded),
                ..Entities::default()
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_are_judged_by_their_folder_with_variables_expanded() {
        let exchange = Some(r"D:\Exchange\V15");
        let usual = |p: &str| is_usual_folder(&winpath::key(&expand(p, exchange)), exchange);
        assert!(usual(r"%windir%\System32\inetsrv\iiscore.dll"));
        assert!(usual(
            r"%SystemRoot%\Microsoft.NET\Framework64\v4.0.30319\webengine4.dll"
        ));
        assert!(usual(
            r"%ExchangeInstallPath%\FrontEnd\HttpProxy\bin\kerbauth.dll"
        ));
        assert!(usual(
            r"%ProgramFiles%\IIS\Asp.Net Core Module\V2\aspnetcorev2.dll"
        ));
        assert!(!usual(r"C:\Windows\Temp\iislog.dll"));
        assert!(
            !usual(r"%windir%\System32\iisext.dll"),
            "System32 itself is not inetsrv"
        );
        assert!(!usual(r"C:\ProgramData\Microsoft\Crypto\cache.dll"));
    }
}
