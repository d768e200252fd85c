//! Attachments over HTTP (CAS-6): upload to a case and to a follow-up, list (sorted,
//! filtered), download (bytes, type, disposition), delete with permission; refusals: a
//! 30 MB file, a pasted image over 10 MB, a `../` name, a spoofed content type, an image
//! declaring a decompression bomb's pixels, a request that is not multipart.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Api, Backend, Reply, TestServer};
use crate::on_every_store;

const BOUNDARY: &str = "crm-e2e-boundary-7d1f";

/// A `multipart/form-data` body with one part `file` named `filename`, declared as `declared`.
fn form(filename: &str, declared: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: {declared}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Uploads one file to `path` (a case's or a follow-up's attachments) as a multipart form.
pub(crate) async fn upload(api: &Api, path: &str, filename: &str, declared: &str, bytes: &[u8]) -> Reply {
    let request = api
        .request(Method::POST, path)
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(form(filename, declared, bytes));
    api.send(request).await
}

/// A PNG signature and header declaring `w` × `h` pixels, then `rest` bytes of zeros.
fn png(w: u32, h: u32, rest: usize) -> Vec<u8> {
    let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    b.resize(b.len() + rest, 0);
    b
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array().expect("a list").iter().map(|a| a["filename"].as_str().expect("filename")).collect()
}

async fn attachments_round_trip_and_bad_uploads_are_refused(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let agent = t.client_for(&t.demo().agent.to_string(), "agent").await;
    let customer =
        admin.post("/api/v1/customers", &json!({"name": "Pièces Jointes"})).await.expect(StatusCode::CREATED);
    let case = admin
        .post("/api/v1/cases", &json!({"customer": customer["id"], "subject": "Attachments"}))
        .await
        .expect(StatusCode::CREATED);
    let case = case["id"].as_str().expect("case id").to_owned();
    let follow_up = agent.post(&format!("/api/v1/cases/{case}/follow-ups"), &json!({"body": "see the scan"})).await;
    let follow_up = follow_up.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
    let on_case = format!("/api/v1/cases/{case}/attachments");
    let on_follow_up = format!("/api/v1/cases/{case}/follow-ups/{follow_up}/attachments");

    // Unique bytes per run: blobs are shared by content.
    let text = format!("Relevé du mois {}\n", uuid::Uuid::now_v7()).repeat(40).into_bytes();
    let up = upload(&agent, &on_case, "relevé mai.txt", "application/pdf", &text).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text);
    let doc: Value = serde_json::from_str(&up.text).expect("json");
    assert_eq!(doc["filename"], "relevé mai.txt");
    assert_eq!(doc["content_type"], "text/plain", "sniffed, not the declared application/pdf");
    assert_eq!(doc["size"], text.len());
    assert_eq!(doc["follow_up"], Value::Null);
    let location = up.headers["location"].to_str().expect("location").to_owned();

    let mut image = png(640, 480, 20_000);
    image.extend_from_slice(uuid::Uuid::now_v7().as_bytes());
    let scan = upload(&agent, &format!("{on_follow_up}?origin=pasted"), "Scan.png", "text/plain", &image).await;
    assert_eq!(scan.status, StatusCode::CREATED, "{}", scan.text);
    let scan: Value = serde_json::from_str(&scan.text).expect("json");
    assert_eq!(scan["content_type"], "image/png");
    assert_eq!(scan["origin"], "pasted");
    assert_eq!(scan["follow_up"], follow_up.as_str());

    // Lists: newest first by default, by name, case vs follow-ups.
    let all = agent.get(&on_case).await.expect(StatusCode::OK);
    assert_eq!(names(&all), ["Scan.png", "relevé mai.txt"]);
    let by_name = agent.get(&format!("{on_case}?sort=name")).await.expect(StatusCode::OK);
    assert_eq!(names(&by_name), ["relevé mai.txt", "Scan.png"]);
    assert_eq!(names(&agent.get(&format!("{on_case}?on=case")).await.expect(StatusCode::OK)), ["relevé mai.txt"]);
    assert_eq!(names(&agent.get(&format!("{on_case}?on=follow_ups")).await.expect(StatusCode::OK)), ["Scan.png"]);
    assert_eq!(names(&agent.get(&on_follow_up).await.expect(StatusCode::OK)), ["Scan.png"]);
    agent.get(&format!("{on_case}?sort=size")).await.problem(422);

    // Download: the same bytes, the sniffed type, a download with the UTF-8 name.
    let got = agent.request(Method::GET, &location).send().await.expect("sent");
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "text/plain");
    assert_eq!(got.headers()["x-content-type-options"], "nosniff");
    let disposition = got.headers()["content-disposition"].to_str().expect("ascii").to_owned();
    assert_eq!(disposition, "attachment; filename=\"relev_ mai.txt\"; filename*=UTF-8''relev%C3%A9%20mai.txt");
    assert_eq!(got.bytes().await.expect("body").as_ref(), text.as_slice(), "the same bytes");

    // Refusals, each a 4xx naming the field, nothing stored.
    let p = upload(&agent, &on_case, "../../etc/passwd", "text/plain", b"root:x:0:0").await.problem(422);
    assert_eq!(p["errors"][0]["field"], "filename");
    let bomb = upload(&agent, &on_case, "bomb.png", "image/png", &png(100_000, 100_000, 1000)).await.problem(422);
    assert_eq!(bomb["errors"][0]["field"], "file");
    let not_image = upload(&agent, &format!("{on_case}?origin=pasted"), "x.png", "image/png", &text).await.problem(422);
    assert_eq!(not_image["errors"][0]["field"], "file");
    let big = vec![7u8; 30 * 1024 * 1024];
    let too_big = upload(&agent, &on_case, "big.bin", "application/octet-stream", &big).await.problem(413);
    assert_eq!(too_big["errors"][0]["field"], "file");
    let pasted_big = png(100, 100, 11 * 1024 * 1024);
    upload(&agent, &format!("{on_case}?origin=pasted"), "p.png", "image/png", &pasted_big).await.problem(413);
    let not_multipart = agent.post(&on_case, &json!({"file": "x"})).await;
    assert_eq!(not_multipart.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", not_multipart.text);
    let elsewhere = format!("/api/v1/cases/{case}/follow-ups/{}/attachments", uuid::Uuid::now_v7());
    upload(&agent, &elsewhere, "a.txt", "text/plain", b"hello").await.problem(404);
    assert_eq!(agent.get(&on_case).await.expect(StatusCode::OK).as_array().map(Vec::len), Some(2), "none stored");

    // Delete: the uploader may; another agent without case.delete may not; a supervisor may.
    let supervisor = t.client_for(&t.demo().supervisor.to_string(), "supervisor").await;
    let scan_path = format!("{on_case}/{}", scan["id"].as_str().expect("id"));
    let other = admin
        .post("/api/v1/agents", &json!({"name": "Other Agent", "email": "other.agent@example.com", "role": "agent"}))
        .await
        .expect(StatusCode::CREATED);
    let other = t.client_for(other["id"].as_str().expect("id"), "agent").await;
    let refused = other.send(other.request(Method::DELETE, &scan_path)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let deleted = supervisor.send(supervisor.request(Method::DELETE, &scan_path)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    let mine = agent.send(agent.request(Method::DELETE, &location)).await;
    assert_eq!(mine.status, StatusCode::NO_CONTENT, "{}", mine.text);
    assert_eq!(agent.get(&location).await.status, StatusCode::NOT_FOUND);
    assert_eq!(agent.get(&on_case).await.expect(StatusCode::OK), json!([]));
    t.server.stop().await.expect("clean stop");
}

on_every_store!(attachments_round_trip_and_bad_uploads_are_refused);

/// A real `w` × `h` JPEG with detail (a gradient, salted so every run has its own bytes).
fn photo(w: u32, h: u32) -> Vec<u8> {
    let salt = uuid::Uuid::now_v7().as_bytes()[15];
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 251) as u8 ^ salt, (y % 241) as u8, ((x + 3 * y) % 239) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg).expect("encode");
    out.into_inner()
}

async fn a_large_image_is_downscaled_and_its_original_kept_when_configured(backend: Backend) {
    let mut settings = crate::helpers::test_settings();
    settings.attachments.limits.downscale_images_over = Some(1_000);
    settings.attachments.limits.keep_original_images = true;
    let t = TestServer::start_with_settings(&backend, settings).await;
    let agent = t.client_for(&t.demo().agent.to_string(), "agent").await;
    let customer = agent.post("/api/v1/customers", &json!({"name": "Grande Image"})).await.expect(StatusCode::CREATED);
    let case = agent
        .post("/api/v1/cases", &json!({"customer": customer["id"], "subject": "Photo of the damage"}))
        .await
        .expect(StatusCode::CREATED);
    let on_case = format!("/api/v1/cases/{}/attachments", case["id"].as_str().expect("case id"));

    let uploaded = photo(2_000, 1_500);
    let up = upload(&agent, &on_case, "damage.jpg", "image/jpeg", &uploaded).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text);
    let doc: Value = serde_json::from_str(&up.text).expect("json");
    assert_eq!(doc["content_type"], "image/jpeg");
    let size = doc["size"].as_u64().expect("size");
    assert!(size < uploaded.len() as u64, "recompressed smaller: {size} vs {}", uploaded.len());
    assert_eq!(doc["original"]["width"], 2_000);
    assert_eq!(doc["original"]["height"], 1_500);
    assert_eq!(doc["original"]["size"], uploaded.len());
    let location = up.headers["location"].to_str().expect("location").to_owned();

    let got = agent.request(Method::GET, &location).send().await.expect("sent");
    assert_eq!(got.status(), StatusCode::OK);
    let shown = image::load_from_memory(&got.bytes().await.expect("body")).expect("a picture");
    assert_eq!((shown.width(), shown.height()), (1_000, 750), "fits 1000 px, same ratio");
    let original = agent.request(Method::GET, &format!("{location}/original")).send().await.expect("sent");
    assert_eq!(original.status(), StatusCode::OK);
    assert_eq!(original.headers()["content-type"], "image/jpeg");
    assert_eq!(original.bytes().await.expect("body").as_ref(), uploaded.as_slice(), "the upload, byte for byte");
    crate::openapi_check::answers("an attachment", Method::POST, "/api/v1/cases/{id}/attachments", 201, &doc);

    // A small image is kept as it came, with no original.
    let small = photo(300, 200);
    let kept = upload(&agent, &on_case, "small.jpg", "image/jpeg", &small).await;
    let kept: Value = serde_json::from_str(&kept.text).expect("json");
    assert_eq!(kept["size"], small.len());
    assert!(kept.get("original").is_none(), "{kept}");
    let kept_path = format!("{on_case}/{}", kept["id"].as_str().expect("id"));
    agent.get(&format!("{kept_path}/original")).await.problem(404);

    // Deleting the attachment deletes the original with it.
    let deleted = agent.send(agent.request(Method::DELETE, &location)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    agent.get(&format!("{location}/original")).await.problem(404);
    t.server.stop().await.expect("clean stop");
}

on_every_store!(a_large_image_is_downscaled_and_its_original_kept_when_configured);
