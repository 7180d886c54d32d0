//! One match arm per response outcome, not per status code. progenitor
//! writes an arm for every documented status of an operation, and the arms
//! of the statuses that share a body read alike
//! (`Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))`).
//! Each arm's `.await` is a state of the operation's future that rustc
//! type-checks, borrow-checks and lowers on its own, so a spec documenting
//! ten error statuses per operation pays ten times for one. Adjacent arms
//! with the same body, integer-literal patterns and no guard become one arm
//! with an or-pattern: the same statuses, the same outcome.

use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;

/// Merges, in every `match` of `file`, adjacent arms that differ only in
/// their integer-literal pattern.
pub(crate) fn merge_alike_arms(file: &mut syn::File) {
    MergeArms.visit_file_mut(file);
}

struct MergeArms;

impl VisitMut for MergeArms {
    fn visit_expr_match_mut(&mut self, node: &mut syn::ExprMatch) {
        syn::visit_mut::visit_expr_match_mut(self, node);
        let arms = std::mem::take(&mut node.arms);
        let mut merged: Vec<syn::Arm> = Vec::with_capacity(arms.len());
        for arm in arms {
            if let Some(last) = merged.last_mut()
                && mergeable(last)
                && mergeable(&arm)
                && last.body == arm.body
            {
                let pat = std::mem::replace(&mut last.pat, syn::Pat::Verbatim(Default::default()));
                last.pat = syn::Pat::Or(syn::PatOr {
                    attrs: Vec::new(),
                    leading_vert: None,
                    cases: cases(pat).chain(cases(arm.pat)).collect(),
                });
                continue;
            }
            merged.push(arm);
        }
        node.arms = merged;
    }
}

/// Whether `arm` may share its body with a neighbour: no attributes and a
/// pattern of integer literals only (no guard, no binding: disjoint values,
/// so merging neither reorders a match nor changes what a body sees).
fn mergeable(arm: &syn::Arm) -> bool {
    arm.attrs.is_empty()
        && match &arm.pat {
            syn::Pat::Or(or) => or.leading_vert.is_none() && or.cases.iter().all(is_int),
            pat => is_int(pat),
        }
}

/// Whether `pat` is an integer literal such as `404u16`.
fn is_int(pat: &syn::Pat) -> bool {
    matches!(pat, syn::Pat::Lit(syn::PatLit { attrs, lit: syn::Lit::Int(_) }) if attrs.is_empty())
}

/// The alternatives of a pattern (itself, or the cases of an or-pattern).
fn cases(pat: syn::Pat) -> impl Iterator<Item = syn::Pat> {
    let cases: Punctuated<syn::Pat, syn::Token![|]> = match pat {
        syn::Pat::Or(or) => or.cases,
        pat => std::iter::once(pat).collect(),
    };
    cases.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(source: &str) -> String {
        let mut file: syn::File = syn::parse_str(source).unwrap();
        merge_alike_arms(&mut file);
        prettyplease::unparse(&file)
    }

    #[test]
    fn statuses_with_the_same_outcome_share_one_arm() {
        let out = merged(
            "async fn f(r: R) -> X { match r.status().as_u16() {
                200u16 => ok(r).await,
                400u16 => { Err(E(v(r).await?)) }
                401u16 => { Err(E(v(r).await?)) }
                404u16 => { Err(E(v(r).await?)) }
                500u16 => { Err(F(v(r).await?)) }
                503u16 => { Err(F(v(r).await?)) }
                _ => Err(U(r)),
            } }",
        );
        let arms: Vec<&str> = out
            .lines()
            .map(str::trim)
            .filter(|l| l.contains("=>"))
            .collect();
        assert_eq!(
            arms,
            [
                "200u16 => ok(r).await,",
                "400u16 | 401u16 | 404u16 => Err(E(v(r).await?)),",
                "500u16 | 503u16 => Err(F(v(r).await?)),",
                "_ => Err(U(r)),",
            ],
            "{out}"
        );
    }

    #[test]
    fn arms_apart_guarded_or_binding_are_kept() {
        let source = "fn f(n: u16) -> u8 { match n {
                1u16 => 1,
                2u16 => 2,
                3u16 => 1,
                4u16 if n > 3 => 2,
                5u16 => 2,
                x => 2,
            } }";
        let arms = |s: &str| s.matches("=>").count();
        assert_eq!(arms(&merged(source)), 6);
        let out = merged(source);
        assert!(!out.contains('|'), "{out}");
    }
}
