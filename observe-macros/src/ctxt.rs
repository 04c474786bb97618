//! Error accumulation (serde's `Ctxt`): every violation is collected, then reported in one
//! compile.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;

pub(crate) struct Ctxt {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// An error spanned on `tokens`, with a rustc-style `help:` line naming the fix.
    pub(crate) fn error_spanned_by<T: ToTokens, M: Display>(
        &self,
        tokens: T,
        message: M,
        help: Option<String>,
    ) {
        self.syn_error(syn::Error::new_spanned(tokens, with_help(message, help)));
    }

    pub(crate) fn error_at<M: Display>(&self, span: Span, message: M, help: Option<String>) {
        self.syn_error(syn::Error::new(span, with_help(message, help)));
    }

    pub(crate) fn syn_error(&self, error: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("Ctxt used after check")
            .push(error);
    }

    /// All errors combined into one, or `Ok` if there were none.
    pub(crate) fn check(self) -> Result<(), syn::Error> {
        let mut errors = self.errors.take().expect("Ctxt checked twice").into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("forgot to check for errors");
        }
    }
}

fn with_help<M: Display>(message: M, help: Option<String>) -> String {
    match help {
        Some(help) => format!("{message}\n\n= help: {help}"),
        None => message.to_string(),
    }
}
