//! Attachments on the console's case page over HTTP (issue 32, CAS-6): the section, an
//! upload by htmx (its anti-forgery header; none: 403) to the case and to a follow-up, the
//! core's refusal under the file field (422), the download with the API's headers, delete
//! for those the core lets delete (the uploader, or `case.delete`): no button otherwise and
//! 403 if forced; French labels. The browser half is `tests/console/`.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::console::{Browser, location};
use crate::helpers::{Backend, TestServer};
use crate::on_every_store;

const BOUNDARY: &str = "crm-console-boundary-5a2c";

/// A `multipart/form-data` body as the case page's form sends it: `follow_up`, then `file`.
fn form(follow_up: &str, filename: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"follow_up\"\r\n\r\n{follow_up}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Uploads through the case page's form: with the session's token in the header (`None`:
/// without), as htmx (`htmx`) or not. (status, headers, body)
async fn upload(
    b: &Browser,
    case: &str,
    csrf: Option<&str>,
    htmx: bool,
    follow_up: &str,
    filename: &str,
    bytes: &[u8],
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut r = b
        .request(Method::POST, &format!("/console/cases/{case}/attachments"))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(form(follow_up, filename, bytes));
    if let Some(token) = csrf {
        r = r.header("x-csrf-token", token);
    }
    if htmx {
        r = r.header("hx-request", "true");
    }
    let res = r.send().await.expect("sent");
    (res.status(), res.headers().clone(), res.text().await.unwrap_or_default())
}

async fn case_attachments_upload_download_and_delete(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let api = t.admin();
    let pop = api.post("/api/v1/cti/calls", &json!({"phone": "01 23 45 67 89"})).await.expect(StatusCode::CREATED);
    let case = pop["cards"][0]["open_cases"][0]["id"].as_str().expect("an open case").to_owned();
    let follow_up = api
        .post(&format!("/api/v1/cases/{case}/follow-ups"), &json!({"body": "Customer sent the invoice"}))
        .await
        .expect(StatusCode::CREATED)["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let page = format!("/console/cases/{case}");
    let api_list = format!("/api/v1/cases/{case}/attachments");

    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
    let csrf = b.csrf().await;
    let (status, _, html) = b.get(&page).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"id="attachments""#) && html.contains("No attachment yet."), "{html}");
    assert!(html.contains(r#"hx-encoding="multipart/form-data""#), "{html}");
    assert!(html.contains(&format!(r#"<option value="{follow_up}">"#)), "a follow-up to attach to: {html}");

    // Without the token: refused, nothing stored.
    let text = b"Invoice 2026-118: 42.00 EUR".to_vec();
    let (status, _, _) = upload(&b, &case, None, true, "", "invoice.txt", &text).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(api.get(&api_list).await.expect(StatusCode::OK), json!([]));

    // To the case, as htmx: the section again with the file.
    let (status, _, html) = upload(&b, &case, Some(&csrf), true, "", "invoice.txt", &text).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!html.contains("<html") && html.starts_with("<section") && html.contains(r#"id="attachments""#), "{html}");
    assert!(html.contains("Attached: invoice.txt") && html.contains("27 B"), "{html}");
    let listed = api.get(&api_list).await.expect(StatusCode::OK);
    let invoice = listed[0]["id"].as_str().expect("stored").to_owned();
    assert_eq!(listed[0]["follow_up"], json!(null), "{listed}");
    // To the follow-up, not as htmx: back to the case.
    let photo = b"not really a photo".to_vec();
    let (status, headers, html) = upload(&b, &case, Some(&csrf), false, &follow_up, "scan.bin", &photo).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(location(&headers), format!("{page}#attachments"));
    let on_follow_up = api.get(&format!("/api/v1/cases/{case}/follow-ups/{follow_up}/attachments")).await;
    assert_eq!(on_follow_up.expect(StatusCode::OK)[0]["filename"], "scan.bin");
    let (_, _, html) = b.get(&page).await;
    assert!(html.contains("scan.bin") && html.contains("Customer sent the invoice"), "{html}");

    // Refused by the core: under the file field, named, with 422; nothing stored.
    let (status, _, html) = upload(&b, &case, Some(&csrf), true, "", "../../etc/passwd", b"root:x:0:0").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="file-error""#) && html.contains(r#"aria-describedby="file-error""#), "{html}");
    assert!(html.contains("filename: "), "{html}");
    let (status, _, html) = upload(&b, &case, Some(&csrf), true, "not-an-id", "a.txt", b"a").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("follow_up: "), "{html}");
    assert_eq!(api.get(&api_list).await.expect(StatusCode::OK).as_array().map(Vec::len), Some(2));

    // The download: the same bytes, as an attachment, sandboxed.
    let res = b.request(Method::GET, &format!("{page}/attachments/{invoice}")).send().await.expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/plain");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers()["content-disposition"].to_str().expect("ascii").starts_with("attachment;"));
    assert!(res.headers()["content-security-policy"].to_str().expect("ascii").starts_with("sandbox"));
    assert_eq!(res.bytes().await.expect("body").as_ref(), text.as_slice());

    // Alice (case.edit, not case.delete): no delete button on the admin's files, refused if
    // forced; her own file she deletes.
    let alice = crate::console::alice_signed_in(&api, &t.server.url(), demo.agent).await;
    let alice_csrf = alice.csrf().await;
    let (_, _, html) = alice.get(&page).await;
    assert!(html.contains("invoice.txt") && !html.contains(&format!("{invoice}/delete")), "{html}");
    let delete = format!("{page}/attachments/{invoice}/delete");
    assert_eq!(alice.post(&delete, &[("_csrf", alice_csrf.as_str())]).await.0, StatusCode::FORBIDDEN);
    let (status, _, _) = upload(&alice, &case, Some(&alice_csrf), true, "", "mine.txt", b"mine").await;
    assert_eq!(status, StatusCode::OK);
    let listed = api.get(&api_list).await.expect(StatusCode::OK);
    let mine = listed.as_array().expect("list").iter().find(|a| a["filename"] == "mine.txt").expect("hers");
    let mine = mine["id"].as_str().expect("id").to_owned();
    let (_, _, html) = alice.get(&page).await;
    assert!(html.contains(&format!("{mine}/delete")), "{html}");
    let (status, headers, _) =
        alice.post(&format!("{page}/attachments/{mine}/delete"), &[("_csrf", &alice_csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers), format!("{page}#attachments"));

    // The admin deletes the invoice (without the token: 403); once gone, 404.
    assert_eq!(b.post(&delete, &[]).await.0, StatusCode::FORBIDDEN);
    assert_eq!(b.post(&delete, &[("_csrf", csrf.as_str())]).await.0, StatusCode::SEE_OTHER);
    assert_eq!(b.post(&delete, &[("_csrf", csrf.as_str())]).await.0, StatusCode::NOT_FOUND);
    let left = api.get(&api_list).await.expect(StatusCode::OK);
    assert_eq!(left.as_array().map(Vec::len), Some(1), "{left}");

    // French labels.
    let res = b.request(Method::GET, &page).header("accept-language", "fr").send().await.expect("sent");
    let html = res.text().await.unwrap_or_default();
    assert!(html.contains("Pièces jointes") && html.contains("Joindre le fichier"), "{html}");
    t.server.stop().await.expect("clean stop");
}
on_every_store!(case_attachments_upload_download_and_delete);
