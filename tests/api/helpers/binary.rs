//! The real `signatories` binary as an operator runs it: started on a cluster
//! directory, probed over blocking HTTP, and stopped with SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

pub fn signatories_bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_signatories"));
    command.env_remove("DATABASE_URL").env_remove("RUST_LOG");
    command
}

/// One request on a new connection: the status and the whole response, head and body.
pub fn http_request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

pub fn http_get(address: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    (status, response)
}

/// Runs the real binary on its embedded default until it logs that it serves, and
/// returns the process and the address it listens on.
pub fn start_service(
    data_dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (std::process::Child, String) {
    let mut child = signatories_bin()
        .args(["serve"])
        .envs(env.iter().copied())
        .env("SIGNATORIES_DATA_DIR", data_dir)
        .env("SIGNATORIES_BIND", "127.0.0.1:0")
        .env("SIGNATORIES_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("the service logs before it exits")
            .unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        if event["message"] == "serving" {
            break event["address"].as_str().unwrap().to_owned();
        }
    };
    // Keep draining the log so that the service never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, address)
}

/// Polls `/readyz` as an orchestrator would: the service is ready once its alignment
/// matrix is loaded, in the background after it starts serving.
pub fn wait_until_ready(address: &str) {
    let mut last = String::new();
    for _ in 0..600 {
        let (status, body) = http_get(address, "/readyz");
        if status == 200 {
            return;
        }
        assert_eq!(status, 503, "{body}");
        last = body;
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("never ready: {last}");
}

pub fn terminate(mut child: std::process::Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(child.wait().unwrap().success(), "a clean exit on SIGTERM");
}
