//! IIS persistence and redirection, from the site model of IIS's configuration:
//! native modules and handlers registered from where no product installs them, or
//! in IIS's own folder under a name IIS does not ship, and virtual directories that
//! serve a folder no web application lives in. A native IIS module sees and can
//! answer every request before Exchange does; backdoors built as IIS modules (RGDoor,
//! IIS-Raid, the modules ESET catalogued in 2021) are registered in
//! `applicationHost.config`'s `<globalModules>` with an `image` in a user-writable or
//! odd folder, or beside IIS's own under a plausible name, or as a handler's
//! `scriptProcessor`. A virtual directory mapped to a temp, user or share folder
//! serves (and runs) whatever is dropped there; an Exchange application moved out of
//! the Exchange install serves someone else's pages at Exchange's URLs. A managed
//! module outside .NET's and Microsoft's assemblies is a lead (security products add
//! them), reported low.

use super::WEB_SHELL;
use crate::iis_config::{expand, IisConfig, LoadedKind};
use crate::inventory::Inventory;
use exsweep_evidence::{known::APPLICATION_HOST, winpath};
use exsweep_model::{Check, Class, ConfigItem, Entities, Evidence, Finding, Reference, Severity};
use std::borrow::Cow;

const NATIVE_IIS_MALWARE: Reference =
    Reference::url("https://www.welivesecurity.com/2021/08/06/anatomy-native-iis-malware/");

pub static UNUSUAL_IIS_MODULE: Check = Check {
    id: Cow::Borrowed("EXS-IIS-001"),
    title: Cow::Borrowed("IIS native module or handler loaded from an unusual folder"),
    severity: Severity::High,
    class: Class::Suspicious,
    category: Cow::Borrowed("persistence"),
    references: Cow::Borrowed(&[
        Reference::attack("T1505.004"),
        WEB_SHELL,
        NATIVE_IIS_MALWARE,
    ]),
    why: Cow::Borrowed("A native IIS module runs inside every worker process and sees every request, credentials included, before Exchange does; IIS, ASP.NET and Exchange install theirs in their own folders, and modules registered from elsewhere are how IIS backdoors persist through patching and shell clean-ups."),
    action: Cow::Borrowed("Identify the DLL (vendor, signature, hash); if nobody installed it, preserve it, remove its <globalModules> entry with appcmd, restart IIS, and treat the server as compromised."),
};

pub static UNKNOWN_INETSRV_MODULE: Check = Check {
    id: Cow::Borrowed("EXS-IIS-003"),
    title: Cow::Borrowed("IIS native module in IIS's folder under a name IIS does not ship"),
    severity: Severity::Medium,
    class: Class::Suspicious,
    category: Cow::Borrowed("persistence"),
    references: Cow::Borrowed(&[Reference::attack("T1505.004"), NATIVE_IIS_MALWARE]),
    why: Cow::Borrowed("IIS backdoors are often copied into System32\\inetsrv beside IIS's own modules under a plausible name, where a folder check alone passes them; IIS's own modules are a short, known list."),
    action: Cow::Borrowed("Check the DLL's version information, signature and hash; a module no installed product accounts for is a backdoor until shown otherwise: preserve it, remove its <globalModules> entry, restart IIS."),
};

pub static UNUSUAL_VIRTUAL_DIRECTORY: Check = Check {
    id: Cow::Borrowed("EXS-IIS-002"),
    title: Cow::Borrowed("IIS virtual directory serves an unusual folder"),
    severity: Severity::High,
    class: Class::Suspicious,
    category: Cow::Borrowed("persistence"),
    references: Cow::Borrowed(&[WEB_SHELL, Reference::attack("T1574")]),
    why: Cow::Borrowed("A virtual directory serves, and for script files runs, whatever lies in its folder: mapped to a temp, user, share or system folder it lets an attacker publish a shell by dropping a file there, and an Exchange application pointed outside the Exchange install answers Exchange's URLs with someone else's pages."),
    action: Cow::Borrowed("Compare with a clean server (Get-WebVirtualDirectory, Get-OwaVirtualDirectory); if nobody made the mapping, preserve the folder, restore the virtual directory's physical path with appcmd, and sweep the folder it pointed to."),
};

pub static THIRD_PARTY_MANAGED_MODULE: Check = Check {
    id: Cow::Borrowed("EXS-IIS-004"),
    title: Cow::Borrowed("IIS managed module from outside Microsoft's assemblies"),
    severity: Severity::Low,
    class: Class::Suspicious,
    category: Cow::Borrowed("persistence"),
    references: Cow::Borrowed(&[Reference::attack("T1505.004"), WEB_SHELL]),
    why: Cow::Borrowed("A managed module registered in applicationHost.config runs in every ASP.NET request of every site, Exchange's included, and can read credentials or answer hidden commands; IIS's and Exchange's own are System.* and Microsoft.* types. Security products add their own, so this is a lead, not a verdict."),
    action: Cow::Borrowed("Identify the assembly (which product, signed by whom, in the GAC or a bin folder); if no installed product accounts for it, preserve it and remove its <modules> entry."),
};

pub static IIS_CHECKS: &[&Check] = &[
    &UNUSUAL_IIS_MODULE,
    &UNUSUAL_VIRTUAL_DIRECTORY,
    &UNKNOWN_INETSRV_MODULE,
    &THIRD_PARTY_MANAGED_MODULE,
];

/// Whether a managed type (`Namespace.Type, Assembly, Version=...`) is .NET's or
/// Microsoft's: its namespace and its assembly both.
fn is_microsoft_type(type_name: &str) -> bool {
    let microsoft = |part: &str| {
        let part = part.trim().to_ascii_lowercase();
        part.starts_with("system.") || part.starts_with("microsoft.") || part == "system"
    };
    let mut parts = type_name.split(',');
    let namespace = parts.next().unwrap_or("");
    microsoft(namespace) && parts.next().is_none_or(microsoft)
}

/// The file names of the native modules IIS 10 installs in `inetsrv`, with its
/// optional features and Microsoft's URL Rewrite and ASP.NET Core (v1) modules.
const IIS_MODULE_FILES: &[&str] = &[
    "aspnetcore.dll",
    "authanon.dll",
    "authbas.dll",
    "authcert.dll",
    "authmap.dll",
    "authmd5.dll",
    "authsspi.dll",
    "cachfile.dll",
    "cachhttp.dll",
    "cachtokn.dll",
    "cachuri.dll",
    "cgi.dll",
    "compdyn.dll",
    "compstat.dll",
    "custerr.dll",
    "defdoc.dll",
    "diprestr.dll",
    "dirlist.dll",
    "filter.dll",
    "gzip.dll",
    "iis_ssi.dll",
    "iisetw.dll",
    "iisfcgi.dll",
    "iisfreb.dll",
    "iisreqs.dll",
    "iiswsock.dll",
    "iprestr.dll",
    "isapi.dll",
    "logcust.dll",
    "loghttp.dll",
    "modrqflt.dll",
    "protsup.dll",
    "redirect.dll",
    "rewrite.dll",
    "static.dll",
    "urlauthz.dll",
    "validcfg.dll",
    "warmup.dll",
    "webdav.dll",
];

/// The folders of IIS's own native modules.
const INETSRV: [&str; 2] = [
    r"c:\windows\system32\inetsrv\",
    r"c:\windows\syswow64\inetsrv\",
];

/// Folders IIS, ASP.NET, Exchange, Windows' RPC proxy (Outlook Anywhere) and IIS's
/// own add-ons (URL Rewrite, ARR) install modules and handlers in.
fn is_usual_folder(path_key: &str, exchange_root: Option<&str>) -> bool {
    let mut usual: Vec<String> = INETSRV.iter().map(|s| s.to_string()).collect();
    usual.extend(
        [
            r"c:\windows\system32\rpcproxy\",
            r"c:\windows\microsoft.net\framework",
            r"c:\program files\iis\",
            r"c:\program files (x86)\iis\",
            r"c:\program files\microsoft\exchange server\",
        ]
        .map(String::from),
    );
    if let Some(root) = exchange_root {
        usual.push(winpath::key(root) + "\\");
    }
    usual.iter().any(|u| path_key.starts_with(u.as_str()))
}

/// The URLs of Exchange's web applications (the first segment).
const EXCHANGE_APPLICATIONS: &[&str] = &[
    "api",
    "autodiscover",
    "ecp",
    "ews",
    "exchange",
    "exchweb",
    "mapi",
    "microsoft-server-activesync",
    "oab",
    "owa",
    "powershell",
    "public",
    "pushnotifications",
    "rpc",
    "rpcwithcert",
];

/// Why a folder is no place for a virtual directory, if it is not: the path after
/// the drive, as a [`winpath::key`].
fn unusual_folder(physical: &str) -> Option<&'static str> {
    if physical.starts_with("\\\\") {
        return Some("a network share: another machine decides what it serves");
    }
    let key = winpath::key(physical);
    let rest = key.get(2..).unwrap_or("").trim_end_matches('\\');
    let under = |folder: &str| rest == folder || rest.starts_with(&format!("{folder}\\"));
    if rest.is_empty() {
        return Some("the root of a drive");
    }
    if ["\\windows", "\\windows\\system32", "\\windows\\syswow64"].contains(&rest) {
        return Some("Windows' own folder, with its programs");
    }
    [
        ("\\windows\\temp", "a temp folder"),
        ("\\temp", "a temp folder"),
        ("\\windows\\tasks", "a folder any user can write"),
        ("\\windows\\tracing", "a folder any user can write"),
        ("\\windows\\debug", "a folder any user can write"),
        ("\\perflogs", "a folder any user can write"),
        ("\\programdata", "a folder any user can write"),
        ("\\users", "a user's folder"),
        ("\\$recycle.bin", "the recycle bin"),
        ("\\system volume information", "a system folder"),
    ]
    .into_iter()
    .find(|(folder, _)| under(folder))
    .map(|(_, why)| why)
}

/// The module and virtual-directory findings of IIS's configuration.
pub fn findings(inventory: &Inventory) -> Vec<Finding> {
    let Some(config) = inventory.iis.as_ref() else {
        return Vec::new();
    };
    let exchange_root = inventory.exchange.as_ref().map(|e| e.root.as_str());
    let mut out = module_findings(config, exchange_root);
    out.extend(directory_findings(config, exchange_root));
    out
}

fn config_finding(
    check: &'static Check,
    detail: String,
    item: String,
    value: &str,
    path: String,
) -> Finding {
    Finding::new(
        check.hit(detail),
        Evidence::Config(ConfigItem {
            windows_path: APPLICATION_HOST.to_string(),
            item,
            value: value.to_string(),
            ..ConfigItem::default()
        }),
        Entities {
            windows_path: Some(path),
            ..Entities::default()
        },
    )
}

fn module_findings(config: &IisConfig, exchange_root: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    for loaded in &config.loaded {
        let name = &loaded.name;
        if loaded.kind == LoadedKind::ManagedModule {
            if !is_microsoft_type(&loaded.target) {
                out.push(config_finding(
                    &THIRD_PARTY_MANAGED_MODULE,
                    format!(
                        "IIS runs the managed module \"{name}\" ({}) in every ASP.NET request.",
                        loaded.target
                    ),
                    loaded.item.clone(),
                    &loaded.target,
                    APPLICATION_HOST.to_string(),
                ));
            }
            continue;
        }
        let what = loaded.kind.as_str();
        let expanded = expand(&loaded.target, exchange_root);
        let key = winpath::key(&expanded);
        let (check, detail) = if !is_usual_folder(&key, exchange_root) {
            (
                &UNUSUAL_IIS_MODULE,
                format!("IIS loads the {what} \"{name}\" from {expanded}, a folder IIS, ASP.NET and Exchange do not install modules in."),
            )
        } else if loaded.kind == LoadedKind::NativeModule
            && INETSRV
                .iter()
                .any(|d| key.strip_prefix(d).is_some_and(|f| !f.contains('\\')))
            && !IIS_MODULE_FILES.contains(&winpath::file_name(&key))
        {
            (
                &UNKNOWN_INETSRV_MODULE,
                format!("IIS loads the native module \"{name}\" from {expanded}: IIS's folder, but not a module IIS ships."),
            )
        } else {
            continue;
        };
        out.push(config_finding(
            check,
            detail,
            loaded.item.clone(),
            &loaded.target,
            expanded,
        ));
    }
    out
}

fn directory_findings(config: &IisConfig, exchange_root: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (site, dir) in config.dirs() {
        let first = dir
            .url
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("");
        let folder = winpath::key(&dir.physical) + "\\";
        // Windows' RPC proxy serves Outlook Anywhere's `/Rpc` from its own folder.
        let outside_exchange = exchange_root.filter(|root| {
            EXCHANGE_APPLICATIONS.contains(&first)
                && !folder.starts_with(&(winpath::key(root) + "\\"))
                && !folder.starts_with(r"c:\windows\system32\rpcproxy\")
        });
        let why = match (unusual_folder(&dir.physical), outside_exchange) {
            (Some(why), _) => why.to_string(),
            (None, Some(root)) => {
                format!("an Exchange application outside the Exchange install ({root})")
            }
            (None, None) => continue,
        };
        let url = if dir.url.is_empty() {
            "/"
        } else {
            dir.url.as_str()
        };
        out.push(config_finding(
            &UNUSUAL_VIRTUAL_DIRECTORY,
            format!(
                "The site \"{}\" serves {url} from {}: {why}.",
                site.name, dir.physical
            ),
            format!(
                "site[@name='{}']/application[@path='{}']/virtualDirectory[@path='{}']",
                site.name, dir.application, dir.path
            ),
            &dir.physical,
            dir.physical.clone(),
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
        assert!(usual(r"C:\Windows\System32\RpcProxy\RpcProxy.dll"));
        assert!(!usual(r"C:\Windows\Temp\iislog.dll"));
        assert!(
            !usual(r"%windir%\System32\iisext.dll"),
            "System32 itself is not inetsrv"
        );
        assert!(!usual(r"C:\ProgramData\Microsoft\Crypto\cache.dll"));
    }

    #[test]
    fn managed_modules_are_microsoft_s_by_namespace_and_assembly() {
        assert!(is_microsoft_type("System.Web.Caching.OutputCacheModule"));
        assert!(is_microsoft_type(
            "Microsoft.Exchange.HttpProxy.ProxyModule, Microsoft.Exchange.FrontEndHttpProxy"
        ));
        assert!(is_microsoft_type(
            "System.Web.Security.UrlAuthorizationModule, System.Web, Version=4.0.0.0"
        ));
        assert!(!is_microsoft_type("Duo.OWA.Module, DuoOwa"));
        assert!(
            !is_microsoft_type("Microsoft.Exchange.Auth, Evil.Payload"),
            "a Microsoft-looking namespace in someone else's assembly"
        );
    }

    #[test]
    fn folders_no_web_application_lives_in_are_named() {
        for (path, why) in [
            (r"C:\Windows\Temp\x", Some("a temp folder")),
            (r"D:\temp", Some("a temp folder")),
            (r"C:\Users\Public\Documents", Some("a user's folder")),
            (r"C:\ProgramData", Some("a folder any user can write")),
            (
                r"\\fileserver\share\web",
                Some("a network share: another machine decides what it serves"),
            ),
            (r"E:\", Some("the root of a drive")),
            (
                r"C:\Windows\System32",
                Some("Windows' own folder, with its programs"),
            ),
            (r"C:\Windows\System32\CertSrv\en-US", None),
            (r"C:\inetpub\wwwroot", None),
            (r"C:\Templates", None),
        ] {
            assert_eq!(unusual_folder(path), why, "{path}");
        }
    }
}
