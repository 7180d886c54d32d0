//! One test per rule and per case of the gate, each on a copy of the
//! released 1.0.0 spec changed in one way.

use serde_json::{Value, json};

use super::release::*;
use super::*;

fn base() -> Value {
    let root = users_harness::workspace_root();
    load(&root.join(RELEASED_DIR).join("users-1.0.0.yaml")).unwrap()
}

fn v(s: &str) -> semver::Version {
    semver::Version::parse(s).unwrap()
}

/// The findings for `base()` changed by `edit`.
fn changed(edit: impl FnOnce(&mut Value)) -> Vec<Finding> {
    let old = base();
    let mut new = old.clone();
    edit(&mut new);
    let findings = compare(&old, &new).unwrap();
    eprintln!("{}", report(&findings));
    findings
}

fn at<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut Value {
    doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} not in the spec"))
}

fn props<'a>(doc: &'a mut Value, schema: &str) -> &'a mut serde_json::Map<String, Value> {
    at(doc, &format!("/components/schemas/{schema}/properties"))
        .as_object_mut()
        .unwrap()
}

fn required<'a>(doc: &'a mut Value, schema: &str) -> &'a mut Vec<Value> {
    at(doc, &format!("/components/schemas/{schema}/required"))
        .as_array_mut()
        .unwrap()
}

/// Asserts the most severe class, that the gate asks for `bump`, and that
/// some finding of that class names every operation in `ops`.
#[track_caller]
fn assert_class(findings: &[Finding], class: Class, bump: Bump, ops: &[&str]) {
    let worst = findings.iter().map(|f| f.class).max();
    assert_eq!(worst, Some(class), "{}", report(findings));
    assert_eq!(required_bump(findings), bump);
    for op in ops {
        assert!(
            findings
                .iter()
                .any(|f| f.class == class && f.operations.contains(*op)),
            "no {} finding names {op}:\n{}",
            class.label(),
            report(findings)
        );
    }
}

// ------------------------------------------------- breaking for clients ---

#[test]
fn removing_an_operation_is_breaking() {
    let f = changed(|d| {
        at(d, "/paths")
            .as_object_mut()
            .unwrap()
            .remove("/users/{user}");
    });
    assert_class(
        &f,
        Class::BreakingClients,
        Bump::Major,
        &["users_specific_user_snapshot"],
    );
}

#[test]
fn removing_a_response_property_is_breaking() {
    let f = changed(|d| {
        props(d, "UserProfile").remove("email");
    });
    assert_class(
        &f,
        Class::BreakingClients,
        Bump::Major,
        &[
            "users_snapshot",
            "users_specific_user_snapshot",
            "authenticate_from_oauth_token",
        ],
    );
}

#[test]
fn renaming_a_response_property_is_breaking() {
    let f = changed(|d| {
        let p = props(d, "UserProfile");
        let username = p.remove("username").unwrap();
        p.insert("user_name".into(), username);
    });
    assert_class(&f, Class::BreakingClients, Bump::Major, &["users_snapshot"]);
}

#[test]
fn changing_a_property_type_is_breaking() {
    let f = changed(|d| {
        props(d, "UserProfile").insert("email".into(), json!({"type": "integer"}));
    });
    assert_class(
        &f,
        Class::BreakingClients,
        Bump::Major,
        &["users_specific_user_snapshot"],
    );
}

#[test]
fn making_an_optional_request_field_required_is_breaking() {
    let f = changed(|d| required(d, "OAuthToken").push(json!("scope")));
    assert_class(
        &f,
        Class::BreakingClients,
        Bump::Major,
        &["authenticate_from_oauth_token"],
    );
}

#[test]
fn adding_a_required_request_field_is_breaking() {
    let f = changed(|d| {
        props(d, "OAuthToken").insert("nonce".into(), json!({"type": "string"}));
        required(d, "OAuthToken").push(json!("nonce"));
    });
    assert_class(
        &f,
        Class::BreakingClients,
        Bump::Major,
        &["authenticate_from_oauth_token"],
    );
}

#[test]
fn adding_an_enum_value_to_a_response_is_breaking() {
    let f = changed(|d| {
        at(d, "/components/schemas/AllocationStatusEnum/enum")
            .as_array_mut()
            .unwrap()
            .push(json!("PAUSED"));
    });
    assert_class(&f, Class::BreakingClients, Bump::Major, &["users_snapshot"]);
}

#[test]
fn adding_a_value_to_an_inline_response_enum_is_breaking() {
    let f = changed(|d| {
        props(d, "ApiError")["code"]["enum"]
            .as_array_mut()
            .unwrap()
            .push(json!("too_many_requests"));
    });
    assert_class(
        &f,
        Class::BreakingClients,
        Bump::Major,
        &["users_disconnect_user"],
    );
}

#[test]
fn removing_an_enum_value_from_a_request_is_breaking() {
    let f = changed(|d| {
        props(d, "OAuthToken")["token_type"]["enum"]
            .as_array_mut()
            .unwrap()
            .retain(|v| v != "UNKNOWN");
    });
    assert_class(
        &f,
        Class::BreakingClients,
        Bump::Major,
        &["authenticate_from_oauth_token"],
    );
}

// ----------------------------------------------------------- compatible ---

#[test]
fn adding_an_operation_is_an_addition() {
    let f = changed(|d| {
        let op = d["paths"]["/openapi.json"].clone();
        let mut op = op;
        op["get"]["operationId"] = json!("get_docs");
        at(d, "/paths")
            .as_object_mut()
            .unwrap()
            .insert("/docs".into(), op);
    });
    assert!(
        f.iter().all(|f| f.class < Class::BreakingClients),
        "{}",
        report(&f)
    );
    assert_eq!(required_bump(&f), Bump::Minor);
    assert!(
        f.iter().any(|f| f.operations.contains("get_docs")),
        "{}",
        report(&f)
    );
}

#[test]
fn adding_an_optional_response_property_is_compatible() {
    let f = changed(|d| {
        props(d, "UserProfile").insert("nickname".into(), json!({"type": "string"}));
    });
    assert!(
        f.iter().all(|f| f.class < Class::BreakingClients),
        "{}",
        report(&f)
    );
    assert_eq!(required_bump(&f), Bump::Minor);
}

#[test]
fn adding_an_optional_request_field_is_an_addition() {
    let f = changed(|d| {
        props(d, "OAuthToken").insert("nonce".into(), json!({"type": "string"}));
    });
    assert!(
        f.iter().all(|f| f.class < Class::BreakingClients),
        "{}",
        report(&f)
    );
    assert_eq!(required_bump(&f), Bump::Minor);
}

#[test]
fn adding_an_enum_value_to_a_request_is_an_addition() {
    let f = changed(|d| {
        props(d, "OAuthToken")["token_type"]["enum"]
            .as_array_mut()
            .unwrap()
            .push(json!("DPoP"));
    });
    assert!(
        f.iter().all(|f| f.class < Class::BreakingClients),
        "{}",
        report(&f)
    );
    assert_eq!(required_bump(&f), Bump::Minor);
}

#[test]
fn changing_a_description_is_docs_only() {
    let f = changed(|d| {
        at(d, "/paths/~1users/get/description").clone_from(&json!("Lists the users."));
        props(d, "UserProfile")["email"]["description"] = json!("Where to write.");
    });
    assert_class(
        &f,
        Class::Docs,
        Bump::Patch,
        &["users_snapshot", "users_specific_user_snapshot"],
    );
}

#[test]
fn an_unchanged_spec_has_no_findings() {
    assert!(changed(|_| {}).is_empty());
}

// ------------------------------------------------- the other directions ---

#[test]
fn making_a_response_property_optional_breaks_clients() {
    let f = changed(|d| required(d, "UserProfile").retain(|p| p != "aesthetics"));
    assert_class(&f, Class::BreakingClients, Bump::Major, &["users_snapshot"]);
    assert!(f.iter().any(|f| f.source == "rule required"));
}

#[test]
fn removing_a_response_enum_value_breaks_servers_only() {
    let f = changed(|d| {
        at(d, "/components/schemas/AllocationStatusEnum/enum")
            .as_array_mut()
            .unwrap()
            .retain(|v| v != "PENDING");
    });
    assert_class(&f, Class::BreakingServers, Bump::Minor, &["users_snapshot"]);
    assert!(f.iter().all(|f| f.source == "rule enum"));
}

#[test]
fn a_shared_component_names_every_operation_reaching_it() {
    let f = changed(|d| {
        at(d, "/components/schemas/AllocationStatusEnum/enum")
            .as_array_mut()
            .unwrap()
            .push(json!("PAUSED"));
    });
    assert_class(
        &f,
        Class::BreakingClients,
        Bump::Major,
        &[
            "users_snapshot",
            "users_specific_user_snapshot",
            "authenticate_from_oauth_token",
        ],
    );
}

#[test]
fn a_change_no_rule_knows_is_breaking_until_reviewed() {
    // drift does not look at security requirements.
    let f = changed(|d| {
        at(d, "/paths/~1openapi.json/get/security").clone_from(&json!([{"auth0": []}]));
    });
    assert_class(
        &f,
        Class::BreakingClients,
        Bump::Major,
        &["get_openapi_json"],
    );
    assert!(
        f.iter().any(|f| f.source == "rule catch-all"),
        "{}",
        report(&f)
    );
}

#[test]
fn a_string_constraint_drift_leaves_unhandled_stays_breaking() {
    let f = changed(|d| {
        props(d, "OAuthToken")["token_type"]["maxLength"] = json!(6);
    });
    assert_eq!(required_bump(&f), Bump::Major, "{}", report(&f));
}

// ------------------------------------------------------------- the gate ---

#[test]
fn the_gate_wants_the_bump_the_changes_call_for() {
    let breaking = changed(|d| {
        props(d, "UserProfile").remove("email");
    });
    let addition = changed(|d| {
        props(d, "UserProfile").insert("nickname".into(), json!({"type": "string"}));
    });
    let docs = changed(|d| {
        at(d, "/paths/~1users/get/description").clone_from(&json!("Lists the users."));
    });
    let none: Vec<Finding> = Vec::new();
    let ok = |f: &[Finding], to: &str| check_bump(f, &v("1.0.0"), &v(to)).is_ok();

    assert!(ok(&breaking, "2.0.0"));
    assert!(!ok(&breaking, "1.1.0"), "breaking without a major bump");
    assert!(!ok(&breaking, "1.0.1"));
    assert!(!ok(&breaking, "1.0.0"));

    assert!(ok(&addition, "1.1.0"));
    assert!(!ok(&addition, "1.0.1"), "an addition released as a patch");
    assert!(
        !ok(&addition, "2.0.0"),
        "a major bump with nothing breaking"
    );
    assert!(!ok(&addition, "1.0.0"), "a change without a bump");

    assert!(ok(&docs, "1.0.1"));
    assert!(!ok(&docs, "1.1.0"));
    assert!(!ok(&docs, "1.0.0"));

    assert!(ok(&none, "1.0.0"));
    assert!(!ok(&none, "1.0.1"), "a bump with nothing changed");
    assert!(
        check_bump(&none, &v("1.1.0"), &v("1.0.0")).is_err(),
        "version went down"
    );
}

#[test]
fn the_released_spec_is_the_head_of_1_0_0() {
    let root = users_harness::workspace_root();
    let released = released(&root).unwrap();
    assert_eq!(
        released.first().map(|(v, _)| v.to_string()).as_deref(),
        Some("1.0.0")
    );
    for (version, path) in released {
        assert_eq!(
            version_of(&load(&path).unwrap()).unwrap(),
            version,
            "{}",
            path.display()
        );
    }
}

#[test]
fn a_new_component_is_reported_where_it_is_used() {
    let f = changed(|d| {
        let error = d["components"]["responses"]["InternalError"].clone();
        at(d, "/components/responses")
            .as_object_mut()
            .unwrap()
            .insert("ServiceUnavailable".into(), error);
        at(d, "/paths/~1users/get/responses")
            .as_object_mut()
            .unwrap()
            .insert(
                "503".into(),
                json!({"$ref": "#/components/responses/ServiceUnavailable"}),
            );
    });
    // The new status breaks clients of users_snapshot (drift); the
    // component itself is no separate finding.
    assert_class(&f, Class::BreakingClients, Bump::Major, &["users_snapshot"]);
    assert!(f.iter().all(|f| f.source == "drift"), "{}", report(&f));
}

// ------------------------------------------------------- OpenAPI 3.1 ---

/// The findings for the 3.1 feature spec changed by `edit`.
fn changed_31(edit: impl FnOnce(&mut Value)) -> Vec<Finding> {
    let root = users_harness::workspace_root();
    let old = load(&root.join(crate::codegen_tasks::FEATURES_31_SPEC)).unwrap();
    assert_eq!(old["openapi"], "3.1.0", "the base is a 3.1 document");
    let mut new = old.clone();
    edit(&mut new);
    let findings = compare(&old, &new).unwrap();
    eprintln!("{}", report(&findings));
    findings
}

#[test]
fn narrowing_a_31_type_list_in_a_request_is_breaking() {
    let f = changed_31(|d| {
        *at(d, "/components/schemas/Pet/properties/id_or_name/type") = json!(["integer"]);
    });
    assert_class(&f, Class::BreakingClients, Bump::Major, &["create_pet"]);
    assert!(
        f.iter()
            .any(|x| x.source == "drift" && x.message.contains("oneOf")),
        "{}",
        report(&f)
    );
}

#[test]
fn changing_a_31_const_is_breaking() {
    let f = changed_31(|d| {
        *at(d, "/components/schemas/Pet/properties/species/const") = json!("animal");
    });
    assert_class(&f, Class::BreakingClients, Bump::Major, &["create_pet"]);
    // Decided by the enum rule on the rewritten `const`, not the catch-all.
    assert!(
        f.iter()
            .any(|x| x.class == Class::BreakingClients && x.source == "rule enum"),
        "{}",
        report(&f)
    );
}

#[test]
fn an_optional_nullable_response_property_in_31_is_compatible() {
    let f = changed_31(|d| {
        at(
            d,
            "/paths/~1files~1{name}/put/responses/200/content/application~1json/schema/properties",
        )
        .as_object_mut()
        .unwrap()
        .insert("etag".into(), json!({ "type": ["string", "null"] }));
    });
    assert_class(&f, Class::Compatible, Bump::Minor, &["put_file"]);
}

#[test]
fn changing_31_examples_is_docs_only() {
    let f = changed_31(|d| {
        *at(d, "/components/schemas/Pet/properties/weight/examples") = json!([2.5]);
    });
    assert_class(&f, Class::Docs, Bump::Patch, &[]);
}
