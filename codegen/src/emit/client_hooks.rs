//! progenitor's operations call three hooks of `progenitor_client::ClientHooks`
//! around each request: `pre`, `exec` and `post`. Only the generated crate
//! can implement that trait for its `Client` (orphan rule), and its impls
//! keep the default `pre` and `post`, which do nothing and return `Ok(())`.
//! Each call is still a generic `async fn` instantiated for the operation's
//! error type and an `.await` state of the operation's future, so the
//! calls are dropped when no impl in the crate overrides those two hooks.

use syn::visit::Visit;
use syn::visit_mut::VisitMut;

/// Drops the operations' `client.pre(..).await?;` and `client.post(..).await?;`
/// from `file`, unless an impl of `ClientHooks` in it overrides one of them.
pub(crate) fn drop_noop_hooks(file: &mut syn::File) {
    if !overrides_pre_or_post(file) {
        DropHooks.visit_file_mut(file);
    }
}

/// Whether an impl of `ClientHooks` in `file` defines `pre` or `post`.
pub(crate) fn overrides_pre_or_post(file: &syn::File) -> bool {
    let mut find = FindOverride(false);
    find.visit_file(file);
    find.0
}

/// The two hooks whose defaults do nothing.
const NOOP_HOOKS: [&str; 2] = ["pre", "post"];

struct FindOverride(bool);

impl Visit<'_> for FindOverride {
    fn visit_item_impl(&mut self, item: &syn::ItemImpl) {
        let hooks = item
            .trait_
            .as_ref()
            .and_then(|(path, _)| path.segments.last())
            .is_some_and(|s| s.ident == "ClientHooks");
        self.0 |= hooks
            && item.items.iter().any(
                |i| matches!(i, syn::ImplItem::Fn(f) if NOOP_HOOKS.iter().any(|h| f.sig.ident == h)),
            );
    }
}

struct DropHooks;

impl VisitMut for DropHooks {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        block.stmts.retain(|s| !is_noop_hook_call(s));
        syn::visit_mut::visit_block_mut(self, block);
    }
}

/// Whether `stmt` is `client.pre(..).await?;` or `client.post(..).await?;`.
fn is_noop_hook_call(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(syn::Expr::Try(tried), Some(_)) = stmt else {
        return false;
    };
    let syn::Expr::Await(awaited) = &*tried.expr else {
        return false;
    };
    let syn::Expr::MethodCall(call) = &*awaited.base else {
        return false;
    };
    NOOP_HOOKS.iter().any(|h| call.method == h)
        && matches!(&*call.receiver, syn::Expr::Path(p) if p.path.is_ident("client"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEND: &str = "
        impl<'a> Op<'a> {
            pub async fn send(self) -> Result<R, Error<E>> {
                let Self { client } = self;
                let mut request = client.client.get(url).build()?;
                let info = OperationInfo { operation_id: \"op\" };
                client.pre(&mut request, &info).await?;
                let result = client.exec(request, &info).await;
                client.post(&result, &info).await?;
                let response = result?;
                other.pre(&mut request, &info).await?;
                Ok(response)
            }
        }";

    fn run(source: &str) -> String {
        let mut file: syn::File = syn::parse_str(source).unwrap();
        drop_noop_hooks(&mut file);
        prettyplease::unparse(&file)
    }

    #[test]
    fn default_pre_and_post_hooks_are_not_called() {
        let out = run(&format!("impl ClientHooks<()> for &Client {{}}\n{SEND}"));
        assert!(!out.contains("client.pre("), "{out}");
        assert!(!out.contains("client.post("), "{out}");
        assert!(
            out.contains("let result = client.exec(request, &info).await;"),
            "{out}"
        );
        assert!(
            out.contains("other.pre(&mut request, &info).await?;"),
            "{out}"
        );
    }

    #[test]
    fn an_overridden_hook_keeps_every_call() {
        let out = run(&format!(
            "impl ClientHooks<()> for &Client {{ async fn post<E>(&self) -> Result<(), E> {{ Ok(()) }} }}\n{SEND}"
        ));
        assert!(
            out.contains("client.pre(&mut request, &info).await?;"),
            "{out}"
        );
        assert!(out.contains("client.post(&result, &info).await?;"), "{out}");
    }
}
