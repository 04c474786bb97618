#![deny(unfulfilled_lint_expectations, unused_variables)]

//! Every `#[tracing::instrument]` shape and argument form observe accepts with tracing's
//! meaning (issue 16): inner attributes, `#[expect(dead_code)]`, `skip(self)`, empty
//! fields, numeric and path levels, `ret`, `err`, `target`, `span_name`.

use observe::instrumented;
use tracing::Level;

#[derive(Debug)]
struct Peer {
    calls: u32,
}

impl Peer {
    #[instrumented(service = "compat", skip(self))]
    fn bump(&mut self, by: u32) -> u32 {
        self.calls += by;
        self.calls
    }

    #[instrumented(service = "compat", skip(self, by), ret)]
    async fn bump_async(&mut self, by: u32) -> u32 {
        self.calls += by;
        self.calls
    }
}

#[instrumented(service = "compat")]
fn inner_attribute(unused: u32) -> u32 {
    #![allow(unused_variables)]
    let never_read = 1;
    7
}

#[instrumented(service = "compat")]
async fn inner_attribute_async(unused: u32) -> u32 {
    #![allow(unused_variables)]
    let never_read = 1;
    8
}

#[expect(dead_code)]
#[instrumented(service = "compat")]
fn never_called() {}

#[instrumented(service = "compat", fields(foo = "bar", empty, nested.name))]
fn empty_fields() {
    tracing::Span::current().record("empty", 3);
}

#[instrumented(service = "compat", level = 2)]
fn numeric_level() {}

#[instrumented(service = "compat", level = Level::DEBUG)]
fn path_level() {}

#[instrumented(service = "compat", ret, err)]
fn ret_and_err(fail: bool) -> Result<u32, std::fmt::Error> {
    if fail { Err(std::fmt::Error) } else { Ok(1) }
}

#[instrumented(service = "compat", ret(Display), err(Debug))]
async fn ret_and_err_async(fail: bool) -> Result<u32, std::fmt::Error> {
    if fail { Err(std::fmt::Error) } else { Ok(2) }
}

#[instrumented(service = "compat", ret(Display))]
fn ret_display() -> &'static str {
    "shown"
}

#[instrumented(service = "compat", target = "compat::io", span_name = "fetch_peer")]
fn renamed(id: u32) -> u32 {
    id
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    let mut peer = Peer { calls: 0 };
    assert_eq!(peer.bump(2), 2);
    assert_eq!(futures::executor::block_on(peer.bump_async(3)), 5);
    assert_eq!(inner_attribute(0), 7);
    assert_eq!(futures::executor::block_on(inner_attribute_async(0)), 8);
    empty_fields();
    numeric_level();
    path_level();
    assert_eq!(ret_and_err(false), Ok(1));
    assert!(ret_and_err(true).is_err());
    assert_eq!(futures::executor::block_on(ret_and_err_async(false)), Ok(2));
    assert_eq!(ret_display(), "shown");
    assert_eq!(renamed(4), 4);
}

#[path = "support/exposition.rs"]
mod exposition;
