// Classic ASP (VBScript and JScript under asp.dll), which IIS on an Exchange server
// runs wherever ASP is installed: Execute/Eval of request data, its bypass tricks
// (concatenated keywords, Chr chains, CallByName, script-encoded pages) and FSO
// writers.

rule exsweep_asp_execute_request
{
    meta:
        id = "EXR-ASP-1"
        description = "Classic ASP code that executes request data as VBScript (Execute, ExecuteGlobal, Eval of Request): the one-line ASP shell"
        severity = "critical"
        family = "classic ASP"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $exec_request = /\b(execute|executeglobal|eval)\s*\(?\s*(request|session|application)\s*(\.\s*(form|querystring|item|cookies))?\s*[\(\[]/ nocase
        $asp = /<\s?%/
    condition:
        filesize < 2MB and $asp and $exec_request
}

rule exsweep_asp_indirect_execute
{
    meta:
        id = "EXR-ASP-2"
        description = "Classic ASP code that builds the name of Execute, Eval or an object from pieces (string concatenation, Chr() chains) or calls it through CallByName: the usual ASP antivirus bypasses"
        severity = "high"
        family = "classic ASP"
        attack = "T1027"
        reference = "https://attack.mitre.org/techniques/T1027/"
        author = "exsweep"
    strings:
        $split_keyword = /"(e|ex|exe|exec|execu|execut|ev|eva)"\s*&\s*"(xecute|ecute|cute|ute|te|e|al|l)\b/ nocase
        $chr_chain = /(chrw?\s*\(\s*\d{2,3}\s*\)\s*&\s*){6,}/ nocase
        $callbyname = /CallByName\s*\(/ nocase
        $request = /\brequest\s*(\.\s*(form|querystring|item))?\s*[\(\[]/ nocase
        $asp = /<\s?%/
    condition:
        filesize < 2MB and $asp and ($split_keyword or $chr_chain or ($callbyname and $request))
}

rule exsweep_asp_script_encoded
{
    meta:
        id = "EXR-ASP-3"
        description = "A script-encoded classic ASP page (VBScript.Encode / JScript.Encode, `#@~^` blocks): the encoding hides code from readers and scanners and is rare in pages still in use"
        severity = "high"
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
        description = "Classic ASP code that writes request data to a file through Scripting.FileSystemObject or ADODB.Stream: an uploader or shell planter"
        severity = "high"
        family = "classic ASP"
        attack = "T1105"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $fso = /(Scripting\.FileSystemObject|ADODB\.Stream)/ nocase
        $write = /\.(CreateTextFile|OpenTextFile|SaveToFile)\s*\(/ nocase
        $request = /\brequest\s*(\.\s*(form|querystring|item|binaryread))?\s*[\(\[]/ nocase
        $asp = /<\s?%/
    condition:
        filesize < 2MB and $asp and $fso and $write and $request
}
