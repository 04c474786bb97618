//! Shared by the pass cases. With `OBSERVE_EXPOSITION_DIR` set (by `tests/ui.rs`), a case
//! runs with observe initialised and, when `main` ends, writes its exposition there for
//! `promtool check metrics`.

use std::path::{Path, PathBuf};

pub struct Dump(Option<(observe::Guard, PathBuf)>);

impl Dump {
    pub fn start(case: &str) -> Dump {
        let Some(dir) = std::env::var_os("OBSERVE_EXPOSITION_DIR") else {
            return Dump(None);
        };
        let guard = observe::builder()
            .environment("test")
            .without_metrics_listener()
            .logging(false)
            .init()
            .expect("observe::init in a pass case");
        let stem = Path::new(case).file_stem().expect("a file name");
        Dump(Some((guard, Path::new(&dir).join(stem).with_extension("prom"))))
    }
}

impl Drop for Dump {
    fn drop(&mut self) {
        if let Some((guard, path)) = &self.0 {
            std::fs::write(path, guard.render()).expect("write the exposition");
        }
    }
}
