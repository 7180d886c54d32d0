//! Who a request acts as: its credentials checked against the access mode
//! ([`AccessMode`]) and against the sign-out revocations.
//!
//! A bearer token that is sent is always verified (and refused once
//! revoked). Outside `local` mode it acts for its own user only: full
//! access comes only from `local` mode (where any process on the machine
//! has it anyway, token or not) or a registered application id.

use std::sync::Arc;

use users_api_server_stubs::Credentials;
use users_api_server_stubs::types::OAuthToken;
use uuid::Uuid;

use crate::auth::{Principal, Verifier};
use crate::config::AccessMode;
use crate::failure::Failure;
use crate::store::{Storage, revokes};

/// Who a request acts as, once its credentials were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// `local` mode without a token: any client on this machine.
    Local,
    /// A registered application (`applications` mode).
    Application,
    /// The user a verified bearer token names (outside `local` mode).
    User(Uuid),
}

impl Caller {
    /// The one user this caller may see and disconnect, if it is limited
    /// to one: a bearer token's own user.
    pub fn only(self) -> Option<Uuid> {
        match self {
            Self::User(me) => Some(me),
            Self::Local | Self::Application => None,
        }
    }

    /// Whether this caller may see or disconnect `user`.
    pub fn may_see(self, user: Uuid) -> bool {
        self.only().is_none_or(|me| me == user)
    }
}

/// The access mode and the verifier. Revocations are the store's (kept in
/// memory by [`crate::cache`] where that is safe).
pub struct Access {
    mode: AccessMode,
    verifier: Arc<Verifier>,
}

impl Access {
    /// Checks credentials under `mode`.
    pub fn new(verifier: Arc<Verifier>, mode: AccessMode) -> Self {
        Self { mode, verifier }
    }

    /// The access mode enforced.
    pub fn mode(&self) -> AccessMode {
        self.mode
    }

    /// Checks a request's credentials against the access mode.
    pub async fn authorize<S: Storage>(
        &self,
        store: &S,
        credentials: &Credentials,
    ) -> Result<Caller, Failure> {
        if let Some(token) = &credentials.auth0 {
            let principal = self.verifier.verify_bearer(token.as_str()).await?;
            let user = self.not_revoked(store, &principal).await?;
            return Ok(match self.mode {
                AccessMode::Local => Caller::Local,
                AccessMode::Applications | AccessMode::Tokens => Caller::User(user),
            });
        }
        match (self.mode, &credentials.application) {
            (AccessMode::Local, _) => Ok(Caller::Local),
            (AccessMode::Applications, Some(key)) => {
                let registered = match Uuid::try_parse(key.as_str()) {
                    Ok(id) => store.is_application(id).await?,
                    Err(_) => false,
                };
                if registered {
                    Ok(Caller::Application)
                } else {
                    Err(Failure::refused(
                        "the application id is not registered with this service",
                    ))
                }
            }
            (AccessMode::Applications, None) => Err(Failure::refused(
                "send a registered application id in X-Application-ID, or a bearer token",
            )),
            (AccessMode::Tokens, _) => Err(Failure::refused(
                "this service needs a bearer token: send `Authorization: Bearer <token>`",
            )),
        }
    }

    /// The verified identity a sign-in body carries: its ID token, or else
    /// its access token checked at the userinfo endpoint.
    pub async fn sign_in_identity(&self, body: &OAuthToken) -> Result<Arc<Principal>, Failure> {
        let principal = match body.id_token.as_deref() {
            Some(id_token) => self.verifier.verify_sign_in(id_token)?,
            None => Principal::new(
                self.verifier
                    .verify_access_token(&body.access_token)
                    .await?,
            ),
        };
        Ok(principal)
    }

    /// The user a verified identity is, unless a sign-out (on any instance,
    /// for a shared store) revoked its token.
    pub async fn not_revoked<S: Storage>(
        &self,
        store: &S,
        principal: &Principal,
    ) -> Result<Uuid, Failure> {
        let id = principal.user_id;
        if revokes(store.revoked_at(id).await?, principal.identity.issued_at) {
            metrics::counter!(crate::meters::REVOKED_TOKENS_REFUSED).increment(1);
            return Err(Failure::refused(
                "the token was revoked when its user signed out; sign in with a new token",
            ));
        }
        Ok(id)
    }

    /// Forgets the remembered token verifications of user `id`, who signed
    /// out (its revocation is stored already).
    pub fn signed_out(&self, id: Uuid) {
        self.verifier.forget_user(id);
    }
}
