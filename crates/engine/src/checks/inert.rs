//! Which pages run nothing a request could steer, so that context scoring lowers what
//! rules written for script shells see in them ([`crate::context::score_file`]): an
//! ASP.NET page whose server code is data binding alone, and a classic ASP page whose
//! code is an ordinary application's (database queries, page fetches, static files it
//! names itself). The judgments read the page as the heuristics do
//! ([`super::heuristics`]: server code, joined literals, assignments).

use super::files::FileSubject;
use super::heuristics::{
    is_request_or_copy, is_word, joined_literals, positions, script_runat_server, server_code,
    spell_char_codes, starts_with_copy, static_name, unwrapped, within_reach, Assessment,
    Assignments, CHAR_CODES, LITERAL_JOINS, REQUEST_SOURCES, REQUEST_TO_FILE_WRITE, SCRIPT_ENCODED,
    SINKS_ANY_ARGUMENT,
};
use memchr::memmem;

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

/// How a page's file writes (`.CreateTextFile`, `.OpenTextFile`, `.SaveToFile`) name
/// their files, when every one names a static file ([`static_name`]) either in
/// the call (`Server.MapPath("news/" & id & ".html")`) or through a variable every
/// assignment of which does ([`Assignments`]: `filen = Server.MapPath(... & ".html")`,
/// never a routine's parameter): `Some((writes, markup))`, `markup` true when one of them is
/// markup ([`MARKUP_EXTENSIONS`]). `None` when a write's name is anything else: a
/// parameter, a name the page builds otherwise.
fn static_writes(code: &[u8], names: &Assignments) -> Option<(usize, bool)> {
    let mut writes = 0;
    let mut markup = false;
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
                let name = &argument[..length];
                if name.is_empty() || names.parameters.contains(name) {
                    return None;
                }
                names.static_names.get(name).copied().flatten()
            })?;
            markup |= named;
            writes += 1;
        }
    }
    Some((writes, markup))
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

/// Which [`InertPage`] a classic ASP page is whose server code runs only application
/// code, if it is one: every `Execute` is a method of an object (`conn.Execute(sql)`),
/// whose argument is not the request itself or a copy of it, every `CreateObject` names
/// one of [`APPLICATION_OBJECTS`] or [`FETCHING_OBJECTS`] (and no `<object runat=server>`
/// creates another), none of [`NOT_APPLICATION_CODE`] appears, it queries at least once,
/// reads no request, or includes no file and prints no list of the server's variables,
/// and no signal of [`assess`](super::heuristics::assess) fired. Names split into joined
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
    let names = Assignments::of(c);
    let (writes, writes_markup) = static_writes(c, &names)?;
    // Request data written to files the page names itself, none of them markup, is a
    // log (REQUEST_TO_FILE_WRITE fires on it): it reaches no page a browser or IIS runs.
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
    let is_copy_at = |argument: &[u8]| starts_with_copy(argument, &names.copies);
    let runs_request = |argument: &[u8]| is_request_or_copy(argument, &names.copies);
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
    let mut creations = memmem::find_iter(c, b"createobject")
        .map(|at| at + b"createobject".len())
        .chain(memmem::find_iter(c, b"activexobject").map(|at| at + b"activexobject".len()));
    let creates_known_objects = creations.all(|end| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::heuristics::assess;
    use crate::inventory::Zone;

    /// The signals' identifiers, as the sweep would assess the page.
    fn fired(name: &str, page: &str) -> Vec<&'static str> {
        let subject = FileSubject::new(name, Zone::IisWebRoot, page.as_bytes(), true);
        let assessment = assess(&subject, page.as_bytes());
        assessment.fired.iter().map(|s| s.id).collect()
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
        assert_eq!(fired(r"C:\w\seo.asp", seo), Vec::<&str>::new());
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
        assert_eq!(fired(r"C:\w\seo.asp", &relay), Vec::<&str>::new());
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
        assert_eq!(fired(r"C:\w\notify.asp", log), ["request-to-file-write"]);
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
        let started = format!("{head}<%# {}(\"x\") %>", "Process.Start");
        assert!(!binds(r"C:\w\list.aspx", &started));
        assert!(!binds(
            r"C:\w\list.aspx",
            &format!("{head}<%# Request.QueryString[\"q\"] %>")
        ));
    }
}
