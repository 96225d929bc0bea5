//! THOR's `filetype` external: what a file is by its content, whatever its name says,
//! in the words signature-base's rules compare with (`filetype == "EXE"`, `filetype
//! contains "PowerShell"`), so that rules like "a known type cloaked as .jpg" work.

/// The type of a file from its first bytes, or `""` when none of the known ones.
pub fn filetype_of(data: &[u8]) -> &'static str {
    const MACH_O: [&[u8]; 5] = [
        b"\xFE\xED\xFA\xCE",
        b"\xFE\xED\xFA\xCF",
        b"\xCE\xFA\xED\xFE",
        b"\xCF\xFA\xED\xFE",
        b"\xCA\xFE\xBA\xBE",
    ];
    if data.starts_with(b"MZ") {
        return "EXE";
    }
    if data.starts_with(b"\x7FELF") {
        return "ELF";
    }
    if MACH_O.iter().any(|m| data.starts_with(m)) {
        return "MACH-O";
    }
    if data.starts_with(b"MDMP") {
        let lsass: Vec<u8> = "lsasrv.dll"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let head = &data[..data.len().min(4 << 20)];
        return if memchr::memmem::find(head, &lsass).is_some() {
            "LSASS Dump File"
        } else {
            "MDMP"
        };
    }
    if data.starts_with(b"{\\rtf") {
        return "RTF";
    }
    let head = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let head = &head[..head.len().min(1024)];
    let lower = head.to_ascii_lowercase();
    let text = lower.trim_ascii_start();
    let has = |needle: &[u8]| memchr::memmem::find(text, needle).is_some();
    if text.starts_with(b"<?php") || (text.starts_with(b"<?") && has(b"$_")) {
        return "PHP";
    }
    if text.starts_with(b"<%@ page") && (has(b"import=") || has(b"contenttype=")) || has(b"<jsp:") {
        return "JSP";
    }
    if text.starts_with(b"<%") {
        return "ASP";
    }
    let first_line = text.split(|b| *b == b'\n').next().unwrap_or_default();
    if text.starts_with(b"#!") && memchr::memmem::find(first_line, b"python").is_some() {
        return "Python";
    }
    if text.starts_with(b"@echo off") {
        return "BATCH";
    }
    if [&b"#requires"[..], b"param(", b"[cmdletbinding"]
        .iter()
        .any(|p| text.starts_with(p))
    {
        return "PowerShell Script";
    }
    if [
        &b"option explicit"[..],
        b"on error resume next",
        b"set wshshell",
        b"dim ",
    ]
    .iter()
    .any(|p| text.starts_with(p))
    {
        return "VBS";
    }
    let body: Vec<u8> = head
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if body.len() >= 64
        && body
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return "Base64 Data";
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_content() {
        let lsass: Vec<u8> = b"MDMP\x93\xa7"
            .iter()
            .copied()
            .chain(
                "C:\\Windows\\System32\\lsasrv.dll"
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes),
            )
            .collect();
        let cases: [(&[u8], &str); 14] = [
            (b"MZ\x90\x00", "EXE"),
            (b"\x7FELF\x02", "ELF"),
            (b"\xCF\xFA\xED\xFE", "MACH-O"),
            (b"MDMP\x93\xa7\x00", "MDMP"),
            (&lsass, "LSASS Dump File"),
            (b"{\\rtf1\\ansi", "RTF"),
            (b"\n  <?php echo 1;", "PHP"),
            (b"<%@ page import=\"java.io.*\" %>", "JSP"),
            (b"<%@ Page Language=\"C#\" %>", "ASP"),
            (b"#!/usr/bin/env python3\nimport os", "Python"),
            (b"@ECHO OFF\r\ndel x", "BATCH"),
            (b"param($a)\nWrite-Host $a", "PowerShell Script"),
            (b"On Error Resume Next\r\nSet x = 1", "VBS"),
            (b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk=", "Base64 Data"),
        ];
        for (data, expected) in cases {
            assert_eq!(
                filetype_of(data),
                expected,
                "{}",
                String::from_utf8_lossy(data)
            );
        }
        assert_eq!(filetype_of(b"\xFF\xD8\xFF\xE0 JFIF"), "");
        assert_eq!(filetype_of(b"hello world"), "");
    }
}
