use observe::ErrorLabel;

#[derive(Debug, ErrorLabel)]
enum StoreError {
    #[error_label(rename = "connection error")]
    Connection,
    #[error_label(rename = "timeout")]
    Timeout,
}

fn main() {}
