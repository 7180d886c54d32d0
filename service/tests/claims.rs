//! Property test of the claims-to-profile mapping: any claims give a profile
//! that validates against the spec's `UserProfile` schema (and holds no
//! control or bidirectional formatting characters, within the length
//! limits), or a refusal that the API answers with 401. Never a panic.

use proptest::prelude::*;
use serde_json::Value;
use users_harness::spec_check::SpecValidator;
use users_service::auth::identity::{self, is_forbidden};
use users_service::auth::{AuthError, Identity};
use users_service::profile;

fn user_profile_validator() -> jsonschema::Validator {
    SpecValidator::from_yaml(users_api_server_stubs::OPENAPI_YAML).component("UserProfile")
}

fn all_strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| all_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| all_strings(v, out)),
        _ => {}
    }
}

/// Strings that are often hostile: control and bidi characters, separators,
/// long runs; and anything at all.
fn claim() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z|@.\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{200e}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}]{0,40}",
        "[a-zA-Z0-9|]{0,300}",
        Just(String::new()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_claims_give_a_valid_profile_or_a_401(
        subject in claim(),
        email in proptest::option::of(claim()),
        name in proptest::option::of(claim()),
        nickname in proptest::option::of(claim()),
        picture in proptest::option::of(claim()),
        issued_at in proptest::option::of(any::<u64>()),
        seconds in 0i64..4_102_444_800,
    ) {
        let identity = Identity {
            issuer: "https://issuer.example/".into(),
            subject,
            email,
            name,
            nickname,
            picture,
            issued_at,
        };
        match identity::checked(identity) {
            Err(e) => {
                // Every AuthError is answered 401; a claims refusal is this one.
                prop_assert!(matches!(e, AuthError::InvalidClaim { claim: "sub", .. }), "{e:?}");
            }
            Ok(clean) => {
                let now = chrono::DateTime::from_timestamp(seconds, 0).unwrap();
                let id = identity::user_id(&clean);
                let first = profile::authenticated(None, id, &clean, now);
                let again = profile::authenticated(Some(first.clone()), id, &clean, now);
                let validator = user_profile_validator();
                for p in [first, again] {
                    let json = serde_json::to_value(&p).unwrap();
                    let errors: Vec<String> =
                        validator.iter_errors(&json).map(|e| e.to_string()).collect();
                    prop_assert!(errors.is_empty(), "{errors:?} in {json}");
                    let mut strings = Vec::new();
                    all_strings(&json, &mut strings);
                    for s in strings {
                        prop_assert!(!s.chars().any(is_forbidden), "{s:?}");
                        prop_assert!(s.len() <= identity::MAX_PICTURE_BYTES.max(4 * identity::MAX_NAME_CHARS));
                    }
                    for s in [&p.name, &p.username].into_iter().flatten() {
                        prop_assert!(s.chars().count() <= identity::MAX_NAME_CHARS);
                        prop_assert!(!s.is_empty());
                    }
                    prop_assert!(p.email.as_ref().is_none_or(|e| e.len() <= identity::MAX_EMAIL_BYTES));
                }
            }
        }
    }
}
