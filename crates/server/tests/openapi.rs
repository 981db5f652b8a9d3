//! The OpenAPI document is true: it passes an OpenAPI validator (`openapi-spec-validator`)
//! and a short schema-driven fuzz of every operation (schemathesis) finds no server error,
//! no undocumented status, content type or response shape, on SQLite and on PostgreSQL.
//! Both tools are Python packages; where they are not installed the fuzz is skipped,
//! except under CI, which installs them (`.ci/run`).

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use common::{spawn_app, spawn_app_postgres, TestApp, ADMIN_TOKEN};
use serde_json::Value;

/// Test cases per operation and phase: enough to reach every refusal of the extractors
/// and most handlers' own, within about a minute per backend on two cores.
const EXAMPLES_PER_OPERATION: &str = "40";

/// The same inputs on every run, so a red CI can be replayed; the run prints the seed.
const SEED: &str = "20261203";

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

/// Revoking a token is fuzzed last and alone: the fuzz holds the bootstrap token (id 1),
/// and once it revokes that token every later request of the run can only answer 401.
const REVOKE_TOKEN: &str = "^/tokens/\\{id\\}/revoke$";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_valid_and_a_fuzz_finds_it_true_on_sqlite() {
    if !tools_installed() {
        return;
    }
    let app = spawn_app().await;
    fuzz(&app, "sqlite").await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_valid_and_a_fuzz_finds_it_true_on_postgres() {
    if !tools_installed() {
        return;
    }
    let Some(app) = spawn_app_postgres().await else {
        return;
    };
    fuzz(&app, "postgres").await;
    app.cleanup().await;
}

/// Query parameters are documented in the query, and each operation lists what every
/// route answers: without a token 401, and for input it parses 400 (and 413, 415, 422
/// for a body), each as a problem. This part needs no tools.
#[tokio::test]
async fn every_operation_documents_its_parameters_and_common_errors() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut query_parameters = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let at = format!("{} {path}", method.to_uppercase());
            let responses = op["responses"].as_object().unwrap();
            let parameters = op["parameters"].as_array().cloned().unwrap_or_default();
            for p in &parameters {
                let name = p["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    p["in"],
                    if in_path { "path" } else { "query" },
                    "{at}: {name}"
                );
                query_parameters += usize::from(!in_path);
            }
            let mut expected = vec!["401", "500"];
            if !parameters.is_empty() || op.get("requestBody").is_some() {
                expected.push("400");
            }
            if op.get("requestBody").is_some() {
                expected.extend(["413", "415", "422"]);
            }
            for status in expected {
                assert!(
                    responses.contains_key(status),
                    "{at} does not list {status}"
                );
            }
            for (status, response) in responses {
                if status.as_str() >= "400" {
                    assert_eq!(
                        response["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{at} {status}"
                    );
                }
            }
            // People manage their own settings (paging, their password); someone else's
            // need an admin.
            let someone_elses = op["tags"][0] == "people" && at != "GET /subscriptions";
            let scope = op["security"][0]["bearer"][0].as_str();
            assert_eq!(
                responses.contains_key("403"),
                scope.is_some_and(|s| s != "viewer") || someone_elses,
                "{at}: 403 is listed exactly where a viewer token can be refused"
            );
        }
    }
    assert_eq!(
        query_parameters, 28,
        "the filters and cursors of six operations, action items' filters, a review's export format"
    );
    app.cleanup().await;
}

/// A viewer token is refused (403) by an operation that names a higher scope, before
/// anything else is looked at.
#[tokio::test]
async fn a_viewer_is_refused_where_the_document_names_a_higher_scope() {
    let app = spawn_app().await;
    let viewer_token = {
        let _ = app.user("vera", klaxon_domain::auth::Scope::Viewer).await;
        let created = app
            .admin
            .create_token(&klaxon_domain::api::NewToken {
                name: "vera-2".into(),
                scope: klaxon_domain::auth::Scope::Viewer,
                user: Some(klaxon_domain::Handle::parse("vera").unwrap()),
            })
            .await
            .unwrap();
        created.token
    };
    let doc = document(&app).await;
    let http = app.http();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(scope) = op["security"][0]["bearer"][0].as_str() else {
                continue;
            };
            // The viewer's own paging settings: only the scope can refuse them.
            let concrete = path
                .replace("{number}", "1")
                .replace("{name}", "api")
                .replace("{id}", "1")
                .replace("{handle}", "vera")
                .replace("{team}", "engineering");
            let request = http
                .request(method.to_uppercase().parse().unwrap(), app.api(&concrete))
                .bearer_auth(&viewer_token)
                .json(&valid_body(path));
            let status = request.send().await.unwrap().status().as_u16();
            assert_eq!(status, 403, "{method} {path} needs {scope}");
        }
    }
    app.cleanup().await;
}

/// A body the operation takes, so that the scope check is what answers.
fn valid_body(path: &str) -> Value {
    use serde_json::json;
    let schedule = json!({"name": "primary", "time_zone": "UTC", "layers": [], "overrides": []});
    match path {
        "/incidents" => json!({"title": "t", "severity": 2}),
        "/incidents/{number}/assign" | "/incidents/{number}/relieve" => {
            json!({"role": "commander", "user": "admin"})
        }
        "/incidents/{number}/severity" => json!({"severity": 1, "reason": "r"}),
        "/incidents/{number}/updates" => json!({"kind": "update", "status": "s"}),
        "/incidents/{number}/mitigate" => json!({"strategy": "rollback", "action": "a"}),
        "/incidents/{number}/merge" => json!({"into": 2}),
        "/incidents/{number}/notes" => json!({"text": "t"}),
        "/incidents/{number}/evidence" => json!({"kind": "text", "text": "t"}),
        "/users" => json!({"handle": "bob", "name": "Bob", "email": "bob@example.com"}),
        "/tokens" => json!({"name": "ci", "scope": "viewer"}),
        "/services" => json!({"name": "web"}),
        "/services/{name}" => json!({"description": "d"}),
        "/services/{name}/maintenance" => json!({"ends_at": "2030-01-01T00:00:00Z", "reason": "r"}),
        "/heartbeats" => json!({"service": "api", "name": "cron", "interval": "5m"}),
        "/schedules" | "/schedules/{name}" => schedule,
        "/escalation-policies" | "/escalation-policies/{name}" => {
            json!({"name": "default", "steps": [{"delay_minutes": 0, "targets": [{"user": "admin"}]}]})
        }
        "/page" => json!({"target": {"user": "admin"}, "message": "m"}),
        "/users/{handle}/contact-methods" => json!({"kind": "email", "address": "v@example.com"}),
        "/users/{handle}/notification-rules" => json!({"urgency": "high", "contact_method": 1}),
        "/subscriptions" => json!({"team": "engineering", "user": "vera"}),
        "/users/{handle}" => json!({"role": "viewer"}),
        "/users/{handle}/contact-methods/{id}/verify" => json!({"code": "123456"}),
        "/components" => json!({"name": "API"}),
        "/maintenances" => json!({"name": "Upgrade", "components": [1],
            "scheduled_for": "2030-01-01T00:00:00Z", "scheduled_until": "2030-01-01T02:00:00Z"}),
        "/maintenances/{id}/updates" => json!({"body": "b"}),
        "/subscribers" => json!({"webhook": "https://hooks.example.com/status"}),
        "/incidents/{number}/components" => json!({"components": []}),
        "/incidents/{number}/review/whys" => json!({"nodes": []}),
        "/incidents/{number}/review/whys/nodes" => json!({"why": "w", "because": "b"}),
        "/incidents/{number}/review/status" => json!({"status": "in_review"}),
        "/incidents/{number}/review/actions" => {
            json!({"title": "t", "owner": "admin", "category": "short_term"})
        }
        _ => json!({}),
    }
}

/// Every list either pages with a `before` cursor (its answer an object holding
/// `next_before`) or says in its description why it is returned whole ("Not paged: …").
#[tokio::test]
async fn every_list_pages_or_says_why_it_need_not() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let (mut paged, mut whole) = (Vec::new(), Vec::new());
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let ok = &get["responses"]["200"];
        let Some(schema) = ok["content"]["application/json"]["schema"].as_object() else {
            continue;
        };
        let cursor = get["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["name"] == "before" && p["in"] == "query");
        if schema.get("type").and_then(Value::as_str) == Some("array") {
            let description = ok["description"].as_str().unwrap_or_default();
            assert!(
                description.starts_with("Not paged: "),
                "GET {path} returns a list without a cursor or a word on why: {description:?}"
            );
            whole.push(path.clone());
        } else if cursor {
            let name = schema["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
            let page = &doc["components"]["schemas"][name]["properties"];
            assert!(page.get("next_before").is_some(), "GET {path}: {page}");
            paged.push(path.clone());
        }
    }
    assert_eq!(paged, ["/alerts", "/incidents"]);
    assert!(whole.contains(&"/users".to_owned()), "{whole:?}");
    app.cleanup().await;
}

async fn document(app: &TestApp) -> Value {
    let r = app
        .http()
        .get(app.api("/openapi.json"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn tools_installed() -> bool {
    let installed = std::process::Command::new("python3")
        .args(["-c", "import schemathesis, openapi_spec_validator"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install the schemathesis and openapi-spec-validator Python packages"
        );
        eprintln!("skipping: `pip install schemathesis openapi-spec-validator` to run this test");
    }
    installed
}

/// Validates the served document, then fuzzes every operation against `app`.
async fn fuzz(app: &TestApp, backend: &str) {
    let dir = std::env::temp_dir().join(format!("klaxon-fuzz-{backend}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let doc = document(app).await;
    let file = dir.join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let (ok, out) = run(
        &dir,
        &[
            "-m".as_ref(),
            "openapi_spec_validator".as_ref(),
            file.as_os_str(),
        ],
    )
    .await;
    assert!(ok, "the OpenAPI document is not valid:\n{out}");

    let started = Instant::now();
    let url = app.api("/openapi.json");
    for selection in [
        ["--exclude-path-regex", REVOKE_TOKEN],
        ["--include-path-regex", REVOKE_TOKEN],
    ] {
        let args = [
            "-m",
            "schemathesis.cli",
            "run",
            url.as_str(),
            "--header",
            &format!("Authorization: Bearer {ADMIN_TOKEN}"),
            "--checks",
            CHECKS,
            "--max-examples",
            EXAMPLES_PER_OPERATION,
            "--seed",
            SEED,
            "--generation-database",
            "none",
            "--request-timeout",
            "10",
            // One worker: with two threads, hypothesis (on CPython 3.11) now and then
            // fails parsing its own sources ("AST constructor recursion depth mismatch").
            "--workers",
            "1",
            "--no-color",
            selection[0],
            selection[1],
        ];
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        let (ok, out) = run(&dir, &args).await;
        let summary: Vec<&str> = out
            .lines()
            .filter(|l| {
                l.trim_start().starts_with("Selected:")
                    || l.contains(" generated,")
                    || l.starts_with('=') && l.contains(" in ")
            })
            .collect();
        eprintln!("{backend} {}: {}", selection[0], summary.join(" | "));
        assert!(
            ok,
            "schemathesis on {backend} ({selection:?}) failed:\n{out}"
        );
    }
    eprintln!("{backend}: fuzzed in {:.0?}", started.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `python3 ARGS` in `dir`; whether it succeeded, and its output.
async fn run(dir: &Path, args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = tokio::process::Command::new("python3")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
