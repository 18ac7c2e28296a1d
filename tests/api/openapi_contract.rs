//! The OpenAPI document is the contract: every response a test receives is checked
//! against the schema of its operation and status, and the router's routes and the
//! document's operations must match both ways.
//!
//! One rule adapts the schemas: a request with `fields=` is answered with items that
//! hold only the fields selected. Its item schema (the one whose properties are the
//! names the operation's `fields` parameter allows) then requires exactly the
//! selected properties and forbids the others; those present still match their schemas.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use axum::body::Body;
use axum::http::{Method, StatusCode, Uri};
use serde_json::Value;

use crate::helpers::{TestApp, TestResponse};

static SPEC: LazyLock<Value> = LazyLock::new(|| {
    serde_yaml_ng::from_str(&std::fs::read_to_string("openapi.yaml").unwrap())
        .expect("openapi.yaml parses")
});

const SPEC_URI: &str = "urn:signatories:openapi";

type Validators = Mutex<HashMap<String, Arc<jsonschema::Validator>>>;
static VALIDATORS: LazyLock<Validators> = LazyLock::new(Default::default);

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The spec's path template for a concrete path; literal segments win over parameters.
fn template_for(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    SPEC["paths"]
        .as_object()?
        .keys()
        .filter_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') {
                    continue;
                }
                if part != segment {
                    return None;
                }
                literal += 1;
            }
            Some((literal, template.clone()))
        })
        .max()
        .map(|(_, template)| template)
}

/// Follows a `$ref` to a component, keeping track of the JSON pointer.
fn follow(value: &Value, pointer: String) -> (Value, String) {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let target = reference.trim_start_matches('#').to_owned();
            (
                SPEC.pointer(&target).cloned().unwrap_or(Value::Null),
                target,
            )
        }
        None => (value.clone(), pointer),
    }
}

/// The names of a request's `fields=`, when it has one.
fn selected_fields(uri: &Uri) -> Option<Vec<String>> {
    let names: Vec<String> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(name, _)| name == "fields")
        .flat_map(|(_, value)| {
            value
                .split(',')
                .map(|name| name.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    (!names.is_empty()).then_some(names)
}

/// The spec as a request selecting `selected` of `operation`'s items sees it: each
/// schema whose properties are the names `fields` allows there requires the selected
/// ones and forbids the others.
fn sparse_spec(operation: &Value, selected: &[String]) -> Value {
    let parameter = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|parameter| follow(parameter, String::new()).0)
        .find(|parameter| parameter["name"] == "fields")
        .expect("an operation answering fields= documents it");
    let allowed: BTreeSet<&str> = parameter["schema"]["items"]["enum"]
        .as_array()
        .expect("fields lists its names")
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    let mut spec = SPEC.clone();
    let mut items = 0;
    for schema in spec["components"]["schemas"]
        .as_object_mut()
        .unwrap()
        .values_mut()
    {
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        if properties
            .keys()
            .map(String::as_str)
            .collect::<BTreeSet<_>>()
            != allowed
        {
            continue;
        }
        for (name, property) in properties.iter_mut() {
            if !selected.contains(name) {
                *property = Value::Bool(false);
            }
        }
        schema["required"] = serde_json::json!(selected);
        items += 1;
    }
    assert!(
        items > 0,
        "no schema has exactly the properties {allowed:?} that fields allows"
    );
    spec
}

/// The validator of the schema at `pointer`; with `sparse` (an operation and the
/// fields a request selected), of that schema in the spec as [`sparse_spec`] adapts it.
fn validator(pointer: &str, sparse: Option<(&Value, &[String])>) -> Arc<jsonschema::Validator> {
    let key = match sparse {
        Some((_, selected)) => format!("{pointer}?fields={}", selected.join(",")),
        None => pointer.to_owned(),
    };
    // A failed check in one test must not poison the cache for every other test.
    let mut cache = VALIDATORS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .entry(key)
        .or_insert_with(|| {
            // Path templates put braces in pointers; a URI fragment must escape them.
            let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
            let schema = serde_json::json!({ "$ref": format!("{SPEC_URI}#{fragment}") });
            let spec = match sparse {
                Some((operation, selected)) => sparse_spec(operation, selected),
                None => SPEC.clone(),
            };
            let resource = jsonschema::Draft::Draft202012.create_resource(spec);
            Arc::new(
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .with_resource(SPEC_URI, resource)
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("schema at {pointer} does not compile: {e}")),
            )
        })
        .clone()
}

/// Checks one response against the operation it answers, when the spec has one.
pub fn check(method: &Method, uri: &Uri, response: &TestResponse) {
    let path = uri.path();
    let Some(template) = template_for(path) else {
        return;
    };
    let method_key = method.as_str().to_ascii_lowercase();
    let operation_pointer = format!("/paths/{}/{method_key}", escape(&template));
    let Some(operation) = SPEC.pointer(&operation_pointer) else {
        return;
    };
    let status = response.status.as_u16().to_string();
    let (documented, response_pointer) = match operation["responses"].get(&status) {
        Some(r) => follow(r, format!("{operation_pointer}/responses/{status}")),
        None => panic!(
            "{method} {path} answered {status}, which {template} does not document: {}",
            String::from_utf8_lossy(&response.body)
        ),
    };
    let Some(content_type) = response.header("content-type") else {
        assert!(
            response.body.is_empty(),
            "{method} {path} {status}: a body without a content type"
        );
        return;
    };
    let media_type = content_type.split(';').next().unwrap().trim();
    let Some(content) = documented["content"].get(media_type) else {
        panic!(
            "{method} {path} {status}: content type {media_type} is not documented for {template}"
        );
    };
    if !media_type.ends_with("json") {
        return;
    }
    let (_, schema_pointer) = follow(
        &content["schema"],
        format!("{response_pointer}/content/{}/schema", escape(media_type)),
    );
    let body: Value = serde_json::from_slice(&response.body).expect("a JSON body");
    let selected = selected_fields(uri).filter(|_| response.status == StatusCode::OK);
    let sparse = selected.as_deref().map(|selected| (operation, selected));
    let errors: Vec<String> = validator(&schema_pointer, sparse)
        .iter_errors(&body)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status} does not match {schema_pointer}:\n{}",
        errors.join("\n")
    );
}

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// Every `.route("…", …)` path in the HTTP layer's source, however it is wrapped. The
/// explorer's pages and charts (`http/explorer/`) are HTML and SVG for people, not part
/// of the API, so they are left out here on purpose (tests/api/explorer.rs covers them).
fn routed_paths() -> BTreeSet<String> {
    fn scan(dir: &std::path::Path, paths: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.ends_with("src/http/explorer") {
                continue;
            }
            if path.is_dir() {
                scan(&path, paths);
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for piece in source.split(".route(").skip(1) {
                let piece = piece.trim_start();
                if let Some(literal) = piece.strip_prefix('"') {
                    paths.insert(literal.split('"').next().unwrap().to_owned());
                }
            }
        }
    }
    let mut paths = BTreeSet::new();
    scan(std::path::Path::new("src/http"), &mut paths);
    paths
}

/// A concrete path for a template, with real values for its parameters.
fn sample_path(template: &str) -> String {
    template
        .replace("{id}", "hrc41-letter-critical-2019-07-08")
        .replace("{code}", "FRA")
        .replace("{slug}", "xinjiang")
        .replace("{source_id}", "1")
        .replace("{asset}", "swagger-ui.css")
}

#[tokio::test]
async fn the_router_and_the_spec_have_the_same_routes_and_methods() {
    let documented: BTreeMap<String, BTreeSet<String>> = SPEC["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| METHODS.iter().any(|m| m.as_str().eq_ignore_ascii_case(k)))
                .map(|k| k.to_ascii_uppercase())
                .collect();
            (path.clone(), methods)
        })
        .collect();
    let routed = routed_paths();
    let documented_paths: BTreeSet<String> = documented.keys().cloned().collect();
    assert_eq!(
        routed, documented_paths,
        "routed paths (left) and documented paths (right) differ"
    );

    let app = TestApp::spawn().await;
    for (template, methods) in &documented {
        let path = sample_path(template);
        for method in METHODS {
            let response = app
                .send_unchecked(method.clone(), &path, Body::empty())
                .await;
            let served = response.status != StatusCode::METHOD_NOT_ALLOWED
                && !(response.status == StatusCode::NOT_FOUND
                    && response.text().contains("There is no resource at"));
            assert_eq!(
                served,
                methods.contains(method.as_str()),
                "{method} {template}: served by the router = {served}, documented = {}",
                methods.contains(method.as_str())
            );
        }
    }
}

#[test]
fn every_operation_is_described_for_its_readers() {
    let mut ids = BTreeSet::new();
    for (path, item) in SPEC["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !METHODS
                .iter()
                .any(|m| m.as_str().eq_ignore_ascii_case(method))
            {
                continue;
            }
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
            for field in ["summary", "description"] {
                assert!(
                    operation[field]
                        .as_str()
                        .is_some_and(|s| !s.trim().is_empty()),
                    "{method} {path}: {field}"
                );
            }
        }
    }
}
