//! Windows paths as plain strings (`C:\dir\file`): the form every finding shows,
//! compared case-insensitively as NTFS does.

/// Splits `C:\a\b` into the drive letter (upper case) and its components.
/// Accepts `/` as a separator too, and ignores empty components.
pub fn split(path: &str) -> Option<(char, Vec<&str>)> {
    let mut chars = path.chars();
    let letter = chars.next()?.to_ascii_uppercase();
    if !letter.is_ascii_alphabetic() || chars.next()? != ':' {
        return None;
    }
    let rest = &path[2..];
    let parts = rest.split(['\\', '/']).filter(|p| !p.is_empty()).collect();
    Some((letter, parts))
}

/// Joins a parent Windows path and a child name, in a string of just that length: a
/// listing keeps every file's.
pub fn join(parent: &str, name: &str) -> String {
    let mut joined = String::with_capacity(parent.len() + 1 + name.len());
    joined.push_str(parent);
    if !parent.ends_with('\\') {
        joined.push('\\');
    }
    joined.push_str(name);
    joined
}

/// The comparison key for a Windows path: lower case, `\` separators, no trailing `\`.
pub fn key(path: &str) -> String {
    let mut k = path.replace('/', "\\").to_lowercase();
    while k.ends_with('\\') && k.len() > 3 {
        k.pop();
    }
    k
}

/// True when `path` is `dir` itself or lies below it (both given as keys).
pub fn is_within(path_key: &str, dir_key: &str) -> bool {
    path_key == dir_key
        || (path_key.len() > dir_key.len()
            && path_key.starts_with(dir_key)
            && (dir_key.ends_with('\\') || path_key.as_bytes()[dir_key.len()] == b'\\'))
}

/// The last component of a Windows path.
pub fn file_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// The extension of a name, lower case, without the dot.
pub fn extension(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_lowercase(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_joins() {
        let (d, parts) = split(r"c:\Program Files\x/y\").unwrap();
        assert_eq!(d, 'C');
        assert_eq!(parts, vec!["Program Files", "x", "y"]);
        assert_eq!(split("relative"), None);
        assert_eq!(join(r"C:\", "a"), r"C:\a");
        assert_eq!(join(r"C:\a", "b"), r"C:\a\b");
    }

    #[test]
    fn within_is_case_insensitive_and_component_wise() {
        let dir = key(r"C:\inetpub\wwwroot\");
        assert!(is_within(&key(r"C:\INETPUB\wwwroot\x.aspx"), &dir));
        assert!(!is_within(&key(r"C:\inetpub\wwwroot2\x.aspx"), &dir));
        assert!(is_within(&key(r"C:\x"), &key(r"C:\")));
    }

    #[test]
    fn names_and_extensions() {
        assert_eq!(file_name(r"C:\a\B.AsPx"), "B.AsPx");
        assert_eq!(extension("B.AsPx"), "aspx");
        assert_eq!(extension(".htaccess"), "");
    }
}
