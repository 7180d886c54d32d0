//! The JSON bodies built from stored profiles: one profile (`GET /users/{id}`)
//! and the list (`GET /users`, the generated `Users`), byte for byte what
//! `axum::Json` makes of the generated types, built one profile at a time.

use axum::body::Bytes;
use users_api_server_stubs::types::UserProfile;

use crate::store::{Rows, StoreError};

/// Bodies at least this large are built rarely and grow their buffer (and
/// the database's reads) to their size on the way; after one, freed memory is
/// handed back to the system instead of staying in the allocator's arenas.
const LARGE_BODY: usize = 1 << 20;

/// One profile as a response body. The buffer is cut to its length, since a
/// kept body would otherwise hold the spare capacity of its last doubling.
pub fn profile(profile: &UserProfile) -> Result<Bytes, serde_json::Error> {
    let mut body = serde_json::to_vec(profile)?;
    body.shrink_to_fit();
    Ok(Bytes::from(body))
}

/// The body of `GET /users` listing every user `rows` yields, encoded as
/// they arrive (never all decoded at once).
pub async fn list(mut rows: Rows) -> Result<Bytes, StoreError> {
    let mut body = ListBody::default();
    while let Some(user) = rows.next().await {
        body.push(&user?)?;
    }
    let body = body.finish();
    if body.len() >= LARGE_BODY {
        crate::memory::release_freed();
    }
    Ok(body)
}

/// The body of `GET /users` listing `user` alone (or nobody), from that
/// user's body ([`profile`]).
pub fn list_of(user: Option<&[u8]>) -> Bytes {
    let mut body = ListBody::default();
    if let Some(user) = user {
        body.push_serialized(user);
    }
    body.finish()
}

/// The body of `GET /users` built one profile at a time: the same bytes as
/// serializing `Users { iterable, schema: None }` from the whole list.
#[derive(Debug, Default)]
pub struct ListBody {
    body: Vec<u8>,
    count: usize,
}

impl ListBody {
    /// Appends one profile.
    pub fn push(&mut self, profile: &UserProfile) -> Result<(), serde_json::Error> {
        self.separate();
        serde_json::to_writer(&mut self.body, profile)
    }

    /// Appends one profile already serialized ([`profile`]).
    pub fn push_serialized(&mut self, profile: &[u8]) {
        self.separate();
        self.body.extend_from_slice(profile);
    }

    /// Opens the list before the first profile, or separates the next one.
    fn separate(&mut self) {
        let separator: &[u8] = if self.count == 0 {
            b"{\"iterable\":["
        } else {
            b","
        };
        self.body.extend_from_slice(separator);
        self.count += 1;
    }

    /// The finished body (`{}` when there is nobody, as `iterable` is
    /// skipped when empty), cut to its length.
    pub fn finish(mut self) -> Bytes {
        if self.count == 0 {
            return Bytes::from_static(b"{}");
        }
        self.body.extend_from_slice(b"]}");
        self.body.shrink_to_fit();
        Bytes::from(self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use users_api_server_stubs::types::Users;

    /// A profile as the service stores it (captured from a running service).
    const PROFILE: &str = r#"{"aesthetics": {"font": {"size": 14}, "theme": {"dark": false}}, "created": {"readable": "November 29, 2026 at 06:24 UTC", "value": "2026-11-29T06:24:12.760186774Z"}, "email": "r@example.com", "id": "c6ff20f9-8fd1-5d05-930e-4943ce35ffbc", "name": "Reader \"quoted\" \u00e9", "providers": {"iterable": [{"created": {"readable": "November 29, 2026 at 06:24 UTC", "value": "2026-11-29T06:24:12.760186774Z"}, "isSocial": true, "type": "github", "updated": {"readable": "November 29, 2026 at 06:24 UTC", "value": "2026-11-29T06:24:12.760186774Z"}, "user_id": "reader"}]}, "schema": {"migration": 1, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}, "updated": {"readable": "November 29, 2026 at 06:24 UTC", "value": "2026-11-29T06:24:12.760186774Z"}, "username": "reader"}"#;

    /// What `axum::Json` sends for a value: serde_json's compact encoding.
    fn serialized<T: serde::Serialize>(value: &T) -> Vec<u8> {
        serde_json::to_vec(value).unwrap()
    }

    #[test]
    fn a_list_built_row_by_row_is_the_serialized_list() {
        let profile: UserProfile = serde_json::from_str(PROFILE).unwrap();
        for n in [0, 1, 3] {
            let iterable = vec![profile.clone(); n];
            let mut body = ListBody::default();
            for p in &iterable {
                body.push(p).unwrap();
            }
            let whole = serialized(&Users {
                iterable,
                schema: None,
            });
            assert_eq!(body.finish(), whole, "{n} users");
        }
    }

    #[test]
    fn a_one_user_list_is_the_serialized_list() {
        let profile: UserProfile = serde_json::from_str(PROFILE).unwrap();
        let user = super::profile(&profile).unwrap();
        assert_eq!(user, serialized(&profile));
        let whole = serialized(&Users {
            iterable: vec![profile],
            schema: None,
        });
        assert_eq!(list_of(Some(&user)), whole);
        assert_eq!(list_of(None), serialized(&Users::default()));
    }
}
