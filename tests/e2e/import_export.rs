//! CSV import and export of customers: a bad row is reported with its line number; with
//! "stop" nothing is imported, with "skip" the good rows are; the export lists them.

use reqwest::StatusCode;

use crm_server::config::OnError;
use crm_server::csv_io::{ImportError, NoProgress, export_customers, import_customers};

use crate::helpers::{Backend, TestServer};

const CSV: &str = "name,account_number,phones,emails\n\
Ann Import,IMP-1,+33 1 11 11 11 11,ann@import.example\n\
Ben Import,,06 22 22 22 22;+1 415 555 0199,\n\
,IMP-3,,nameless@import.example\n\
Cat Import,IMP-1,,cat@import.example\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn csv_import_validates_first_and_export_round_trips() {
    let t = TestServer::start(&Backend::Sqlite).await;
    let services = &t.server.services;
    let actor = services.crm.operator_actor(t.demo().tenant, t.demo().admin).await.expect("the demo admin");

    let refused = import_customers(services, &actor, CSV.as_bytes(), OnError::Stop, &NoProgress).await;
    let Err(ImportError::Refused(report)) = refused else { panic!("bad rows must stop the import: {refused:?}") };
    let lines: Vec<u64> = report.bad.iter().map(|b| b.line).collect();
    assert_eq!(lines, [4, 5], "{report:?}");
    assert!(report.bad[0].reason.contains("name"));
    let api = t.admin();
    let none = api.get("/api/v1/customers?name=import").await.expect(StatusCode::OK);
    assert_eq!(none["items"].as_array().expect("items").len(), 0, "nothing half-imported");

    let report = import_customers(services, &actor, CSV.as_bytes(), OnError::Skip, &NoProgress).await.expect("skip");
    assert_eq!((report.rows, report.imported, report.bad.len()), (4, 2, 2));
    let found = api.get("/api/v1/lookup?phone=0622222222").await.expect(StatusCode::OK);
    assert_eq!(found[0]["customer"]["name"], "Ben Import");

    let mut out = Vec::new();
    let count = export_customers(services, &actor, &mut out).await.expect("export");
    let text = String::from_utf8(out).expect("utf-8");
    assert_eq!(count, 8, "6 demo customers and 2 imported: {text}");
    assert!(text.starts_with("account_number,name,phones,emails"));
    assert!(text.contains("IMP-1,Ann Import,+33111111111,ann@import.example"), "{text}");
    t.server.stop().await.expect("clean stop");
}
