//! A page's text as the server runs it, when its bytes are not that text: a page saved
//! in UTF-16 (ASP.NET runs it), a classic ASP page declaring `codepage=65000` (UTF-7,
//! so `+AGUAdgBhAGw-` is `eval` to the server and noise to a scanner), and classic ASP's
//! `VBScript.Encode` / `JScript.Encode` blocks (Microsoft Script Encoder,
//! `#@~^...^#~@`), which IIS decodes before running.
//! Rules and heuristics written for a page's text do not see through either, so the
//! sweep looks at this view as well as at the bytes.

/// The file's text with its encodings undone, or `None` when the bytes are the text.
pub fn text_view(data: &[u8]) -> Option<Vec<u8>> {
    let text = utf16_as_utf8(data).or_else(|| utf7_page(data));
    match text {
        Some(text) => Some(decode_script_encoder(&text).unwrap_or(text)),
        None => decode_script_encoder(data),
    }
}

/// A classic ASP page whose directive names code page 65000 (UTF-7), decoded.
fn utf7_page(data: &[u8]) -> Option<Vec<u8>> {
    let head = &data[..data.len().min(4096)];
    // Every file passes here: only one that names 65000 at all is lowered and read.
    memchr::memmem::find(head, b"65000")?;
    let lower = head.to_ascii_lowercase();
    let at = memchr::memmem::find(&lower, b"codepage")?;
    let value: Vec<u8> = lower[at + 8..]
        .iter()
        .copied()
        .skip_while(|b| matches!(b, b' ' | b'\t' | b'=' | b'"' | b'\''))
        .take_while(u8::is_ascii_digit)
        .collect();
    (value == b"65000").then(|| decode_utf7(data))
}

fn base64_value(b: u8) -> Option<u32> {
    match b {
        b'A'..=b'Z' => Some(u32::from(b - b'A')),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(b - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// UTF-7 (RFC 2152) to UTF-8: `+` opens a run of modified base64 holding UTF-16
/// units, which ends at the first other byte (a `-` there is dropped); `+-` is `+`.
/// Everything else is copied.
fn decode_utf7(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut units = Vec::new();
    let mut i = 0;
    while i < data.len() {
        if data[i] != b'+' {
            out.push(data[i]);
            i += 1;
            continue;
        }
        i += 1;
        if data.get(i) == Some(&b'-') {
            out.push(b'+');
            i += 1;
            continue;
        }
        let (mut bits, mut count) = (0u32, 0u32);
        units.clear();
        while let Some(v) = data.get(i).copied().and_then(base64_value) {
            bits = (bits << 6) | v;
            count += 6;
            if count >= 16 {
                count -= 16;
                units.push((bits >> count) as u16);
                bits &= (1 << count) - 1;
            }
            i += 1;
        }
        if data.get(i) == Some(&b'-') {
            i += 1;
        }
        let text: String = char::decode_utf16(units.iter().copied())
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        out.extend_from_slice(text.as_bytes());
    }
    out
}

/// A file that starts with a UTF-16 byte-order mark, as UTF-8 text.
fn utf16_as_utf8(data: &[u8]) -> Option<Vec<u8>> {
    let (little_endian, body) = if let Some(body) = data.strip_prefix(b"\xFF\xFE") {
        (true, body)
    } else if let Some(body) = data.strip_prefix(b"\xFE\xFF") {
        (false, body)
    } else {
        return None;
    };
    let units = body.chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if little_endian {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    });
    let text: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    Some(text.into_bytes())
}

const BLOCK_START: &[u8] = b"#@~^";
const BLOCK_END: &[u8] = b"^#~@";
/// The length field after the start marker and the checksum before the end marker:
/// six base64 characters and `==` each.
const FIELD: usize = 8;

/// The Script Encoder's substitution: for each encoded character from `' '` to
/// `'\x7f'`, the plain character under each of its three substitutions. (A published
/// fact of the format, tabulated by every decoder since 2000.)
const PLAIN: [&[u8; 96]; 3] = [
    b".GzVBj/&IA42[vrC89pEhqO\tbD#uJ~J^@wJa]\"KoN;LPg*}tT+-,0nkf5%!dMRc?{x)(sY3\x7fmUS|:_eFX1ilZH'\\=$y7`Q 6",
    b"-uR`q^I\\b})6 |z\x7fkc3+hQfv1dTCL:L~LE,*t'7DyY/o&rj9{?8wgSG4x]0#Z[lHUpi.L!$NP\tVs5aKX;W\"mM%(FJ2A=_OBe",
    b"20!)[83=X:5e9\\VsfNEkbYx^}JmqA`AS@B'Hru17MR\"TjGd- \x7f.L]~loytC&v%$+(#A4\t*D?w;UiacPgQIOFh|6pnz/_KZ,W",
];
/// What a tab decodes to under each substitution.
const PLAIN_TAB: [u8; 3] = *b"Wn{";
/// Which substitution the n-th character (mod 64) of a block uses.
const PICK: &[u8; 64] = b"0120121221210212021200122102122100212120200120210212001220012021";

/// The Script Encoder's escapes for characters it does not substitute.
fn unescape(c: u8) -> Option<u8> {
    match c {
        b'&' => Some(b'\n'),
        b'#' => Some(b'\r'),
        b'*' => Some(b'>'),
        b'!' => Some(b'<'),
        b'$' => Some(b'@'),
        _ => None,
    }
}

fn decode_block(encoded: &[u8], out: &mut Vec<u8>) {
    let mut index = 0usize;
    let mut bytes = encoded.iter().copied();
    while let Some(mut c) = bytes.next() {
        let mut escaped = false;
        if c == b'@' {
            if let Some(plain) = bytes.clone().next().and_then(unescape) {
                bytes.next();
                c = plain;
                escaped = true;
            }
        }
        let pick = usize::from(PICK[index % 64] - b'0');
        let plain = match c {
            _ if escaped => c,
            b'\t' => PLAIN_TAB[pick],
            b'<' | b'>' | b'@' => c,
            0x20..=0x7f => PLAIN[pick][usize::from(c - 0x20)],
            _ => c,
        };
        // Bytes above ASCII pass through and do not advance the substitution.
        if c < 0x80 {
            index += 1;
        }
        out.push(plain);
    }
}

/// The text with every encoded block replaced by its plain script, or `None` when
/// it holds none. A block with no end marker (a file cut short, or one the end was cut
/// from) is decoded to the end of the file: IIS would not run it, but what it says is
/// still evidence.
fn decode_script_encoder(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    let mut copied = 0;
    for block in blocks(data) {
        match block {
            // A marker with nothing after it is text.
            Block::CutShort { body: [], .. } => break,
            Block::CutShort { at, body } => {
                out.extend_from_slice(&data[copied..at]);
                decode_block(body, &mut out);
                return Some(out);
            }
            Block::Whole { at, body, next, .. } => {
                out.extend_from_slice(&data[copied..at]);
                decode_block(body, &mut out);
                copied = next;
            }
        }
    }
    if copied == 0 {
        return None;
    }
    out.extend_from_slice(&data[copied..]);
    Some(out)
}

/// A Script Encoder block of a page.
enum Block<'a> {
    /// From its start marker at `at` to its end marker, which `next` is just after.
    Whole {
        at: usize,
        length: &'a [u8],
        body: &'a [u8],
        checksum: &'a [u8],
        next: usize,
    },
    /// A block with no end marker: its text runs to the end of the page.
    CutShort { at: usize, body: &'a [u8] },
}

/// The page's blocks, in order; a block cut short is the last.
fn blocks(data: &[u8]) -> impl Iterator<Item = Block<'_>> {
    let finder = memchr::memmem::Finder::new(BLOCK_START);
    let mut from = Some(0);
    std::iter::from_fn(move || {
        let start = from?;
        let at = start + finder.find(&data[start..])?;
        let body_start = (at + BLOCK_START.len() + FIELD).min(data.len());
        let Some(end) = memchr::memmem::find(&data[body_start..], BLOCK_END) else {
            from = None;
            return Some(Block::CutShort {
                at,
                body: &data[body_start..],
            });
        };
        let end = body_start + end;
        let checksum_at = end.saturating_sub(FIELD).max(body_start);
        from = Some(end + BLOCK_END.len());
        Some(Block::Whole {
            at,
            length: &data[at + BLOCK_START.len()..body_start],
            body: &data[body_start..checksum_at],
            checksum: &data[checksum_at..end],
            next: end + BLOCK_END.len(),
        })
    })
}

/// A block's length or checksum field: six base64 characters holding a 32-bit
/// little-endian number, then `==`.
fn field_value(field: &[u8]) -> Option<u32> {
    if field.len() != FIELD || &field[6..] != b"==" {
        return None;
    }
    let bits = field[..6]
        .iter()
        .try_fold(0u64, |acc, &c| Some(acc << 6 | u64::from(base64_value(c)?)))?;
    // 36 bits: the number's four bytes, first byte first, and four spare bits.
    let bytes = ((bits >> 4) as u32).to_be_bytes();
    Some(u32::from_le_bytes(bytes))
}

/// Characters (a byte of 0x80 and above leads a two-byte character of the page's
/// code page) and the sum of the one-byte ones.
fn characters_and_sum(text: &[u8]) -> (u32, u32) {
    let (mut chars, mut sum, mut i) = (0u32, 0u32, 0);
    while i < text.len() {
        if text[i] >= 0x80 {
            i += 2;
        } else {
            sum = sum.wrapping_add(u32::from(text[i]));
            i += 1;
        }
        chars += 1;
    }
    (chars, sum)
}

/// True when every Script Encoder block of the page is whole: its end marker there,
/// its length field the number of characters of its encoded text and its checksum the
/// sum of the one-byte characters it decodes to (the encoder counts a two-byte
/// character of a code page such as GBK once, and leaves it out of the sum). Then the
/// decoded text is the script IIS runs; a copy whose bytes were changed in transit
/// (DEL turned into a space, a line end converted) decodes to something else, and
/// says less than it seems to.
pub fn script_encoder_intact(data: &[u8]) -> bool {
    let mut whole = 0;
    for block in blocks(data) {
        let Block::Whole {
            length,
            body,
            checksum,
            ..
        } = block
        else {
            return false;
        };
        let mut plain = Vec::with_capacity(body.len());
        decode_block(body, &mut plain);
        if field_value(length) != Some(characters_and_sum(body).0)
            || field_value(checksum) != Some(characters_and_sum(&plain).1)
        {
            return false;
        }
        whole += 1;
    }
    whole > 0
}

/// A number as a block's length or checksum field (see [`field_value`]).
#[cfg(any(test, feature = "test-encoder"))]
fn field_of(value: u32) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bits = u64::from(u32::from_be_bytes(value.to_le_bytes())) << 4;
    let mut field: Vec<u8> = (0..6)
        .map(|i| ALPHABET[((bits >> (30 - 6 * i)) & 63) as usize])
        .collect();
    field.extend_from_slice(b"==");
    field
}

/// The Script Encoder's direction, for tests that build encoded pages at test time:
/// one block, with its length and checksum.
#[cfg(any(test, feature = "test-encoder"))]
pub fn encode_script(plain: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    // As in decoding, a byte above ASCII passes through and does not count.
    let mut index = 0;
    for &c in plain {
        let pick = usize::from(PICK[index % 64] - b'0');
        index += usize::from(c < 0x80);
        match c {
            b'\n' => body.extend_from_slice(b"@&"),
            b'\r' => body.extend_from_slice(b"@#"),
            b'>' => body.extend_from_slice(b"@*"),
            b'<' => body.extend_from_slice(b"@!"),
            b'@' => body.extend_from_slice(b"@$"),
            _ if PLAIN_TAB[pick] == c => body.push(b'\t'),
            _ => {
                let encoded = PLAIN[pick]
                    .iter()
                    .zip(0x20u8..)
                    .find(|(p, e)| **p == c && !matches!(e, b'<' | b'>' | b'@'))
                    .map_or(c, |(_, e)| e);
                body.push(encoded);
            }
        }
    }
    let mut out = BLOCK_START.to_vec();
    out.extend(field_of(characters_and_sum(&body).0));
    out.extend_from_slice(&body);
    out.extend(field_of(characters_and_sum(plain).1));
    out.extend_from_slice(BLOCK_END);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_block_is_intact_and_a_changed_or_cut_one_is_not() {
        let block = encode_script(b"If Request(\"a\") <> \"\" Then conn.Execute sql\r\n");
        let page = [b"<%".as_slice(), &block, b"%>"].concat();
        assert!(script_encoder_intact(&page));
        assert_eq!(field_value(&field_of(0x0001_2345)), Some(0x0001_2345));
        // One byte changed in transit (as DEL becomes a space): the checksum says so.
        let mut changed = page.clone();
        let at = changed.iter().rposition(|&b| b == b'E').unwrap();
        changed[at] = b'F';
        assert!(!script_encoder_intact(&changed));
        // A byte lost: the length says so.
        let mut shorter = page.clone();
        shorter.remove(20);
        assert!(!script_encoder_intact(&shorter));
        // Cut before the end marker, or no block at all.
        assert!(!script_encoder_intact(&page[..page.len() - 8]));
        assert!(!script_encoder_intact(b"<% Response.Write 1 %>"));
        // A two-byte character (GBK) counts once and stays out of the sum.
        let gbk = [
            b"<%".as_slice(),
            &encode_script(b"x=\"\xb2\xe2\xca\xd4\"\r\n"),
            b"%>",
        ]
        .concat();
        assert!(script_encoder_intact(&gbk));
    }

    #[test]
    fn each_substitution_is_one_to_one() {
        for column in PLAIN {
            let mut plain: Vec<u8> = column
                .iter()
                .zip(0x20u8..)
                .filter(|(_, e)| !matches!(e, b'<' | b'>' | b'@'))
                .map(|(p, _)| *p)
                .collect();
            plain.sort();
            plain.dedup();
            assert_eq!(plain.len(), 93);
        }
    }

    #[test]
    fn encoded_blocks_decode_in_place() {
        let script = b"Execute(Request(\"x\"))\r\n' <tag> @ mail\tend";
        let mut page = b"<%@ Language=VBScript.Encode %><%".to_vec();
        page.extend(encode_script(script));
        page.extend_from_slice(b"%>tail");
        assert_ne!(&page[33..], script.as_slice());
        let text = text_view(&page).unwrap();
        let mut expected = b"<%@ Language=VBScript.Encode %><%".to_vec();
        expected.extend_from_slice(script);
        expected.extend_from_slice(b"%>tail");
        assert_eq!(
            String::from_utf8_lossy(&text),
            String::from_utf8_lossy(&expected)
        );
    }

    #[test]
    fn plain_and_broken_pages_have_no_view() {
        assert_eq!(text_view(b"<% Response.Write(1) %>"), None);
        assert_eq!(text_view(b"#@~^^#~@"), None);
        assert_eq!(text_view(b"<% x %>#@~^AAAA"), None);
    }

    #[test]
    fn a_block_cut_short_is_decoded_to_the_end() {
        let script = b"Response.Write(Request(\"x\"))\r\nend";
        let mut page = b"<%".to_vec();
        let encoded = encode_script(script);
        // Without its checksum and end marker, as in a file cut short.
        page.extend_from_slice(&encoded[..encoded.len() - FIELD - BLOCK_END.len()]);
        let mut expected = b"<%".to_vec();
        expected.extend_from_slice(script);
        assert_eq!(
            String::from_utf8_lossy(&text_view(&page).unwrap()),
            String::from_utf8_lossy(&expected)
        );
    }

    #[test]
    fn utf7_pages_are_decoded_only_when_they_say_so() {
        let page = b"<%@codepage=65000%><%r+k-es+k-ponse.write(+ACI-a+-b+ACI-)%>";
        assert_eq!(
            text_view(page).unwrap(),
            b"<%@codepage=65000%><%response.write(\"a+b\")%>"
        );
        assert_eq!(text_view(b"<%@ CodePage = 1252 %><% x = 1+ACI- %>"), None);
    }

    #[test]
    fn utf16_pages_are_decoded() {
        let page: Vec<u8> = b"\xFF\xFE"
            .iter()
            .copied()
            .chain("<% x %>".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(text_view(&page).unwrap(), b"<% x %>");
    }
}
