//! Turning a verified identity into a `UserProfile`, and keeping it current.

use chrono::{DateTime, Utc};
use users_api_server_stubs::types::{
    Aesthetics, EmbeddedModelSchema, EmbeddedModelSchemaSemanticVersionEnum, ExternalProvider,
    ExternalProviderTypeEnum, ExternalProviders, Font, GroupedTimestamp, Theme, UserProfile,
};
use uuid::Uuid;

use crate::auth::{AuthError, Identity};

/// Database migration version stamped on stored models.
const MODEL_MIGRATION: i64 = 1;
/// Default font size for new users.
const DEFAULT_FONT_SIZE: i64 = 14;

/// Longest `sub` accepted, in bytes; a longer one is refused (401).
pub const MAX_SUBJECT_BYTES: usize = 255;
/// Longest `name` and `nickname` stored, in characters; longer ones are cut.
pub const MAX_NAME_CHARS: usize = 255;
/// Longest `email` stored, in bytes (RFC 5321's path limit); a longer one is ignored.
pub const MAX_EMAIL_BYTES: usize = 254;
/// Longest `picture` URL stored, in bytes; a longer one is ignored.
pub const MAX_PICTURE_BYTES: usize = 2048;

/// Characters never stored nor logged raw: control characters (Unicode
/// category Cc: C0, DEL, C1), the line and paragraph separators, the
/// bidirectional formatting characters (ALM, LRM, RLM, the embeddings,
/// overrides and isolates) and the invisible ones that make two names look
/// alike (soft hyphen, Mongolian vowel separator, zero-width space, non-joiner
/// and joiner, word joiner and invisible operators, byte-order mark).
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// Whether `url` may be stored as a profile picture: an absolute `http` or
/// `https` URL with a host (never `javascript:`, `data:` or the like, which
/// a client might put in a page).
fn is_picture_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// `text` cut to `max_chars` characters with forbidden characters written
/// as `\u{..}` escapes: safe to put in a log line.
pub fn escape_for_log(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for c in text.chars().take(max_chars) {
        if is_forbidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// The identity with its claims made safe to store, or why it is refused.
///
/// - `sub`: refused (401) when empty, longer than [`MAX_SUBJECT_BYTES`] or
///   containing a forbidden character (see [`is_forbidden`]): it names the
///   user, so it is never altered.
/// - `name`, `nickname`: forbidden characters removed, cut to
///   [`MAX_NAME_CHARS`] characters; dropped if nothing is left.
/// - `email`, `picture`: ignored (as if absent) when they contain a
///   forbidden character or are longer than [`MAX_EMAIL_BYTES`] /
///   [`MAX_PICTURE_BYTES`]; `picture` also unless it is an `http` or
///   `https` URL.
pub fn checked(mut identity: Identity) -> Result<Identity, AuthError> {
    let refuse = |problem| AuthError::InvalidClaim {
        claim: "sub",
        problem,
    };
    if identity.subject.is_empty() {
        return Err(refuse("is empty"));
    }
    if identity.subject.len() > MAX_SUBJECT_BYTES {
        return Err(refuse("is longer than 255 bytes"));
    }
    if identity.subject.chars().any(is_forbidden) {
        return Err(refuse(
            "contains control, bidirectional formatting or invisible characters",
        ));
    }
    let clean = |text: Option<String>| {
        text.map(|t| {
            t.chars()
                .filter(|c| !is_forbidden(*c))
                .take(MAX_NAME_CHARS)
                .collect::<String>()
        })
        .filter(|t| !t.is_empty())
    };
    let plain = |text: Option<String>, max: usize| {
        text.filter(|t| !t.is_empty() && t.len() <= max && !t.chars().any(is_forbidden))
    };
    identity.name = clean(identity.name);
    identity.nickname = clean(identity.nickname);
    identity.email = plain(identity.email, MAX_EMAIL_BYTES);
    identity.picture = plain(identity.picture, MAX_PICTURE_BYTES).filter(|url| is_picture_url(url));
    Ok(identity)
}

/// The stable user id of an identity: a UUID v5 of issuer and subject.
pub fn user_id(identity: &Identity) -> Uuid {
    let name = format!("{}\n{}", identity.issuer, identity.subject);
    Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes())
}

/// Splits an Auth0-style subject (`github|123`) into provider type and user id.
/// Providers outside the spec's enum become `UNKNOWN`, keeping the full subject.
pub fn provider(subject: &str) -> (ExternalProviderTypeEnum, String) {
    match subject.split_once('|') {
        Some((prefix, rest)) => match prefix.parse::<ExternalProviderTypeEnum>() {
            Ok(kind) if kind != ExternalProviderTypeEnum::Unknown => (kind, rest.to_string()),
            _ => (ExternalProviderTypeEnum::Unknown, subject.to_string()),
        },
        None => (ExternalProviderTypeEnum::Unknown, subject.to_string()),
    }
}

fn schema() -> EmbeddedModelSchema {
    EmbeddedModelSchema {
        migration: MODEL_MIGRATION,
        semantic: EmbeddedModelSchemaSemanticVersionEnum::Major0Minor0Patch1,
    }
}

/// A timestamp with its human-readable form.
pub fn timestamp(at: DateTime<Utc>) -> GroupedTimestamp {
    GroupedTimestamp {
        readable: Some(at.format("%B %-d, %Y at %H:%M UTC").to_string()),
        schema: None,
        value: at,
    }
}

fn default_aesthetics() -> Aesthetics {
    Aesthetics {
        font: Font {
            schema: None,
            size: DEFAULT_FONT_SIZE,
        },
        schema: None,
        theme: Theme {
            dark: false,
            schema: None,
        },
    }
}

/// The profile after an authentication at `now`: a new profile for a first
/// login, otherwise the stored one with fresh claims. `id`, `created` and
/// `aesthetics` never change once stored.
pub fn authenticated(
    stored: Option<UserProfile>,
    id: Uuid,
    identity: &Identity,
    now: DateTime<Utc>,
) -> UserProfile {
    let created = stored
        .as_ref()
        .and_then(|p| p.created.clone())
        .unwrap_or_else(|| timestamp(now));
    let (kind, provider_user) = provider(&identity.subject);
    let provider_created = stored
        .as_ref()
        .and_then(|p| p.providers.as_ref())
        .and_then(|ps| ps.iterable.iter().find(|p| p.type_ == kind))
        .map(|p| p.created.clone())
        .unwrap_or_else(|| timestamp(now));
    let external = ExternalProvider {
        access_token: None,
        connection: None,
        created: provider_created,
        expires_in: None,
        is_social: Some(kind != ExternalProviderTypeEnum::Unknown),
        profile_data: None,
        schema: None,
        type_: kind,
        updated: timestamp(now),
        user_id: provider_user,
    };
    let base = stored.unwrap_or_else(|| UserProfile {
        aesthetics: default_aesthetics(),
        allocation: None,
        auth0: None,
        created: None,
        descope: None,
        email: None,
        id: id.to_string(),
        name: None,
        picture: None,
        providers: None,
        schema: Some(schema()),
        updated: None,
        username: None,
        vanityname: None,
    });
    UserProfile {
        created: Some(created),
        updated: Some(timestamp(now)),
        email: identity.email.clone().or(base.email),
        name: identity.name.clone().or(base.name),
        username: identity.nickname.clone().or(base.username),
        picture: identity.picture.clone().or(base.picture),
        providers: Some(ExternalProviders {
            iterable: vec![external],
            schema: None,
        }),
        ..base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(sub: &str) -> Identity {
        Identity {
            issuer: "https://issuer.example".into(),
            subject: sub.into(),
            email: Some("ada@example.com".into()),
            name: Some("Ada".into()),
            nickname: Some("ada".into()),
            picture: None,
            issued_at: None,
        }
    }

    #[test]
    fn auth0_subjects_map_to_provider_types() {
        assert_eq!(
            provider("github|123"),
            (ExternalProviderTypeEnum::Github, "123".into())
        );
        assert_eq!(
            provider("google-oauth2|9"),
            (ExternalProviderTypeEnum::GoogleOauth2, "9".into())
        );
        assert_eq!(
            provider("auth0|abc"),
            (ExternalProviderTypeEnum::Unknown, "auth0|abc".into())
        );
        assert_eq!(
            provider("plain"),
            (ExternalProviderTypeEnum::Unknown, "plain".into())
        );
    }

    #[test]
    fn claims_are_cleaned_or_refused() {
        let mut who = identity("github|1");
        who.name = Some("A\u{202E}da\r\nX".into());
        who.nickname = Some("\u{0}\u{1b}".into());
        who.email = Some("ada@example.com\n".into());
        who.picture = Some("javascript:alert(1)".into());
        let clean = checked(who).unwrap();
        assert_eq!(clean.name.as_deref(), Some("AdaX"));
        assert_eq!(clean.picture, None, "not an http(s) URL");
        assert_eq!(clean.nickname, None);
        assert_eq!(clean.email, None);
        let mut who = identity("github|1");
        who.name = Some("A\u{200b}d\u{200d}a\u{feff}".into());
        who.picture = Some("https://avatars.example/u/1".into());
        let clean = checked(who).unwrap();
        assert_eq!(
            clean.name.as_deref(),
            Some("Ada"),
            "invisible characters removed"
        );
        assert_eq!(
            clean.picture.as_deref(),
            Some("https://avatars.example/u/1")
        );
        for sub in [
            "",
            "github|1\u{0}",
            "github|\u{202E}1",
            "github|a\u{200d}b",
            "github|\u{feff}ab",
            &"x".repeat(256),
        ] {
            let err = checked(identity(sub)).unwrap_err();
            assert!(matches!(err, AuthError::InvalidClaim { claim: "sub", .. }));
            assert!(!err.to_string().contains(sub) || sub.is_empty());
        }
        assert_eq!(escape_for_log("a\nb\u{202E}", 10), "a\\u{a}b\\u{202e}");
    }

    #[test]
    fn same_identity_same_id_and_created_is_kept() {
        let who = identity("github|1");
        let id = user_id(&who);
        assert_eq!(id, user_id(&identity("github|1")));
        assert_ne!(id, user_id(&identity("github|2")));
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let t1 = DateTime::from_timestamp(1_700_000_100, 0).unwrap();
        let first = authenticated(None, id, &who, t0);
        let again = authenticated(Some(first.clone()), id, &who, t1);
        assert_eq!(again.id, first.id);
        assert_eq!(again.created, first.created);
        assert_eq!(again.updated.unwrap().value, t1);
        assert_eq!(again.username.as_deref(), Some("ada"));
    }
}
