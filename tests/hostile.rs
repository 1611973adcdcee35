//! Hostile and malformed requests over raw sockets, one table: each probe's expected answers
//! (in order) and whether the server must close the connection by itself. After every probe
//! the server must still answer; after every probe at `/input` a sentinel click must be the
//! next thing the recording X client sees, so nothing was injected. The classes follow RFC 9112
//! (request line, fields, Host, Content-Length and Transfer-Encoding, chunked coding,
//! persistence) plus the control guards; `docs/http.md` states the rules they check.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use testkit::http::{get, post};
use testkit::server::Deskcam;
use testkit::wait::wait_until;
use testkit::x11::{Rec, Recorder, Xvfb};

/// `class | answers | end | name | raw`. Answers: the statuses in order (`-` for none). End:
/// `close` means the server must close the connection by itself (our side stays open);
/// `half` means we shut down our sending side after the probe (so a server waiting for more
/// sees the end). Raw: `\r \n \t \0 \\ \xNN` escapes; `{A}` is the server's address, `{P}` its
/// port, `{smuggle}` a complete request for a path that does not exist (its 404 must never
/// come back), `{x*N}` N times `x`, `{hdrs*N}` N header lines, `{CL}` the length of what follows
/// the head up to `{/body}`.
const PROBES: &str = r#"
line  | 400 | close | a leading space | \x20GET /state HTTP/1.1\r\nHost: {A}\r\n\r\n{smuggle}
line  | 400 | close | two spaces after the method | GET  /state HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | two spaces before the version | GET /state  HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | a trailing space | GET /state HTTP/1.1\x20\r\nHost: {A}\r\n\r\n
line  | 400 | close | an extra token | GET /state HTTP/1.1 extra\r\nHost: {A}\r\n\r\n
line  | 400 | close | no version (an HTTP/0.9 request) | GET /state\r\n\r\n
line  | 400 | close | tabs between the parts | GET\t/state\tHTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | a lower-case version | GET /state http/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | a two-digit minor version | GET /state HTTP/1.10\r\nHost: {A}\r\n\r\n
line  | 400 | close | a version without a minor | GET /state HTTP/1\r\nHost: {A}\r\n\r\n
line  | 505 | close | HTTP/0.9 | GET /state HTTP/0.9\r\nHost: {A}\r\n\r\n
line  | 505 | close | HTTP/2.0 | GET /state HTTP/2.0\r\nHost: {A}\r\n\r\n
line  | 505 | close | the HTTP/2 connection preface | PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n
line  | 505 | close | HTTP/1.2 | GET /state HTTP/1.2\r\nHost: {A}\r\n\r\n
line  | 505 | close | HTTP/3.0 | GET /state HTTP/3.0\r\nHost: {A}\r\n\r\n
line  | 400 | close | a NUL in the target | GET /sta\0te HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | a bare CR in the request line | GET /state\rHTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | a non-ASCII target | GET /\xc3\xa9 HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | a DEL in the target | GET /st\x7fate HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | a fragment | GET /state#top HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | a malformed percent-escape | GET /state%zz HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | a truncated percent-escape | GET /state% HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | GET * | GET * HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | a relative target | GET state HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | a method that is not a token | G@T /state HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 405 | half  | an unknown method (methods are case-sensitive) | get /state HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 501 | close | CONNECT | CONNECT {A} HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 414 | close | a request line over 8 KiB | GET /{x*9000} HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 200 | half  | one empty line before the request | \r\nGET /state HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | two empty lines before the request | \r\n\r\nGET /state HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | lines ending in LF alone | GET /state HTTP/1.1\nHost: {A}\n\n
line  | 400 | close | a head ending in LF alone | GET /state HTTP/1.1\r\nHost: {A}\r\n\n{smuggle}
line  | 400 | close | a TLS ClientHello | \x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n
line  | 200 | half  | the absolute form | GET http://{A}/state HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | the absolute form with user information | GET http://evil@{A}/state HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | the absolute form of another scheme | GET ftp://{A}/state HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 400 | close | the absolute form with a name for a port | GET http://127.0.0.1:x/state HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 204 | half  | OPTIONS * | OPTIONS * HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 200 | half  | the absolute form with https | GET https://{A}/state HTTP/1.1\r\nHost: {A}\r\n\r\n
line  | 200 | half  | raw {, |, } and ^ in a query (browsers send them) | GET /state?a={b}|c^d HTTP/1.1\r\nHost: {A}\r\n\r\n
keep  | 200,200 | half | an h2c upgrade is served as HTTP/1.1 | GET /state HTTP/1.1\r\nHost: {A}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\nGET /state HTTP/1.1\r\nHost: {A}\r\n\r\n
keep  | 200,200 | half | a WebSocket upgrade is served as HTTP/1.1 | GET /state HTTP/1.1\r\nHost: {A}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nGET /state HTTP/1.1\r\nHost: {A}\r\n\r\n
host  | 400 | close | HTTP/1.1 without Host | GET /state HTTP/1.1\r\n\r\n{smuggle}
host  | 200 | half  | HTTP/1.0 without Host | GET /state HTTP/1.0\r\n\r\n
host  | 400 | close | two equal Host headers | GET /state HTTP/1.1\r\nHost: {A}\r\nHost: {A}\r\n\r\n
host  | 400 | close | two different Host headers | GET /state HTTP/1.1\r\nHost: {A}\r\nHost: evil.example\r\n\r\n
host  | 400 | close | a name for a port | GET /state HTTP/1.1\r\nHost: 127.0.0.1:evil.example\r\n\r\n
host  | 400 | close | an empty Host | GET /state HTTP/1.1\r\nHost:\r\n\r\n
host  | 400 | close | an empty port | GET /state HTTP/1.1\r\nHost: 127.0.0.1:\r\n\r\n
host  | 400 | close | a port above 65535 | GET /state HTTP/1.1\r\nHost: 127.0.0.1:99999\r\n\r\n
host  | 400 | close | user information | GET /state HTTP/1.1\r\nHost: evil@{A}\r\n\r\n
host  | 400 | close | a NUL | GET /state HTTP/1.1\r\nHost: 127.0.0.1\0\r\n\r\n
host  | 400 | close | an unclosed IPv6 address | GET /state HTTP/1.1\r\nHost: [::1\r\n\r\n
host  | 400 | close | a space inside | GET /state HTTP/1.1\r\nHost: 127.0.0.1 evil\r\n\r\n
field | 400 | close | a NUL in a name | GET /state HTTP/1.1\r\nHost: {A}\r\nX-A\0: 1\r\n\r\n
field | 400 | close | a NUL in a value | GET /state HTTP/1.1\r\nHost: {A}\r\nX-A: a\0b\r\n\r\n
field | 400 | close | a bare CR in a value | GET /state HTTP/1.1\r\nHost: {A}\r\nX-A: a\rb\r\n\r\n
field | 400 | close | an ESC in a value | GET /state HTTP/1.1\r\nHost: {A}\r\nX-A: a\x1bb\r\n\r\n
field | 400 | close | a DEL in a value | GET /state HTTP/1.1\r\nHost: {A}\r\nX-A: a\x7fb\r\n\r\n
field | 400 | close | a non-ASCII value | GET /state HTTP/1.1\r\nHost: {A}\r\nX-A: \xc3\xa9\r\n\r\n
field | 400 | close | a space before the colon | GET /state HTTP/1.1\r\nHost: {A}\r\nX-A : 1\r\n\r\n
field | 400 | close | a tab before the colon | GET /state HTTP/1.1\r\nHost: {A}\r\nX-A\t: 1\r\n\r\n
field | 400 | close | a line folded with a space | GET /state HTTP/1.1\r\nHost: {A}\r\nX-A: 1\r\n more\r\n\r\n
field | 400 | close | a line folded with a tab | GET /state HTTP/1.1\r\nHost: {A}\r\nX-A: 1\r\n\tmore\r\n\r\n
field | 400 | close | a first line folded | GET /state HTTP/1.1\r\n Host: {A}\r\n\r\n
field | 400 | close | a line without a colon | GET /state HTTP/1.1\r\nHost: {A}\r\nX-A\r\n\r\n
field | 400 | close | an empty name | GET /state HTTP/1.1\r\nHost: {A}\r\n: 1\r\n\r\n
field | 400 | close | a name that is not a token | GET /state HTTP/1.1\r\nHost: {A}\r\nX(A): 1\r\n\r\n
field | 431 | close | 101 header lines | GET /state HTTP/1.1\r\nHost: {A}\r\n{hdrs*101}\r\n
field | 200 | half  | 100 header lines | GET /state HTTP/1.1\r\nHost: {A}\r\n{hdrs*99}\r\n
field | 431 | close | 17 KiB of headers | GET /state HTTP/1.1\r\nHost: {A}\r\nX-A: {x*17000}\r\n\r\n
field | 417 | close | an unknown expectation | GET /state HTTP/1.1\r\nHost: {A}\r\nExpect: teapot\r\n\r\n
field | 200 | half  | tabs and spaces around a value | GET /state HTTP/1.1\r\nHost:\t{A} \t\r\n\r\n
field | 400 | half  | two Authorization headers | GET /state HTTP/1.1\r\nHost: {A}\r\nAuthorization: Basic eDp5\r\nAuthorization: Basic eDp6\r\n\r\n
field | 400 | half  | two Referer headers | GET /state HTTP/1.1\r\nHost: {A}\r\nReferer: http://{A}/\r\nReferer: http://evil.example/\r\n\r\n
cl    | 400 | close | a negative length | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: -1\r\n\r\n{smuggle}
cl    | 400 | close | not a number | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: abc\r\n\r\n{smuggle}
cl    | 400 | close | 20 digits | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: 12345678901234567890\r\n\r\n{smuggle}
cl    | 400 | close | a list of equal values | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: 5, 5\r\n\r\nhello{smuggle}
cl    | 400 | close | two equal headers | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello{smuggle}
cl    | 400 | close | two different headers | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: 0\r\nContent-Length: 35\r\n\r\n{smuggle}
cl    | 400 | close | a plus sign | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: +5\r\n\r\nhello{smuggle}
cl    | 400 | close | hexadecimal | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: 0x5\r\n\r\nhello{smuggle}
cl    | 400 | close | an empty length | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length:\r\n\r\n{smuggle}
cl    | 400 | close | two numbers | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: 5 5\r\n\r\nhello{smuggle}
cl    | 400 | close | a fraction | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: 5.0\r\n\r\nhello{smuggle}
cl    | 200,200 | half | leading zeros, then a pipelined request | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: 005\r\n\r\nhelloGET /state HTTP/1.1\r\nHost: {A}\r\n\r\n
cl    | 200,200 | half | a body holding a request is not a request | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: {CL}\r\n\r\n{smuggle}{/body}GET /state HTTP/1.1\r\nHost: {A}\r\n\r\n
cl    | 200 | close | a 70 000-byte body is not skipped: the connection closes | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: {CL}\r\n\r\n{smuggle}{x*69965}{/body}
cl    | 405,200 | half | a small unread body is skipped | POST /snapshot HTTP/1.1\r\nHost: {A}\r\nContent-Length: 10\r\n\r\n0123456789GET /state HTTP/1.1\r\nHost: {A}\r\n\r\n
cl    | 200 | half  | a body shorter than declared | GET /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: 100\r\n\r\n{smuggle}
te    | 400 | close | with Content-Length | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n{smuggle}
te    | 400 | close | gzip | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: gzip\r\n\r\n{smuggle}
te    | 400 | close | identity | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: identity\r\n\r\n{smuggle}
te    | 400 | close | chunked not last | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n{smuggle}
te    | 501 | close | an unknown coding before chunked | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n{smuggle}
te    | 400 | close | chunked twice in one header | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n{smuggle}
te    | 400 | close | chunked in two headers | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggle}
te    | 400 | close | in HTTP/1.0 | GET /state HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggle}
te    | 400 | close | a lookalike coding | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n{smuggle}
te    | 400 | close | chunked with a parameter | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n{smuggle}
te    | 400 | close | an empty value | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding:\r\n\r\n{smuggle}
te    | 400 | close | a space before the colon | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n{smuggle}
te    | 400 | close | folded onto a second line | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n , gzip\r\n\r\n0\r\n\r\n{smuggle}
te    | 200,200 | half | Chunked in capitals after a tab | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding:\tChunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /state HTTP/1.1\r\nHost: {A}\r\n\r\n
chunk | 200,200 | half | extensions and trailers, then a pipelined request | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0;c\r\nX-T: 1\r\n\r\nGET /state HTTP/1.1\r\nHost: {A}\r\n\r\n
chunk | 200,200 | half | a request inside the chunk data is not a request | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n23\r\n{smuggle}\r\n0\r\n\r\nGET /state HTTP/1.1\r\nHost: {A}\r\n\r\n
chunk | 200 | close | a size that is not hexadecimal | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n{smuggle}
chunk | 200 | close | a negative size | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n{smuggle}
chunk | 200 | close | a 0x prefix | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n{smuggle}
chunk | 200 | close | a space before the size | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n\x205\r\nhello\r\n0\r\n\r\n{smuggle}
chunk | 200 | close | junk after the size | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n5 junk\r\nhello\r\n0\r\n\r\n{smuggle}
chunk | 200 | close | a 16-digit size | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\nhello\r\n0\r\n\r\n{smuggle}
chunk | 200 | close | no CRLF after the data | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n{smuggle}
chunk | 200 | close | LF alone after the size | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n{smuggle}
chunk | 200 | close | a malformed trailer | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nBad Trailer: 1\r\n\r\n{smuggle}
chunk | 200 | close | more than 64 KiB is not skipped | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n10001\r\n{x*65537}\r\n0\r\n\r\n{smuggle}
chunk | 200 | half  | a body cut short | GET /state HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n{smuggle}
expect | 405 | close | 100-continue on a refused request: the held-back body is never read | POST /snapshot HTTP/1.1\r\nHost: {A}\r\nExpect: 100-continue\r\nContent-Length: {CL}\r\n\r\n{smuggle}{/body}
expect | 405 | half | 100-continue is ignored in HTTP/1.0 | POST /snapshot HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello
keep  | 200,404,200 | half | three pipelined requests | GET /state HTTP/1.1\r\nHost: {A}\r\n\r\nGET /nope HTTP/1.1\r\nHost: {A}\r\n\r\nGET /state HTTP/1.1\r\nHost: {A}\r\n\r\n
keep  | 200 | close | Connection: close ends the connection | GET /state HTTP/1.1\r\nHost: {A}\r\nConnection: close\r\n\r\n{smuggle}
keep  | 200,200 | half | HTTP/1.0 keep-alive | GET /state HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /state HTTP/1.0\r\n\r\n
keep  | 200 | close | HTTP/1.0 closes by default | GET /state HTTP/1.0\r\n\r\n{smuggle}
keep  | 405,200 | half | a POST body, then a request | POST /state HTTP/1.1\r\nHost: {A}\r\nContent-Length: 3\r\n\r\nabcGET /state HTTP/1.1\r\nHost: {A}\r\n\r\n
keep  | 200,400 | close | a bad second request | GET /state HTTP/1.1\r\nHost: {A}\r\n\r\nGET /state HTTP/9\r\n\r\n{smuggle}
input | 403 | half  | an Origin with user information | POST /input HTTP/1.1\r\nHost: {A}\r\nOrigin: http://evil.com@{A}\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 400 | half  | two Origin headers, this site first | POST /input HTTP/1.1\r\nHost: {A}\r\nOrigin: http://{A}\r\nOrigin: http://evil.example\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 400 | half  | two Origin headers, another site first | POST /input HTTP/1.1\r\nHost: {A}\r\nOrigin: http://evil.example\r\nOrigin: http://{A}\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 400 | half  | two Referer headers | POST /input HTTP/1.1\r\nHost: {A}\r\nReferer: http://{A}/\r\nReferer: http://evil.example/\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 403 | half  | a Referer with user information | POST /input HTTP/1.1\r\nHost: {A}\r\nReferer: http://evil.com@{A}/\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 403 | half  | an Origin with a path | POST /input HTTP/1.1\r\nHost: {A}\r\nOrigin: http://{A}/x\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 403 | half  | Origin null | POST /input HTTP/1.1\r\nHost: {A}\r\nOrigin: null\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 403 | half  | an Origin port that is not digits | POST /input HTTP/1.1\r\nHost: {A}\r\nOrigin: http://127.0.0.1:{P}a\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 400 | close | a Host with a name for a port | POST /input HTTP/1.1\r\nHost: 127.0.0.1:evil.example\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 400 | close | a Host with a NUL | POST /input HTTP/1.1\r\nHost: 127.0.0.1\0:{P}\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 400 | close | two Host headers | POST /input HTTP/1.1\r\nHost: {A}\r\nHost: evil.example:{P}\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 400 | close | an Origin with a NUL | POST /input HTTP/1.1\r\nHost: {A}\r\nOrigin: http://{A}\0\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 403 | half  | the absolute form naming a rebinding host | POST http://evil.example:{P}/input HTTP/1.1\r\nHost: {A}\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 400 | close | the absolute form with user information | POST http://evil.com@{A}/input HTTP/1.1\r\nHost: {A}\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 400 | half  | text that is not UTF-8 | POST /input HTTP/1.1\r\nHost: {A}\r\nContent-Length: {CL}\r\n\r\ntype=text&text=%ff%fe{/body}
input | 400 | half  | text with an overlong escape | POST /input HTTP/1.1\r\nHost: {A}\r\nContent-Length: {CL}\r\n\r\ntype=text&text=a%C0%AFb{/body}
input | 400 | half  | text with a surrogate | POST /input HTTP/1.1\r\nHost: {A}\r\nContent-Length: {CL}\r\n\r\ntype=text&text=%ED%A0%80{/body}
input | 400 | half  | text above U+10FFFF | POST /input HTTP/1.1\r\nHost: {A}\r\nContent-Length: {CL}\r\n\r\ntype=text&text=%F4%90%80%80{/body}
input | 400 | half  | text with a truncated sequence | POST /input HTTP/1.1\r\nHost: {A}\r\nContent-Length: {CL}\r\n\r\ntype=text&text=ok%E2%82{/body}
input | 400 | half  | text with a malformed escape | POST /input HTTP/1.1\r\nHost: {A}\r\nContent-Length: {CL}\r\n\r\ntype=text&text=%zz{/body}
input | 400 | half  | raw bytes that are not UTF-8 | POST /input HTTP/1.1\r\nHost: {A}\r\nContent-Length: {CL}\r\n\r\ntype=text&text=\xff\xfe{/body}
input | 400 | half  | a pointer query that is not UTF-8 | POST /pointer?xrate=%ff&yrate=0.5 HTTP/1.1\r\nHost: {A}\r\nContent-Length: 0\r\n\r\n
input | 400 | half  | two Sec-Fetch-Site headers | POST /input HTTP/1.1\r\nHost: {A}\r\nSec-Fetch-Site: same-origin\r\nSec-Fetch-Site: cross-site\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 403 | half  | Sec-Fetch-Site cross-site | POST /input HTTP/1.1\r\nHost: {A}\r\nSec-Fetch-Site: cross-site\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 413 | half  | a body over 4 KiB | POST /input HTTP/1.1\r\nHost: {A}\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5&pad={x*5000}{/body}
input | 400 | close | two Content-Length headers | POST /input HTTP/1.1\r\nHost: {A}\r\nContent-Length: {CL}\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 400 | close | Transfer-Encoding with Content-Length | POST /input HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 400 | close | an unknown transfer coding | POST /input HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: gzip\r\n\r\ntype=click&x=0.5&y=0.5
input | 400 | half  | a chunk declaring 1 MiB that ends after 22 bytes | POST /input HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\ntype=click&x=0.5&y=0.5
input | 400 | half  | a complete chunk, then no last chunk | POST /input HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n16\r\ntype=click&x=0.5&y=0.5\r\n
input | 400 | half  | a malformed chunk size | POST /input HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\ntype=click&x=0.5&y=0.5\r\n0\r\n\r\n
input | 400 | half  | a body shorter than its Content-Length | POST /input HTTP/1.1\r\nHost: {A}\r\nContent-Length: 50\r\n\r\ntype=click&x=0.5&y=0.5
input | 400 | close | LF alone | POST /input HTTP/1.1\nHost: {A}\nContent-Length: 22\n\ntype=click&x=0.5&y=0.5
input | 400 | close | an Origin folded onto a second line | POST /input HTTP/1.1\r\nHost: {A}\r\nOrigin: http://{A}\r\n evil\r\nContent-Length: {CL}\r\n\r\ntype=click&x=0.5&y=0.5{/body}
input | 405 | half  | GET with the event in the query | GET /input?type=click&x=0.5&y=0.5 HTTP/1.1\r\nHost: {A}\r\n\r\n
input | 400 | half  | an unframed body is a (bad) next request, never an event | POST /input HTTP/1.1\r\nHost: {A}\r\n\r\ntype=click&x=0.5&y=0.5
input | 100,400 | half | 100-continue, then a bad event | POST /input HTTP/1.1\r\nHost: {A}\r\nExpect: 100-continue\r\nContent-Length: {CL}\r\n\r\ntype=bogus{/body}
"#;

struct Probe {
    class: String,
    name: String,
    raw: Vec<u8>,
    want: Vec<u16>,
    /// The server must close the connection by itself.
    closes: bool,
}

/// Expands the placeholders of one raw request and then its escapes.
fn expand(raw: &str, addr: SocketAddr) -> Vec<u8> {
    let mut text = raw
        .replace("{A}", &addr.to_string())
        .replace("{P}", &addr.port().to_string())
        .replace("{smuggle}", r"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
    while let Some(start) = text.find("{x*").or_else(|| text.find("{hdrs*")) {
        let end = start + text[start..].find('}').expect("closing brace");
        let (what, n) = text[start + 1..end].split_once('*').expect("a count");
        let n: usize = n.parse().expect("a number");
        let fill = match what {
            "x" => "x".repeat(n),
            _ => (0..n).map(|i| format!(r"X-{i}: 1\r\n")).collect(),
        };
        text.replace_range(start..=end, &fill);
    }
    let mut bytes = unescape(&text);
    // {CL}: the length of what follows the head, up to {/body}.
    if let Some(at) = find(&bytes, b"{CL}") {
        let start = at + find(&bytes[at..], b"\r\n\r\n").expect("end of head") + 4;
        let end = find(&bytes, b"{/body}").unwrap_or(bytes.len());
        let len = (end - start).to_string();
        if end < bytes.len() {
            bytes.drain(end..end + "{/body}".len());
        }
        while let Some(at) = find(&bytes, b"{CL}") {
            bytes.splice(at..at + 4, len.bytes());
        }
    }
    bytes
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match chars.next() {
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'0') => out.push(0),
            Some(b'\\') => out.push(b'\\'),
            Some(b'x') => {
                let hex: Vec<u8> = (0..2).filter_map(|_| chars.next()).collect();
                let hex = std::str::from_utf8(&hex).expect("hex digits");
                out.push(u8::from_str_radix(hex, 16).expect("an \\xNN escape"));
            }
            other => panic!("unknown escape \\{other:?}"),
        }
    }
    out
}

fn probes(addr: SocketAddr) -> Vec<Probe> {
    PROBES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.splitn(5, " | ").collect();
            let [class, want, end, name, raw] = f[..] else {
                panic!("malformed probe line {line:?}");
            };
            Probe {
                class: class.trim().into(),
                name: name.trim().into(),
                raw: expand(raw, addr),
                want: match want.trim() {
                    "-" => Vec::new(),
                    w => w.split(',').map(|s| s.parse().expect("a status")).collect(),
                },
                closes: match end.trim() {
                    "close" => true,
                    "half" => false,
                    other => panic!("end {other:?}"),
                },
            }
        })
        .collect()
}

/// What came back: the statuses in order, and whether the server closed in time.
fn send(addr: SocketAddr, p: &Probe) -> (Vec<u16>, bool) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // The server may stop reading (and close) before taking all of a large probe.
    let _ = s.write_all(&p.raw);
    if !p.closes {
        let _ = s.shutdown(Shutdown::Write);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 65536];
    let closed = loop {
        match s.read(&mut chunk) {
            Ok(0) => break true,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) if Instant::now() < deadline => {}
            Err(_) => break false,
        }
    };
    (statuses(&bytes), closed)
}

/// The status of each complete response in `bytes` (each has a Content-Length; 1xx none).
fn statuses(mut bytes: &[u8]) -> Vec<u16> {
    let mut out = Vec::new();
    while let Some(end) = find(bytes, b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&bytes[..end]).to_string();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        out.push(status);
        bytes = &bytes[(end + 4 + len).min(bytes.len())..];
    }
    out
}

const WAIT: Duration = Duration::from_secs(5);

/// Proves nothing arrived since the last check: a sentinel middle click must be the very next
/// thing the recorder sees.
fn nothing_injected(d: &Deskcam, rec: &Recorder, what: &str) {
    let r = post(d.addr, "/input", "type=click&x=0.9&y=0.1&button=middle", "");
    assert_eq!(r.status, 204, "sentinel: {}", r.text());
    let seen = rec.until(WAIT, |e| matches!(e, Rec::Release { button: 2, .. }));
    let foreign: Vec<_> = seen
        .iter()
        .filter(|e| {
            !matches!(
                e,
                Rec::Press { button: 2, .. } | Rec::Release { button: 2, .. } | Rec::Motion { .. }
            )
        })
        .collect();
    assert!(foreign.is_empty(), "{what} injected {foreign:?}");
    let moved = seen
        .iter()
        .filter(|e| matches!(e, Rec::Motion { .. }))
        .count();
    assert!(moved <= 1, "{what} moved the pointer: {seen:?}");
}

#[test]
fn malformed_and_hostile_requests_get_their_answer_and_change_nothing() {
    let x = Xvfb::start(640, 480);
    let rec = Recorder::start(&x.display);
    let d = Deskcam::start(&["--source", "screen", "--display", &x.display, "--control"]);
    assert!(wait_until(WAIT, || get(d.addr, "/state").status == 200));
    let table = probes(d.addr);
    assert!(table.len() >= 80, "{} probes", table.len());
    let mut failures = Vec::new();
    let mut classes: BTreeMap<String, usize> = BTreeMap::new();
    for p in &table {
        *classes.entry(p.class.clone()).or_default() += 1;
        let (got, closed) = send(d.addr, p);
        if got != p.want {
            failures.push(format!(
                "{} / {}: answered {got:?}, expected {:?}",
                p.class, p.name, p.want
            ));
        } else if p.closes && !closed {
            failures.push(format!(
                "{} / {}: the server kept the connection open",
                p.class, p.name
            ));
        }
        let alive = get(d.addr, "/state");
        assert_eq!(alive.status, 200, "after {}: {}", p.name, alive.text());
        if p.class == "input" {
            nothing_injected(&d, &rec, &p.name);
        }
    }
    let summary: Vec<String> = classes.iter().map(|(c, n)| format!("{c} {n}")).collect();
    println!("{} probes: {}", table.len(), summary.join(", "));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(!d.log().contains("panicked"), "{}", d.log());
}
