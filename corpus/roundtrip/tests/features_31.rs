//! The OpenAPI 3.1 feature corpus (`corpus/features-3.1.yaml`) over real
//! HTTP: the generated client against the generated router, backed by an
//! implementation that echoes what it received. Values cross the wire and
//! come back equal, `null` included where a type list allows it; what the
//! 3.1 keywords forbid and the generated types hold (`const`, exclusive
//! bounds, closed objects, type lists) is refused before the handler runs;
//! a webhook is received through the same trait and router.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::body::Bytes;
use base64::Engine as _;
use features_31_api_client::Client;
use features_31_api_client::types::{
    Kind, Owner, Pet, PetIdOrName, PetPairItem, PetSpecies, Point, Problem, PutFileResponse200,
};
use features_31_api_server_stubs::{
    self as stubs, CreatePetResponse, Features31Api, GetPetCookies, GetPetQuery, GetPetResponse,
    PetAdoptedResponse, PutFileResponse,
};
use serde_json::{Value, json};

struct Echo;

impl Features31Api for Echo {
    async fn put_file(&self, name: String, body: Bytes) -> PutFileResponse {
        PutFileResponse::Ok(
            PutFileResponse200 {
                name,
                size: (body.len() as u64).into(),
                digest: base64::engine::general_purpose::STANDARD
                    .encode(&body[..body.len().min(8)]),
            }
            .into(),
        )
    }

    async fn create_pet(&self, body: Pet) -> CreatePetResponse {
        CreatePetResponse::Ok(body.into())
    }

    async fn get_pet(
        &self,
        id: stub_runtime::Integer,
        query: GetPetQuery,
        _cookies: GetPetCookies,
    ) -> GetPetResponse {
        if id.as_i64() == Some(404) {
            let problem = Problem {
                title: "no such pet".into(),
            };
            return GetPetResponse::NotFound(problem.into());
        }
        let mut pet = pet("Rex");
        // The optional, nullable query parameter comes back as the nickname.
        pet.nickname = query.lookup;
        pet.id_or_name = Some(PetIdOrName::Integer(id.into()));
        GetPetResponse::Ok(pet.into())
    }

    async fn pet_adopted(&self, body: Pet) -> PetAdoptedResponse {
        let owner = body.owner.map_or("nobody".to_string(), |o| o.name);
        PetAdoptedResponse::Ok(format!("{} adopted by {owner}", *body.name).into())
    }
}

/// A pet with every field set.
fn pet(name: &str) -> Pet {
    Pet {
        adopted: Some(true),
        age: NonZeroU32::new(3),
        home: Some(Point { x: 1.5, y: -2.0 }),
        id_or_name: Some(PetIdOrName::String("rex-1".into())),
        kind: Kind::Dog,
        labels: BTreeMap::from([("color".to_string(), "brown".to_string())]),
        name: name.parse().expect("a non-empty name"),
        nickname: Some("R".into()),
        nothing: (),
        owner: Some(Owner { name: "Ada".into() }),
        pair: vec![
            PetPairItem::String("a".into()),
            PetPairItem::Integer(7.into()),
        ],
        species: PetSpecies::Pet,
        weight: Some(12.25),
    }
}

async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, stubs::router(Arc::new(Echo))).await });
    url
}

#[tokio::test]
async fn every_field_round_trips() {
    let url = serve().await;
    let client = Client::new(&url);
    let sent = pet("Rex");
    let got = client
        .create_pet()
        .body(sent.clone())
        .send()
        .await
        .expect("a 200")
        .into_inner();
    assert_eq!(got, sent);

    // The nullable fields as null (required `nickname`) and absent.
    let mut bare = pet("Bo");
    bare.nickname = None;
    bare.owner = None;
    bare.age = None;
    bare.id_or_name = Some(PetIdOrName::Integer(5.into()));
    let got = client
        .create_pet()
        .body(bare.clone())
        .send()
        .await
        .expect("a 200")
        .into_inner();
    assert_eq!(got, bare);
}

/// The wire form, written by hand: `null` where the type lists allow it
/// arrives as `None` and goes back out as `null`.
#[tokio::test]
async fn null_crosses_the_wire_where_the_type_list_allows_it() {
    let url = serve().await;
    let sent = json!({
        "name": "Bo", "kind": "cat", "species": "pet",
        "nickname": null, "age": null, "owner": null, "nothing": null,
        "id_or_name": 5, "pair": ["x", 1] // `items: false`: no third position
    });
    let response = reqwest::Client::new()
        .post(format!("{url}/pets"))
        .json(&sent)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let got: Value = response.json().await.unwrap();
    assert_eq!(got["nickname"], Value::Null, "{got}");
    assert_eq!(got["nothing"], Value::Null, "{got}");
    for absent in ["age", "owner"] {
        assert!(got.get(absent).is_none_or(Value::is_null), "{got}");
    }
    assert_eq!(got["id_or_name"], 5);
    assert_eq!(got["pair"], json!(["x", 1]));
    assert_eq!(got["species"], "pet");
}

/// What the 3.1 keywords forbid and the generated types hold is refused
/// with 422 before the handler runs.
#[tokio::test]
async fn the_types_refuse_what_the_31_keywords_forbid() {
    let url = serve().await;
    let http = reqwest::Client::new();
    let valid = json!({ "name": "Bo", "kind": "cat", "species": "pet", "nickname": "b" });
    let post = |body: Value| http.post(format!("{url}/pets")).json(&body).send();
    assert_eq!(post(valid.clone()).await.unwrap().status(), 200);
    let broken: [(&str, Value); 6] = [
        ("`const: pet`", json!("plant")),
        ("exclusiveMinimum: 0", json!(0)),
        ("`type: [integer, string]`", json!(true)),
        ("`type: null`", json!("something")),
        ("`$ref` with a sibling description", json!("bird")),
        ("`minLength` beside the type list", json!("")),
    ];
    let fields = ["species", "age", "id_or_name", "nothing", "kind", "name"];
    for ((what, value), field) in broken.into_iter().zip(fields) {
        let mut body = valid.clone();
        body[field] = value;
        let response = post(body).await.unwrap();
        assert_eq!(response.status(), 422, "{what}: {field} accepted");
    }
    // `unevaluatedProperties: false`: an unknown property is refused.
    let mut extra = valid.clone();
    extra["colour"] = json!("red");
    assert_eq!(post(extra).await.unwrap().status(), 422);
    // A required nullable property may be null, not missing.
    let mut missing = valid;
    missing.as_object_mut().unwrap().remove("nickname");
    assert_eq!(post(missing).await.unwrap().status(), 422);
}

/// A path from `components/pathItems` with an optional, nullable query
/// parameter.
#[tokio::test]
async fn a_path_item_from_components_answers() {
    let url = serve().await;
    let client = Client::new(&url);
    let got = client
        .get_pet()
        .id(9)
        .lookup("fuzzy")
        .send()
        .await
        .expect("a 200")
        .into_inner();
    assert_eq!(got.nickname.as_deref(), Some("fuzzy"));
    assert_eq!(got.id_or_name, Some(PetIdOrName::Integer(9.into())));
    let got = client.get_pet().id(10).send().await.unwrap().into_inner();
    assert_eq!(got.nickname, None);
    let err = client.get_pet().id(404).send().await.unwrap_err();
    assert_eq!(err.status(), Some(reqwest::StatusCode::NOT_FOUND));
}

/// Raw bytes (`contentMediaType`) in, a base64 digest (`contentEncoding`) out.
#[tokio::test]
async fn binary_body_and_base64_string() {
    let url = serve().await;
    let client = Client::new(&url);
    let got = client
        .put_file()
        .name("a.bin")
        .body(vec![0u8, 1, 2, 255])
        .send()
        .await
        .expect("a 200")
        .into_inner();
    assert_eq!(got.name, "a.bin");
    assert_eq!(got.size, 4.into());
    assert_eq!(got.digest, "AAEC/w==");
}

/// The webhook is received by the same trait and router, at `/webhooks/petAdopted`.
#[tokio::test]
async fn the_webhook_is_received() {
    let url = serve().await;
    let client = Client::new(&url);
    let got = client
        .pet_adopted()
        .body(pet("Rex"))
        .send()
        .await
        .expect("a 200")
        .into_inner();
    assert_eq!(got, "Rex adopted by Ada");
    let response = reqwest::Client::new()
        .post(format!("{url}/webhooks/petAdopted"))
        .json(&json!({ "name": "Bo", "kind": "cat", "species": "pet", "nickname": null }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<String>().await.unwrap(),
        "Bo adopted by nobody"
    );
}
