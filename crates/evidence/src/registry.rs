//! Offline registry hives (the `SOFTWARE` and `SYSTEM` files), read with `nt-hive`.
//! Only the few values exsweep needs: where Exchange is installed, its build, and
//! the computer's name.

use nt_hive::{Hive, KeyNode};

/// What Exchange Setup recorded in `HKLM\SOFTWARE\Microsoft\ExchangeServer\v1x\Setup`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeSetup {
    /// `MsiInstallPath`, e.g. `C:\Program Files\Microsoft\Exchange Server\V15\`.
    pub install_path: String,
    /// `Major.Minor.Build.Revision` from the `Msi*` values, when all four are present.
    pub version: Option<String>,
}

/// Opens a hive, accepting one whose header was not flushed (a live system's copy):
/// the keys exsweep reads rarely change, and a stale value beats none.
///
/// nt-hive 0.3 panics while reporting a bad signature (an assertion in its error
/// path), so the signature is checked here first.
fn open(bytes: &[u8]) -> Result<(Hive<&[u8]>, bool), String> {
    if bytes.len() < 4096 || !bytes.starts_with(b"regf") {
        return Err("not a registry hive (no regf header)".into());
    }
    // nt-hive 0.3 subtracts the cell header from a cell's size before checking it is
    // that large (an overflow panic where overflow is checked): the root cell, which
    // every read starts from, is checked here. Other cells are guarded by `guarded`.
    let root = u32::from_le_bytes(bytes[36..40].try_into().expect("four bytes")) as usize;
    let size_at = 4096 + root;
    let root_size = bytes
        .get(size_at..size_at + 4)
        .map(|b| i32::from_le_bytes(b.try_into().expect("four bytes")).unsigned_abs());
    if root_size.is_none_or(|s| s < 8) {
        return Err("damaged registry hive: its root cell is missing or empty".into());
    }
    match Hive::new(bytes) {
        Ok(h) => Ok((h, true)),
        Err(_) => Hive::without_validation(bytes)
            .map(|h| (h, false))
            .map_err(|e| format!("not a registry hive: {e}")),
    }
}

fn string_value(key: &KeyNode<&[u8]>, name: &str) -> Option<String> {
    key.value(name)?.ok()?.string_data().ok()
}

fn dword_value(key: &KeyNode<&[u8]>, name: &str) -> Option<u32> {
    key.value(name)?.ok()?.dword_data().ok()
}

/// Runs a hive reader, turning a panic inside the parser (hostile or damaged hive)
/// into an error so that the scan goes on.
fn guarded<T>(read: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read))
        .unwrap_or_else(|_| Err("the registry parser failed on this hive (damaged?)".into()))
}

/// Reads Exchange's setup key from a SOFTWARE hive. `Ok(None)`: the hive holds no
/// Exchange install. The flag says whether the hive header validated.
pub fn exchange_setup(software_hive: &[u8]) -> Result<(Option<ExchangeSetup>, bool), String> {
    guarded(|| read_exchange_setup(software_hive))
}

fn read_exchange_setup(software_hive: &[u8]) -> Result<(Option<ExchangeSetup>, bool), String> {
    let (hive, valid) = open(software_hive)?;
    let root = hive.root_key_node().map_err(|e| e.to_string())?;
    for version_key in [
        "Microsoft\\ExchangeServer\\v15\\Setup",
        "Microsoft\\ExchangeServer\\v14\\Setup",
    ] {
        let Some(Ok(key)) = root.subpath(version_key) else {
            continue;
        };
        let Some(install_path) = string_value(&key, "MsiInstallPath") else {
            continue;
        };
        let parts: Option<Vec<u32>> = [
            "MsiProductMajor",
            "MsiProductMinor",
            "MsiBuildMajor",
            "MsiBuildMinor",
        ]
        .iter()
        .map(|n| dword_value(&key, n))
        .collect();
        let version = parts.map(|p| format!("{}.{}.{}.{}", p[0], p[1], p[2], p[3]));
        return Ok((
            Some(ExchangeSetup {
                install_path,
                version,
            }),
            valid,
        ));
    }
    Ok((None, valid))
}

/// The KB articles of the Exchange updates a SOFTWARE hive lists as installed: the
/// `Uninstall` keys whose `DisplayName` names Exchange and a `KBnnnnnnn` (security
/// updates register as "Security Update for Exchange Server 2019 CU12 (KB5019758)").
pub fn installed_exchange_updates(software_hive: &[u8]) -> Vec<String> {
    guarded(|| Ok(read_installed_updates(software_hive))).unwrap_or_default()
}

fn read_installed_updates(software_hive: &[u8]) -> Vec<String> {
    let Ok((hive, _)) = open(software_hive) else {
        return Vec::new();
    };
    let Ok(root) = hive.root_key_node() else {
        return Vec::new();
    };
    let Some(Ok(uninstall)) = root.subpath("Microsoft\\Windows\\CurrentVersion\\Uninstall") else {
        return Vec::new();
    };
    let Some(Ok(subkeys)) = uninstall.subkeys() else {
        return Vec::new();
    };
    let mut kbs: Vec<String> = subkeys
        .flatten()
        .filter_map(|key| string_value(&key, "DisplayName"))
        .filter(|name| name.to_ascii_lowercase().contains("exchange"))
        .filter_map(|name| kb_in(&name))
        .collect();
    kbs.sort();
    kbs.dedup();
    kbs
}

/// The `KBnnnnnnn` a display name mentions.
fn kb_in(name: &str) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    let at = upper.find("KB")?;
    let digits: String = upper[at + 2..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (digits.len() >= 6).then(|| format!("KB{digits}"))
}

/// Reads the computer name from a SYSTEM hive.
pub fn computer_name(system_hive: &[u8]) -> Option<String> {
    guarded(|| Ok(read_computer_name(system_hive)))
        .ok()
        .flatten()
}

fn read_computer_name(system_hive: &[u8]) -> Option<String> {
    let (hive, _) = open(system_hive).ok()?;
    let root = hive.root_key_node().ok()?;
    ["ControlSet001", "ControlSet002"].iter().find_map(|set| {
        let key = root
            .subpath(&format!("{set}\\Control\\ComputerName\\ComputerName"))?
            .ok()?;
        string_value(&key, "ComputerName")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(exchange_setup(b"not a hive").is_err());
        assert!(exchange_setup(&[0u8; 8192]).is_err());
        // A regf header over garbage must not panic, whatever it answers.
        let mut fake = b"regf".to_vec();
        fake.resize(16384, 0xff);
        let _ = exchange_setup(&fake);
        assert_eq!(computer_name(&fake), None);
        assert_eq!(computer_name(b"regf garbage"), None);
    }

    /// Found by the `hive` fuzz target: a key cell smaller than its own header, on
    /// which nt-hive 0.3 overflows (a panic where overflow is checked, a wrapped size
    /// and an error where it is not): the read ends in an error or an answer, never
    /// a panic out of the reader.
    #[test]
    fn a_cell_smaller_than_its_header_does_not_end_the_read() {
        let hive = include_bytes!("../fuzz-regressions/hive-cell-smaller-than-its-header.bin");
        let _ = exchange_setup(hive);
        let _ = computer_name(hive);
    }

    /// Found by the `hive` fuzz target: a root cell of size 0 overflowed in nt-hive.
    #[test]
    fn an_empty_root_cell_is_an_error() {
        let mut hive = vec![0u8; 5387];
        for (at, byte) in [
            (0, b'r'),
            (1, b'e'),
            (2, b'g'),
            (3, b'f'),
            (4, 1),
            (8, 1),
            (20, 1),
            (24, 5),
            (32, 1),
            (36, 32),
            (37, 2),
            (41, 16),
            (44, 1),
            (508, 86),
            (509, 119),
            (510, 103),
            (511, 102),
            (4096, b'h'),
            (4097, b'b'),
            (4098, b'i'),
            (4099, b'n'),
            (4105, 16),
            (4128, 232),
            (4129, 255),
        ] {
            hive[at] = byte;
        }
        let error = exchange_setup(&hive).expect_err("an error");
        assert!(error.contains("root cell"), "{error}");
        assert_eq!(computer_name(&hive), None);
    }
}
