// Droppers: pages that upload or write files where the caller says, or that write a
// new server page (a second shell) next to themselves. The first stage of many
// intrusions, and the smallest shells there are.

rule exsweep_upload_to_caller_path
{
    meta:
        id = "EXR-DROP-1"
        description = "Upload page that saves a posted file under a name or path taken from the request (the ASPX and VB one-line uploaders, SimpleSeeSharp)"
        severity = "critical"
        family = "dropper"
        attack = "T1105"
        reference = "https://www.volexity.com/blog/2021/03/02/active-exploitation-of-microsoft-exchange-zero-day-vulnerabilities/"
        author = "exsweep"
    strings:
        $files = /Request\s*\.\s*Files\s*[\[\(]/ nocase
        $save_request = /\.SaveAs\s*\(\s*(Server\.MapPath\s*\(\s*)?(Request|context\.Request|HttpContext\.Current\.Request)\b/ nocase
        $save_combine = /\.SaveAs\s*\(\s*(System\.IO\.)?Path\.Combine\s*\(/ nocase
    condition:
        filesize < 2MB and $files and ($save_request or ($save_combine and filesize < 4KB))
}

rule exsweep_small_upload_page
{
    meta:
        id = "EXR-DROP-2"
        description = "A small page whose work is saving posted files: an uploader, not an application page"
        severity = "high"
        family = "dropper"
        attack = "T1105"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $files = /(Request\s*\.\s*Files|PostedFile|HttpPostedFile)/ nocase
        $save = /\.SaveAs\s*\(/ nocase
    condition:
        filesize < 3KB and $files and $save
}

rule exsweep_write_request_to_file
{
    meta:
        id = "EXR-DROP-3"
        description = "Server code that writes request data to a file, or to a file the request names"
        severity = "high"
        family = "dropper"
        attack = "T1105"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $writer_request = /(StreamWriter|File\s*\.\s*(WriteAll(Text|Bytes|Lines)|AppendAllText|CreateText|Create|OpenWrite)|CreateTextFile|SaveToFile)\s*\(\s*(Server\.MapPath\s*\(\s*)?(Request|context\.Request|HttpContext\.Current\.Request)\b/ nocase
        $write_request = /\.(Write|WriteLine)\s*\(\s*(Request|context\.Request|HttpContext\.Current\.Request)(\.Form|\.QueryString|\.Item|\.Params)?\s*[\[\(]/ nocase
        $writer = /(StreamWriter|File\s*\.\s*(WriteAll|AppendAll|CreateText|OpenWrite)|CreateTextFile|ADODB\.Stream)/ nocase
    condition:
        filesize < 2MB and ($writer_request or ($write_request and $writer))
}

rule exsweep_writes_server_page
{
    meta:
        id = "EXR-DROP-4"
        description = "Code that creates a new server page (.aspx, .asp, .ashx ...) or writes server script into a file: a shell that plants another shell"
        severity = "high"
        family = "dropper"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $to_page = /(StreamWriter|File\s*\.\s*(WriteAll(Text|Bytes)|AppendAllText|CreateText|Create|Copy|Move)|CreateTextFile|SaveAs|SaveToFile)\s*[\(\s][^;\n]{0,160}\.(aspx|asp|ashx|asmx|asa|cer|cdx|svc|soap)["']/ nocase
        $script_literal = /["'][^"'\n]{0,60}<%[^\n]{0,100}\b(eval|execute)\b[^\n]{0,30}\brequest\b/ nocase
        $writer = /(StreamWriter|File\s*\.\s*(WriteAll|AppendAll|CreateText)|CreateTextFile)/ nocase
    condition:
        filesize < 2MB and ($to_page or ($script_literal and $writer))
}
