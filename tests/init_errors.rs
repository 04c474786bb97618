//! Start-up failures are clear errors, not panics, and leave `init` usable. (Its own test
//! binary: it sets environment variables and initialises the process's runtime.)

use std::net::TcpListener;

#[test]
fn init_reports_bad_configuration_then_starts_once() {
    // A port already in use.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let error = observe::builder()
        .metrics_addr(addr)
        .logging(false)
        .init()
        .unwrap_err();
    assert!(
        matches!(error, observe::Error::MetricsListener { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&addr.to_string()),
        "names the address: {message}"
    );
    assert!(
        message.contains("OBSERVE_METRICS_ADDR"),
        "names the fix: {message}"
    );

    // The same failure inside an async runtime is an error too, not a panic.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let error =
        runtime.block_on(async { observe::builder().metrics_addr(addr).logging(false).init() });
    assert!(
        matches!(error, Err(observe::Error::MetricsListener { .. })),
        "{error:?}"
    );

    // Malformed environment.
    // SAFETY: this test binary has one test, so no other thread reads the environment.
    unsafe { std::env::set_var("OBSERVE_METRICS_ADDR", "localhost") };
    let error = observe::init().unwrap_err();
    assert!(
        matches!(
            error,
            observe::Error::InvalidEnv {
                var: "OBSERVE_METRICS_ADDR",
                ..
            }
        ),
        "{error:?}"
    );
    unsafe { std::env::set_var("OBSERVE_METRICS_ADDR", "off") };
    unsafe { std::env::set_var("OBSERVE_ENVIRONMENT", "prod eu") };
    let error = observe::init().unwrap_err();
    assert!(error.to_string().contains("OBSERVE_ENVIRONMENT"), "{error}");

    unsafe { std::env::set_var("OBSERVE_ENVIRONMENT", "staging") };

    // A log filter that does not parse.
    unsafe { std::env::set_var("RUST_LOG", "[[[==") };
    let error = observe::init().unwrap_err();
    assert!(
        matches!(
            error,
            observe::Error::InvalidEnv {
                var: "RUST_LOG",
                ..
            }
        ),
        "{error:?}"
    );
    unsafe { std::env::remove_var("RUST_LOG") };

    // One floor for the push interval, from the environment and from code.
    unsafe { std::env::set_var("OBSERVE_PUSHGATEWAY_URL", "http://127.0.0.1:9") };
    unsafe { std::env::set_var("OBSERVE_PUSH_INTERVAL", "1ns") };
    let error = observe::init().unwrap_err();
    assert!(
        matches!(
            error,
            observe::Error::InvalidEnv {
                var: "OBSERVE_PUSH_INTERVAL",
                ..
            }
        ),
        "{error:?}"
    );
    unsafe { std::env::remove_var("OBSERVE_PUSHGATEWAY_URL") };
    unsafe { std::env::remove_var("OBSERVE_PUSH_INTERVAL") };
    let error = observe::builder()
        .without_metrics_listener()
        .logging(false)
        .pushgateway("http://127.0.0.1:9")
        .push_interval(std::time::Duration::from_nanos(1))
        .init()
        .unwrap_err();
    assert!(
        error.to_string().contains("Builder::push_interval(1ns)"),
        "{error}"
    );

    // Credentials for /metrics that cannot be read.
    let error = observe::builder()
        .without_metrics_listener()
        .logging(false)
        .metrics_bearer_token_file("/nonexistent/observe-token")
        .init()
        .unwrap_err();
    assert!(
        matches!(error, observe::Error::MetricsAuth { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("/nonexistent/observe-token"),
        "{error}"
    );

    // The failures above left nothing half-initialised.
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    unsafe { std::env::set_var("OBSERVE_METRICS_ADDR", free.to_string()) };
    let guard = observe::init().expect("starts");
    assert_eq!(guard.metrics_addr(), Some(free));

    // The listener serves the exposition.
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(free).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    assert!(matches!(
        observe::builder().init(),
        Err(observe::Error::AlreadyInitialised)
    ));

    // Dropping the guard stops the listener and frees the port.
    drop(guard);
    TcpListener::bind(free).expect("the port is free again");
}
