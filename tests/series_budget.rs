//! A family over the series budget is caught before production: each of its sites passes
//! the compile-time check, their sum does not, and both `check_series_budgets` (what a
//! test calls) and `init` (what `main` calls) refuse it, naming every site.

#[path = "series_budget/sites.rs"]
mod sites;

const SITES: &str = "`#[instrumented]` operation `fetch` in `series_budget::sites` (39), \
`#[instrumented]` operation `merge` in `series_budget::sites` (39), \
`#[instrumented]` operation `plan` in `series_budget::sites` (39)";

fn assert_over_budget(error: observe::Error) {
    match &error {
        observe::Error::SeriesBudget {
            family,
            series,
            budget,
            sites,
        } => {
            assert_eq!(*family, "copilot_budget_duration_seconds");
            assert_eq!((*series, *budget), (117, 100));
            assert_eq!(sites, SITES);
        }
        other => panic!("expected SeriesBudget, got {other}"),
    }
    assert!(
        error
            .to_string()
            .contains("raise `series_budget` in `observe.toml`"),
        "{error}"
    );
}

#[test]
fn each_site_fits_but_the_family_does_not() {
    // The functions still run: the check refuses the program, not the calls.
    assert_eq!(sites::plan() + sites::fetch() + sites::merge(), 6);
    assert_over_budget(observe::check_series_budgets().unwrap_err());
    let refused = observe::builder()
        .without_metrics_listener()
        .logging(false)
        .init()
        .expect_err("init refuses a family over budget");
    assert_over_budget(refused);
}
