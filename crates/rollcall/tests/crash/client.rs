//! The test's HTTP client: one request per connection, and what a request that the server's
//! death cut off looks like.

use std::collections::BTreeMap;
use std::io::{Read, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// The SCIM API of the running server, for the checks: every request must be answered.
pub struct Api {
    pub address: SocketAddr,
    pub base: String,
    pub token: String,
}

impl Api {
    pub fn get(&self, path: &str) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        match http(self.address, "GET", &url, &self.token, None) {
            Outcome::Answered(status, Some(body)) => (status, body),
            _ => panic!("GET {url} got no whole answer from the restarted server"),
        }
    }

    /// Every resource of a list, by id, a page at a time.
    pub fn list(&self, path: &str) -> BTreeMap<String, Value> {
        let mut all = BTreeMap::new();
        let separator = if path.contains('?') { '&' } else { '?' };
        loop {
            let start = all.len() + 1;
            let (status, page) = self.get(&format!("{path}{separator}startIndex={start}"));
            assert_eq!(status, 200, "{page}");
            let resources = page["Resources"].as_array().cloned().unwrap_or_default();
            for resource in &resources {
                all.insert(
                    resource["id"].as_str().unwrap().to_owned(),
                    resource.clone(),
                );
            }
            let total = page["totalResults"].as_u64().unwrap() as usize;
            if resources.is_empty() || all.len() >= total {
                return all;
            }
        }
    }
}

/// What became of one request.
pub enum Outcome {
    /// No connection: the server was gone, so the request did nothing.
    Refused,
    /// Sent, and no whole status line came back: it may or may not have taken effect.
    Lost,
    /// A status line came back; the body is `None` when the connection broke before its end.
    Answered(u16, Option<Value>),
}

/// A minimal HTTP/1.1 client: one request per connection (`Connection: close`), and no panic
/// when the server dies under it.
pub fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> Outcome {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(2)) else {
        return Outcome::Refused;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return Outcome::Lost;
    }
    // A reset keeps what was read before it, so a whole answer still counts.
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    parse_response(&response)
}

pub fn parse_response(response: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(response);
    let Some((status_line, _)) = text.split_once("\r\n") else {
        return Outcome::Lost;
    };
    let Some(status) = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()) else {
        return Outcome::Lost;
    };
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Outcome::Answered(status, None);
    };
    let head = String::from_utf8_lossy(&response[..end]);
    let payload = &response[end + 4..];
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        let is_length = name.eq_ignore_ascii_case("content-length");
        is_length.then(|| value.trim().parse::<usize>().ok())?
    });
    let body = if length.is_some_and(|n| n != payload.len()) {
        None
    } else if payload.is_empty() {
        Some(Value::Null)
    } else {
        serde_json::from_slice(payload).ok()
    };
    Outcome::Answered(status, body)
}
