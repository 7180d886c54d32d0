//! Security schemes, as the router reads their credentials.

use openapiv3::{APIKeyLocation, Components, SecurityScheme};

use super::{Scheme, SchemeKind};

/// The security schemes the router can read, in name order.
pub fn schemes(components: Option<&Components>) -> Vec<Scheme> {
    let Some(components) = components else {
        return Vec::new();
    };
    components
        .security_schemes
        .iter()
        .filter_map(|(name, scheme)| {
            let kind = match scheme.as_item()? {
                s if is_bearer(s) => SchemeKind::Bearer,
                SecurityScheme::APIKey {
                    location: APIKeyLocation::Header,
                    name: header,
                    ..
                } => SchemeKind::ApiKeyHeader(header.clone()),
                _ => return None,
            };
            Some(Scheme {
                name: name.clone(),
                kind,
            })
        })
        .collect()
}

/// Whether a security scheme is carried as `Authorization: Bearer <token>`.
fn is_bearer(scheme: &SecurityScheme) -> bool {
    match scheme {
        SecurityScheme::OAuth2 { .. } | SecurityScheme::OpenIDConnect { .. } => true,
        SecurityScheme::HTTP { scheme, .. } => scheme.eq_ignore_ascii_case("bearer"),
        SecurityScheme::APIKey { .. } => false,
    }
}

/// Whether the server generator can read a scheme's credential.
pub fn is_supported_scheme(scheme: &SecurityScheme) -> bool {
    is_bearer(scheme)
        || matches!(
            scheme,
            SecurityScheme::APIKey {
                location: APIKeyLocation::Header,
                ..
            }
        )
}
