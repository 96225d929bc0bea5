// HTTP-to-socket tunnels: reGeorg, Neo-reGeorg, suo5, Tunna, ABPTTS and their kin. A
// page opens TCP connections for the caller and relays bytes, carrying an attacker's
// traffic from the web into the internal network.

rule exsweep_socket_tunnel_page
{
    meta:
        id = "EXR-TUN-1"
        description = "Server page that opens TCP connections to a host and port the request names and relays data (reGeorg, Neo-reGeorg, suo5, Tunna, ABPTTS): a Socket or TcpClient connected to an endpoint or to a host and port, or a TcpClient made for a host and port and read through its stream"
        severity = "critical"
        family = "tunnel"
        attack = "T1090.001"
        reference = "https://github.com/sensepost/reGeorg"
        author = "exsweep"
    strings:
        $socket1 = /new\s+(System\.Net\.Sockets\.)?Socket\s*\(/ nocase
        $socket2 = /new\s+(System\.Net\.Sockets\.)?TcpClient\s*\(/ nocase
        $socket3 = /\.\s*(Connect|BeginConnect|ConnectAsync)\s*\(/ nocase
        $endpoint = /(IPEndPoint|DnsEndPoint|IPAddress\s*\.\s*Parse|Dns\s*\.\s*(GetHostAddresses|GetHostEntry|Resolve))/ nocase
        // Connect(host, port) names the target without an endpoint object.
        $host_port_connect = /\.\s*Connect\s*\(\s*[^,()]{1,80},\s*[^,()]{1,40}\)/
        // `new TcpClient(host, port)` connects by itself: no Connect call, no endpoint.
        $client_stream = /\.\s*GetStream\s*\(\s*\)/
        $request = /Request\s*(\.\s*(Headers|QueryString|Form|Params|Item|InputStream|BinaryRead))?\s*(\.\s*Get\s*\(|[\[\(\.])/ nocase
        $server1 = /<\s?%\s*@/
        $server2 = /runat\s*=\s*["']?server/ nocase
        $server3 = "IHttpHandler" nocase
    condition:
        filesize < 2MB and $request and any of ($server*) and
        ((($socket1 or $socket2) and (($socket3 and $endpoint) or $host_port_connect)) or
         ($socket2 and $client_stream))
}

rule exsweep_tunnel_session_socket
{
    meta:
        id = "EXR-TUN-2"
        description = "A socket kept in the ASP.NET session between requests, driven by connect / read / forward / disconnect commands: the reGeorg and Tunna relay protocol"
        severity = "critical"
        family = "tunnel"
        attack = "T1090.001"
        reference = "https://github.com/SECFORCE/Tunna"
        author = "exsweep"
    strings:
        $session_socket = /(Session\s*\[[^\]]{1,60}\]\s*=\s*(sender|socket|sock|s|client|tcp)\b|\(\s*Socket\s*\)\s*Session\s*\[|Session\s*\[[^\]]{1,60}\]\s*as\s+Socket)/ nocase
        $verb1 = "\"CONNECT\"" nocase
        $verb2 = "\"DISCONNECT\"" nocase
        $verb3 = "\"FORWARD\"" nocase
        $verb4 = "\"READ\"" nocase
    condition:
        filesize < 2MB and $session_socket and 2 of ($verb*)
}
