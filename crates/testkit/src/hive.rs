//! Writes small offline registry hives (the `regf` format Windows keeps `SOFTWARE` and
//! `SYSTEM` in) for the demo tree and the tests: one hive bin, keys with string and
//! DWORD values. Enough for `nt-hive`, and so for `evidence::registry`, to read them
//! as they read a server's.

/// A value of a key.
pub enum Value<'a> {
    String(&'a str),
    Dword(u32),
}

/// A key with its values and subkeys.
pub struct Key<'a> {
    pub name: &'a str,
    pub values: Vec<(&'a str, Value<'a>)>,
    pub subkeys: Vec<Key<'a>>,
}

impl<'a> Key<'a> {
    /// A chain of keys (`a\b\c`) ending in `leaf`'s values.
    pub fn path(path: &'a str, values: Vec<(&'a str, Value<'a>)>) -> Key<'a> {
        let mut names = path.rsplit('\\');
        let mut key = Key {
            name: names.next().unwrap_or(""),
            values,
            subkeys: Vec::new(),
        };
        for name in names {
            key = Key {
                name,
                values: Vec::new(),
                subkeys: vec![key],
            };
        }
        key
    }
}

const BASE_BLOCK: usize = 4096;
const HBIN_HEADER: usize = 32;
const NO_CELL: u32 = u32::MAX;
/// `KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME`, and `KEY_COMP_NAME` alone.
const ROOT_FLAGS: u16 = 0x2c;
const KEY_FLAGS: u16 = 0x20;
const REG_SZ: u32 = 1;
const REG_DWORD: u32 = 4;

/// The hive's cells, offsets counted from the start of the hive bins (as `regf` does).
struct Cells(Vec<u8>);

impl Cells {
    fn add(&mut self, data: &[u8]) -> u32 {
        let offset = (HBIN_HEADER + self.0.len()) as u32;
        let size = (4 + data.len()).next_multiple_of(8);
        self.0.extend_from_slice(&(-(size as i32)).to_le_bytes());
        self.0.extend_from_slice(data);
        self.0.resize(self.0.len() + size - 4 - data.len(), 0);
        offset
    }

    fn value(&mut self, name: &str, value: &Value) -> u32 {
        let (kind, size, data_offset) = match value {
            Value::String(s) => {
                let data: Vec<u8> = s
                    .encode_utf16()
                    .chain([0])
                    .flat_map(u16::to_le_bytes)
                    .collect();
                (REG_SZ, data.len() as u32, self.add(&data))
            }
            // Data of up to four bytes sits in the offset field itself.
            Value::Dword(d) => (REG_DWORD, 4 | 0x8000_0000, *d),
        };
        let mut vk = b"vk".to_vec();
        vk.extend_from_slice(&(name.len() as u16).to_le_bytes());
        vk.extend_from_slice(&size.to_le_bytes());
        vk.extend_from_slice(&data_offset.to_le_bytes());
        vk.extend_from_slice(&kind.to_le_bytes());
        vk.extend_from_slice(&1u16.to_le_bytes()); // VALUE_COMP_NAME: an ASCII name
        vk.extend_from_slice(&0u16.to_le_bytes());
        vk.extend_from_slice(name.as_bytes());
        self.add(&vk)
    }

    fn key(&mut self, key: &Key, flags: u16) -> u32 {
        let values: Vec<u32> = key
            .values
            .iter()
            .map(|(name, value)| self.value(name, value))
            .collect();
        let values_list = if values.is_empty() {
            NO_CELL
        } else {
            self.add(
                &values
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect::<Vec<u8>>(),
            )
        };
        // Subkey lists are sorted by upper-case name: readers search them by halves.
        let mut subkeys: Vec<(String, u32)> = key
            .subkeys
            .iter()
            .map(|k| (k.name.to_ascii_uppercase(), self.key(k, KEY_FLAGS)))
            .collect();
        subkeys.sort();
        let subkey_list = if subkeys.is_empty() {
            NO_CELL
        } else {
            let mut lf = b"lf".to_vec();
            lf.extend_from_slice(&(subkeys.len() as u16).to_le_bytes());
            for (name, offset) in &subkeys {
                lf.extend_from_slice(&offset.to_le_bytes());
                let mut hint = [0u8; 4];
                for (h, b) in hint.iter_mut().zip(name.bytes()) {
                    *h = b;
                }
                lf.extend_from_slice(&hint);
            }
            self.add(&lf)
        };
        let mut nk = b"nk".to_vec();
        nk.extend_from_slice(&flags.to_le_bytes());
        nk.extend_from_slice(&[0; 8]); // last written
        nk.extend_from_slice(&[0; 4]); // access bits
        nk.extend_from_slice(&0u32.to_le_bytes()); // parent: not read back
        nk.extend_from_slice(&(subkeys.len() as u32).to_le_bytes());
        nk.extend_from_slice(&0u32.to_le_bytes()); // volatile subkeys
        nk.extend_from_slice(&subkey_list.to_le_bytes());
        nk.extend_from_slice(&NO_CELL.to_le_bytes()); // volatile subkey list
        nk.extend_from_slice(&(values.len() as u32).to_le_bytes());
        nk.extend_from_slice(&values_list.to_le_bytes());
        nk.extend_from_slice(&NO_CELL.to_le_bytes()); // security
        nk.extend_from_slice(&NO_CELL.to_le_bytes()); // class name
        nk.extend_from_slice(&[0; 20]); // largest name and data sizes, work var
        nk.extend_from_slice(&(key.name.len() as u16).to_le_bytes());
        nk.extend_from_slice(&0u16.to_le_bytes()); // class name length
        nk.extend_from_slice(key.name.as_bytes());
        self.add(&nk)
    }
}

/// The bytes of a hive whose root key is `root`.
pub fn write(root: &Key) -> Vec<u8> {
    let mut cells = Cells(Vec::new());
    let root_offset = cells.key(root, ROOT_FLAGS);
    let bin_size = (HBIN_HEADER + cells.0.len() + 8).next_multiple_of(4096);
    // The rest of the bin is one free cell.
    let free = bin_size - HBIN_HEADER - cells.0.len();
    cells.0.extend_from_slice(&(free as i32).to_le_bytes());
    cells.0.resize(bin_size - HBIN_HEADER, 0);

    let mut hive = vec![0u8; BASE_BLOCK];
    let mut put = |at: usize, v: u32| hive[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put(4, 1); // primary sequence number
    put(8, 1); // secondary: equal, so the hive was flushed
    put(20, 1); // major version
    put(24, 5); // minor version
    put(32, 1); // file format: direct memory load
    put(36, root_offset);
    put(40, bin_size as u32);
    put(44, 1); // clustering factor
    hive[..4].copy_from_slice(b"regf");
    let checksum = hive[..508].chunks_exact(4).fold(0u32, |x, d| {
        x ^ u32::from_le_bytes([d[0], d[1], d[2], d[3]])
    });
    let checksum = match checksum {
        0 => 1,
        u32::MAX => u32::MAX - 1,
        c => c,
    };
    hive[508..512].copy_from_slice(&checksum.to_le_bytes());

    hive.extend_from_slice(b"hbin");
    hive.extend_from_slice(&0u32.to_le_bytes()); // this bin's offset
    hive.extend_from_slice(&(bin_size as u32).to_le_bytes());
    hive.resize(BASE_BLOCK + HBIN_HEADER, 0);
    hive.extend_from_slice(&cells.0);
    hive
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsweep_evidence::registry;

    #[test]
    fn written_hives_read_back_through_the_registry_reader() {
        let software = write(&Key::path(
            r"ROOT\Microsoft\ExchangeServer\v15\Setup",
            vec![
                ("MsiInstallPath", Value::String(r"D:\Exchange Server\V15\")),
                ("MsiProductMajor", Value::Dword(15)),
                ("MsiProductMinor", Value::Dword(2)),
                ("MsiBuildMajor", Value::Dword(1544)),
                ("MsiBuildMinor", Value::Dword(4)),
            ],
        ));
        let (setup, valid) = registry::exchange_setup(&software).expect("readable");
        assert!(valid, "the header validates");
        let setup = setup.expect("Exchange setup key");
        assert_eq!(setup.install_path, r"D:\Exchange Server\V15\");
        assert_eq!(setup.version.as_deref(), Some("15.2.1544.4"));

        let system = write(&Key::path(
            r"ROOT\ControlSet001\Control\ComputerName\ComputerName",
            vec![("ComputerName", Value::String("EXCH01"))],
        ));
        assert_eq!(registry::computer_name(&system).as_deref(), Some("EXCH01"));
    }
}
