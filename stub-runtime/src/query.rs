//! Query and header parameters: typed, with rejections that name the
//! parameter and the expected type but never echo the value.

use std::convert::Infallible;
use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::{ArrayStyle, Rejection, RejectionKind};

/// The decoded `name=value` pairs of a query string (or of the `Cookie`
/// header), in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryPairs {
    pairs: Vec<(String, String)>,
    /// What the parameters are called in messages: "query" or "cookie".
    place: &'static str,
}

fn bad(message: String) -> Rejection {
    Rejection::new(RejectionKind::BadParameter, message)
}

impl QueryPairs {
    /// Decodes a raw query string (`None`: no query at all).
    pub fn parse(raw: Option<&str>) -> Self {
        Self {
            pairs: form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
            place: "query",
        }
    }

    /// The cookies of every `Cookie` header (`a=1; b=2`, RFC 6265), values
    /// percent-decoded (OpenAPI's form style); a header that is not text or
    /// a pair without `=` is skipped.
    pub fn cookies(headers: &HeaderMap) -> Self {
        let pairs = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| {
                let value = value.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                (
                    name.trim().to_string(),
                    percent_encoding::percent_decode_str(value)
                        .decode_utf8_lossy()
                        .into_owned(),
                )
            })
            .collect();
        Self {
            pairs,
            place: "cookie",
        }
    }

    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A scalar parameter; sent twice is an error.
    pub fn scalar<T: FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>, Rejection> {
        let mut values = self.values(name);
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(bad(format!(
                "{} parameter `{name}` is given more than once",
                self.place
            )));
        }
        parse_value(first, || {
            format!("{} parameter `{name}` must be {expected}", self.place)
        })
        .map(Some)
    }

    /// An array parameter in `style`; `None` when absent.
    pub fn array<T: FromStr>(
        &self,
        name: &str,
        style: ArrayStyle,
        expected: &str,
    ) -> Result<Option<Vec<T>>, Rejection> {
        let raw: Vec<&str> = self.values(name).collect();
        if raw.is_empty() {
            return Ok(None);
        }
        let items: Vec<&str> = match style.separator() {
            None => raw,
            Some(sep) => {
                if raw.len() > 1 {
                    return Err(bad(format!(
                        "{} parameter `{name}` is given more than once; separate its items with `{sep}`",
                        self.place
                    )));
                }
                // `name=` is the empty list (RFC 6570 form expansion).
                if raw[0].is_empty() {
                    return Ok(Some(Vec::new()));
                }
                raw[0].split(sep).collect()
            }
        };
        items
            .into_iter()
            .map(|v| {
                parse_value(v, || {
                    format!(
                        "each item of {} parameter `{name}` must be {expected}",
                        self.place
                    )
                })
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }
}

/// Extracts the request's query string, decoded ([`QueryPairs::parse`]);
/// a request without one has no pairs.
impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::parse(parts.uri.query()))
    }
}

/// A header parameter; `None` when absent.
pub fn header_param<T: FromStr>(
    headers: &HeaderMap,
    name: &str,
    expected: &str,
) -> Result<Option<T>, Rejection> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let message = || format!("header `{name}` must be {expected}");
    let text = value.to_str().map_err(|_| bad(message()))?;
    parse_value(text.trim(), message).map(Some)
}

/// A header parameter holding a comma-separated list (`style: simple`);
/// `None` when absent.
pub fn header_array<T: FromStr>(
    headers: &HeaderMap,
    name: &str,
    expected: &str,
) -> Result<Option<Vec<T>>, Rejection> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let message = || format!("each item of header `{name}` must be {expected}");
    let text = value.to_str().map_err(|_| bad(message()))?;
    text.split(',')
        .map(|item| parse_value(item.trim(), message))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// A required parameter's value, or the rejection that names it.
pub fn required<T>(value: Option<T>, place: &str, name: &str) -> Result<T, Rejection> {
    value.ok_or_else(|| {
        bad(format!(
            "the required {place} parameter `{name}` is missing"
        ))
    })
}

fn parse_value<T: FromStr>(text: &str, message: impl FnOnce() -> String) -> Result<T, Rejection> {
    text.parse().map_err(|_| bad(message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pairs a request to `uri` extracts.
    async fn extracted(uri: &str) -> QueryPairs {
        let (mut parts, ()) = axum::http::Request::get(uri).body(()).unwrap().into_parts();
        let Ok(pairs) = QueryPairs::from_request_parts(&mut parts, &()).await;
        pairs
    }

    #[tokio::test]
    async fn the_extractor_decodes_the_request_query_string() {
        let q = extracted("/items?limit=5&name=a%20b").await;
        assert_eq!(q, QueryPairs::parse(Some("limit=5&name=a%20b")));
        assert_eq!(q.scalar::<u32>("limit", "an integer"), Ok(Some(5)));
        assert_eq!(q.scalar::<String>("name", "text"), Ok(Some("a b".into())));
        let none = extracted("/items").await;
        assert_eq!(none.scalar::<u32>("limit", "an integer"), Ok(None));
    }

    #[test]
    fn cookies_are_read_from_every_cookie_header_and_named_in_messages() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            "session=a%20b; level=7; broken; quoted=\"x\""
                .parse()
                .unwrap(),
        );
        headers.append(header::COOKIE, "ids=1,2".parse().unwrap());
        let cookies = QueryPairs::cookies(&headers);
        assert_eq!(
            cookies.scalar::<String>("session", "a string"),
            Ok(Some("a b".into()))
        );
        assert_eq!(
            cookies.scalar::<String>("quoted", "a string"),
            Ok(Some("x".into()))
        );
        assert_eq!(cookies.scalar::<u8>("absent", "an integer"), Ok(None));
        assert_eq!(
            cookies.array::<u8>("ids", ArrayStyle::FormCommas, "an integer"),
            Ok(Some(vec![1, 2]))
        );
        let err = cookies
            .scalar::<bool>("level", "`true` or `false`")
            .unwrap_err();
        assert_eq!(err.kind(), RejectionKind::BadParameter);
        assert_eq!(
            err.message(),
            "cookie parameter `level` must be `true` or `false`"
        );
        assert!(!err.message().contains('7'));
    }
    use axum::http::HeaderValue;

    #[test]
    fn an_empty_delimited_value_is_the_empty_list() {
        let q = QueryPairs::parse(Some("codes=&ids=1,2"));
        let codes = q.array::<i64>("codes", ArrayStyle::PipeDelimited, "an integer");
        assert_eq!(codes, Ok(Some(Vec::new())));
        let ids = q.array::<i64>("ids", ArrayStyle::FormCommas, "an integer");
        assert_eq!(ids, Ok(Some(vec![1, 2])));
    }

    #[test]
    fn scalars_and_repeats() {
        let q = QueryPairs::parse(Some("limit=5&name=a%20b&twice=1&twice=2"));
        assert_eq!(q.scalar::<i64>("limit", "an integer"), Ok(Some(5)));
        assert_eq!(
            q.scalar::<String>("name", "a string"),
            Ok(Some("a b".into()))
        );
        assert_eq!(q.scalar::<i64>("absent", "an integer"), Ok(None));
        assert!(q.scalar::<i64>("twice", "an integer").is_err());
        let err = QueryPairs::parse(Some("limit=s3cret"))
            .scalar::<i64>("limit", "an integer")
            .unwrap_err();
        assert_eq!(err.message(), "query parameter `limit` must be an integer");
    }

    #[test]
    fn every_array_style() {
        let cases = [
            ("ids=1&ids=2&ids=3", ArrayStyle::FormExploded),
            ("ids=1,2,3", ArrayStyle::FormCommas),
            ("ids=1%202%203", ArrayStyle::SpaceDelimited),
            ("ids=1|2|3", ArrayStyle::PipeDelimited),
        ];
        for (raw, style) in cases {
            let got = QueryPairs::parse(Some(raw)).array::<i32>("ids", style, "an integer");
            assert_eq!(got, Ok(Some(vec![1, 2, 3])), "{raw}");
        }
        let bad = QueryPairs::parse(Some("ids=1,x")).array::<i32>(
            "ids",
            ArrayStyle::FormCommas,
            "an integer",
        );
        assert!(!bad.unwrap_err().message().contains('x'));
        assert_eq!(
            QueryPairs::parse(None).array::<i32>("ids", ArrayStyle::FormExploded, "an integer"),
            Ok(None)
        );
    }

    #[test]
    fn headers_and_required() {
        let mut h = HeaderMap::new();
        h.insert("x-count", HeaderValue::from_static(" 7 "));
        h.insert("x-bad", HeaderValue::from_static("seven"));
        assert_eq!(header_param::<u8>(&h, "x-count", "an integer"), Ok(Some(7)));
        assert!(header_param::<u8>(&h, "x-bad", "an integer").is_err());
        assert_eq!(header_param::<u8>(&h, "x-none", "an integer"), Ok(None));
        h.insert("x-ids", HeaderValue::from_static("1, 2,3"));
        h.insert("x-bad-ids", HeaderValue::from_static("1,s3cret"));
        assert_eq!(
            header_array::<u8>(&h, "x-ids", "an integer"),
            Ok(Some(vec![1, 2, 3]))
        );
        let r = header_array::<u8>(&h, "x-bad-ids", "an integer").unwrap_err();
        assert_eq!(
            r.message(),
            "each item of header `x-bad-ids` must be an integer"
        );
        assert_eq!(header_array::<u8>(&h, "x-none", "an integer"), Ok(None));
        let missing = required::<u8>(None, "query", "limit").unwrap_err();
        assert_eq!(missing.kind(), RejectionKind::BadParameter);
        assert_eq!(required(Some(1), "query", "limit"), Ok(1));
    }
}
