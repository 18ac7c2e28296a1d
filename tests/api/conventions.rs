//! What every read shares: a CSV download of every matching row, a 400 naming each
//! bad parameter, and a 404 for an unknown name.

use axum::http::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn csv_returns_every_matching_row_for_a_spreadsheet() {
    let app = TestApp::spawn().await;
    let by_param = app.get("/v1/statements?format=csv&limit=2").await;
    assert_eq!(by_param.status, StatusCode::OK);
    assert_eq!(
        by_param.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        by_param.header("content-disposition"),
        Some("attachment; filename=\"statements.csv\"")
    );
    let mut reader = csv::Reader::from_reader(by_param.body.as_ref());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 25, "all rows, not one page");
    let title = headers.iter().position(|h| h == "title").unwrap();
    let supportive_2024 = rows
        .iter()
        .find(|r| &r[0] == "unga79-statement-supportive-2024-10-22")
        .unwrap();
    assert!(
        supportive_2024[title].contains(", Hong Kong"),
        "a quoted comma survives"
    );

    let by_accept = app
        .get_with(
            "/v1/statements/hrc51-vote-2022-10-06/signatories",
            &[("accept", "text/csv")],
        )
        .await;
    assert_eq!(by_accept.status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(by_accept.body.as_ref());
    assert_eq!(reader.records().count(), 47);

    let france = app.get("/v1/countries/FRA/statements?format=csv").await;
    assert_eq!(
        france.header("content-disposition"),
        Some("attachment; filename=\"fra-statements.csv\"")
    );
    let countries = app.get("/v1/countries?format=csv&region=Oceania").await;
    let mut reader = csv::Reader::from_reader(countries.body.as_ref());
    assert!(
        reader
            .records()
            .map(Result::unwrap)
            .all(|r| &r[7] == "Oceania")
    );

    let empty = app
        .get("/v1/countries/FRA/statements?format=csv&stance=supportive")
        .await;
    assert_eq!(
        empty.text().lines().count(),
        1,
        "a header row even when nothing matches"
    );
}

/// Excel reads a CSV as UTF-8 only after a byte order mark; every other tool reads the
/// mark as part of the first column's name, so it comes only when asked for.
#[tokio::test]
async fn excel_gets_a_byte_order_mark_only_when_it_asks() {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let app = TestApp::spawn().await;
    for uri in [
        "/v1/statements?format=csv",
        "/v1/countries/CIV/statements?format=csv",
        "/v1/statements/hrc41-letter-supportive-2019-07-12/signatories?format=csv",
        "/v1/participations?country=QAT&format=csv",
        "/v1/stats/stances?group_by=year&format=csv",
        "/v1/topics/xinjiang/switchers?format=csv",
        "/v1/statements/compare?a=hrc41-letter-supportive-2019-07-12\
         &b=unga77-statement-critical-2022-10-31&format=csv",
    ] {
        let plain = app.get(uri).await;
        let excel = app.get(&format!("{uri}&bom=true")).await;
        assert_eq!(excel.status, StatusCode::OK, "{uri}");
        assert!(!plain.body.starts_with(BOM), "{uri}: no mark by default");
        assert_eq!(&excel.body[..3], BOM, "{uri}");
        assert_eq!(
            excel.body[3..],
            plain.body[..],
            "{uri}: the same rows after the mark"
        );
        assert_eq!(
            excel.header("content-disposition"),
            plain.header("content-disposition")
        );
        assert!(
            plain
                .header("content-disposition")
                .unwrap()
                .ends_with(".csv\""),
            "{uri}: a file name"
        );
        assert_ne!(
            excel.header("etag"),
            plain.header("etag"),
            "other bytes, other tag"
        );
    }
    let json = app.get("/v1/statements?limit=1&bom=true").await;
    assert_eq!(json.body[0], b'{', "JSON is never marked");
    let problem = app
        .get("/v1/statements?format=csv&bom=yes")
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "bom");
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let other_sort_cursor =
        app.get("/v1/statements?limit=1&sort=title").await.json()["page"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_owned();
    for (uri, field) in [
        ("/v1/statements?colour=red", "colour"),
        ("/v1/statements?from=2019-13-01", "from"),
        ("/v1/statements?to=yesterday", "to"),
        ("/v1/statements?from=2020-01-01&to=2019-01-01", "to"),
        ("/v1/statements?stance=hostile", "stance"),
        ("/v1/statements?kind=tweet", "kind"),
        ("/v1/statements?sort=popularity", "sort"),
        ("/v1/statements?sort=relevance", "sort"),
        ("/v1/statements?cursor=garbage", "cursor"),
        (
            &format!("/v1/statements?sort=date&cursor={other_sort_cursor}"),
            "cursor",
        ),
        ("/v1/statements?limit=0", "limit"),
        ("/v1/statements?limit=501", "limit"),
        ("/v1/statements?limit=ten", "limit"),
        ("/v1/statements?count=maybe", "count"),
        ("/v1/statements?format=xml", "format"),
        ("/v1/statements?country=XX", "country"),
        ("/v1/statements?country=France", "country"),
        ("/v1/statements?country_role=lead", "country_role"),
        ("/v1/statements?topic=Not%20A%20Slug", "topic"),
        ("/v1/statements?session=HRC41&session=HRC42", "session"),
        (
            "/v1/statements/hrc51-vote-2022-10-06/signatories?role=voter",
            "role",
        ),
        (
            "/v1/statements/hrc51-vote-2022-10-06/signatories?sort=size",
            "sort",
        ),
        ("/v1/countries?un_member=yes", "un_member"),
        ("/v1/countries/FRA/statements?stance=angry", "stance"),
        ("/v1/countries/FRA/stances?topic=UPPER", "topic"),
        ("/v1/countries/FRA?expand=all", "expand"),
        ("/v1/topics?sort=name", "sort"),
    ] {
        let problem = app.get(uri).await.problem(StatusCode::BAD_REQUEST);
        let errors = problem["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && !e["message"].as_str().unwrap().is_empty()),
            "{uri}: {problem}"
        );
    }
    let several = app
        .get("/v1/statements?stance=x&limit=0")
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(
        several["errors"].as_array().unwrap().len(),
        2,
        "every problem at once"
    );
}

#[tokio::test]
async fn analytics_refuse_bad_parameters_and_unknown_names() {
    let app = TestApp::spawn().await;
    for (uri, field) in [
        ("/v1/stats/stances?group_by=country", "group_by"),
        ("/v1/stats/stances?colour=red", "colour"),
        ("/v1/stats/stances?kind=tweet", "kind"),
        ("/v1/stats/stances?from=2020-01-01&to=2019-01-01", "to"),
        ("/v1/stats/stances?cursor=garbage", "cursor"),
        ("/v1/stats/coverage?list_complete=maybe", "list_complete"),
        ("/v1/topics/xinjiang/timeline?group_by=year", "group_by"),
        ("/v1/topics/xinjiang/switchers?limit=0", "limit"),
        ("/v1/statements/compare?a=hrc51-vote-2022-10-06", "b"),
        (
            "/v1/statements/compare?a=hrc51-vote-2022-10-06&b=hrc51-vote-2022-10-06",
            "b",
        ),
        ("/v1/statements/compare?a=Not%20A%20Slug&b=x", "a"),
        ("/v1/countries/FRA/alignment?min_shared=0", "min_shared"),
        ("/v1/countries/FRA/alignment?topic=UPPER", "topic"),
        ("/v1/countries/FRA/alignment?limit=10", "limit"),
    ] {
        let problem = app.get(uri).await.problem(StatusCode::BAD_REQUEST);
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{uri}: {problem}"
        );
    }
    for uri in [
        "/v1/topics/no-such-topic/timeline",
        "/v1/topics/NOT%20A%20SLUG/switchers",
        "/v1/statements/compare?a=no-such-statement&b=hrc51-vote-2022-10-06",
        "/v1/statements/compare?a=hrc51-vote-2022-10-06&b=no-such-statement",
        "/v1/countries/XYZ/alignment",
    ] {
        app.get(uri).await.problem(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn unknown_ids_and_codes_are_404s() {
    let app = TestApp::spawn().await;
    for uri in [
        "/v1/statements/no-such-statement",
        "/v1/statements/NOT%20A%20SLUG",
        "/v1/statements/no-such-statement/signatories",
        "/v1/countries/XYZ",
        "/v1/countries/not-a-code",
        "/v1/countries/QQ/statements",
        "/v1/countries/QQQ/stances",
        "/v1/topics/no-such-topic",
    ] {
        app.get(uri).await.problem(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_tampered_cursor_is_the_clients_error() {
    use base64::Engine;
    let app = TestApp::spawn().await;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"s":"-date","k":"not-a-date","i":"x"}"#);
    let problem = app
        .get(&format!("/v1/statements?cursor={forged}"))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "cursor");
}

#[tokio::test]
async fn a_request_that_would_cost_thousands_of_lookups_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let codes = vec!["FRA"; 10_000].join(",");
    let started = std::time::Instant::now();
    let many = app.get(&format!("/v1/statements?country={codes}")).await;
    let took = started.elapsed();
    let problem = many.problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "country");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 100"),
        "{problem}"
    );
    // One lookup per code took seconds; refused before any lookup, it takes about as
    // long as any bad request (bench/faults times the release build).
    assert!(
        took < std::time::Duration::from_millis(250),
        "took {took:?}"
    );

    // At the limit, repeats and every form of a code are resolved together.
    let hundred = ["FRA", "fr", "DEU"].repeat(33).join(",");
    let listed = app
        .get(&format!("/v1/statements?country={hundred}&limit=100"))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let one = app.get("/v1/statements?country=FRA,DEU&limit=100").await;
    assert_eq!(listed.json()["data"], one.json()["data"]);

    let long = "x".repeat(201);
    let problem = app
        .get(&format!("/v1/statements?q={long}"))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "q");
    assert!(
        app.get(&format!("/v1/statements?q={}", "x".repeat(200)))
            .await
            .status
            == StatusCode::OK
    );

    // Unknown codes are named, each once, in the order given.
    let problem = app
        .get("/v1/participations?country=FRA,QQQ,XXA,QQQ")
        .await
        .problem(StatusCode::BAD_REQUEST);
    let named: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(named.len(), 3, "{named:?}");
    assert!(
        named[0].contains("QQQ") && named[1].contains("XXA"),
        "{named:?}"
    );
}

#[tokio::test]
async fn a_cell_that_would_run_as_a_formula_is_text_in_csv_and_unchanged_in_json() {
    let app = TestApp::spawn().await;
    let key = app.key("editor", signatories::keys::ApiRole::Editor).await;
    let mut statement = crate::helpers::new_statement();
    statement["title"] = "=HYPERLINK(\"http://example.org\",\"click\")".into();
    statement["summary"] = "+1 more country joined".into();
    let created = app
        .write(axum::http::Method::POST, "/v1/statements", &key, &statement)
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.json()["id"].as_str().unwrap().to_owned();

    let json = app.get("/v1/statements?q=hyperlink").await.json();
    assert_eq!(
        json["data"][0]["title"], statement["title"],
        "JSON as written"
    );

    let csv = app.get("/v1/statements?format=csv&limit=500").await.text();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let row = reader
        .records()
        .map(Result::unwrap)
        .find(|r| r.get(column("id")) == Some(id.as_str()))
        .expect("the statement is in the CSV");
    assert_eq!(
        row.get(column("title")),
        Some("'=HYPERLINK(\"http://example.org\",\"click\")")
    );
    assert_eq!(row.get(column("summary")), Some("'+1 more country joined"));
    assert_eq!(
        row.get(column("issued_on")),
        json["data"][0]["issued_on"].as_str()
    );
}
