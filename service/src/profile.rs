//! Turning a verified identity into a `UserProfile`, and keeping it current:
//! a one-way mapping from [`crate::auth::identity`] to the API's types.

use chrono::{DateTime, Datelike, Timelike, Utc};
use users_api_server_stubs::types::{
    Aesthetics, EmbeddedModelSchema, EmbeddedModelSchemaSemanticVersionEnum, ExternalProvider,
    ExternalProviderTypeEnum, ExternalProviders, Font, GroupedTimestamp, Theme, UserProfile,
};
use uuid::Uuid;

use crate::auth::identity::Identity;

/// Database migration version stamped on stored models.
const MODEL_MIGRATION: i64 = 1;
/// Default font size for new users.
const DEFAULT_FONT_SIZE: i64 = 14;

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

/// English month names, January first.
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Appends `n` in decimal (itoa), zero-padded to at least `width` digits.
fn push_number(out: &mut String, n: u32, width: usize) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n);
    out.extend(std::iter::repeat_n('0', width.saturating_sub(digits.len())));
    out.push_str(digits);
}

/// The human-readable form of a timestamp, `December 6, 2026 at 01:40 UTC`
/// (chrono's `%B %-d, %Y at %H:%M UTC`), written directly: chrono's
/// formatter went through `core::fmt` for every item (callgrind, issue 25).
/// Years outside 0..=9999, which chrono writes with a sign, are not
/// expected: the service only stamps the current time.
pub fn readable(at: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(32);
    out.push_str(MONTHS[at.month0() as usize]);
    out.push(' ');
    push_number(&mut out, at.day(), 1);
    out.push_str(", ");
    push_number(&mut out, at.year().unsigned_abs(), 4);
    out.push_str(" at ");
    push_number(&mut out, at.hour(), 2);
    out.push(':');
    push_number(&mut out, at.minute(), 2);
    out.push_str(" UTC");
    out
}

/// A timestamp with its human-readable form.
pub fn timestamp(at: DateTime<Utc>) -> GroupedTimestamp {
    GroupedTimestamp {
        readable: Some(readable(at)),
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
    // Formatted once: a new user's four timestamps are all `now`.
    let now = timestamp(now);
    let created = stored
        .as_ref()
        .and_then(|p| p.created.clone())
        .unwrap_or_else(|| now.clone());
    let (kind, provider_user) = provider(&identity.subject);
    let provider_created = stored
        .as_ref()
        .and_then(|p| p.providers.as_ref())
        .and_then(|ps| ps.iterable.iter().find(|p| p.type_ == kind))
        .map(|p| p.created.clone())
        .unwrap_or_else(|| now.clone());
    let external = ExternalProvider {
        access_token: None,
        connection: None,
        created: provider_created,
        expires_in: None,
        is_social: Some(kind != ExternalProviderTypeEnum::Unknown),
        profile_data: None,
        schema: None,
        type_: kind,
        updated: now.clone(),
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
        updated: Some(now),
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

    #[test]
    fn timestamps_read_as_month_day_year_and_time() {
        use chrono::TimeZone;
        for ((y, mo, d, h, mi), text) in [
            ((2026, 12, 6, 1, 4), "December 6, 2026 at 01:04 UTC"),
            ((2027, 2, 28, 23, 59), "February 28, 2027 at 23:59 UTC"),
        ] {
            let at = Utc.with_ymd_and_hms(y, mo, d, h, mi, 30).unwrap();
            let stamp = timestamp(at);
            assert_eq!(stamp.readable.as_deref(), Some(text));
            assert_eq!(stamp.value, at);
        }
    }

    /// The direct formatter writes what chrono's strftime writes, over
    /// every month, single- and double-digit days and hours, and years
    /// around the present.
    #[test]
    fn readable_agrees_with_chrono_strftime() {
        use chrono::TimeZone;
        let mut checked = 0;
        for year in [1970, 2000, 2026, 2027, 2099, 9999] {
            for month in 1..=12 {
                for (day, hour, minute) in [(1, 0, 0), (9, 9, 5), (10, 10, 59), (28, 23, 30)] {
                    let at = Utc
                        .with_ymd_and_hms(year, month, day, hour, minute, 7)
                        .unwrap();
                    let expected = at.format("%B %-d, %Y at %H:%M UTC").to_string();
                    assert_eq!(readable(at), expected);
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 6 * 12 * 4);
    }

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
    fn same_identity_created_is_kept() {
        let who = identity("github|1");
        let id = crate::auth::identity::user_id(&who);
        assert_eq!(id, crate::auth::identity::user_id(&identity("github|1")));
        assert_ne!(id, crate::auth::identity::user_id(&identity("github|2")));
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
