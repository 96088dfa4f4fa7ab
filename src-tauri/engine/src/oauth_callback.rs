//! The loopback listener an OAuth sign-in waits on (RFC 8252 §7.3): `127.0.0.1` on a port the
//! OS picks, for the one request GoTrue's redirect makes the browser send back.
//!
//! The state check: GoTrue's PKCE redirect carries only `code` (its own `state` stays between
//! GoTrue and the provider), so the listener's random state travels inside `redirect_to`, as a
//! path segment: `http://127.0.0.1:<port>/callback/<state>`. GoTrue keeps a path intact when
//! it adds `?code=` (and when it adds `?error=`), and the allow-list glob
//! `http://127.0.0.1:*/callback/*` matches it whatever the port and state, since neither holds
//! a `.` or `/` (a query parameter would have needed `?` in the glob, a wildcard, and older
//! GoTrue releases matched the allow list without the query).
//!
//! What comes to the port is untrusted: every request is read within a size limit and a read
//! timeout, any number of them may come (a favicon, a port scanner, garbage), and only a
//! `GET /callback/<state>` with the right state ends the wait. Everything else is answered
//! and forgotten. Pages are self-contained (`Content-Security-Policy: default-src 'none'`).

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use zeroize::Zeroizing;

/// The path the browser comes back to, before the state.
pub const CALLBACK_PATH: &str = "/callback/";

/// What a person adds to the project's Redirect URLs (Auth → URL Configuration) so that GoTrue
/// accepts the listener's `redirect_to`. See the module comment.
pub const ALLOW_LIST_ENTRY: &str = "http://127.0.0.1:*/callback/*";

/// The most of a request's head (request line and headers) read; browsers send ~1–2 KiB.
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// How long one connection may take to send its request head.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long writing an answer may take (a client that does not read cannot hold us).
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections handled at once; more are closed unanswered until one finishes.
pub const MAX_CONNECTIONS: usize = 16;

/// The longest provider or GoTrue error description kept.
const MAX_DESCRIPTION: usize = 300;

/// What the browser brought back.
pub enum Callback {
    /// GoTrue's auth code (a secret until exchanged).
    Code(Zeroizing<String>),
    /// GoTrue's or the provider's error.
    Error {
        error: String,
        code: Option<String>,
        description: String,
    },
}

/// The browser's connection, waiting for its page.
pub struct Browser {
    stream: TcpStream,
}

impl Browser {
    /// Answers with a page and closes the connection; a browser that has gone away is no error.
    pub async fn answer(mut self, page: Page) {
        let _ = tokio::time::timeout(WRITE_TIMEOUT, write_page(&mut self.stream, page)).await;
    }
}

pub struct CallbackListener {
    listener: TcpListener,
    state: Zeroizing<String>,
    redirect_to: String,
}

impl CallbackListener {
    /// Binds `127.0.0.1:0` with a fresh random state.
    pub async fn bind() -> io::Result<CallbackListener> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let state = Zeroizing::new(random_base64url::<24>());
        let redirect_to = format!("http://127.0.0.1:{port}{CALLBACK_PATH}{}", state.as_str());
        Ok(CallbackListener {
            listener,
            state,
            redirect_to,
        })
    }

    /// `http://127.0.0.1:<port>/callback/<state>`.
    pub fn redirect_to(&self) -> &str {
        &self.redirect_to
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves requests until the callback with the right state arrives; returns what it
    /// brought and the connection to answer on. Other connections are dropped with the
    /// returned future.
    pub async fn next_callback(&self) -> (Callback, Browser) {
        let mut connections: JoinSet<Option<(Callback, Browser)>> = JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, _peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(error) => {
                            // Out of file descriptors, say: accept fails at once every time,
                            // so pause instead of spinning until the deadline.
                            tracing::warn!(%error, "the sign-in listener could not accept a connection");
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                            continue;
                        }
                    };
                    if connections.len() >= MAX_CONNECTIONS {
                        tracing::warn!("too many connections to the sign-in listener; one was closed");
                        continue;
                    }
                    connections.spawn(serve(stream, self.state.clone()));
                }
                Some(done) = connections.join_next() => {
                    if let Ok(Some(found)) = done {
                        return found;
                    }
                }
            }
        }
    }
}

/// `N` random bytes, base64url without padding.
pub fn random_base64url<const N: usize>() -> String {
    use base64::Engine as _;
    let mut bytes = Zeroizing::new([0u8; N]);
    getrandom::fill(bytes.as_mut()).expect("the OS random source is available");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref())
}

/// One connection: its request read and judged. `Some` only for the callback.
async fn serve(mut stream: TcpStream, state: Zeroizing<String>) -> Option<(Callback, Browser)> {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(head)) => head,
        Ok(Err(Unreadable::TooLarge)) => {
            answer(stream, Page::refusal(431, "The request is too large.")).await;
            return None;
        }
        Ok(Err(Unreadable::Closed)) => return None,
        Err(_) => {
            answer(stream, Page::refusal(408, "The request took too long.")).await;
            return None;
        }
    };
    let Some((method, target)) = request_line(&head) else {
        answer(stream, Page::refusal(400, "This is not an HTTP request.")).await;
        return None;
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let Some(given_state) = path.strip_prefix(CALLBACK_PATH) else {
        answer(stream, Page::refusal(404, "Nothing here.")).await;
        return None;
    };
    if method != "GET" {
        answer(
            stream,
            Page::refusal(405, "Only the browser's GET is expected here."),
        )
        .await;
        return None;
    }
    if !constant_time_eq(given_state.as_bytes(), state.as_bytes()) {
        tracing::warn!("a sign-in callback arrived with the wrong state; still waiting");
        let page = Page::problem(
            400,
            "This link is not for the sign-in in progress",
            "It may be from an earlier attempt. Finish the sign-in from the window that is waiting for it.",
        );
        answer(stream, page).await;
        return None;
    }
    let mut error = None;
    let mut error_code = None;
    let mut description = String::new();
    let mut code = None;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "error" if error.is_none() => error = Some(plain(&value)),
            "error_code" if error_code.is_none() => error_code = Some(plain(&value)),
            "error_description" if description.is_empty() => description = plain(&value),
            "code" if code.is_none() => code = Some(Zeroizing::new(value.into_owned())),
            _ => {}
        }
    }
    let browser = Browser { stream };
    if let Some(error) = error {
        tracing::info!(%error, code = error_code.as_deref(), "the sign-in came back with an error");
        if description.is_empty() {
            description = error.clone();
        }
        let callback = Callback::Error {
            error,
            code: error_code.filter(|c| !c.is_empty()),
            description,
        };
        return Some((callback, browser));
    }
    match code.filter(|c| !c.is_empty()) {
        Some(code) => {
            tracing::info!("the sign-in came back with an auth code");
            Some((Callback::Code(code), browser))
        }
        None => {
            let page = Page::problem(
                400,
                "The sign-in did not come back with a code",
                "GoTrue sends the browser here with ?code=… (PKCE). Start the sign-in again from the app.",
            );
            browser.answer(page).await;
            None
        }
    }
}

/// Text from the browser made fit for an error message: control characters dropped, cut to a
/// reasonable length.
fn plain(text: &str) -> String {
    let cleaned: String = text.chars().filter(|c| !c.is_control()).collect();
    match cleaned.char_indices().nth(MAX_DESCRIPTION) {
        Some((cut, _)) => format!("{}…", &cleaned[..cut]),
        None => cleaned,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

enum Unreadable {
    TooLarge,
    Closed,
}

/// Reads up to the blank line that ends the head, at most `MAX_REQUEST_HEAD` bytes.
async fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, Unreadable> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream
            .read(&mut chunk)
            .await
            .map_err(|_| Unreadable::Closed)?;
        if read == 0 {
            return if head.is_empty() {
                Err(Unreadable::Closed)
            } else {
                Ok(head)
            };
        }
        head.extend_from_slice(&chunk[..read]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            head.truncate(end);
            return Ok(head);
        }
        if head.len() > MAX_REQUEST_HEAD {
            return Err(Unreadable::TooLarge);
        }
    }
}

/// `GET /path?query HTTP/1.1` → (`GET`, `/path?query`).
fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let line = head.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase());
    if parts.next().is_some() || !token(method) || !target.starts_with('/') {
        return None;
    }
    version.starts_with("HTTP/1.").then_some((method, target))
}

/// A page for the browser.
pub struct Page {
    status: u16,
    title: String,
    message: String,
}

impl Page {
    pub fn signed_in() -> Page {
        Page {
            status: 200,
            title: "Signed in".into(),
            message: "You can close this tab and go back to Session Inspector.".into(),
        }
    }

    pub fn problem(status: u16, title: &str, message: &str) -> Page {
        Page {
            status,
            title: title.into(),
            message: message.into(),
        }
    }

    fn refusal(status: u16, message: &str) -> Page {
        Page::problem(status, "Session Inspector", message)
    }

    fn html(&self) -> String {
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{title} · Session Inspector</title><style>body{{font:16px/1.5 system-ui,\
             sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2328}}\
             </style></head><body><h1>{title}</h1><p>{message}</p></body></html>",
            title = escape(&self.title),
            message = escape(&self.message),
        )
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Answers a request that does not end the wait. What the client is still sending (the rest
/// of an oversized request) is read and dropped for a moment first, within bounds: closing
/// with unread data resets the connection, and the client might lose the answer.
async fn answer(mut stream: TcpStream, page: Page) {
    let _ = tokio::time::timeout(WRITE_TIMEOUT, write_page(&mut stream, page)).await;
    let drain = async {
        let mut sink = [0u8; 4096];
        let mut left = MAX_DRAINED;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(read) => left = left.saturating_sub(read),
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
}

/// The most read and dropped after a refusal, and for how long.
const MAX_DRAINED: usize = 256 * 1024;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

async fn write_page(stream: &mut TcpStream, page: Page) -> io::Result<()> {
    let body = page.html();
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         Cache-Control: no-store\r\n\
         Referrer-Policy: no-referrer\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Connection: close\r\n\
         Content-Length: {length}\r\n\r\n",
        status = page.status,
        reason = reason(page.status),
        length = body.len(),
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.flush().await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_are_read_strictly() {
        assert_eq!(
            request_line(b"GET /callback/x?code=1 HTTP/1.1\r\nHost: a"),
            Some(("GET", "/callback/x?code=1"))
        );
        for bad in [
            &b"\x16\x03\x01\x02\x00"[..],
            b"GET /x",
            b"GET  /x HTTP/1.1",
            b"get /x HTTP/1.1",
            b"GET http://evil/x HTTP/1.1",
            b"GET /x HTTP/2",
            b"GET /x HTTP/1.1 extra",
        ] {
            assert_eq!(request_line(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn descriptions_are_plain_and_short() {
        assert_eq!(plain("a\u{7}b\nc"), "abc");
        assert_eq!(plain(&"x".repeat(400)).chars().count(), MAX_DESCRIPTION + 1);
    }

    #[test]
    fn pages_escape_what_they_show() {
        let page = Page::problem(400, "<b>", "a & \"b\"").html();
        assert!(page.contains("&lt;b&gt;") && page.contains("a &amp; &quot;b&quot;"));
        assert!(!page.contains("<script") && !page.contains("src="));
    }

    #[test]
    fn the_state_is_32_base64url_characters() {
        let state = random_base64url::<24>();
        assert_eq!(state.len(), 32);
        assert!(state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(state, random_base64url::<24>());
    }
}
