//! Signing in from outside (issue 12): a page's session cookie works as its token does, but
//! changes nothing without the page's CSRF token; a bearer token is not affected; and a
//! sign-in that cannot happen sends the browser back to the page with what went wrong. The
//! whole flow against a real identity provider is `tests/browser/oidc.test.mjs`.

use reqwest::header::{COOKIE, LOCATION};
use reqwest::redirect::Policy;
use serde_json::{json, Value};

use crate::harness::{Backend, Ghor};

/// A POST to the stream's ticket with these headers: its status and problem type.
async fn ticket(ghor: &Ghor, headers: &[(&str, String)]) -> (u16, String) {
    let mut request = ghor.http.post(format!("{}/v1/stream/ticket", ghor.url));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("POST");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or_default();
    (status, body["type"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_session_cookie_reads_as_its_token_and_writes_only_with_the_csrf_token() {
    let ghor = Ghor::start().await;
    let session = format!("ghor_session={}", ghor.token("rot"));
    let me = ghor.http.get(format!("{}/v1/me", ghor.url)).header(COOKIE, &session).send().await.expect("GET");
    assert_eq!(me.status().as_u16(), 200);
    assert_eq!(me.json::<Value>().await.expect("JSON")["role"], "rot");

    // Another site's form or script can send the cookie, never the token the page read.
    assert_eq!(ticket(&ghor, &[("cookie", session.clone())]).await, (403, "csrf".to_owned()));
    let wrong = [("cookie", format!("{session}; ghor_csrf=c0ffee")), ("x-csrf-token", "decaf".to_owned())];
    assert_eq!(ticket(&ghor, &wrong).await, (403, "csrf".to_owned()));
    let empty = [("cookie", format!("{session}; ghor_csrf=")), ("x-csrf-token", String::new())];
    assert_eq!(ticket(&ghor, &empty).await.0, 403);
    let right = [("cookie", format!("{session}; ghor_csrf=c0ffee")), ("x-csrf-token", "c0ffee".to_owned())];
    assert_eq!(ticket(&ghor, &right).await.0, 200);

    // A bearer token is what a client sends on purpose: no CSRF token asked.
    assert_eq!(ticket(&ghor, &[("authorization", format!("Bearer {}", ghor.token("rot")))]).await.0, 200);
    // A session cookie that is no token's.
    let forged = [("cookie", "ghor_session=ghor_madeup; ghor_csrf=a".to_owned()), ("x-csrf-token", "a".to_owned())];
    assert_eq!(ticket(&ghor, &forged).await.0, 401);
}

#[tokio::test]
async fn a_sign_in_that_cannot_happen_sends_the_browser_back_with_the_reason() {
    let browser = reqwest::Client::builder().redirect(Policy::none()).build().expect("client");
    let location = |r: &reqwest::Response| r.headers().get(LOCATION).and_then(|l| l.to_str().ok()).map(str::to_owned);

    // Without an identity provider: the page offers tokens only.
    let plain = Ghor::start().await;
    let (status, auth) = plain.get("rot", "/v1/auth").await;
    assert_eq!((status, auth), (200, json!({ "oidc": null })));
    let login = browser.get(format!("{}/auth/login", plain.url)).send().await.expect("GET");
    assert_eq!(login.status().as_u16(), 404);

    // With one that does not answer (a port nothing listens on).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr");
    let env = [
        ("GHOR_OIDC_ISSUER", format!("http://{closed}")),
        ("GHOR_OIDC_CLIENT_ID", "ghor".to_owned()),
        ("GHOR_OIDC_CLIENT_SECRET", "geheim".to_owned()),
    ];
    let ghor = Ghor::start_with_env(Backend::Embedded, &env).await;
    let (status, auth) = ghor.get("rot", "/v1/auth").await;
    assert_eq!((status, auth), (200, json!({ "oidc": { "login": "/auth/login" } })));
    let login = browser.get(format!("{}/auth/login?next=/%3Fgroot%3D1", ghor.url)).send().await.expect("GET");
    assert_eq!(login.status().as_u16(), 303);
    assert_eq!(location(&login).as_deref(), Some("/#signin-error=unavailable"));

    // A callback no login of this browser started (a forged or replayed one).
    let callback = browser.get(format!("{}/auth/callback?code=stolen&state=guessed", ghor.url)).send().await;
    let callback = callback.expect("GET");
    assert_eq!(callback.status().as_u16(), 303);
    assert_eq!(location(&callback).as_deref(), Some("/#signin-error=expired"));
    assert!(callback
        .headers()
        .get_all("set-cookie")
        .iter()
        .all(|c| !c.to_str().unwrap_or_default().starts_with("ghor_session=")));
}
