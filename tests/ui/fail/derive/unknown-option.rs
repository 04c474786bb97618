use observe::ErrorLabel;

#[derive(Debug, ErrorLabel)]
enum StoreError {
    #[error_label(name = "Store")]
    Connection,
}

fn main() {}
