use std::sync::Arc;

use observe::instrumented;

#[derive(Debug, Clone)]
struct Counter {
    count: u32,
}

impl Counter {
    #[instrumented(service = "shapes")]
    fn by_ref(&self) -> u32 {
        self.count
    }

    #[instrumented(service = "shapes")]
    fn by_mut(&mut self, by: u32) -> u32 {
        self.count += by;
        self.count
    }

    #[instrumented(service = "shapes")]
    fn by_value(self) -> u32 {
        self.count
    }

    #[instrumented(service = "shapes")]
    fn by_arc(self: Arc<Self>) -> u32 {
        self.count
    }

    #[instrumented(service = "shapes")]
    fn by_box(self: Box<Self>) -> u32 {
        self.count
    }

    #[instrumented(service = "shapes")]
    async fn async_by_ref(&self) -> u32 {
        self.count
    }

    #[instrumented(service = "shapes")]
    async fn async_by_mut(&mut self) -> u32 {
        self.count += 1;
        self.count
    }

    #[instrumented(service = "shapes")]
    fn associated(count: u32) -> Self {
        Self { count }
    }
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    let mut c = Counter::associated(1);
    assert_eq!(c.by_ref(), 1);
    assert_eq!(c.by_mut(2), 3);
    assert_eq!(futures::executor::block_on(c.async_by_ref()), 3);
    assert_eq!(futures::executor::block_on(c.async_by_mut()), 4);
    assert_eq!(Arc::new(c.clone()).by_arc(), 4);
    assert_eq!(Box::new(c.clone()).by_box(), 4);
    assert_eq!(c.by_value(), 4);
}

#[path = "support/exposition.rs"]
mod exposition;
