//! `group-identity-emulator`: the command line around the library.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use group_identity_emulator::config::{parse_args, Command, USAGE};
use group_identity_emulator::{banner, router, serve};

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(options)) => options,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("group-identity-emulator: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener =
        match tokio::net::TcpListener::bind(SocketAddr::new(options.host, options.port)).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!(
                    "group-identity-emulator: cannot listen on {}:{}: {error}",
                    options.host, options.port
                );
                return ExitCode::FAILURE;
            }
        };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(error) => {
            eprintln!("group-identity-emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    let text = banner(addr, &options.config);
    // Everything that can stop the start (a bad state file) comes before the banner:
    // scripts take its first line to mean the server is up.
    let app = match router(options.config).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("group-identity-emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    print!("{text}");
    // Scripts read the address from the first line; a pipe would otherwise hold it back.
    let _ = std::io::stdout().flush();
    match serve(listener, app, shutdown_signal()).await {
        Ok(()) => {
            eprintln!("group-identity-emulator: stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("group-identity-emulator: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C, or SIGTERM where there is one: finish the requests in flight, then stop.
async fn shutdown_signal() {
    let ctrl_c = async {
        // Without a signal handler, run until killed rather than stop at once.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
