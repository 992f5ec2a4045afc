//! A minimal HTTP/1.1 client for the serve tests and the load bench: hyper's connection API over
//! a tokio TcpStream, one connection per call (as OpenRLHF's executor does) or kept open.
#![allow(dead_code)]
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// An open keep-alive connection.
pub(crate) struct Conn {
    sender: http1::SendRequest<Full<Bytes>>,
}

impl Conn {
    /// Connects to `addr`.
    pub(crate) async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self { sender })
    }

    /// Sends one request and reads the whole answer: (status, body).
    pub(crate) async fn send(&mut self, method: &str, path: &str, body: Vec<u8>) -> anyhow::Result<(u16, Vec<u8>)> {
        self.sender.ready().await?;
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes().to_vec();
        Ok((status, body))
    }
}

/// POSTs `body` to `path` on a fresh connection.
pub(crate) async fn post(
    addr: SocketAddr,
    path: &str,
    body: impl Into<Vec<u8>>,
) -> anyhow::Result<(u16, serde_json::Value)> {
    let mut conn = Conn::open(addr).await?;
    let (status, bytes) = conn.send("POST", path, body.into()).await?;
    let value = serde_json::from_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("answer of {path} is not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))?;
    Ok((status, value))
}

/// GETs `path` on a fresh connection: (status, body text).
pub(crate) async fn get(addr: SocketAddr, path: &str) -> anyhow::Result<(u16, String)> {
    let mut conn = Conn::open(addr).await?;
    let (status, bytes) = conn.send("GET", path, Vec::new()).await?;
    Ok((status, String::from_utf8(bytes)?))
}
