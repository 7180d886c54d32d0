//! `GET /docs`: the API reference page.
//!
//! One self-contained HTML page: Redoc's standalone bundle (npm `redoc`
//! 2.5.4, vendored in `service/assets/redoc/` with its licenses) and the
//! OpenAPI document are inlined, so the page makes no other request and
//! works with no network. The page is built once, on first use.

use std::sync::LazyLock;

use axum::http::HeaderValue;
use users_api_server_stubs::OPENAPI_YAML;

/// Redoc's standalone bundle, as shipped on npm.
const REDOC_JS: &str = include_str!("../assets/redoc/redoc.standalone.js");

/// The one resource the bundle loads from the network (the "API docs by
/// Redocly" logo in the side menu), and what the page uses instead: an
/// empty image, so that the page makes no request off the machine.
const CDN_LOGO: &str = "https://cdn.redoc.ly/redoc/logo-mini.svg";
const LOCAL_LOGO: &str =
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E";

/// The version of Redoc in `REDOC_JS`.
pub const REDOC_VERSION: &str = "2.5.4";

static PAGE: LazyLock<String> = LazyLock::new(|| render(OPENAPI_YAML));

/// The page's `Content-Security-Policy`, built once.
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    HeaderValue::from_str(&policy(&PAGE)).expect("hashes and keywords are valid header text")
});

/// The page for the spec this service was generated from.
pub fn page() -> &'static str {
    &PAGE
}

/// The `Content-Security-Policy` of the page: its own inline scripts (by
/// hash) and styles, images and fonts inlined as `data:`, Redoc's search
/// worker from a `blob:`; nothing from the network, and no framing.
pub fn content_security_policy() -> HeaderValue {
    CSP.clone()
}

/// The policy for `page`: a `sha256-` source for each executable inline
/// script (the JSON data block is not executed).
fn policy(page: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let mut scripts = String::new();
    for part in page.split("<script>").skip(1) {
        let body = part.split("</script>").next().unwrap_or_default();
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
        scripts.push_str(&format!(" 'sha256-{hash}'"));
    }
    format!(
        "default-src 'none'; script-src{scripts}; style-src 'unsafe-inline'; img-src data:; \
         font-src data:; worker-src blob:; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

/// The page for the OpenAPI document `spec_yaml`.
pub fn render(spec_yaml: &str) -> String {
    let spec: serde_json::Value =
        serde_yaml::from_str(spec_yaml).expect("the embedded spec is valid YAML");
    let title = spec
        .pointer("/info/title")
        .and_then(|t| t.as_str())
        .unwrap_or("API");
    let version = spec
        .pointer("/info/version")
        .and_then(|t| t.as_str())
        .unwrap_or("");
    let json = serde_json::to_string(&spec).expect("a JSON value serializes");
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} {version} reference</title>
<link rel="icon" href="data:,">
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<div id="redoc"></div>
<script id="openapi" type="application/json">{spec}</script>
<script>/* Redoc {REDOC_VERSION} (MIT, Redocly): see service/assets/redoc/ */
{redoc}</script>
<script>
Redoc.init(
  JSON.parse(document.getElementById("openapi").textContent),
  {{ expandResponses: "200", hideHostname: true }},
  document.getElementById("redoc")
);
</script>
</body>
</html>
"#,
        title = html_escape(title),
        version = html_escape(version),
        spec = json.replace('<', "\\u003c"),
        redoc = bundle(),
    )
}

/// The bundle as inlined: offline, and safe inside `<script>`.
fn bundle() -> String {
    script_safe(&REDOC_JS.replace(CDN_LOGO, LOCAL_LOGO))
}

/// JavaScript that cannot end or change the parsing of the `<script>`
/// element it is inlined in. In the bundle these sequences only occur
/// inside string and regular-expression literals, where `\u003c` and
/// `\x3C` mean `<`. (In the JSON every `<` is written `\u003c`.)
fn script_safe(text: &str) -> String {
    text.replace("</script", "\\u003c/script")
        .replace("<!--", "\\x3C!--")
        .replace("<script", "\\x3Cscript")
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_inlines_redoc_and_the_spec_and_nothing_else() {
        let page = page();
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("Redoc.init("));
        assert!(page.contains("\"operationId\":\"users_snapshot\""));
        // No other resource: outside the bundle, no src= and no href= but
        // the empty favicon (the browser test checks what the bundle does).
        assert!(
            REDOC_JS.contains(CDN_LOGO),
            "the bundle changed: check what it loads"
        );
        assert!(!page.contains(CDN_LOGO));
        let frame = page.replace(&bundle(), "");
        assert!(!frame.contains(" src="), "the page loads a script");
        assert_eq!(
            frame.matches("href=").count(),
            1,
            "the page links a resource"
        );
        // Exactly the three script elements it opens are closed.
        assert_eq!(page.matches("<script").count(), 3);
        assert_eq!(page.matches("</script").count(), 3);
        assert!(!page.contains("<!--"));
    }

    #[test]
    fn a_spec_cannot_close_the_script_it_is_inlined_in() {
        let spec = "openapi: 3.0.3\ninfo:\n  title: '<b>x</b>'\n  version: '1'\n  description: '</script><script>alert(1)</script><!--'\npaths: {}\n";
        let page = render(spec);
        assert_eq!(page.matches("</script").count(), 3);
        assert!(page.contains("<title>&lt;b&gt;x&lt;/b&gt; 1 reference</title>"));
    }
}
