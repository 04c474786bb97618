use observe::ErrorLabel;

#[derive(Debug, ErrorLabel)]
enum StoreError {
    #[error_label(transparent)]
    Both(std::io::Error, std::fmt::Error),
    #[error_label(transparent)]
    Nothing,
}

fn main() {}
