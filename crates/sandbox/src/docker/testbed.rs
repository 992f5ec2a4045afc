//! Seeding a sandbox's memory-backed `/testbed` with the image's own `/testbed` (see the
//! [`super`] module docs): read once per image from a helper container, repacked for the command
//! user in the image's readdir order, cached per image and owner.
use super::{force_remove, register, unregister, CreatingGuard, STOPPING};
use crate::{Result, SandboxError};
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder};
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, OnceLock};

/// The block device holding Docker's data on this host, once per process (blkio limits).
pub(super) async fn io_device(docker: &Docker) -> Option<String> {
    static DEVICE: tokio::sync::OnceCell<Option<String>> = tokio::sync::OnceCell::const_new();
    DEVICE
        .get_or_init(|| async {
            let root = docker.info().await.ok()?.docker_root_dir?;
            crate::hardening::block_device_of(std::path::Path::new(&root))
        })
        .await
        .clone()
}

/// The image's `/testbed` as a tar archive ready to upload into the container's `/testbed`
/// volume (entries relative to it, owned by the command user), read from a created, never
/// started container; empty when the image has none. Cached per image id and owner while
/// the cache holds under 512 MiB.
pub(super) async fn image_testbed(
    docker: &Docker,
    image: &str,
    owner: (u32, u32),
    labels: &HashMap<String, String>,
) -> Result<std::sync::Arc<Vec<u8>>> {
    type Cache = Mutex<HashMap<(String, (u32, u32)), std::sync::Arc<Vec<u8>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    const CACHE_BYTES: usize = 512 << 20;
    let image_id = docker
        .inspect_image(image)
        .await
        .map_err(|e| SandboxError::docker("inspect_image", None, e))?
        .id
        .unwrap_or_else(|| image.to_string());
    let key = (image_id, owner);
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(hit);
    }
    // Started (no network, no capabilities but reading, read-only) to list /testbed in its
    // readdir order, which the copy keeps.
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(vec!["sleep".into(), "600".into()]),
        user: Some("0:0".into()),
        labels: Some(labels.clone()),
        network_disabled: Some(true),
        host_config: Some(HostConfig {
            network_mode: Some("none".into()),
            cap_drop: Some(vec!["ALL".into()]),
            cap_add: Some(vec!["DAC_READ_SEARCH".into()]),
            security_opt: Some(vec!["no-new-privileges".into()]),
            readonly_rootfs: Some(true),
            log_config: Some(bollard::models::HostConfigLogConfig { typ: Some("none".into()), config: None }),
            pids_limit: Some(64),
            ..Default::default()
        }),
        ..Default::default()
    };
    // Counted before the check, so a shutdown that started sees this creation and waits for it.
    let _creating = CreatingGuard::new();
    if STOPPING.load(Ordering::SeqCst) {
        return Err(SandboxError::Removed { name: format!("helper container of {image} (shutting down)") });
    }
    let created = docker
        .create_container(Some(CreateContainerOptionsBuilder::default().build()), body)
        .await
        .map_err(|e| SandboxError::docker("create_container", None, e))?;
    register(&created.id, docker);
    let read = read_testbed(docker, &created.id).await;
    unregister(&created.id);
    force_remove(docker, &created.id).await?;
    let (bytes, readdir) = read?;
    let tar = std::sync::Arc::new(if bytes.is_empty() {
        Vec::new()
    } else {
        let repacked = crate::paths::repack_tar(&bytes, owner, Some("testbed"))?;
        crate::paths::order_for_tmpfs(&repacked, &readdir)?
    });
    if let Ok(mut c) = cache.lock() {
        if c.values().map(|v| v.len()).sum::<usize>() + tar.len() <= CACHE_BYTES {
            c.insert(key, tar.clone());
        }
    }
    Ok(tar)
}

/// `/testbed` of a helper container as Docker's (sorted) tar, empty when missing, and its
/// paths in readdir order (GNU `find`).
async fn read_testbed(docker: &Docker, id: &str) -> Result<(Vec<u8>, Vec<String>)> {
    docker
        .start_container(id, None::<bollard::query_parameters::StartContainerOptions>)
        .await
        .map_err(|e| SandboxError::docker("start_container", Some(id), e))?;
    let opts = CreateExecOptions {
        cmd: Some(vec![
            "sh".to_string(),
            "-c".into(),
            "[ -d /testbed ] && find /testbed -mindepth 1 -printf '%P\\0' || true".into(),
        ]),
        attach_stdout: Some(true),
        attach_stderr: Some(false),
        ..Default::default()
    };
    let exec = docker.create_exec(id, opts).await.map_err(|e| SandboxError::docker("create_exec", Some(id), e))?;
    let mut listing = Vec::new();
    if let StartExecResults::Attached { mut output, .. } =
        docker
            .start_exec(&exec.id, None::<StartExecOptions>)
            .await
            .map_err(|e| SandboxError::docker("start_exec", Some(id), e))?
    {
        while let Some(chunk) = output.next().await {
            if let Ok(LogOutput::StdOut { message }) = chunk {
                listing.extend_from_slice(&message);
            }
        }
    }
    let readdir: Vec<String> =
        listing.split(|&b| b == 0).filter(|p| !p.is_empty()).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
    let opts = DownloadFromContainerOptionsBuilder::default().path(crate::hardening::TESTBED).build();
    let mut stream = docker.download_from_container(id, Some(opts));
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(b) => bytes.extend_from_slice(&b),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => break,
            Err(e) => return Err(SandboxError::docker("download_from_container", Some(id), e)),
        }
    }
    Ok((bytes, readdir))
}
