//! OData `$batch` for reads (Dataverse Web API, "Execute batch operations"): several GETs in
//! ONE `multipart/mixed` request, each part an `application/http` request, answered by a
//! `multipart/mixed` body whose parts are `application/http` responses in the same order.
//! A screen pop's search of contacts, leads and accounts is one request this way.

use crm_connector_http::{RawResponse, decode_error};
use crm_core::ConnectorError;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::system::SYSTEM;

/// The body of a `$batch` of GETs: each of `urls` (absolute, query encoded) with the
/// request headers `headers`, between `--boundary` lines, CRLF line ends.
pub fn batch_body(boundary: &str, urls: &[String], headers: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for url in urls {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        ));
        body.push_str(&format!("GET {url} HTTP/1.1\r\n"));
        for (name, value) in headers {
            body.push_str(&format!("{name}: {value}\r\n"));
        }
        body.push_str("\r\n");
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
}

/// The responses of a `$batch` answer, in order, from its `Content-Type` (which names the
/// boundary) and body.
///
/// # Errors
/// [`ConnectorError::Decode`] when the answer is not a multipart of HTTP responses.
pub fn parse_batch(content_type: &str, body: &[u8]) -> Result<Vec<RawResponse>, ConnectorError> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty())
        .ok_or_else(|| decode_error(SYSTEM, format!("a $batch answer without a boundary ({content_type})")))?;
    let text = std::str::from_utf8(body).map_err(|_| decode_error(SYSTEM, "a $batch answer that is not UTF-8"))?;
    let delimiter = format!("--{boundary}");
    let mut parts = text.split(delimiter.as_str());
    parts.next(); // the preamble
    let mut responses = Vec::new();
    let mut closed = false;
    for part in parts {
        if part.starts_with("--") {
            closed = true;
            break;
        }
        let (_, http) = split_head(part).ok_or_else(|| decode_error(SYSTEM, "a $batch part without headers"))?;
        responses.push(parse_response(http)?);
    }
    if !closed {
        return Err(decode_error(SYSTEM, "a $batch answer that breaks off before its closing boundary"));
    }
    Ok(responses)
}

/// Splits at the first empty line: (head, rest).
fn split_head(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start_matches(['\r', '\n']);
    if let Some(i) = text.find("\r\n\r\n") {
        return Some((&text[..i], &text[i + 4..]));
    }
    text.find("\n\n").map(|i| (&text[..i], &text[i + 2..]))
}

/// One `application/http` response: status line, headers, body.
fn parse_response(http: &str) -> Result<RawResponse, ConnectorError> {
    let bad = || decode_error(SYSTEM, "a $batch part that is not an HTTP response");
    let (head, body) = split_head(http).unwrap_or((http, ""));
    let mut lines = head.lines();
    let status_line = lines.next().ok_or_else(bad)?;
    let code = status_line.split_whitespace().nth(1).and_then(|c| c.parse::<u16>().ok()).ok_or_else(bad)?;
    let status = StatusCode::from_u16(code).map_err(|_| bad())?;
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name.trim().as_bytes()), HeaderValue::from_str(value.trim()))
        {
            headers.append(name, value);
        }
    }
    let body = body.trim_end_matches(['\r', '\n']).as_bytes().to_vec();
    Ok(RawResponse { status, headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_of_gets_is_multipart_with_one_http_request_per_part() {
        let urls = vec!["https://org.example/api/data/v9.2/contacts?$select=fullname".to_owned()];
        let body = batch_body("batch_1", &urls, &[("Accept", "application/json")]);
        assert_eq!(
            body,
            "--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
             GET https://org.example/api/data/v9.2/contacts?$select=fullname HTTP/1.1\r\nAccept: application/json\r\n\r\n\
             --batch_1--\r\n"
        );
    }

    #[test]
    fn an_answer_is_read_part_by_part_in_order() {
        let answer = "--batchresponse_9\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
            HTTP/1.1 200 OK\r\nContent-Type: application/json; odata.metadata=minimal\r\nOData-Version: 4.0\r\n\r\n\
            {\"value\":[{\"contactid\":\"1\"}]}\r\n\
            --batchresponse_9\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
            HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n\
            {\"error\":{\"code\":\"0x80060888\",\"message\":\"bad filter\"}}\r\n\
            --batchresponse_9--\r\n";
        let parts = parse_batch("multipart/mixed; boundary=batchresponse_9", answer.as_bytes()).expect("parsed");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].status, StatusCode::OK);
        assert_eq!(parts[0].body, br#"{"value":[{"contactid":"1"}]}"#);
        assert_eq!(parts[0].headers["odata-version"], "4.0");
        assert_eq!(parts[1].status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_broken_answer_is_a_decode_error() {
        let cut = "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\n{\"value\":[";
        assert!(matches!(
            parse_batch("multipart/mixed; boundary=b", cut.as_bytes()),
            Err(ConnectorError::Decode { .. })
        ));
        assert!(matches!(parse_batch("application/json", b"{}"), Err(ConnectorError::Decode { .. })));
        let garbage = "--b\r\nContent-Type: application/http\r\n\r\nnot http\r\n\r\n--b--";
        assert!(matches!(
            parse_batch("multipart/mixed; boundary=b", garbage.as_bytes()),
            Err(ConnectorError::Decode { .. })
        ));
    }
}
