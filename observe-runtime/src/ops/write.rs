//! Writing the artefacts to a directory, and checking a committed directory against the
//! code: stale files (with a diff) and breaking changes against `metrics.lock`.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use super::catalog::Catalog;
use super::lock::{BreakingChange, Lock};
use super::{Options, generate};

/// Set to `1` to make [`check_catalog`] rewrite the directory instead of failing, in the
/// style of `insta` and `expect-test`.
///
/// ```
/// // OBSERVE_OPS_UPDATE=1 cargo test: the committed `ops/` is rewritten instead of failing.
/// let updating = std::env::var(observe::ops::UPDATE_ENV).is_ok_and(|v| v == "1");
/// # let _ = updating;
/// ```
pub const UPDATE_ENV: &str = "OBSERVE_OPS_UPDATE";

/// The subdirectories whose every file is generated: a file there that is no longer
/// generated (the runbook of an alert that is gone) is stale.
const OWNED_DIRS: [&str; 3] = ["runbooks", "dashboards", "rules"];

/// Writes every artefact under `dir` (created if needed) and removes generated files that
/// are no longer generated.
///
/// ```no_run
/// // Only the `billing` service's artefacts, to their own directory.
/// let mut catalog = observe::ops::catalog();
/// catalog.services.retain(|s| s.name == "billing");
/// catalog.families.retain(|f| f.service == "billing");
/// observe::ops::write_catalog("ops/billing".as_ref(), &catalog, &observe::ops::Options::default())?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_catalog(dir: &Path, catalog: &Catalog, options: &Options) -> io::Result<()> {
    let files = generate(catalog, options);
    for (path, text) in &files {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if std::fs::read_to_string(&full).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&full, text)?;
        }
    }
    for leftover in leftovers(dir, &files)? {
        std::fs::remove_file(dir.join(leftover))?;
    }
    Ok(())
}

/// Files under the generated subdirectories that are not in `files`.
fn leftovers(dir: &Path, files: &BTreeMap<String, String>) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    for sub in OWNED_DIRS {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries {
            let path = format!("{sub}/{}", entry?.file_name().to_string_lossy());
            if !files.contains_key(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Why a committed ops directory does not match the code. Its `Debug` is its `Display`,
/// so `check(dir).unwrap()` in a test prints the readable report.
///
/// ```no_run
/// match observe::ops::check("ops") {
///     Ok(()) => {}
///     Err(error) if !error.breaking.is_empty() => panic!("breaking changes:\n{error}"),
///     Err(error) => panic!("stale, rerun with OBSERVE_OPS_UPDATE=1:\n{error}"),
/// }
/// ```
pub struct CheckError {
    /// The directory checked.
    pub dir: PathBuf,
    /// Breaking changes against the committed `metrics.lock`.
    pub breaking: Vec<BreakingChange>,
    /// Stale files, each with a readable diff (`-` committed, `+` generated).
    pub stale: Vec<(String, String)>,
    /// Other problems: a file that could not be read or parsed, an SLO for an operation
    /// that does not exist.
    pub problems: Vec<String>,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the operations artefacts in {} do not match the code",
            self.dir.display()
        )?;
        if !self.breaking.is_empty() {
            writeln!(f, "\nbreaking changes against metrics.lock:")?;
            for change in &self.breaking {
                writeln!(f, "  - {change}")?;
            }
        }
        for problem in &self.problems {
            writeln!(f, "\n{problem}")?;
        }
        for (path, diff) in &self.stale {
            writeln!(f, "\nstale: {path}\n{diff}")?;
        }
        write!(
            f,
            "\nhelp: if the change is intended, regenerate with {UPDATE_ENV}=1 (e.g. `{UPDATE_ENV}=1 cargo test`) and commit the result"
        )
    }
}

impl fmt::Debug for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for CheckError {}

/// Regenerates everything and compares with `dir`: `Err` names each breaking change
/// against `dir/metrics.lock` and each stale file with a diff. With `OBSERVE_OPS_UPDATE=1`
/// it rewrites `dir` instead and succeeds.
///
/// ```no_run
/// let mut catalog = observe::ops::catalog();
/// catalog.services.retain(|s| s.name == "billing");
/// catalog.families.retain(|f| f.service == "billing");
/// observe::ops::check_catalog("ops/billing".as_ref(), &catalog, &observe::ops::Options::default())
///     .unwrap(); // its Debug is the readable report
/// ```
pub fn check_catalog(dir: &Path, catalog: &Catalog, options: &Options) -> Result<(), CheckError> {
    let update = std::env::var(UPDATE_ENV).is_ok_and(|v| v == "1");
    check_or_update(dir, catalog, options, update)
}

/// [`check_catalog`] with the update step given rather than read from the environment.
pub(crate) fn check_or_update(
    dir: &Path,
    catalog: &Catalog,
    options: &Options,
    update: bool,
) -> Result<(), CheckError> {
    let mut error = CheckError {
        dir: dir.to_owned(),
        breaking: Vec::new(),
        stale: Vec::new(),
        problems: Vec::new(),
    };
    if update {
        return write_catalog(dir, catalog, options).map_err(|e| {
            error
                .problems
                .push(format!("cannot write {}: {e}", dir.display()));
            error
        });
    }
    let files = generate(catalog, options);
    match std::fs::read_to_string(dir.join("metrics.lock")) {
        Ok(text) => match Lock::parse(&text) {
            Ok(baseline) => error.breaking = baseline.breaking_changes(&Lock::of(catalog)),
            Err(e) => error.problems.push(e),
        },
        Err(e) => error.problems.push(format!(
            "cannot read {}: {e}",
            dir.join("metrics.lock").display()
        )),
    }
    for (path, generated) in &files {
        match std::fs::read_to_string(dir.join(path)) {
            Ok(committed) if committed == *generated => {}
            Ok(committed) => error
                .stale
                .push((path.clone(), diff(&committed, generated))),
            Err(_) => error.stale.push((path.clone(), "  (missing)".to_owned())),
        }
    }
    for leftover in leftovers(dir, &files).unwrap_or_default() {
        error
            .stale
            .push((leftover, "  (no longer generated)".to_owned()));
    }
    if error.breaking.is_empty() && error.stale.is_empty() && error.problems.is_empty() {
        Ok(())
    } else {
        Err(error)
    }
}

/// The lines between the common prefix and suffix: `-` committed, `+` generated, with
/// line numbers, at most 20 of each.
pub(crate) fn diff(committed: &str, generated: &str) -> String {
    let old: Vec<&str> = committed.lines().collect();
    let new: Vec<&str> = generated.lines().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = String::new();
    for (sign, lines) in [
        ("-", &old[prefix..old.len() - suffix]),
        ("+", &new[prefix..new.len() - suffix]),
    ] {
        for (i, line) in lines.iter().enumerate().take(20) {
            let _ = writeln!(out, "  {:>5} {sign} {line}", prefix + i + 1);
        }
        if lines.len() > 20 {
            let _ = writeln!(out, "        {sign} … {} more lines", lines.len() - 20);
        }
    }
    if out.is_empty() {
        out.push_str("  (differs in line endings or a final newline)\n");
    }
    out
}
