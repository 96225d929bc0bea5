// Classic ASP (VBScript and JScript under asp.dll), which IIS on an Exchange server
// runs wherever ASP is installed: Execute/Eval of request data, its bypass tricks
// (concatenated keywords, Chr chains, CallByName, script-encoded pages) and FSO
// writers.

rule exsweep_asp_execute_request
{
    meta:
        id = "EXR-ASP-1"
        description = "Server code that runs request data as script (VBScript Execute or ExecuteGlobal, eval of Request): the one-line ASP shell, and the China Chopper page in any of its languages; also spelled eval_r, as the one-liner is kept in copies that passed a filter renaming eval (planted, it still marks the intrusion)"
        severity = "critical"
        family = "classic ASP"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $exec_request = /\b(execute|executeglobal|eval|eval_r)\s*\(?\s*(request|session|application)\s*(\.\s*(form|querystring|item|cookies))?\s*[\(\[]/ nocase
        $asp = /<\s?%/
    condition:
        // A fragment of a few bytes is how the one-liner is planted into another
        // page's string (`":eval request("a")'`), with no script tag of its own.
        filesize < 2MB and ($asp or filesize < 256) and $exec_request
}

rule exsweep_asp_indirect_execute
{
    meta:
        id = "EXR-ASP-2"
        description = "Classic ASP code that builds the name of Execute or Eval from pieces of strings, or calls a method named by the request through CallByName: the usual ASP antivirus bypasses"
        severity = "high"
        family = "classic ASP"
        attack = "T1027"
        reference = "https://attack.mitre.org/techniques/T1027/"
        author = "exsweep"
    strings:
        $split_keyword = /"(e|ex|exe|exec|execu|execut|ev|eva)"\s*&\s*"(xecute|ecute|cute|ute|te|e|al|l)\b/ nocase
        $callbyname = /CallByName\s*\(/ nocase
        $request = /\brequest\s*(\.\s*(form|querystring|item))?\s*[\(\[]/ nocase
        $asp = /<\s?%/
    condition:
        filesize < 2MB and $asp and ($split_keyword or ($callbyname and $request))
}

rule exsweep_asp_script_encoded
{
    meta:
        id = "EXR-ASP-3"
        description = "A script-encoded classic ASP page (VBScript.Encode / JScript.Encode, `#@~^` blocks): the encoding hides code from readers and scanners; commercial ASP applications use it too, so alone it is a lead, not a finding"
        severity = "low"
        family = "classic ASP"
        attack = "T1027"
        reference = "https://attack.mitre.org/techniques/T1027/"
        author = "exsweep"
    strings:
        $language = /language\s*=\s*["']?(VBScript|JScript)\.Encode/ nocase
        $block = /#@~\^[A-Za-z0-9+\/]{6}==/
    condition:
        filesize < 2MB and ($language or $block)
}

rule exsweep_asp_fso_writer
{
    meta:
        id = "EXR-ASP-4"
        description = "Classic ASP code that writes, copies or moves a file at a path the request names, through Scripting.FileSystemObject or ADODB.Stream: an uploader, shell planter or data grabber"
        severity = "high"
        family = "classic ASP"
        attack = "T1105"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $fso = /(Scripting\.FileSystemObject|ADODB\.Stream)/ nocase
        $write_to_request_path = /\.(CreateTextFile|OpenTextFile|SaveToFile|CopyFile|CopyFolder|MoveFile|MoveFolder)\s*[\(\s]\s*(Server\.MapPath\s*\(\s*)?request\s*(\.\s*(form|querystring|item))?\s*[\(\[]/ nocase
        $asp = /<\s?%/
    condition:
        filesize < 2MB and $asp and $fso and $write_to_request_path
}

rule exsweep_asp_chr_chain
{
    meta:
        id = "EXR-ASP-5"
        description = "Classic ASP code that spells text out as a long chain of Chr() calls: a way to hide keywords from scanners, also used by commercial applications to hide licence checks"
        severity = "low"
        family = "classic ASP"
        attack = "T1027"
        reference = "https://attack.mitre.org/techniques/T1027/"
        author = "exsweep"
    strings:
        $chr_chain = /(chr\(\s*\d{2,3}\s*\)\s*&\s*){6,}/ nocase
        $asp = /<\s?%/
    condition:
        filesize < 2MB and $asp and $chr_chain
}

rule exsweep_asp_shell_object
{
    meta:
        id = "EXR-ASP-6"
        description = "Classic ASP page that creates the WScript.Shell or Shell.Application object (by ProgID or by CLSID in an <object runat=server> tag): command execution, which a web page has no use for"
        severity = "high"
        family = "classic ASP"
        attack = "T1059.005"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $progid1 = /CreateObject\s*\(\s*"wscript\.shell/ nocase
        $progid2 = /CreateObject\s*\(\s*"shell\.application/ nocase
        $clsid1 = "72C24DD5-D70A-438B-8A42-98424B88AFB8" nocase
        $clsid2 = "13709620-C279-11CE-A49E-444553540000" nocase
        $asp = /<\s?%/
    condition:
        filesize < 2MB and $asp and any of ($progid*, $clsid*)
}

rule exsweep_asp_execute_variable
{
    meta:
        id = "EXR-ASP-7"
        description = "Classic ASP code that runs a variable or a decoding function's result as VBScript (Execute x, Eval(f(\"...\"))) in a page that reads the request: the one-line shell with one step of indirection"
        severity = "high"
        family = "classic ASP"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $exec_variable = /(^|[\s:;%>(])(execute|executeglobal|eval)\s*\(?\s*[a-z_]\w{0,30}\s*\)?\s*(\r|\n|%>|:|$)/ nocase
        $exec_decoded = /(^|[\s:;%>(])(execute|executeglobal|eval)\s*\(\s*[a-z_]\w{0,30}\s*\(\s*"/ nocase
        $request = /\brequest\s*(\.\s*(form|querystring|item))?\s*[\(\[]/ nocase
        $asp = /<\s?%/
    condition:
        filesize < 2MB and $asp and $request and any of ($exec*)
}

rule exsweep_asp_password_gate
{
    meta:
        id = "EXR-ASP-8"
        description = "Classic ASP page gated by a password written into it (a request value compared with a literal before a session flag is set, or a UserPass constant): how ASP shells keep other attackers out; applications check passwords against a store"
        severity = "medium"
        family = "classic ASP"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $gate = /if\s+(trim\s*\(\s*)?request\s*(\.\s*(form|querystring))?\s*\(\s*"[^"]{1,20}"\s*\)\s*\)?\s*=\s*"[^"]{3,40}"\s+then\s{0,20}('[^\r\n]{0,80}\s{1,20})?(session|response\.cookies)\s*\(/ nocase
        $flag_set = /(session|response\.cookies)\s*\(/ nocase
        $userpass = /\b(UserPass|PassWord|pass)\s*=\s*"[^"]{3,40}"/ nocase
        $timeout = /Server\.ScriptTimeout\s*=\s*\d{6,}/ nocase
        $asp = /<\s?%/
    condition:
        filesize < 2MB and $asp and (($gate and $flag_set) or ($userpass and $timeout))
}

rule exsweep_asp_file_manager
{
    meta:
        id = "EXR-ASP-9"
        description = "Classic ASP page that browses drives and folders the request names and deletes, copies or writes files in them: the file manager of the ASP 'big horse' shells"
        severity = "high"
        family = "classic ASP"
        attack = "T1083"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $fso = "Scripting.FileSystemObject" nocase
        $browse = /\.(GetFolder|Drives|GetDrive|SubFolders)\b/ nocase
        $change = /\.(DeleteFile|CopyFile|MoveFile|DeleteFolder|CreateTextFile)\b/ nocase
        $request_folder = /\.(GetFolder|GetFile|DeleteFile|OpenTextFile)\s*\(\s*(Server\.MapPath\s*\(\s*)?request/ nocase
        $asp = /<\s?%/
    condition:
        filesize < 2MB and $asp and $fso and $browse and $change and $request_folder
}

rule exsweep_asp_include_non_script
{
    meta:
        id = "EXR-ASP-10"
        description = "A classic ASP page that is little more than an include of a file with a text, image or archive extension: the include runs the other file as script, so a shell hides in a .txt or .jpg that no one reads as code (pages of CMSs include such files among others)"
        severity = "medium"
        family = "classic ASP"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $include = /<!--\s*#include\s+(file|virtual)\s*=\s*"[^"]{1,200}\.(txt|jpg|jpeg|gif|png|bmp|ico|log|dat|rar|zip|mdb|cer|cdx)"/ nocase
    condition:
        filesize < 512 and $include
}

rule exsweep_asp_progid_in_pieces
{
    meta:
        id = "EXR-ASP-11"
        description = "Classic ASP code that creates FileSystemObject, WScript.Shell or Shell.Application under a name it joins from string pieces (\"scripting.\"&\"File\"&\"System\"&\"Object\"), in the call or in a variable the call is given: hiding the object from scanners, as shells do"
        severity = "high"
        family = "classic ASP"
        attack = "T1027"
        reference = "https://attack.mitre.org/techniques/T1027/"
        author = "exsweep"
    strings:
        // Split inside `Scripting.`, `WScript.` or `Shell.`: pages of CMSs split
        // `ADODB.Stream` the same way to get past their hosts' filters.
        $pieces = /CreateObject\s*\(\s*"(s|sc|scr|scri|scrip|script|scripti|scriptin|scripting\.?|w|ws|wsc|wscr|wscri|wscrip|wscript\.?|sh|she|shel|shell\.?)"\s*&\s*"[a-z.]{1,24}"/ nocase
        // The same name joined into a variable first (`CONST_FSO = "Script"&"ing.Fil"&...`)
        // and created from it; a piece of four letters or more, as a word of prose
        // joined to another would rarely be.
        $pieces_assigned = /[a-z_]\w{0,30}\s*=\s*"(scri|scrip|script|scripti|scriptin|scripting\.?|wscr|wscri|wscrip|wscript\.?|shel|shell\.?)"\s*&\s*"[a-z.]{1,24}"/ nocase
        $create_from_variable = /CreateObject\s*\(\s*[a-z_]\w{0,30}\s*\)/ nocase
        $asp = /<\s?%/
    condition:
        filesize < 2MB and $asp and ($pieces or ($pieces_assigned and $create_from_variable))
}

rule exsweep_asp_execute_self_decoded
{
    meta:
        id = "EXR-ASP-12"
        description = "Classic ASP code that runs as VBScript text the page decodes itself: Execute of its own decoding function's result (a Function built on Mid, Chr or Asc), of a long chain of characters picked one by one (d(6)&d(10)&d(9)...), or of a variable in a page with such a decoder and no request read in clear. The request and the sinks are inside the encoded text, where no scanner reads them"
        severity = "high"
        family = "classic ASP"
        attack = "T1027"
        reference = "https://attack.mitre.org/techniques/T1027/"
        author = "exsweep"
    strings:
        $exec_decoder = /(^|[\s:;%>(])(execute|executeglobal|eval)\s*\(?\s*[a-z_]\w{0,30}\s*\(\s*[a-z_]\w{0,30}\s*\)/ nocase
        $exec_picked = /(^|[\s:;%>(])(execute|executeglobal|eval)\s*\(?\s*([a-z_]\w{0,8}\s*\(\s*\d{1,4}\s*\)\s*&\s*){8}/ nocase
        // Execute of a variable, in a page whose request reads are all encoded: the
        // variable holds what its decoder made (`pvr=ttg(pvr):execute pvr`).
        $exec_variable = /(^|[\s:;%>(])(execute|executeglobal)\s*\(?\s*[a-z_]\w{0,30}\s*\)?\s*(\r|\n|%>|:|$)/ nocase
        $function = /\bfunction\s+[a-z_]\w{0,30}\s*\(/ nocase
        $mid = /\bmid\s*\(/ nocase
        $chr = /\bchrw?\s*\(/ nocase
        $asc = /\bascw?\s*\(/ nocase
        $instr = /\binstr\s*\(/ nocase
        $request = /\brequest\s*(\.\s*(form|querystring|item|cookies))?\s*[\(\[]/ nocase
        $asp = /<\s?%/
    condition:
        filesize < 512KB and $asp and $function and $mid and
        ($exec_picked or ($exec_decoder and ($chr or $asc)) or
         ($exec_variable and ($chr or $asc or $instr) and not $request))
}

rule exsweep_asp_request_relay
{
    meta:
        id = "EXR-ASP-13"
        description = "Classic ASP page that fetches, through Microsoft.XMLHTTP or ServerXMLHTTP, a URL held in a variable of a page that reads the request, and writes the answer back as it came: a relay that shows the server's own files (by path or file: URL) and internal sites to whoever asks, as source viewers and tunnels do"
        severity = "medium"
        family = "classic ASP"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $xmlhttp = /CreateObject\s*\(\s*"(microsoft|msxml2)\.(server)?xmlhttp/ nocase
        $open_variable = /\.open\s*\(?\s*"(get|post)"\s*,\s*(""\s*&\s*)?[a-z_]\w{0,30}\s*(&\s*""\s*)?,/ nocase
        $request = /\brequest\s*(\.\s*(form|querystring|item))?\s*[\(\[]/ nocase
        // The answer written back as it came, or HTML-encoded to be shown as text: a
        // relay. Pages of CMSs fetch search engines' pages the same way and pick
        // values out of them.
        $echo_answer = /response\.(binary)?write\s*\(?\s*[a-z_]\w{0,30}\.response(text|body)\b/ nocase
        $encode_answer = /server\.htmlencode\s*\(\s*[a-z_]\w{0,30}\.response(text|body)\b/ nocase
        $asp = /<\s?%/
    condition:
        filesize < 512KB and $asp and $xmlhttp and $open_variable and $request and
        any of ($echo_answer, $encode_answer)
}
