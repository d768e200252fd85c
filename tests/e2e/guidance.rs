//! Guidance over HTTP (GUI-1, GUI-2): a supervisor drafts a script, sees why it cannot be
//! published, fixes and publishes it; an agent runs it during a call, answer by answer,
//! resumes it, and its end reaches her stream; alert rules are checked naming the node,
//! and their alerts come with the screen pop (lookup and CTI call, on the stream too, and
//! again live when a change moves the facts during the call),
//! during the interaction, and from the dry run.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Api, Backend, TestServer};
use crate::on_every_store;

fn fields(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| (e["field"].as_str().unwrap_or("").to_owned(), e["reason"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn survey(broken: bool) -> Value {
    let mut steps = vec![
        json!({"type": "say", "id": "greet", "text": "Hello {{customer.name}}.", "next": "happy"}),
        json!({"type": "choice", "id": "happy", "text": "How was it?", "choices": ["good", "bad"],
               "next": {"good": "score", "bad": "why"}}),
        json!({"type": "number", "id": "score", "text": "Score?", "min": 0, "max": 10, "next": "bye"}),
        json!({"type": "free_text", "id": "why", "text": "Why?", "max_chars": 50, "next": "bye"}),
        json!({"type": "end", "id": "bye", "text": "Thanks, {{customer.name}}."}),
    ];
    if broken {
        // `why` loops back to `happy` (no dead end there, but `loop` cycles on itself with no
        // exit), and `score` points at a step that does not exist.
        steps[2] = json!({"type": "number", "id": "score", "text": "Score?", "next": "nowhere"});
        steps.push(json!({"type": "yes_no", "id": "loop", "text": "Again?", "yes": "loop", "no": "loop"}));
    }
    json!({"name": "Survey", "start": "greet", "steps": steps})
}

async fn answer(api: &Api, run: &str, step: &str, value: Value) -> crate::helpers::Reply {
    api.post(&format!("/api/v1/script-runs/{run}/answers"), &json!({"step": step, "value": value})).await
}

async fn a_script_is_published_then_run_during_a_call(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let sup = t.client_for(&demo.supervisor.to_string(), "supervisor").await;
    let alice = t.client_for(&demo.agent.to_string(), "agent").await;

    alice.post("/api/v1/scripts", &survey(false)).await.problem(403);
    // Too many steps: a clear 422 naming `steps`, even with long texts (scripts may be
    // larger than other bodies; over 16 MiB is a 413).
    let many: Vec<Value> = (0..1_001).map(|i| json!({"type": "end", "id": format!("s{i}")})).collect();
    let p = sup.post("/api/v1/scripts", &json!({"name": "Big", "start": "s0", "steps": many})).await.problem(422);
    assert_eq!(fields(&p)[0].0, "steps", "{p}");
    let text = "Read this to the customer, slowly. ".repeat(6);
    let huge: Vec<Value> =
        (0..10_000).map(|i| json!({"type": "end", "id": format!("step_{i}"), "text": text})).collect();
    let p = sup.post("/api/v1/scripts", &json!({"name": "Huge", "start": "step_0", "steps": huge})).await.problem(422);
    assert_eq!(fields(&p)[0].0, "steps", "{p}");
    let over = "x".repeat(crm_core::script::MAX_SCRIPT_BYTES);
    sup.post("/api/v1/scripts", &json!({"name": over, "start": "s", "steps": []})).await.problem(413);

    // A broken draft is saved, but publishing it lists its faults, naming the steps.
    let created = sup.post("/api/v1/scripts", &survey(true)).await;
    let id = created.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/scripts/{id}");
    let p = sup.post_if_match(&format!("{path}/publish"), &created.etag(), &Value::Null).await.problem(422);
    let faults = fields(&p);
    assert!(faults.iter().any(|(f, r)| f.contains("next") && r.contains("`score`") && r.contains("nowhere")), "{p}");
    assert!(faults.iter().any(|(_, r)| r.contains("`loop`")), "{p}");
    assert_eq!(sup.get(&format!("{path}/versions")).await.expect(StatusCode::OK), json!([]));

    // Fixed at its ETag (a stale one is a 412), then published as version 1.
    let fixed = sup.send_if_match(Method::PUT, &path, &created.etag(), &survey(false)).await;
    assert_eq!(fixed.expect(StatusCode::OK)["version"], 2);
    sup.send_if_match(Method::PUT, &path, &created.etag(), &survey(false)).await.problem(412);
    let published = sup.post_if_match(&format!("{path}/publish"), &fixed.etag(), &Value::Null).await;
    assert_eq!(published.expect(StatusCode::CREATED)["version"], 1);
    // Editing the draft again leaves version 1 as published.
    let again = sup.get(&path).await;
    let mut renamed = survey(false);
    renamed["name"] = json!("Survey (new)");
    sup.send_if_match(Method::PUT, &path, &again.etag(), &renamed).await.expect(StatusCode::OK);
    let v1 = sup.get(&format!("{path}/versions/1")).await.expect(StatusCode::OK);
    assert_eq!(v1["draft"]["name"], "Survey");
    assert_eq!(sup.get(&format!("{path}/versions")).await.expect(StatusCode::OK).as_array().map(Vec::len), Some(1));
    sup.get(&format!("{path}/versions/2")).await.problem(404);

    // Alice takes Jeanne's call and runs the script.
    let mut events = alice.events().await;
    let pop = t
        .admin()
        .post("/api/v1/cti/calls", &json!({"phone": "+33123456789", "agent": demo.agent}))
        .await
        .expect(StatusCode::CREATED);
    let interaction = pop["interaction"]["id"].as_str().expect("interaction").to_owned();
    let runs = format!("/api/v1/interactions/{interaction}/script-runs");
    let started = alice.post(&runs, &json!({"script": id})).await;
    let run = started.expect(StatusCode::CREATED);
    assert_eq!((run["step"]["id"].as_str(), run["text"].as_str()), (Some("greet"), Some("Hello Jeanne Dupont.")));
    let run_id = run["id"].as_str().expect("run id").to_owned();

    // Typed answers: the wrong type, the wrong step, an unknown choice, out of bounds.
    let p = answer(&alice, &run_id, "greet", json!({"type": "number", "value": 3})).await.problem(422);
    assert_eq!(fields(&p)[0].0, "value", "{p}");
    answer(&alice, &run_id, "greet", json!({"type": "continue"})).await.expect(StatusCode::OK);
    let p = answer(&alice, &run_id, "greet", json!({"type": "continue"})).await.problem(422);
    assert_eq!(fields(&p)[0].0, "step", "{p}");
    let p = answer(&alice, &run_id, "happy", json!({"type": "choice", "value": "meh"})).await.problem(422);
    assert!(fields(&p)[0].1.contains("meh"), "{p}");
    answer(&alice, &run_id, "happy", json!({"type": "choice", "value": "good"})).await.expect(StatusCode::OK);
    let p = answer(&alice, &run_id, "score", json!({"type": "number", "value": 11})).await.problem(422);
    assert_eq!(fields(&p)[0].0, "value", "{p}");

    // A reconnect: the run is read back where it stood.
    let resumed = alice.get(&format!("/api/v1/script-runs/{run_id}")).await.expect(StatusCode::OK);
    assert_eq!((resumed["step"]["id"].as_str(), resumed["finished"].as_bool()), (Some("score"), Some(false)));
    assert_eq!(resumed["run"]["path"], json!(["greet", "happy", "score"]));

    let done = answer(&alice, &run_id, "score", json!({"type": "number", "value": 9})).await.expect(StatusCode::OK);
    assert_eq!((done["finished"].as_bool(), done["text"].as_str()), (Some(true), Some("Thanks, Jeanne Dupont.")));
    answer(&alice, &run_id, "bye", json!({"type": "continue"})).await.problem(422);
    let finished = events.next_named("script_run_finished", Duration::from_secs(10)).await;
    assert_eq!(finished.data["kind"]["run"], run_id.as_str());
    assert_eq!(finished.data["kind"]["end"], "bye");

    // The interaction's history shows the path and the answers.
    let history = alice.get(&runs).await.expect(StatusCode::OK);
    assert_eq!(history[0]["run"]["path"], json!(["greet", "happy", "score", "bye"]));
    assert_eq!(history[0]["run"]["answers"][2], json!({"step": "score", "value": {"type": "number", "value": 9.0}}));
    // A script never published cannot be run.
    let draft_only = sup.post("/api/v1/scripts", &survey(false)).await.expect(StatusCode::CREATED);
    let p = alice.post(&runs, &json!({"script": draft_only["id"]})).await.problem(422);
    assert_eq!(fields(&p)[0].0, "script", "{p}");
}

on_every_store!(a_script_is_published_then_run_during_a_call);

async fn alerts_come_with_the_screen_pop(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let admin = t.admin();
    let alice = t.client_for(&demo.agent.to_string(), "agent").await;
    let vip = json!({"entity": "customer", "key": "vip", "label": "VIP", "field_type": {"type": "boolean"}});
    admin.post("/api/v1/custom-fields", &vip).await.expect(StatusCode::CREATED);
    let body = json!({"name": "Vera Important", "identities": [{"type": "phone", "number": "+33 6 11 22 33 44"}],
                      "custom": {"vip": true}});
    let vera =
        admin.post("/api/v1/customers", &body).await.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();

    // Bad rules: 422 naming each node's path; agents may not write rules.
    let read = admin.get("/api/v1/alert-rules").await;
    assert_eq!((read.expect(StatusCode::OK)["version"].as_u64(), read.etag()), (Some(0), "\"0\"".to_owned()));
    let bad = json!({"rules": [
        {"name": "x", "severity": "info", "message": "m", "condition": {"all": [{"field": "customer.nope", "op": "exists"}]}},
        {"name": "y", "severity": "info", "message": "{{tasks.late}}", "condition": {"field": "customer.vip", "op": "equals", "value": true}}
    ]});
    let p = admin.send_if_match(Method::PUT, "/api/v1/alert-rules", &read.etag(), &bad).await.problem(422);
    let named: Vec<String> = fields(&p).into_iter().map(|(f, _)| f).collect();
    assert_eq!(named, ["rules[0].condition.all[0].field", "rules[1].message"], "{p}");
    let rules = json!({"rules": [
        {"name": "vip", "severity": "critical", "message": "VIP customer", "suggestion": "offer the retention script",
         "condition": {"field": "customer.vip", "op": "equals", "value": true}},
        {"name": "repeat", "severity": "warning", "message": "{{contacts.last_7_days}} contacts this week",
         "condition": {"all": [{"field": "contacts.last_7_days", "op": "greater_or_equal", "value": 1},
                               {"field": "interaction.channel", "op": "equals", "value": "voice"}]}}
    ]});
    alice.send_if_match(Method::PUT, "/api/v1/alert-rules", &read.etag(), &rules).await.problem(403);
    let put = admin.send_if_match(Method::PUT, "/api/v1/alert-rules", &read.etag(), &rules).await;
    assert_eq!(put.expect(StatusCode::OK)["version"], 1);
    admin.send_if_match(Method::PUT, "/api/v1/alert-rules", &read.etag(), &rules).await.problem(412);

    // The lookup's card carries the alert; a customer no rule concerns carries none.
    let found = alice.get("/api/v1/lookup?phone=%2B33611223344").await.expect(StatusCode::OK);
    assert_eq!(
        found[0]["alerts"],
        json!([{"rule": "vip", "severity": "critical", "message": "VIP customer",
                                            "suggestion": "offer the retention script"}])
    );
    let jeanne = alice.get("/api/v1/lookup?phone=%2B33123456789").await.expect(StatusCode::OK);
    assert!(jeanne[0].get("alerts").is_none(), "{jeanne}");

    // A call: the alerts come with the screen pop, in the answer and on the stream.
    let mut events = alice.events().await;
    let pop = admin
        .post("/api/v1/cti/calls", &json!({"phone": "+33611223344", "agent": demo.agent}))
        .await
        .expect(StatusCode::CREATED);
    let names = |card: &Value| -> Vec<String> {
        card["alerts"]
            .as_array()
            .map(|a| a.iter().map(|x| x["rule"].as_str().unwrap_or("").to_owned()).collect())
            .unwrap_or_default()
    };
    assert_eq!(names(&pop["cards"][0]), ["vip", "repeat"], "{pop}");
    assert_eq!(pop["cards"][0]["alerts"][1]["message"], "1 contacts this week");
    let streamed = events.next_named("screen_pop", Duration::from_secs(10)).await;
    assert_eq!(names(&streamed.data["cards"][0]), ["vip", "repeat"]);
    let interaction = pop["interaction"]["id"].as_str().expect("interaction").to_owned();
    let during = alice.get(&format!("/api/v1/interactions/{interaction}/alerts")).await.expect(StatusCode::OK);
    assert_eq!(during.as_array().map(Vec::len), Some(2), "{during}");

    // The dry run: draft rules against a customer, with the facts they read.
    let dry = json!({"customer": vera, "rules": [
        {"name": "busy", "severity": "info", "message": "busy", "condition": {"field": "contacts.last_30_days", "op": "greater_than", "value": 0}},
        {"name": "calm", "severity": "info", "message": "calm", "condition": {"field": "cases.open_critical", "op": "greater_than", "value": 0}}
    ]});
    let result = admin.post("/api/v1/alert-rules/dry-run", &dry).await.expect(StatusCode::OK);
    assert_eq!(names(&result), ["busy"], "{result}");
    assert_eq!(
        (result["facts"]["contacts.last_30_days"].as_f64(), result["facts"]["customer.vip"].as_bool()),
        (Some(1.0), Some(true))
    );
    let stored = admin.post("/api/v1/alert-rules/dry-run", &json!({"customer": vera})).await.expect(StatusCode::OK);
    assert_eq!(names(&stored), ["vip"], "no interaction imagined: the voice rule stays quiet: {stored}");
    let p = admin
        .post("/api/v1/alert-rules/dry-run", &json!({"customer": vera, "rules": [{"name": "z", "severity": "loud"}]}))
        .await;
    assert!(p.status.is_client_error(), "{p:?}");
    alice.post("/api/v1/alert-rules/dry-run", &json!({"customer": vera})).await.problem(403);

    // During the call a change moves the customer's facts: the interaction's alerts come
    // again, live, to the agent on the call.
    let card = admin.get(&format!("/api/v1/customers/{vera}")).await;
    let patch = json!({"custom": {"vip": false}});
    admin.patch(&format!("/api/v1/customers/{vera}"), &card.etag(), &patch).await.expect(StatusCode::OK);
    // (The call's own changes of the card may push the alerts first: the last push counts.)
    let mut pushed = Vec::new();
    while pushed.last().is_none_or(|p: &Value| names(p) != ["repeat"]) {
        assert!(pushed.len() < 5, "the VIP alert never went: {pushed:?}");
        let live = events.next_named("alerts", Duration::from_secs(10)).await;
        assert_eq!(live.data["interaction"], interaction.as_str(), "{:?}", live.data);
        pushed.push(live.data);
    }
}

on_every_store!(alerts_come_with_the_screen_pop);
