//! Content heuristics: traits of a page's server code that web shells share and
//! ordinary pages rarely do, each a weighted [`Signal`]. No one signal is a finding;
//! a page whose signals add up to [`FINDING_THRESHOLD`] is one, with every signal that
//! fired as a reason. The weights were set by measuring each signal's recall and false
//! alarms on the development and held-out sets (`bench/devset.py --signals`; the
//! figures are in `docs/heuristics.md`).
//!
//! Everything here reads only the server code of the page (`<% %>` blocks, `<script
//! runat="server">`, a handler's whole body, PHP's `<?php ?>`), lower-cased, so
//! client-side script in a page's markup cannot raise its score.

use super::files::FileSubject;
use memchr::memmem;
use std::collections::{HashMap, HashSet};

/// A trait of the page's code and what it weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signal {
    pub id: &'static str,
    pub weight: u8,
    /// What it means, for the finding's reasons.
    pub because: &'static str,
}

pub const REQUEST_TO_SINK: Signal = Signal {
    id: "request-to-sink",
    weight: 50,
    because: "request data within a statement of an execution sink (eval, Execute, Process.Start, Assembly.Load, CreateObject of a variable)",
};
pub const DYNAMIC_EXECUTE: Signal = Signal {
    id: "dynamic-execute",
    weight: 35,
    because: "script text computed at run time and run (Execute, ExecuteGlobal, eval of something other than a literal)",
};
pub const TINY_PAGE_WITH_SINK: Signal = Signal {
    id: "tiny-page-with-sink",
    weight: 25,
    because: "a page of under 1 KB of code whose code holds an execution sink or writes request data to a file",
};
pub const HIDDEN_KEYWORD: Signal = Signal {
    id: "hidden-keyword",
    weight: 30,
    because: "a dangerous keyword (eval, execute, WScript.Shell, cmd.exe, Assembly ...) spelled only by joining string pieces",
};
pub const CHAR_CODES: Signal = Signal {
    id: "char-codes",
    weight: 20,
    because: "text built from character codes (a Chr()/ChrW()/fromCharCode/(char) chain)",
};
pub const CHAR_CODE_DECODER: Signal = Signal {
    id: "char-code-decoder",
    weight: 25,
    because: "characters computed from codes by arithmetic (Chr(x - 55), fromCharCode(c ^ k)): a decoder for hidden text",
};
pub const ENCODED_BLOB: Signal = Signal {
    id: "encoded-blob",
    weight: 25,
    because: "a long base64 or hex blob in the code together with a decode call",
};
pub const UNICODE_ESCAPES: Signal = Signal {
    id: "unicode-escapes",
    weight: 15,
    because: "identifiers or strings written as \\uXXXX escapes",
};
pub const LITERAL_JOINS: Signal = Signal {
    id: "literal-joins",
    weight: 10,
    because:
        "many string literals joined to each other (\"ab\" & \"cd\"), a way to cut keywords apart",
};
pub const IMAGE_HEADER: Signal = Signal {
    id: "image-header",
    weight: 30,
    because: "server code behind an image file's header (GIF89a, PNG, JPEG), made to pass an upload filter",
};
pub const REQUEST_TO_FILE_WRITE: Signal = Signal {
    id: "request-to-file-write",
    weight: 30,
    because: "request data within a statement of a file write (CreateTextFile, SaveToFile, WriteAllText, file_put_contents)",
};
pub const REQUEST_NAMES_WRITTEN_FILE: Signal = Signal {
    id: "request-names-written-file",
    weight: 50,
    because: "the request names a file the page writes (CreateTextFile(Request(\"path\")), SaveToFile p where p = Request(\"f\")): whoever asks writes where they like, as upload-and-save droppers do",
};
pub const SCRIPT_ENCODED: Signal = Signal {
    id: "script-encoded",
    weight: 15,
    because: "server code hidden with the Script Encoder (VBScript.Encode / JScript.Encode)",
};

/// Every signal, in the order reports list them.
pub const SIGNALS: [Signal; 13] = [
    REQUEST_TO_SINK,
    REQUEST_TO_FILE_WRITE,
    REQUEST_NAMES_WRITTEN_FILE,
    DYNAMIC_EXECUTE,
    TINY_PAGE_WITH_SINK,
    HIDDEN_KEYWORD,
    CHAR_CODES,
    CHAR_CODE_DECODER,
    ENCODED_BLOB,
    UNICODE_ESCAPES,
    LITERAL_JOINS,
    IMAGE_HEADER,
    SCRIPT_ENCODED,
];

/// The sum of weights from which the signals are a finding (medium).
pub const FINDING_THRESHOLD: u32 = 50;
/// Heuristics alone never make a finding critical: that takes a rule or context.
pub const MAX_SCORE: u32 = 85;

/// How far apart (bytes of code) request data and a sink may be to count as one statement.
const STATEMENT_REACH: usize = 200;
const TINY_CODE: usize = 1024;
const MIN_CHAR_CODES: usize = 12;
const MIN_BLOB: usize = 256;
const MIN_UNICODE_ESCAPES: usize = 12;
const MIN_LITERAL_JOINS: usize = 12;

/// Where request data enters server code, in the languages IIS hosts.
const REQUEST_SOURCES: [&str; 22] = [
    "request.form",
    "request.querystring",
    "request.item",
    "request[",
    "request(",
    "request.params",
    "request.inputstream",
    "request.binaryread",
    "request.files",
    "request.cookies",
    "request.headers",
    "request.getparameter",
    "request.getinputstream",
    "request.getreader",
    "request.getheader",
    "$_post",
    "$_get",
    "$_request",
    "$_cookie",
    "php://input",
    "request.totalbytes",
    "$_files",
];

/// Calls that run what they are given whatever their argument: a process, a loaded
/// assembly, a compiler, a reflection call, a shell object.
const SINKS_ANY_ARGUMENT: [&str; 16] = [
    "process.start",
    "processstartinfo",
    "assembly.load",
    "compileassemblyfromsource",
    "activator.createinstance",
    "invokemember",
    "wscript.shell",
    "shell.application",
    "getruntime().exec",
    "processbuilder",
    "callbyname",
    "shell_exec",
    "passthru",
    "proc_open",
    "popen(",
    "jscriptevaluate",
];

/// Functions that are a sink only when they stand alone (not `conn.Execute`) and take
/// something other than a string literal (`CreateObject("ADODB.Connection")` is not).
const SINKS_VARIABLE_ARGUMENT: [&str; 7] = [
    "eval",
    "execute",
    "executeglobal",
    "createobject",
    "assert",
    "system",
    "exec",
];

/// Calls that write a file whose name or content may come from the request.
const FILE_WRITES: [&str; 8] = [
    "createtextfile",
    "opentextfile",
    "savetofile",
    "writealltext",
    "writeallbytes",
    "file_put_contents",
    "move_uploaded_file",
    "fileoutputstream",
];

/// Image magic numbers a polyglot page starts with.
const IMAGE_MAGICS: [&[u8]; 4] = [b"GIF89a", b"GIF87a", b"\x89PNG", b"\xFF\xD8\xFF"];

/// The sinks that run script text itself: given a computed string, they run code
/// nobody can read in the page.
const DYNAMIC_EXECUTORS: [&str; 4] = ["eval", "execute", "executeglobal", "assert"];

/// Keywords a shell hides by cutting them into string pieces.
/// (`"ADODB." & "Stream"` and `"Scripting.File" & "SystemObject"` are left out:
/// ordinary ASP applications cut those to get past antivirus.)
const HIDDEN_KEYWORDS: [&str; 15] = [
    "scriptcontrol",
    "eval",
    "execute",
    "wscript",
    "cmd.exe",
    "process",
    "diagnostics",
    "assembly",
    "createobject",
    "shell.application",
    "frombase64",
    "powershell",
    "reflection",
    "base64_decode",
    "request",
];

/// Decode calls that turn a blob back into code or bytes.
const DECODERS: [&str; 10] = [
    "frombase64",
    "base64_decode",
    "base64decode",
    "decodebase64",
    "atob(",
    "hex2bin",
    "fromhex",
    "gzinflate",
    "gzdecode",
    "convert.toint32",
];

/// The signals that fired on one page.
#[derive(Debug, Default)]
pub struct Assessment {
    pub fired: Vec<Signal>,
}

impl Assessment {
    pub fn total(&self) -> u32 {
        self.fired.iter().map(|s| u32::from(s.weight)).sum()
    }

    /// The score a finding gets, when the signals are one.
    pub fn score(&self) -> Option<u8> {
        let total = self.total();
        (total >= FINDING_THRESHOLD).then(|| total.min(MAX_SCORE) as u8)
    }
}

/// The page's server code, lower-cased, and its size without whitespace.
struct Code {
    text: Vec<u8>,
    code_bytes: usize,
}

fn non_space(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| !b.is_ascii_whitespace()).count()
}

/// Extensions whose whole body is code once past the directive line.
const WHOLE_FILE_CODE: [&str; 4] = ["ashx", "asmx", "svc", "cs"];

fn server_code(extension: &str, page: &[u8]) -> Code {
    let lower = page.to_ascii_lowercase();
    let text = if WHOLE_FILE_CODE.contains(&extension) {
        lower
    } else if extension == "php" {
        regions(&lower, &[(b"<?", b"?>")])
    } else {
        let mut code = regions(&lower, &[(b"<%", b"%>")]);
        code.extend(script_runat_server(&lower));
        code
    };
    let code_bytes = non_space(&text);
    Code { text, code_bytes }
}

/// The bytes between each `open` and the next `close` (to the end when unclosed),
/// joined with a newline; `<%--` comments and `<%@` directives are left out.
fn regions(page: &[u8], pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (open, close) in pairs {
        let mut at = 0;
        while let Some(start) = memmem::find(&page[at..], open).map(|s| at + s + open.len()) {
            let end = memmem::find(&page[start..], close).map_or(page.len(), |e| start + e);
            let block = &page[start..end];
            if !block.starts_with(b"--") && !block.starts_with(b"@") {
                out.extend_from_slice(block);
                out.push(b'\n');
            }
            at = (end + close.len()).min(page.len());
        }
    }
    out
}

/// The bodies of `<script ... runat="server">` blocks.
fn script_runat_server(page: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(open) = memmem::find(&page[at..], b"<script").map(|s| at + s) {
        let Some(tag_end) = memchr::memchr(b'>', &page[open..]).map(|e| open + e + 1) else {
            break;
        };
        let end = memmem::find(&page[tag_end..], b"</script").map_or(page.len(), |e| tag_end + e);
        if memmem::find(&page[open..tag_end], b"runat").is_some() {
            out.extend_from_slice(&page[tag_end..end]);
            out.push(b'\n');
        }
        at = end;
    }
    out
}

fn positions(code: &[u8], needles: &[&str]) -> Vec<usize> {
    let mut out: Vec<usize> = needles
        .iter()
        .flat_map(|n| memmem::find_iter(code, n.as_bytes()))
        .collect();
    out.sort_unstable();
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'$'
}

/// Where a variable-argument sink stands alone and is given something other than a
/// string literal, with the sink's name.
fn variable_sinks(code: &[u8]) -> Vec<(usize, &'static str)> {
    let mut out = Vec::new();
    let mut assignments = None;
    for name in SINKS_VARIABLE_ARGUMENT {
        for at in memmem::find_iter(code, name.as_bytes()) {
            // `Server.CreateObject` is the one dotted form that is the function itself.
            let standalone = at == 0
                || !is_word(code[at - 1])
                || (name == "createobject" && code[..at].ends_with(b"server."));
            let after = within_reach(&code[at + name.len()..]);
            if !standalone || after.first().is_some_and(|b| is_word(*b)) {
                continue;
            }
            // PHP's `system(`, `exec(`, `assert(` are calls only with their parenthesis
            // (`select * from system` is SQL).
            let needs_parenthesis = matches!(name, "system" | "exec" | "assert");
            if needs_parenthesis && !after.trim_ascii_start().starts_with(b"(") {
                continue;
            }
            // An object named by joined pieces (`CreateObject("ADODB." & "Stream")`) is
            // still one fixed object, and so is one named by a constant the request
            // never reaches: what the request cannot name, it cannot steer. Code run by
            // Eval or Execute from pieces or a variable is another matter.
            let fixed_object = name == "createobject" && {
                let line = &after[..memchr::memchr(b'\n', after).unwrap_or(after.len())];
                is_literal_argument(&joined_literals(line).0)
                    || names_unsteered_object(
                        assignments.get_or_insert_with(|| Assignments::of(code)),
                        line,
                    )
            };
            if !is_literal_argument(after) && !fixed_object && !reads_as_prose(after) {
                out.push((at, name));
            }
        }
    }
    out.sort_unstable();
    out
}

/// True when a `CreateObject` argument (`line`, what follows the name) is one name,
/// a constant or variable (`FR_RS`, `cms.FsoName`), that no statement of the page
/// assigns from the request and no function or sub of the page takes as a parameter:
/// a constant of an included file (`Const FR_RS = "ADODB.Recordset"`) names one
/// object the request cannot change. A name the page sets from the request, a
/// parameter (its callers may pass the request) or anything else keeps the sink.
fn names_unsteered_object(assignments: &Assignments, line: &[u8]) -> bool {
    let argument = line.trim_ascii_start();
    let argument = argument
        .strip_prefix(b"(")
        .unwrap_or(argument)
        .trim_ascii_start();
    let length = argument.iter().take_while(|b| is_word(**b)).count();
    let name = &argument[..length];
    let closes = argument[length..].trim_ascii_start().starts_with(b")");
    !name.is_empty()
        && closes
        && !name.starts_with(b"request")
        && !assignments.from_request.contains(name)
        && !assignments.parameters.contains(name)
}

/// How far past a call's name its arguments are read: a call's arguments fit in it,
/// and a page of one endless line costs no more per call.
const ARGUMENT_REACH: usize = 1024;

fn within_reach(text: &[u8]) -> &[u8] {
    &text[..text.len().min(ARGUMENT_REACH)]
}

/// What the statements of a page's (lower-case) server code say of its names, read
/// once so that each call looks a name up instead of reading the page again: the
/// names a statement sets from the request, whether each name's every assignment
/// names a static file ([`static_name`]), and the names routines take as parameters.
struct Assignments<'a> {
    /// Set by a statement that mentions the request (`x = "a" & Request("b")`,
    /// `For Each x In Request.Form`).
    from_request: HashSet<&'a [u8]>,
    /// For each assigned name: `Some(markup)` when every assignment names a static
    /// file, `None` when one does not.
    static_names: HashMap<&'a [u8], Option<bool>>,
    parameters: HashSet<&'a [u8]>,
}

impl<'a> Assignments<'a> {
    fn of(code: &'a [u8]) -> Assignments<'a> {
        let mut out = Assignments {
            from_request: HashSet::new(),
            static_names: HashMap::new(),
            parameters: HashSet::new(),
        };
        for statement in statements(code) {
            let mut rest = statement.trim_ascii();
            for prefix in [&b"public "[..], b"private "] {
                rest = rest.strip_prefix(prefix).unwrap_or(rest).trim_ascii_start();
            }
            if let Some(header) = [&b"function "[..], b"sub "]
                .iter()
                .find_map(|keyword| rest.strip_prefix(*keyword))
            {
                let Some(open) = memchr::memchr(b'(', header) else {
                    continue;
                };
                let close =
                    memchr::memchr(b')', &header[open..]).map_or(header.len(), |c| open + c);
                for parameter in header[open + 1..close].split(|b| *b == b',') {
                    let parameter = parameter.trim_ascii();
                    let parameter = parameter.strip_prefix(b"byval ").unwrap_or(parameter);
                    let parameter = parameter.strip_prefix(b"byref ").unwrap_or(parameter);
                    out.parameters.insert(parameter.trim_ascii());
                }
                continue;
            }
            for prefix in [&b"set "[..], b"const "] {
                rest = rest.strip_prefix(prefix).unwrap_or(rest).trim_ascii_start();
            }
            let (name, value) = if let Some(each) = rest.strip_prefix(b"for each ") {
                let length = each.iter().take_while(|b| is_word(**b)).count();
                (&each[..length], &each[length..])
            } else {
                let length = rest.iter().take_while(|b| is_word(**b)).count();
                let after = rest[length..].trim_ascii_start();
                match after.strip_prefix(b"=") {
                    Some(value) if !value.starts_with(b"=") => {
                        (&rest[..length], value.trim_ascii_start())
                    }
                    _ => continue,
                }
            };
            if name.is_empty() {
                continue;
            }
            if memmem::find(value, b"request").is_some() {
                out.from_request.insert(name);
            }
            let named = static_name(value);
            out.static_names
                .entry(name)
                .and_modify(|all| *all = all.zip(named).map(|(a, b)| a || b))
                .or_insert(named);
        }
        out
    }
}

/// The statements of VBScript code: its lines, split at `:` outside string literals,
/// a line ending in the continuation `_` joined to the next.
fn statements(code: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut at = 0;
    let mut in_literal = false;
    std::iter::from_fn(move || {
        while at < code.len() {
            let b = code[at];
            at += 1;
            match b {
                b'"' => in_literal = !in_literal,
                b'\n' => {
                    in_literal = false;
                    let line = code[start..at - 1].trim_ascii_end();
                    if line.ends_with(b"_") {
                        continue;
                    }
                    let statement = &code[start..at - 1];
                    start = at;
                    return Some(statement);
                }
                b':' if !in_literal => {
                    let statement = &code[start..at - 1];
                    start = at;
                    return Some(statement);
                }
                _ => {}
            }
        }
        (start < code.len()).then(|| {
            let statement = &code[start..];
            start = code.len();
            statement
        })
    })
}

/// True when what follows a call's name is one string literal (VBScript's doubled
/// quotes included) and the call ends there: `CreateObject("ADODB.Stream")`, not
/// `Eval("ev" & "al")` nor `Execute(x)`; an empty argument counts as literal too.
fn is_literal_argument(after: &[u8]) -> bool {
    let mut rest = after.trim_ascii_start();
    if let Some(inner) = rest.strip_prefix(b"(") {
        rest = inner.trim_ascii_start();
    }
    let Some(&quote) = rest.first() else {
        return true;
    };
    if quote == b')' {
        return true;
    }
    if quote != b'"' && quote != b'\'' {
        return false;
    }
    let mut i = 1;
    loop {
        match rest.get(i) {
            None => return true,
            Some(&c) if c == quote && rest.get(i + 1) == Some(&quote) => i += 2,
            Some(&c) if c == quote => break,
            Some(_) => i += 1,
        }
    }
    let tail = rest[i + 1..].trim_ascii_start();
    tail.first()
        .is_none_or(|b| matches!(b, b')' | b'\n' | b'\r' | b':' | b';' | b'%' | b','))
}

/// True for `execute the update`: an argument without parentheses that is several
/// bare words to the end of the statement, which is a comment's prose, not code.
fn reads_as_prose(after: &[u8]) -> bool {
    if after.first() != Some(&b' ') {
        return false;
    }
    let statement = after
        .split(|b| matches!(b, b'\n' | b'\r' | b':' | b';'))
        .next()
        .unwrap_or_default();
    let statement = statement.trim_ascii();
    // `eval str End Function` on one line is code: VBScript keywords follow the argument.
    let keyword = statement.split(|b| *b == b' ').skip(1).any(|w| {
        matches!(
            w,
            b"end" | b"then" | b"else" | b"function" | b"sub" | b"next"
        )
    });
    !keyword
        && !statement
            .iter()
            .any(|b| matches!(b, b'(' | b'&' | b'+' | b'"' | b'.' | b'['))
        && statement.contains(&b' ')
}

/// True when some position of `a` is within `reach` bytes of some position of `b`.
fn near(a: &[usize], b: &[usize], reach: usize) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].abs_diff(b[j]) <= reach {
            return true;
        }
        if a[i] < b[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    false
}

/// The code with each `chr(115)` / `chrw(115)` of a printable character written as
/// the string literal `"s"`, so `"mS" & chr(115) & "cR"` joins into one literal.
fn spell_char_codes(code: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(code.len());
    let mut i = 0;
    while i < code.len() {
        let rest = &code[i..];
        let open = [&b"chr("[..], b"chrw("]
            .into_iter()
            .find(|p| rest.starts_with(p))
            .map(<[u8]>::len);
        if let Some(open) = open {
            let digits = rest[open..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let value = std::str::from_utf8(&rest[open..open + digits])
                .ok()
                .and_then(|d| d.parse::<u8>().ok());
            if let Some(c) = value.filter(|c| c.is_ascii_graphic() && *c != b'"') {
                if rest.get(open + digits) == Some(&b')') {
                    out.extend_from_slice(&[b'"', c.to_ascii_lowercase(), b'"']);
                    i += open + digits + 1;
                    continue;
                }
            }
        }
        out.push(code[i]);
        i += 1;
    }
    out
}

/// The code with every joint between two string literals (`" & "`, `"+"`, `' + '`)
/// taken out, and how many joints there were.
fn joined_literals(code: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(code.len());
    let mut joints = 0;
    let mut i = 0;
    while i < code.len() {
        let quote = code[i];
        if quote == b'"' || quote == b'\'' {
            let mut j = i + 1;
            while j < code.len() && matches!(code[j], b' ' | b'\t') {
                j += 1;
            }
            if j < code.len() && matches!(code[j], b'&' | b'+' | b'.') {
                let mut k = j + 1;
                while k < code.len() && matches!(code[k], b' ' | b'\t' | b'_' | b'\r' | b'\n') {
                    k += 1;
                }
                if k < code.len() && code[k] == quote {
                    joints += 1;
                    i = k + 1;
                    continue;
                }
            }
        }
        out.push(code[i]);
        i += 1;
    }
    (out, joints)
}

fn count_all(code: &[u8], needles: &[&str]) -> usize {
    needles
        .iter()
        .map(|n| memmem::find_iter(code, n.as_bytes()).count())
        .sum()
}

fn char_codes(code: &[u8]) -> usize {
    ["chr(", "chrw(", "chrb(", "fromcharcode(", "(char)", "char("]
        .iter()
        .map(|n| {
            memmem::find_iter(code, n.as_bytes())
                .filter(|at| {
                    code.get(at + n.len())
                        .is_some_and(|b| b.is_ascii_digit() || *b == b'&' || *b == b' ')
                })
                .count()
        })
        .sum()
}

/// True when a character is made from a code by arithmetic: `chr(`, `chrw(` or
/// `fromcharcode(` whose argument holds `-`, `+`, `xor` or `^`, or a character's code
/// (`asc(`, `charCodeAt(`) shifted by one of them.
fn char_code_decoder(code: &[u8]) -> bool {
    let shifted_code = ["asc(", "ascw(", "charcodeat("].iter().any(|n| {
        memmem::find_iter(code, n.as_bytes()).any(|at| {
            // `Asc(Mid(s, i, 1)) - k`: a character's code shifted, a Caesar decoder.
            let rest = &code[at + n.len()..];
            let end = balanced_end(rest, 80);
            let after = rest.get(end + 1..).unwrap_or_default().trim_ascii_start();
            rest.get(end) == Some(&b')')
                && (after
                    .first()
                    .is_some_and(|b| matches!(b, b'-' | b'+' | b'^'))
                    || after.starts_with(b"xor "))
        })
    });
    shifted_code
        || ["chr(", "chrw(", "chrb(", "fromcharcode("].iter().any(|n| {
            memmem::find_iter(code, n.as_bytes()).any(|at| {
                let argument = &code[at + n.len()..];
                let argument = &argument[..balanced_end(argument, 80)];
                // `Chr(13)`, `Chr(-1)` are constants, not arithmetic on a code.
                argument.first().is_some_and(|b| b.is_ascii_alphabetic())
                    && (argument.iter().any(|b| matches!(b, b'-' | b'+' | b'^'))
                        || memmem::find(argument, b" xor ").is_some())
            })
        })
}

/// Where the argument that starts `text` (just inside an opening parenthesis) ends:
/// at its closing parenthesis, a line break, or after `limit` bytes.
fn balanced_end(text: &[u8], limit: usize) -> usize {
    let mut depth = 0usize;
    for (i, b) in text.iter().enumerate().take(limit) {
        match b {
            b'(' => depth += 1,
            b')' if depth == 0 => return i,
            b')' => depth -= 1,
            b'\n' => return i,
            _ => {}
        }
    }
    text.len().min(limit)
}

fn longest_blob(code: &[u8]) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for (i, b) in code.iter().enumerate() {
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') {
            run += 1;
        } else {
            // A data URI (`base64,iVBOR...`) is an image, not a payload.
            if run > longest && !code[..i - run].ends_with(b"base64,") {
                longest = run;
            }
            run = 0;
        }
    }
    longest.max(run)
}

fn unicode_escapes(code: &[u8]) -> usize {
    memmem::find_iter(code, b"\\u")
        .filter(|at| {
            code.get(at + 2..at + 6)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
        })
        .count()
}

/// Assesses one page: the signals its server code shows. Pages only: other files
/// (binaries, configuration, logs) are not assessed.
/// The ASP.NET page kinds whose `<%# %>` blocks are data-binding expressions.
const BINDING_PAGES: [&str; 3] = ["aspx", "ascx", "master"];

/// Data-source controls run what their attributes name when a page binds them
/// (`ObjectDataSource` a method of any type, `SqlDataSource` a query, `XmlDataSource`
/// a transform): a page holding one is not markup alone.
fn has_data_source_control(page: &[u8]) -> bool {
    memmem::find_iter(page, b"datasource").any(|at| {
        let ends_tag = page
            .get(at + b"datasource".len())
            .is_none_or(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'));
        let name_start = page[..at]
            .iter()
            .rposition(|b| !(b.is_ascii_alphanumeric() || matches!(b, b':' | b'_')));
        ends_tag && name_start.is_some_and(|i| page[i] == b'<')
    })
}

/// True for a directive whose `Language` is JScript (`language="JScript"`, `=jscript`).
fn names_jscript(directive: &[u8]) -> bool {
    memmem::find(directive, b"language").is_some_and(|at| {
        let value = &directive[at + b"language".len()..];
        memmem::find(&value[..value.len().min(16)], b"js").is_some()
    })
}

/// True for an ASP.NET page (C# or VB) whose server code is only directives, comments
/// and data-binding or expression-builder blocks (`<%# Eval("Title") %>`, `<%$
/// Resources:x %>`) that neither read the request nor name a process, assembly or
/// reflection call, with no `<script runat="server">` and no data-source control.
/// Such a page runs nothing of its own: the blocks are evaluated only when its
/// compiled code-behind binds them, and there `Eval` is the data binder, not a script
/// evaluator. Third-party rules written for script shells (`Eval(` after `<%`) fire on
/// these pages; context scoring lowers them ([`crate::context::score_file`]).
pub fn binds_data_only(subject: &FileSubject, text: &[u8]) -> bool {
    if !BINDING_PAGES.contains(&subject.extension()) {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    if !script_runat_server(&lower).is_empty() || has_data_source_control(&lower) {
        return false;
    }
    let mut binding = Vec::new();
    let mut at = 0;
    while let Some(start) = memmem::find(&lower[at..], b"<%").map(|s| at + s + 2) {
        let end = memmem::find(&lower[start..], b"%>").map_or(lower.len(), |e| start + e);
        let block = &lower[start..end];
        match block.first() {
            // JScript.NET has a real `eval`; such a page is code, whatever its blocks.
            Some(b'@') if names_jscript(block) => return false,
            Some(b'@') => {}
            Some(b'#' | b'$') => binding.extend_from_slice(block),
            _ if block.starts_with(b"--") => {}
            _ => return false,
        }
        at = (end + 2).min(lower.len());
    }
    // A page without any server block is left to the rules: what they matched is all
    // there is to judge it by (a `<script language="C#">` without `runat` included).
    !binding.is_empty()
        && positions(&binding, &REQUEST_SOURCES).is_empty()
        && positions(&binding, &SINKS_ANY_ARGUMENT).is_empty()
        && !["reflection", "assembly", "diagnostics", "invoke"]
            .iter()
            .any(|word| memmem::find(&binding, word.as_bytes()).is_some())
}

/// A page whose server code runs nothing a request could steer, which context scoring
/// lowers ([`crate::context::score_file`]): third-party rules written for script shells
/// match the words such pages are made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InertPage {
    /// [`binds_data_only`].
    BindsDataOnly,
    /// [`runs_application_code_only`], creating database, dictionary and mail objects.
    QueriesDatabaseOnly,
    /// [`runs_application_code_only`], fetching web pages or converting text as well.
    FetchesPagesOnly,
    /// [`runs_application_code_only`], writing files it names itself as well, each
    /// with a static extension ([`static_writes`]).
    WritesOwnStaticFilesOnly,
}

/// Which kind of [`InertPage`] this is, if any. A classic ASP page is one only when none
/// of exsweep's own rules matched it (`own_rule_matched`): they are written knowing
/// such code, and what one of them sees there is more than a query or a fetch.
pub fn inert_page(
    subject: &FileSubject,
    text: &[u8],
    assessment: &Assessment,
    own_rule_matched: bool,
) -> Option<InertPage> {
    if binds_data_only(subject, text) {
        Some(InertPage::BindsDataOnly)
    } else if own_rule_matched {
        None
    } else {
        runs_application_code_only(subject, text, assessment)
    }
}

/// What an ordinary classic ASP application creates: database access, a dictionary,
/// mail. Objects that reach the file system, the network or a shell are not among them.
const APPLICATION_OBJECTS: [&str; 8] = [
    "adodb.connection",
    "adodb.recordset",
    "adodb.command",
    "scripting.dictionary",
    "cdo.message",
    "cdo.configuration",
    "jmail.message",
    "jmail.smtpmail",
];

/// What a classic ASP application creates to fetch a page from another site (its
/// search-engine ranking, a feed) and to turn the answer's bytes into text in the
/// page's character set (`BytesToBstr`: an `ADODB.Stream` written and read back).
/// None of them reaches the file system while the page never saves or loads a file.
const FETCHING_OBJECTS: [&str; 5] = [
    "microsoft.xmlhttp",
    "msxml2.xmlhttp",
    "msxml2.serverxmlhttp",
    "winhttp.winhttprequest",
    "adodb.stream",
];

/// Words the server code of a page that only runs application code never holds: code
/// evaluation, other objects' entry points, shells, file reads and writes. A word
/// counts where it starts a word (`eval`, not `Retrieval`).
const NOT_APPLICATION_CODE: [&str; 23] = [
    "eval",
    ".exec(",
    "executeglobal",
    "scriptcontrol",
    "getobject",
    "callbyname",
    "wscript",
    "shell",
    ".run",
    "loadfromfile",
    "server.execute",
    "server.transfer",
    // What a file manager does with the FileSystemObject; writing its own files is
    // judged apart ([`static_writes`]).
    "getfolder",
    "getfile",
    "getdrive",
    ".drives",
    ".subfolders",
    "deletefile",
    "deletefolder",
    "copyfile",
    "copyfolder",
    "movefile",
    "movefolder",
];

/// The object a page writes its own files with, [`static_writes`] permitting.
const FILE_OBJECT: &str = "scripting.filesystemobject";

/// Extensions of files a browser runs as markup or script: a page that writes request
/// data into one of them injects into the site's pages (defacement, stored script).
const MARKUP_EXTENSIONS: [&str; 4] = [".html", ".htm", ".js", ".css"];

/// How a page's file writes (`.CreateTextFile`, `.OpenTextFile`, `.SaveToFile`) name
/// their files, when every one names a static file ([`names_static_file`]) either in
/// the call (`Server.MapPath("news/" & id & ".html")`) or through a variable every
/// assignment of which does ([`Assignments`]: `filen = Server.MapPath(... & ".html")`,
/// never a routine's parameter): `Some((writes, markup))`, `markup` true when one of them is
/// markup ([`MARKUP_EXTENSIONS`]). `None` when a write's name is anything else: a
/// parameter, a name the page builds otherwise.
fn static_writes(code: &[u8]) -> Option<(usize, bool)> {
    let mut writes = 0;
    let mut markup = false;
    let mut assignments = None;
    for write in ["createtextfile", "opentextfile", "savetofile"] {
        for at in memmem::find_iter(code, write.as_bytes()) {
            if at > 0 && is_word(code[at - 1]) && code[at - 1] != b'.' {
                continue;
            }
            let after = code[at + write.len()..].trim_ascii_start();
            let argument = after.strip_prefix(b"(").unwrap_or(after);
            let argument = within_reach(argument);
            let named = static_name(argument).or_else(|| {
                let argument = unwrapped(argument);
                let length = argument.iter().take_while(|b| is_word(**b)).count();
                let assignments = assignments.get_or_insert_with(|| Assignments::of(code));
                let name = &argument[..length];
                if name.is_empty() || assignments.parameters.contains(name) {
                    return None;
                }
                assignments.static_names.get(name).copied().flatten()
            })?;
            markup |= named;
            writes += 1;
        }
    }
    Some((writes, markup))
}

/// For a first argument that [`names_static_file`]: whether the name is markup.
fn static_name(argument: &[u8]) -> Option<bool> {
    names_static_file(argument).then(|| {
        let first = first_argument(argument);
        MARKUP_EXTENSIONS
            .iter()
            .any(|ext| memmem::find(first, ext.as_bytes()).is_some())
    })
}

/// A call's first argument, up to its first top-level comma, its closing parenthesis,
/// the line's end or a VBScript comment (`'` outside a literal).
fn first_argument(argument: &[u8]) -> &[u8] {
    let argument = within_reach(argument);
    let mut depth = 0usize;
    let mut in_literal = false;
    for (i, &b) in argument.iter().enumerate() {
        match b {
            b'"' => in_literal = !in_literal,
            _ if in_literal => {}
            b'(' => depth += 1,
            b')' if depth == 0 => return &argument[..i],
            b')' => depth -= 1,
            b',' if depth == 0 => return &argument[..i],
            b'\n' | b'\'' => return &argument[..i],
            _ => {}
        }
    }
    argument
}

/// True when a page pulls other files' server code into its own: an `#include`
/// directive or a `<script runat="server" src="...">`.
fn includes_other_files(lower_page: &[u8]) -> bool {
    memmem::find(lower_page, b"#include").is_some()
        || memmem::find_iter(lower_page, b"<script").any(|open| {
            let tag = &lower_page[open..];
            let tag = &tag[..memchr::memchr(b'>', tag).unwrap_or(tag.len())];
            memmem::find(tag, b"runat").is_some() && memmem::find(tag, b"src").is_some()
        })
}

/// The identifiers assigned straight from the request (`sql = Request("q")`,
/// `s=Trim(Request.Form("q"))`).
fn request_copies(code: &[u8]) -> HashSet<&[u8]> {
    let mut out = HashSet::new();
    for at in memmem::find_iter(code, b"request") {
        let mut before = code[..at].trim_ascii_end();
        for wrapper in [&b"trim("[..], b"cstr(", b"("] {
            if let Some(rest) = before.strip_suffix(wrapper) {
                before = rest.trim_ascii_end();
            }
        }
        let Some(rest) = before.strip_suffix(b"=") else {
            continue;
        };
        let rest = rest.trim_ascii_end();
        let start = rest
            .iter()
            .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .map_or(0, |i| i + 1);
        if start < rest.len() {
            out.insert(&rest[start..]);
        }
    }
    out
}

/// True when `text` starts with one of the request's `copies` as a whole word.
fn starts_with_copy(text: &[u8], copies: &HashSet<&[u8]>) -> bool {
    let length = text
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    length > 0 && copies.contains(&text[..length])
}

/// True when an argument, past the calls it starts with (`Server.MapPath(`, `Trim(`),
/// is the request itself (`Request("p")`, PHP's `$_POST[...]`) or one of its `copies`.
fn is_request_or_copy(argument: &[u8], copies: &HashSet<&[u8]>) -> bool {
    let argument = unwrapped(within_reach(argument));
    argument.starts_with(b"request")
        || argument.starts_with(b"$_")
        || starts_with_copy(argument, copies)
}

/// What a file written under a name ending in one of these is, IIS serves as it is.
const STATIC_EXTENSIONS: [&str; 10] = [
    ".html", ".htm", ".txt", ".xml", ".js", ".css", ".json", ".jpg", ".gif", ".png",
];

/// True when the request names a file the code writes: the first argument of a
/// [`FILE_WRITES`] call (`CreateTextFile(Server.MapPath(p), True)` where `p =
/// Request("path")`, `SaveToFile Request("f"), 2`) is the request or a copy of it,
/// and the name does not end in a literal static extension (`p & ".html"`: a page of
/// markup, which IIS never runs). Pages that log or cache write files they name
/// themselves. The COM calls count as methods only (`fso.CreateTextFile`): a CMS's
/// own routine of that name takes other arguments.
fn request_names_written_file(code: &[u8]) -> bool {
    let copies = request_copies(code);
    FILE_WRITES.iter().any(|write| {
        let method_only = matches!(*write, "createtextfile" | "opentextfile" | "savetofile");
        memmem::find_iter(code, write.as_bytes()).any(|at| {
            if method_only && code[..at].last() != Some(&b'.') {
                return false;
            }
            let after = code[at + write.len()..].trim_ascii_start();
            let argument = after.strip_prefix(b"(").unwrap_or(after);
            is_request_or_copy(argument, &copies) && !names_static_file(argument)
        })
    })
}

/// True when a call's first argument (what follows its opening parenthesis) ends in
/// a string literal of a [`STATIC_EXTENSIONS`] name: `Server.MapPath(p & ".html"), 2`.
fn names_static_file(argument: &[u8]) -> bool {
    let first = first_argument(argument).trim_ascii_end();
    let first = first.strip_suffix(b")").unwrap_or(first).trim_ascii_end();
    first.strip_suffix(b"\"").is_some_and(|inside| {
        STATIC_EXTENSIONS
            .iter()
            .any(|ext| inside.ends_with(ext.as_bytes()))
    })
}

/// An argument without the parentheses and function calls it starts with
/// (`( Trim(Request("q")) )` is `Request("q")) )`, `Server.MapPath(p)` is `p)`).
fn unwrapped(argument: &[u8]) -> &[u8] {
    let mut rest = argument.trim_ascii_start();
    loop {
        // Dotted names too (`Server.MapPath(`); the request's own (`Request.Form(`) stay.
        let name = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'.')
            .count();
        match rest[name..].trim_ascii_start().strip_prefix(b"(") {
            Some(inner) if !rest.starts_with(b"request") => rest = inner.trim_ascii_start(),
            _ => return rest,
        }
    }
}

/// Which [`InertPage`] a classic ASP page is whose server code runs only application
/// code, if it is one: every `Execute` is a method of an object (`conn.Execute(sql)`),
/// whose argument is not the request itself or a copy of it, every `CreateObject` names
/// one of [`APPLICATION_OBJECTS`] or [`FETCHING_OBJECTS`] (and no `<object runat=server>`
/// creates another), none of [`NOT_APPLICATION_CODE`] appears, it queries at least once,
/// reads no request, or includes no file and prints no list of the server's variables,
/// and no signal of [`assess`] fired. Names split into joined
/// literals (`"ado"&"db.stream"`) are read joined. A page that fetches is one only
/// when no HTTP `Open` (`Open "GET", url`) is handed the request or a copy of it anywhere in its arguments: a
/// relay that fetches the URL it is given reads the server's own files (`file:` URLs)
/// and internal sites. Old CMS pages are made of such code, and third-party rules
/// written for script shells (`Execute(`, `CreateObject` and split strings after `<%`)
/// fire on them; context scoring lowers them ([`crate::context::score_file`]). An SQL
/// manager shell passes the request to `Execute` and keeps its score; a downloader
/// saves what it fetched (`SaveToFile`) or runs it.
pub fn runs_application_code_only(
    subject: &FileSubject,
    text: &[u8],
    assessment: &Assessment,
) -> Option<InertPage> {
    // Three signals say how a page is written rather than what it runs, and this
    // reading sees past them. A Script-Encoded page (SCRIPT_ENCODED) is judged by its
    // decoded text only when every block's length and checksum hold: copies often have
    // bytes changed (DEL turned into a space), and then the decoded text does not say
    // what the page runs. Literals joined in pieces (LITERAL_JOINS: vendors split their
    // update URLs) and characters written as codes (CHAR_CODES, `Chr(104)`) are read
    // spelled and joined below; a keyword hidden either way fires HIDDEN_KEYWORD, and
    // codes computed by arithmetic CHAR_CODE_DECODER, which this reading does not pass.
    // Request data written to files the page names itself, none of them markup, is a
    // log (REQUEST_TO_FILE_WRITE fires on it): it reaches no page a browser or IIS runs.
    let how_written = |id: &str| [SCRIPT_ENCODED.id, LITERAL_JOINS.id, CHAR_CODES.id].contains(&id);
    let encoded = assessment.fired.iter().any(|s| s.id == SCRIPT_ENCODED.id);
    if subject.extension() != "asp"
        || (encoded && !exsweep_rules::script_encoder_intact(subject.data))
    {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    // `<object runat=server classid=...>` creates an object without `CreateObject`.
    if memmem::find(&lower, b"<object").is_some() && memmem::find(&lower, b"runat").is_some() {
        return None;
    }
    let code = server_code("asp", text);
    if code.code_bytes == 0 {
        return None;
    }
    let (c, _) = joined_literals(&spell_char_codes(&code.text));
    let c = &c;
    let (writes, writes_markup) = static_writes(c)?;
    let logs_request = |id: &str| id == REQUEST_TO_FILE_WRITE.id && !writes_markup;
    if !assessment
        .fired
        .iter()
        .all(|s| how_written(s.id) || logs_request(s.id))
    {
        return None;
    }
    // A word is one where it starts (`eval`, not `Retrieval`); `.run` is a method.
    let holds_word = NOT_APPLICATION_CODE.iter().any(|word| {
        memmem::find_iter(c, word.as_bytes()).any(|at| {
            word.starts_with('.')
                || at == 0
                || !(c[at - 1].is_ascii_alphanumeric() || c[at - 1] == b'_')
        })
    });
    if holds_word {
        return None;
    }
    let copies = request_copies(c);
    let is_copy_at = |argument: &[u8]| starts_with_copy(argument, &copies);
    let runs_request = |argument: &[u8]| is_request_or_copy(argument, &copies);
    // Anywhere in the statement: `Open "GET", "http://" & Request("h")`.
    let mentions_request = |argument: &[u8]| {
        let argument = within_reach(argument);
        let statement = &argument[..memchr::memchr(b'\n', argument).unwrap_or(argument.len())];
        memmem::find(statement, b"request").is_some()
            || (0..statement.len())
                .any(|at| (at == 0 || !is_word(statement[at - 1])) && is_copy_at(&statement[at..]))
    };
    let mut queries = 0;
    let mut opens_request = false;
    let methods_of_objects = ["execute", "open"].iter().all(|method| {
        memmem::find_iter(c, method.as_bytes()).all(|at| {
            let after = &c[at + method.len()..];
            if after
                .first()
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
            {
                return true;
            }
            let before = c[..at].last().copied();
            match before {
                // `conn.Execute x` or `rs.Open x`: an object's method.
                Some(b'.') => {
                    queries += 1;
                    // An HTTP request's `Open "GET", url`; a recordset's `Open sql` is
                    // a query, judged as one.
                    let http = {
                        let first = after.trim_ascii_start();
                        let first = first.strip_prefix(b"(").unwrap_or(first).trim_ascii_start();
                        ["\"get\"", "\"post\"", "\"head\"", "\"put\""]
                            .iter()
                            .any(|verb| first.starts_with(verb.as_bytes()))
                    };
                    opens_request |= *method == "open" && http && mentions_request(after);
                    !runs_request(after)
                }
                // A word that ends in the name (`reopen`) is another word.
                Some(b) if b.is_ascii_alphanumeric() || b == b'_' => true,
                // The VBScript statement `Execute` runs its argument as code.
                _ => *method == "open",
            }
        })
    });
    let mut fetches = false;
    let mut files = false;
    // JScript creates objects with `new ActiveXObject("...")`.
    let creations = memmem::find_iter(c, b"createobject")
        .map(|at| at + b"createobject".len())
        .chain(memmem::find_iter(c, b"activexobject").map(|at| at + b"activexobject".len()));
    let creates_known_objects = creations.collect::<Vec<_>>().into_iter().all(|end| {
        let argument = c[end..].trim_ascii_start();
        let argument = argument
            .strip_prefix(b"(")
            .unwrap_or(argument)
            .trim_ascii_start();
        let Some(name) = argument.strip_prefix(b"\"") else {
            return false;
        };
        // `"msxml2.serverxmlhttp.6.0"`: a versioned name of the same object.
        let named = |object: &str| {
            name.strip_prefix(object.as_bytes()).is_some_and(|rest| {
                rest.starts_with(b"\"")
                    || (rest.first() == Some(&b'.') && rest.get(1).is_some_and(u8::is_ascii_digit))
            })
        };
        if FETCHING_OBJECTS.iter().any(|object| named(object)) {
            fetches = true;
            true
        } else if named(FILE_OBJECT) {
            // Its writes are [`static_writes`]'s; what manages files is a forbidden word.
            files = true;
            true
        } else {
            APPLICATION_OBJECTS.iter().any(|object| named(object))
        }
    });
    // A page that queries nothing is this kind only when it reads no request (a library
    // of functions, such as an MD5 include) or includes no other file: what it does not
    // do is then all there is, and a request steers only what it prints. Code that
    // reads the request and queries nothing may hand it to an included file's function.
    // A page that prints every server variable (`For Each v In Request.ServerVariables`)
    // shows the server's paths and software to whoever asks: shell kits ship it.
    let reads_request = memmem::find(c, b"request").is_some();
    let dumps_server = memmem::find(c, b"in request.servervariables").is_some();
    let steers_nothing =
        queries > 0 || !reads_request || !(includes_other_files(&lower) || dumps_server);
    if !(methods_of_objects && creates_known_objects && steers_nothing)
        || (fetches && opens_request)
    {
        None
    } else if writes > 0 || files {
        Some(InertPage::WritesOwnStaticFilesOnly)
    } else if fetches {
        Some(InertPage::FetchesPagesOnly)
    } else {
        Some(InertPage::QueriesDatabaseOnly)
    }
}

pub fn assess(subject: &FileSubject, text: &[u8]) -> Assessment {
    let mut fired = Vec::new();
    let code = server_code(subject.extension(), text);
    if code.code_bytes == 0 {
        return Assessment { fired };
    }
    let c = &code.text;
    let sources = positions(c, &REQUEST_SOURCES);
    let variable = variable_sinks(c);
    let mut sinks = positions(c, &SINKS_ANY_ARGUMENT);
    sinks.extend(variable.iter().map(|(at, _)| *at));
    sinks.sort_unstable();
    if near(&sources, &sinks, STATEMENT_REACH) {
        fired.push(REQUEST_TO_SINK);
    }
    let writes_request = near(&sources, &positions(c, &FILE_WRITES), STATEMENT_REACH);
    if writes_request {
        fired.push(REQUEST_TO_FILE_WRITE);
    }
    if request_names_written_file(c) {
        fired.push(REQUEST_NAMES_WRITTEN_FILE);
    }
    if variable
        .iter()
        .any(|(_, name)| DYNAMIC_EXECUTORS.contains(name))
    {
        fired.push(DYNAMIC_EXECUTE);
    }
    // A tiny page whose work is writing request data to a file is a dropper.
    if (!sinks.is_empty() || writes_request) && code.code_bytes < TINY_CODE {
        fired.push(TINY_PAGE_WITH_SINK);
    }
    let (joined, joints) = joined_literals(&spell_char_codes(c));
    if joints > 0 && count_all(&joined, &HIDDEN_KEYWORDS) > count_all(c, &HIDDEN_KEYWORDS) {
        fired.push(HIDDEN_KEYWORD);
    }
    if char_codes(c) >= MIN_CHAR_CODES {
        fired.push(CHAR_CODES);
    }
    if char_code_decoder(c) {
        fired.push(CHAR_CODE_DECODER);
    }
    if longest_blob(c) >= MIN_BLOB
        && DECODERS
            .iter()
            .any(|d| memmem::find(c, d.as_bytes()).is_some())
    {
        fired.push(ENCODED_BLOB);
    }
    if unicode_escapes(c) >= MIN_UNICODE_ESCAPES {
        fired.push(UNICODE_ESCAPES);
    }
    if joints >= MIN_LITERAL_JOINS {
        fired.push(LITERAL_JOINS);
    }
    if IMAGE_MAGICS.iter().any(|m| subject.data.starts_with(m)) {
        fired.push(IMAGE_HEADER);
    }
    if memmem::find(subject.data, b"#@~^").is_some() {
        fired.push(SCRIPT_ENCODED);
    }
    Assessment { fired }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Zone;

    fn signals(name: &str, page: &str) -> Vec<&'static str> {
        let subject = FileSubject::new(name, Zone::IisWebRoot, page.as_bytes(), true);
        assess(&subject, page.as_bytes())
            .fired
            .iter()
            .map(|s| s.id)
            .collect()
    }

    fn sink_call(name: &str, argument: &str) -> String {
        format!("{name}({argument})")
    }

    fn binds(name: &str, page: &str) -> bool {
        let subject = FileSubject::new(name, Zone::Other, page.as_bytes(), true);
        binds_data_only(&subject, page.as_bytes())
    }

    fn application_code(name: &str, page: &str) -> Option<InertPage> {
        let subject = FileSubject::new(name, Zone::Other, page.as_bytes(), true);
        let assessment = assess(&subject, page.as_bytes());
        runs_application_code_only(&subject, page.as_bytes(), &assessment)
    }

    fn database_only(name: &str, page: &str) -> bool {
        application_code(name, page) == Some(InertPage::QueriesDatabaseOnly)
    }

    #[test]
    fn a_classic_asp_page_that_only_queries_its_database_is_told_from_an_sql_shell() {
        let cms = "<!--#include file=\"conn.asp\"--><%\r\nid=clng(request(\"id\"))\r\n\
                   set rs=server.createobject(\"adodb.recordset\")\r\n\
                   rs.open \"select * from news where id=\"&id,conn,1,1\r\n\
                   conn.execute(\"update news set hits=hits+1 where id=\"&id)\r\n\
                   response.write rs(\"title\")\r\n%><p>news</p>";
        assert!(database_only(r"C:\w\news.asp", cms));
        // Not classic ASP, or code that runs something else.
        assert!(!database_only(r"C:\w\news.aspx", cms));
        assert!(!database_only(
            r"C:\w\vars.asp",
            "<%for each v in request.servervariables%><%=v%><%next%>"
        ));
        assert!(database_only(
            r"C:\w\md5.asp",
            "<%private function md5(s)\r\nmd5 = lcase(s)\r\nend function%>"
        ));
        // A page that reads the request, queries nothing and includes nothing can only
        // print; with an include, the request may reach the included file's code.
        let prints = "<%if request.cookies(\"id\")=\"\" then response.end\r\n\
                      nid=trim(request.querystring(\"nid\"))%>\
                      <script>try{eval(\"p=\"+p)}catch(e){}</script><a href=\"u.asp?nid=<%=nid%>\">up</a>";
        assert!(database_only(r"C:\w\up.asp", prints));
        for include in [
            "<!--#include file=\"lib.asp\"-->",
            "<script language=\"vbscript\" runat=\"server\" src=\"lib.vbs\"></script>",
        ] {
            assert!(
                !database_only(r"C:\w\up.asp", &format!("{include}{prints}")),
                "{include}"
            );
        }
        // A vendor's URL in pieces and text in character codes say how the page is
        // written; a keyword hidden that way is read as the keyword.
        let pieces = (0..12).map(|i| format!("\"p{i}\"&")).collect::<String>();
        let written = format!(
            "{cms}<%u=\"ht\"&\"tp://up\"&\"date.example.com/\"&{pieces}\"v\"\r\n\
             t={}%>",
            (0..12).map(|_| "chr(97)").collect::<Vec<_>>().join("&")
        );
        let subject = FileSubject::new(r"C:\w\news.asp", Zone::Other, written.as_bytes(), true);
        let fired: Vec<_> = assess(&subject, written.as_bytes())
            .fired
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(fired, ["char-codes", "literal-joins"]);
        assert!(database_only(r"C:\w\news.asp", &written));
        let hidden = format!("{written}<%set o=createobject(\"wscr\"&\"ipt.shell\")%>");
        assert!(!database_only(r"C:\w\news.asp", &hidden));
        // A word inside another is not that word.
        assert!(database_only(
            r"C:\w\news.asp",
            &format!("{cms}<%retrieval=rs(\"x\")%>")
        ));
        for other in [
            "<%sql=request(\"q\")\r\nconn.execute(sql)%>",
            "<%conn.execute(request(\"q\"))%>",
            "<%set rs=conn.execute( trim(request.form(\"q\")) )%>",
            "<%rs.open request(\"q\"),conn%>",
            "<%execute \"x=1\"%>",
            "<%set f=server.createobject(\"scripting.filesystemobject\")\r\nf.deletefile p%>",
            "<%set s=createobject(\"ado\"&\"db.stream\")\r\ns.savetofile p%>",
            "<%x=\"ev\" & _\r\n  \"al\"%>",
            "<%server.execute(p)%>",
            "<%set x=server.createobject(o)%>",
            "<object runat=server id=s classid=\"clsid:0\"></object><%s.x%>",
            "<%response.write o.exec(\"cmd /c dir\").stdout.readall%>",
            "<%x=eval(y)%>",
            "<%var x=new activexobject(\"msxml2.domdocument\")%>",
        ] {
            assert!(
                !database_only(r"C:\w\news.asp", &format!("{cms}{other}")),
                "{other}"
            );
        }
    }

    #[test]
    fn a_page_that_fetches_a_search_engine_and_converts_its_text_is_told_from_a_relay_and_a_downloader(
    ) {
        // A CMS page asking a search engine how many of the site's pages it holds: the
        // object names are split to get past scanners, the stream only converts bytes.
        let seo = r#"<%
url=request.querystring("url")
content=gethttppage("http://www.example.com/s?wd=site%3a"&url&"")
count=between(content,"results about","pages")
count=replace(replace(count,"about",""),",","")
%>
document.getelementbyid("seo_count").value = "<%= count %>";
<%
function between(text,first,last)
  if text="" or isnull(text)=true or first="" or isnull(first)=true then
    between="0"
    exit function
  end if
  dim lowered,start,finish
  lowered=lcase(text)
  start=instr(1,lowered,lcase(first),vbbinarycompare)
  if start<=0 then
    between="0"
    exit function
  end if
  start=start+len(first)
  finish=instr(start,lowered,lcase(last),vbbinarycompare)
  if finish<=0 or finish<=start then
    between="0"
    exit function
  end if
  between=mid(text,start,finish-start)
end function

function gethttppage(httpurl)
  if isnull(httpurl)=true then
    response.write("no address given")
    exit function
  end if
  on error resume next
  dim http
  set http=server.createobject("msx"&"ml2.xml"&"http")
  http.open "get",httpurl,false
  http.send()
  if http.readystate<>4 then
    set http=nothing
    response.write("the page cannot be reached")
    exit function
  end if
  gethttppage=bytestobstr(http.responsebody,"gb2312")
  set http=nothing
end function

function bytestobstr(body,cset)
  dim objstream
  set objstream = server.createobject("adod" & _
    "b.stream")
  objstream.type = 1
  objstream.mode = 3
  objstream.open
  objstream.write body
  objstream.position = 0
  objstream.type = 2
  objstream.charset = cset
  bytestobstr = objstream.readtext
  objstream.close
  set objstream = nothing
end function
%>
"#;
        assert_eq!(signals(r"C:\w\seo.asp", seo), Vec::<&str>::new());
        assert_eq!(
            application_code(r"C:\w\seo.asp", seo),
            Some(InertPage::FetchesPagesOnly)
        );
        assert_eq!(
            application_code(
                r"C:\w\v.asp",
                "<%set h=createobject(\"msxml2.serverxmlhttp.6.0\")\r\nh.open \"get\",\"http://example.com/\",false%>"
            ),
            Some(InertPage::FetchesPagesOnly)
        );
        // A recordset's Open given the request is a query, not a fetch.
        let with_query = seo.replace(
            "count=replace(",
            "set rs=server.createobject(\"adodb.recordset\")\r\nrs.open \"select * from site where url='\"&request(\"url\")&\"'\",conn,1,1\r\ncount=replace(",
        );
        assert_eq!(
            application_code(r"C:\w\seo.asp", &with_query),
            Some(InertPage::FetchesPagesOnly)
        );
        // A relay: the request names what is fetched, far from where it is read.
        let relay = seo.replace(r#"http.open "get",httpurl"#, r#"http.open "get",url"#);
        assert_eq!(signals(r"C:\w\seo.asp", &relay), Vec::<&str>::new());
        assert_eq!(application_code(r"C:\w\seo.asp", &relay), None);
        for other in [
            "<%set h=createobject(\"microsoft.xmlhttp\")\r\nh.open \"get\",request(\"u\"),false%>",
            "<%u=request(\"u\")\r\nset h=createobject(\"microsoft.xmlhttp\")\r\nh.open \"get\",\"http://\"&u,false%>",
            // A downloader keeps what it fetched, or runs it.
            "<%set s=createobject(\"adodb.stream\")\r\ns.savetofile server.mappath(\"x.asp\"),2%>",
            "<%set s=createobject(\"adodb.stream\")\r\ns.loadfromfile p%>",
            "<%execute(bytestobstr(h.responsebody,\"gb2312\"))%>",
            // An object that runs XSLT script is not a fetching one.
            "<%set x=createobject(\"msxml2.domdocument\")%>",
        ] {
            assert_eq!(
                application_code(r"C:\w\seo.asp", &format!("{seo}{other}")),
                None,
                "{other}"
            );
        }
    }

    #[test]
    fn a_page_that_writes_static_files_it_names_is_told_from_a_dropper_and_a_defacer() {
        // A CMS making each article's static page, and logging a payment notice.
        let maker = r#"<!--#include file="conn.asp"-->
<%
set rs=server.createobject("adodb.recordset")
rs.open "select id,title,body from article where made=0",conn,1,1
set fso=server.createobject("scripting.filesystemobject")
do while not rs.eof
  filen=server.mappath("../article/"&rs("id")&".html")   ' the article's page
  set f=fso.createtextfile(filen,true,false)
  f.write "<html><body><h1>"&rs("title")&"</h1>"&rs("body")&"</body></html>"
  f.close
  rs.movenext
loop
%>"#;
        assert_eq!(
            application_code(r"C:\w\make.asp", maker),
            Some(InertPage::WritesOwnStaticFilesOnly)
        );
        let log = r#"<!--#include file="conn.asp"-->
<%
' The payment service's notice: checked against the order, then kept as it came.
dim orderno,amount,status,sign,expected
orderno=trim(request.form("out_trade_no"))
amount=trim(request.form("total_fee"))
status=trim(request.form("trade_status"))
sign=trim(request.form("sign"))
expected=md5("out_trade_no="&orderno&"&total_fee="&amount&"&trade_status="&status&partnerkey)
if sign<>expected then
  response.write "fail"
  response.end
end if
if orderno="" or not isnumeric(amount) then
  response.write "fail"
  response.end
end if
select case status
  case "TRADE_SUCCESS", "TRADE_FINISHED"
  case "WAIT_BUYER_PAY"
    response.write "success"
    response.end
  case else
    response.write "fail"
    response.end
end select
set rs=server.createobject("adodb.recordset")
rs.open "select * from orders where orderno='"&replace(orderno,"'","''")&"'",conn,1,3
if not rs.eof then
  if cdbl(rs("amount"))=cdbl(amount) and status="TRADE_SUCCESS" then
    rs("paid")=1
    rs("paidtime")=now()
    rs.update
  end if
end if
rs.close
set rs=nothing
' Every notice is kept for the accounts, one file a notice.
set fso=server.createobject("scripting.filesystemobject")
set f=fso.createtextfile(server.mappath("notify/"&replace(now(),":","")&".txt"),true)
f.writeline request.form
f.close
set f=nothing
set fso=nothing
response.write "success"
%>"#;
        assert_eq!(signals(r"C:\w\notify.asp", log), ["request-to-file-write"]);
        assert_eq!(
            application_code(r"C:\w\notify.asp", log),
            Some(InertPage::WritesOwnStaticFilesOnly)
        );
        for (what, page) in [
            // Request data into a page of the site: a defacer.
            ("defacer", log.replace(".txt", ".html")),
            // A server page, a name built otherwise, a routine's parameter.
            ("server page", maker.replace(".html", ".asp")),
            (
                "built name",
                maker.replace(r#""../article/"&rs("id")&".html""#, "dir&name"),
            ),
            (
                "parameter",
                maker.replace("do while", "sub make(filen)\r\nend sub\r\ndo while"),
            ),
            // A file manager's verbs.
            (
                "manager",
                maker.replace("rs.movenext", "fso.deletefile filen"),
            ),
        ] {
            assert_eq!(application_code(r"C:\w\make.asp", &page), None, "{what}");
        }
    }

    #[test]
    fn a_script_encoded_database_page_is_judged_by_its_text_only_when_its_blocks_are_whole() {
        let code = "\r\nset rs=server.createobject(\"adodb.recordset\")\r\n\
                    rs.open \"select * from news where id=\"&clng(request(\"id\")),conn,1,1\r\n";
        let page = [
            b"<%@ LANGUAGE = VBScript.Encode %><%".as_slice(),
            &exsweep_rules::encode_script(code.as_bytes()),
            b"%><p>news</p>",
        ]
        .concat();
        let judged = |page: &[u8]| {
            let subject = FileSubject::new(r"C:\w\news.asp", Zone::Other, page, true);
            let view = exsweep_rules::text_view(page).unwrap();
            let assessment = assess(&subject, &view);
            assert_eq!(assessment.fired, [SCRIPT_ENCODED]);
            runs_application_code_only(&subject, &view, &assessment)
                == Some(InertPage::QueriesDatabaseOnly)
        };
        assert!(judged(&page));
        // A byte changed in the copy: what it decodes to is not what the server ran.
        let mut changed = page.clone();
        let at = changed.iter().rposition(|&b| b == b'E').unwrap();
        changed[at] = b' ';
        assert!(!judged(&changed));
    }

    #[test]
    fn markup_that_only_binds_data_runs_nothing_and_code_beside_it_does() {
        let head =
            "<%@ Page Language=\"C#\" MasterPageFile=\"~/site.Master\" Inherits=\"Blog.List\" %>\
                    <%-- list --%><asp:Repeater ID=\"r\" runat=\"server\"><ItemTemplate>";
        let bound = format!(
            "{head}<%# Eval(\"Title\") %> <%# DataBinder.Eval(Container, \"DataItem.Link\") %>\
             <%$ Resources:Site, More %></ItemTemplate></asp:Repeater>"
        );
        assert!(binds(r"C:\w\list.aspx", &bound));
        assert!(!binds(
            r"C:\w\static.aspx",
            "<html><p>no server code</p></html>"
        ));
        assert!(binds(r"C:\w\list.ascx", &bound.replace("Page", "Control")));
        // Another kind of page, another language, or any code besides the binding.
        assert!(!binds(r"C:\w\list.asp", &bound));
        assert!(!binds(r"C:\w\list.aspx", &bound.replace("C#", "JScript")));
        assert!(!binds(
            r"C:\w\list.aspx",
            &format!("{bound}<%= DateTime.Now %>")
        ));
        assert!(!binds(
            r"C:\w\list.aspx",
            &format!("{bound}<script runat=\"server\">void Page_Load() {{}}</script>")
        ));
        assert!(!binds(
            r"C:\w\list.aspx",
            &format!("{bound}<asp:ObjectDataSource ID=\"d\" runat=\"server\" TypeName=\"T\" />")
        ));
        // Binding that reads the request or starts a process is code an attacker added.
        let started = format!("{head}<%# {} %>", sink_call("Process.Start", "\"x\""));
        assert!(!binds(r"C:\w\list.aspx", &started));
        assert!(!binds(
            r"C:\w\list.aspx",
            &format!("{head}<%# Request.QueryString[\"q\"] %>")
        ));
    }

    #[test]
    fn request_data_reaching_a_sink_fires_and_a_database_call_does_not() {
        let shell = format!(
            "<%@ Page Language=\"Jscript\"%><% {} %>",
            sink_call("eval", "Request.Item[\"p\"],\"unsafe\"")
        );
        assert_eq!(
            signals(r"C:\inetpub\wwwroot\a.aspx", &shell),
            ["request-to-sink", "dynamic-execute", "tiny-page-with-sink"]
        );
        let cms = "<html><body><% Set rs = conn.Execute(\"select * from t where id=\" & CLng(Request(\"id\"))) \
                   Set c = Server.CreateObject(\"ADODB.Connection\") %><p>news</p></body></html>";
        assert!(signals(r"C:\inetpub\wwwroot\news.asp", cms).is_empty());
        // An object named in joined pieces is one fixed object; code run from pieces is not.
        let split_object = "<html><body><% n = Request(\"name\")\r\n\
                            Set s = Server.CreateObject(\"ADODB.\" & \"Stream\") %><p>up</p></body></html>";
        assert!(signals(r"C:\inetpub\wwwroot\up.asp", split_object).is_empty());
        let split_code = split_object.replace(
            "Server.CreateObject(\"ADODB.\" & \"Stream\")",
            &format!("{}(\"x = \" & \"1\")", "Execute"),
        );
        assert!(signals(r"C:\inetpub\wwwroot\up.asp", &split_code).contains(&"request-to-sink"));
    }

    #[test]
    fn an_object_named_by_a_constant_is_fixed_and_one_the_request_names_is_a_sink() {
        // The constant is an include's (`Const FR_RS = "ADODB.Recordset"`).
        let cms = "<% id = Request(\"id\")\r\nSet rs = Server.CreateObject(FR_RS)\r\n\
                   rs.Open \"select * from t where id=\" & CLng(id), conn %>";
        assert!(signals(r"C:\inetpub\wwwroot\news.asp", cms).is_empty());
        for steered in [
            cms.replace("id = Request(\"id\")", "FR_RS = Trim(Request(\"o\"))"),
            cms.replace("CreateObject(FR_RS)", "CreateObject(Request(\"o\"))"),
            format!(
                "<% Function Make(FR_RS)\r\n{} End Function %>",
                &cms[3..cms.len() - 2]
            ),
        ] {
            assert!(
                signals(r"C:\inetpub\wwwroot\news.asp", &steered).contains(&"request-to-sink"),
                "{steered}"
            );
        }
    }

    #[test]
    fn statements_split_at_colons_outside_literals_and_join_continued_lines() {
        let code = b"u = \"http://x\" : set o = f(u)\nv = \"a\" & _\n  request(\"b\")\nw = 1";
        let all: Vec<&[u8]> = statements(code).map(<[u8]>::trim_ascii).collect();
        assert_eq!(
            all,
            [
                &b"u = \"http://x\""[..],
                b"set o = f(u)",
                b"v = \"a\" & _\n  request(\"b\")",
                b"w = 1"
            ]
        );
        let names = Assignments::of(code);
        assert!(names.from_request.contains(&b"v"[..]));
        assert!(!names.from_request.contains(&b"u"[..]));
    }

    #[test]
    fn a_file_the_request_names_is_a_dropper_and_one_the_page_names_is_not() {
        let dropper = [
            "<% Set fs = Server.CreateObject(\"Scripting.FileSystemObject\") %>\r\n",
            "<% path = Request(\"path\") %>\r\n<% data = Request(\"data\") %>\r\n",
            "<% Set t = fs.Create",
            "TextFile(Server.MapPath(path), True) %>\r\n<% t.Write data %>",
        ]
        .concat();
        assert!(signals(r"C:\x.asp", &dropper).contains(&"request-names-written-file"));
        for (near_miss, from, to) in [
            // A log the page names itself, with the request in it.
            (
                "log",
                "Server.MapPath(path)",
                "Server.MapPath(\"log/\" & Replace(Now(), \":\", \"\") & \".txt\")",
            ),
            // Markup, which IIS serves as it is, wherever the request puts it.
            (
                "static",
                "Server.MapPath(path)",
                "Server.MapPath(path & \".html\")",
            ),
            // A CMS's own routine of the name, given content first.
            ("routine", "fs.Create", "Create"),
        ] {
            let page = dropper.replace(from, to);
            assert!(
                !signals(r"C:\x.asp", &page).contains(&"request-names-written-file"),
                "{near_miss}: {page}"
            );
        }
    }

    #[test]
    fn prose_in_a_comment_is_not_a_sink() {
        let page = "<% ' execute the update\r\nSet c = Server.CreateObject(\"ADODB.Command\") : x = Request(\"id\") %>";
        assert!(signals(r"C:\x.asp", page).is_empty());
        let antsword = "<%Function x(str) eval str End Function%><%D = request(\"ant\")%><%x D%>";
        assert!(signals(r"C:\x.asp", antsword).contains(&"dynamic-execute"));
        let shell = "<% execute request(\"a\") %>";
        assert!(signals(r"C:\x.asp", shell).contains(&"request-to-sink"));
    }

    #[test]
    fn an_image_header_and_a_request_written_to_a_file_fire() {
        let page = "GIF89a;<% Set f = fs.CreateTextFile(Request.Form(\"path\"), True) %>";
        assert_eq!(
            signals(r"C:\x.asp", page),
            [
                "request-to-file-write",
                "request-names-written-file",
                "tiny-page-with-sink",
                "image-header"
            ]
        );
    }

    #[test]
    fn client_script_does_not_count() {
        let page = format!(
            "<html><script>{}</script><p>{}</p></html>",
            sink_call("eval", "location.hash + Request.QueryString"),
            "text ".repeat(40)
        );
        assert!(signals(r"C:\inetpub\wwwroot\a.aspx", &page).is_empty());
        let server = page.replace("<script>", "<script runat=\"server\">");
        assert!(signals(r"C:\inetpub\wwwroot\a.aspx", &server).contains(&"request-to-sink"));
    }

    #[test]
    fn text_computed_and_run_fires() {
        let page = "<% Function D(s):For x=1 To Ubound(s):D=D&Chr(s(x)-55):Next:End Function\r\nexECutE(D(Split(\"*156*173\",\"*\"))) %>";
        let fired = signals(r"C:\x.asp", page);
        assert!(
            fired.contains(&"dynamic-execute") && fired.contains(&"char-code-decoder"),
            "{fired:?}"
        );
        let caesar = "<% pk = Asc(Mid(t, i, 1)) - k : a = a & Chr(pk) %>";
        assert!(signals(r"C:\x.asp", caesar).contains(&"char-code-decoder"));
        let literal = "<% Eval(\"1+1\") : x = Chr(13) & Chr(10) : n = Asc(c) %>";
        assert!(signals(r"C:\x.asp", literal).is_empty());
        let joined = "<% eval(\"e\"&\"v\"&\"a\"&\"l\") %>";
        assert!(signals(r"C:\x.asp", joined).contains(&"dynamic-execute"));
    }

    #[test]
    fn keywords_cut_into_pieces_are_found() {
        let with_codes = "<% Set o = Server.CreateObject(\"mS\"&chr(115)&\"cR\"&chr(105)&\"pTCoNtROL.ScriptControl\") %>";
        assert!(signals(r"C:\x.asp", with_codes).contains(&"hidden-keyword"));
        let page = "<% Set o = CreateObject(\"WSc\" & \"ript.Sh\" & \"ell\") %>";
        assert!(signals(r"C:\x.asp", page).contains(&"hidden-keyword"));
        let plain = "<% Set o = CreateObject(\"Scripting.Dictionary\") : x = \"a\" & \"b\" %>";
        assert!(!signals(r"C:\x.asp", plain).contains(&"hidden-keyword"));
    }

    #[test]
    fn obfuscation_signals_need_enough_of_it() {
        let chars: String = (0..12).map(|i| format!("Chr({})&", 65 + i)).collect();
        assert!(signals(r"C:\x.asp", &format!("<% x = {chars}\"\" %>")).contains(&"char-codes"));
        assert!(!signals(r"C:\x.asp", "<% x = Chr(13) & Chr(10) %>").contains(&"char-codes"));
        let blob = "QUJD".repeat(70);
        let loader = format!("<% var b = Convert.FromBase64String(\"{blob}\"); %>");
        assert!(signals(r"C:\x.aspx", &loader).contains(&"encoded-blob"));
        let image = format!("<% img = \"data:image/png;base64,{blob}\" : x = FromBase64(y) %>");
        assert!(!signals(r"C:\x.aspx", &image).contains(&"encoded-blob"));
        let escapes = "\\u0065".repeat(12);
        assert!(
            signals(r"C:\x.aspx", &format!("<% var s = \"{escapes}\"; %>"))
                .contains(&"unicode-escapes")
        );
    }

    #[test]
    fn a_handler_is_code_throughout() {
        let handler = format!(
            "<%@ WebHandler Language=\"C#\" Class=\"H\" %>\nclass H {{ void P() {{ {}; }} }}",
            sink_call(
                "System.Diagnostics.Process.Start",
                "\"cmd.exe\", \"/c \" + ctx.Request[\"c\"]"
            )
        );
        assert!(signals(r"C:\x.ashx", &handler).contains(&"request-to-sink"));
    }

    #[test]
    fn the_threshold_makes_a_finding() {
        let one = Assessment {
            fired: vec![LITERAL_JOINS],
        };
        assert_eq!(one.score(), None);
        let many = Assessment {
            fired: SIGNALS.to_vec(),
        };
        assert_eq!(many.score(), Some(MAX_SCORE as u8));
    }
}
