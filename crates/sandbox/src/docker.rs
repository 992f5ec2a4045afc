//! [`DockerSandbox`]: one long-lived container per task on the local Docker Engine through
//! bollard 0.21 (rust-stack.md §5, SWE-bench `docker_utils.py`). The container idles on a bash
//! loop that reaps orphans ([`IDLE_INIT`]) with the network disabled (`network_mode: none`), memory (no swap), CPU and
//! pids limits, and the labels `srl-swe=1` and `srl-swe.run=<run id>`.
//!
//! Each command is one exec of `timeout -s KILL <t> bash -c <script>`; GNU `timeout` kills its
//! whole process group when it fires. A `tokio::time::timeout` of `t + 1 s` guards the stream
//! too (background jobs keep it open); when it fires, a second exec kills every process whose
//! environment carries this exec's `SRL_EXEC_ID`, which also reaches processes that left the
//! group with `setsid`. Containers are removed by [`Sandbox::remove`], on drop, on Ctrl-C
//! ([`install_ctrl_c_cleanup`]) and by [`gc`] (by label) after a crash.
use crate::sandbox::OutputCollector;
use crate::{ExecOutput, ExecRequest, Result, Sandbox, SandboxConfig, SandboxError};
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The container's main process: an idle loop that reaps orphaned children.
pub const IDLE_INIT: &str = "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done";

/// Label present on every container srl-swe creates.
pub const LABEL: &str = "srl-swe";
/// Label holding the run id.
pub const RUN_LABEL: &str = "srl-swe.run";

/// Connects through `DOCKER_HOST` or the local socket and negotiates the API version.
pub async fn connect() -> Result<Docker> {
    let docker =
        Docker::connect_with_local_defaults().map_err(|e| SandboxError::DockerUnavailable { detail: e.to_string() })?;
    let docker =
        docker.negotiate_version().await.map_err(|e| SandboxError::DockerUnavailable { detail: e.to_string() })?;
    docker.ping().await.map_err(|e| SandboxError::DockerUnavailable { detail: e.to_string() })?;
    Ok(docker)
}

/// Whether an image is present locally.
pub async fn image_exists(docker: &Docker, image: &str) -> Result<bool> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(false),
        Err(e) => Err(SandboxError::docker("inspect_image", None, e)),
    }
}

fn live() -> &'static Mutex<HashMap<String, Docker>> {
    static LIVE: OnceLock<Mutex<HashMap<String, Docker>>> = OnceLock::new();
    LIVE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn register(id: &str, docker: &Docker) {
    if let Ok(mut map) = live().lock() {
        map.insert(id.to_string(), docker.clone());
    }
}

fn unregister(id: &str) {
    if let Ok(mut map) = live().lock() {
        map.remove(id);
    }
}

/// Ids of the containers this process created and has not removed yet.
pub fn live_containers() -> Vec<String> {
    live().lock().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

/// Removes every container this process still holds (used on Ctrl-C). Returns how many.
pub async fn remove_live_containers() -> usize {
    let items: Vec<(String, Docker)> = live().lock().map(|mut m| m.drain().collect()).unwrap_or_default();
    let mut n = 0;
    for (id, docker) in items {
        if force_remove(&docker, &id).await.is_ok() {
            n += 1;
        }
    }
    n
}

static STOPPING: AtomicBool = AtomicBool::new(false);
static CREATING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Counts a container creation in flight for [`shutdown_cleanup`].
struct CreatingGuard;

impl CreatingGuard {
    fn new() -> Self {
        CREATING.fetch_add(1, Ordering::SeqCst);
        Self
    }
}

impl Drop for CreatingGuard {
    fn drop(&mut self) {
        CREATING.fetch_sub(1, Ordering::SeqCst);
    }
}

fn run_ids() -> &'static Mutex<std::collections::HashSet<String>> {
    static IDS: OnceLock<Mutex<std::collections::HashSet<String>>> = OnceLock::new();
    IDS.get_or_init(|| Mutex::new(std::collections::HashSet::new()))
}

/// Removes every container of this process: the live ones, then (twice, to catch creations
/// in flight) every container labelled with a run id this process used. New containers are
/// refused from the first call on. Returns how many were removed.
pub async fn shutdown_cleanup() -> usize {
    STOPPING.store(true, Ordering::SeqCst);
    // Let container creations in flight finish (they remove themselves once STOPPING is set).
    let t0 = tokio::time::Instant::now();
    while CREATING.load(Ordering::SeqCst) > 0 && t0.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut n = remove_live_containers().await;
    let ids: Vec<String> = run_ids().lock().map(|s| s.iter().cloned().collect()).unwrap_or_default();
    if let Ok(docker) = connect().await {
        for _ in 0..2 {
            for id in &ids {
                n += gc(&docker, Some(id)).await.map(|v| v.len()).unwrap_or(0);
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    n
}

/// Whether [`shutdown_cleanup`] has started (e.g. after Ctrl-C): batch drivers should stop and
/// let it finish instead of reporting the failures it causes.
pub fn shutting_down() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// Spawns a task that, on Ctrl-C, removes this process's containers ([`shutdown_cleanup`])
/// and exits with code 130. Call once from inside a tokio runtime.
pub fn install_ctrl_c_cleanup() {
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            let n = shutdown_cleanup().await;
            tracing::warn!(removed = n, "interrupted: removed the sandbox containers of this run");
            std::process::exit(130);
        }
    });
}

async fn force_remove(docker: &Docker, id: &str) -> Result<()> {
    let opts = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    match docker.remove_container(id, Some(opts)).await {
        Ok(()) => Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(()),
        // 409: removal already in progress.
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => Ok(()),
        Err(e) => Err(SandboxError::docker("remove_container", Some(id), e)),
    }
}

/// Removes containers carrying the project label (all of them, or one run's). Returns their ids.
pub async fn gc(docker: &Docker, run_id: Option<&str>) -> Result<Vec<String>> {
    let label = match run_id {
        Some(r) => format!("{RUN_LABEL}={r}"),
        None => format!("{LABEL}=1"),
    };
    let mut filters = HashMap::new();
    filters.insert("label", vec![label.as_str()]);
    let opts = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
    let list =
        docker.list_containers(Some(opts)).await.map_err(|e| SandboxError::docker("list_containers", None, e))?;
    let mut removed = Vec::new();
    for c in list {
        if let Some(id) = c.id {
            force_remove(docker, &id).await?;
            unregister(&id);
            removed.push(id);
        }
    }
    Ok(removed)
}

/// A running container (see the module docs).
pub struct DockerSandbox {
    docker: Docker,
    id: String,
    name: String,
    config: SandboxConfig,
    removed: AtomicBool,
    session: tokio::sync::Mutex<Option<crate::session::Session>>,
}

impl std::fmt::Debug for DockerSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerSandbox").field("id", &self.id).finish()
    }
}

static EXEC_COUNTER: AtomicU64 = AtomicU64::new(0);

impl DockerSandbox {
    /// Connects and starts a container from `image`.
    pub async fn start(image: &str, config: &SandboxConfig) -> Result<Self> {
        let docker = connect().await?;
        Self::start_with(&docker, image, config).await
    }

    /// Starts a container from `image` on an existing connection; waits until it runs commands.
    pub async fn start_with(docker: &Docker, image: &str, config: &SandboxConfig) -> Result<Self> {
        if !image_exists(docker, image).await? {
            return Err(SandboxError::ImageMissing { image: image.to_string(), instance: None });
        }
        let run_id = config.run_id();
        if let Ok(mut ids) = run_ids().lock() {
            ids.insert(run_id.clone());
        }
        let labels = HashMap::from([(LABEL.to_string(), "1".to_string()), (RUN_LABEL.to_string(), run_id)]);
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            // PID 1 must reap orphans: killed process trees leave zombies that would hold
            // pids (and a fork bomb's would exhaust the limit for good). bash reaps adopted
            // children while it waits; `sleep infinity` would not.
            cmd: Some(vec!["bash".into(), "-c".into(), IDLE_INIT.into()]),
            working_dir: Some(config.workdir.clone()),
            labels: Some(labels),
            network_disabled: Some(true),
            env: Some(vec![
                "GIT_PAGER=cat".into(),
                "PAGER=cat".into(),
                "LANG=C.UTF-8".into(),
                "PYTHONDONTWRITEBYTECODE=1".into(),
            ]),
            host_config: Some(HostConfig {
                memory: Some(config.memory_bytes),
                memory_swap: Some(config.memory_bytes),
                nano_cpus: Some(config.nano_cpus),
                pids_limit: Some(config.pids_limit),
                network_mode: Some("none".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let opts = CreateContainerOptionsBuilder::default().build();
        if STOPPING.load(Ordering::SeqCst) {
            return Err(SandboxError::Removed { name: format!("new container from {image} (shutting down)") });
        }
        let _creating = CreatingGuard::new();
        let created = docker
            .create_container(Some(opts), body)
            .await
            .map_err(|e| SandboxError::docker("create_container", None, e))?;
        let id = created.id;
        if STOPPING.load(Ordering::SeqCst) {
            force_remove(docker, &id).await?;
            return Err(SandboxError::Removed { name: format!("docker:{id} (shutting down)") });
        }
        register(&id, docker);
        let sandbox = Self {
            docker: docker.clone(),
            name: format!("docker:{}", &id[..12.min(id.len())]),
            id,
            config: config.clone(),
            removed: AtomicBool::new(false),
            session: tokio::sync::Mutex::new(None),
        };
        if let Err(e) =
            docker.start_container(&sandbox.id, None::<bollard::query_parameters::StartContainerOptions>).await
        {
            let err = SandboxError::docker("start_container", Some(&sandbox.id), e);
            sandbox.remove().await?;
            return Err(err);
        }
        // Ready when a command runs.
        let ready = sandbox.exec(&ExecRequest::new("true").timeout(Duration::from_secs(30))).await;
        match ready {
            Ok(out) if out.success() => {}
            Ok(out) => {
                let err = SandboxError::CommandFailed {
                    sandbox: sandbox.name.clone(),
                    cmd: "true".into(),
                    exit_code: out.exit_code,
                    output: out.output,
                };
                sandbox.remove().await?;
                return Err(err);
            }
            Err(e) => {
                sandbox.remove().await?;
                return Err(e);
            }
        }
        tracing::debug!(container = %sandbox.id, image, "sandbox started");
        Ok(sandbox)
    }

    /// Runs a command over the persistent exec session (see [`crate::session`]): the same
    /// timeout, tree kill and output cap as [`Sandbox::exec`], standard error merged into
    /// standard output, much lower latency.
    pub async fn exec_session(&self, request: &ExecRequest) -> Result<ExecOutput> {
        self.check_live()?;
        let timeout = request.timeout.unwrap_or_else(|| self.config.exec_timeout());
        let marker = format!("{}-{}", std::process::id(), EXEC_COUNTER.fetch_add(1, Ordering::Relaxed));
        let workdir = request.workdir.clone().unwrap_or_else(|| self.config.workdir.clone());
        let mut guard = self.session.lock().await;
        if guard.is_none() {
            let opts = CreateExecOptions {
                cmd: Some(vec!["bash".to_string(), "-c".into(), crate::session::SERVER.into()]),
                attach_stdin: Some(true),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                working_dir: Some("/".into()),
                ..Default::default()
            };
            if let StartedExec { results: StartExecResults::Attached { output, input }, .. } =
                self.create_and_start(opts).await?
            {
                *guard = Some(crate::session::Session { input, output });
            }
        }
        let Some(session) = guard.as_mut() else {
            return Err(SandboxError::DockerUnavailable { detail: "exec session did not attach".into() });
        };
        let result =
            crate::session::run(session, &self.id, &marker, request, &workdir, timeout, self.config.output_limit_bytes)
                .await;
        match result {
            Ok((out, timed_out)) => {
                if timed_out {
                    // The server may still wait on the command: kill its tree; drop the session
                    // if it is out of step (the marker of this request is never read).
                    self.kill_exec_tree(&marker).await;
                    *guard = None;
                }
                Ok(out)
            }
            Err(e) => {
                *guard = None;
                Err(e)
            }
        }
    }

    /// The container id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    fn check_live(&self) -> Result<()> {
        if self.removed.load(Ordering::SeqCst) {
            return Err(SandboxError::Removed { name: self.name.clone() });
        }
        Ok(())
    }

    async fn raw_exec(&self, cmd: Vec<String>, env: Vec<String>, workdir: Option<String>) -> Result<StartedExec> {
        let opts = CreateExecOptions {
            cmd: Some(cmd),
            env: Some(env),
            working_dir: workdir,
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        self.create_and_start(opts).await
    }

    /// Creates an exec in the container and starts it attached.
    async fn create_and_start(&self, opts: CreateExecOptions<String>) -> Result<StartedExec> {
        let created = self
            .docker
            .create_exec(&self.id, opts)
            .await
            .map_err(|e| SandboxError::docker("create_exec", Some(&self.id), e))?;
        let started = self
            .docker
            .start_exec(
                &created.id,
                Some(StartExecOptions { detach: false, tty: false, output_capacity: Some(64 * 1024) }),
            )
            .await
            .map_err(|e| SandboxError::docker("start_exec", Some(&self.id), e))?;
        Ok(StartedExec { exec_id: created.id, results: started })
    }

    /// Runs a builtins-only script to completion; `Some(exit code)` when it could run.
    async fn run_builtin_script(&self, script: &str, limit: Duration) -> Option<i64> {
        let started = self
            .raw_exec(vec!["bash".into(), "-c".into(), script.to_string()], Vec::new(), Some("/".into()))
            .await
            .ok()?;
        if let StartExecResults::Attached { mut output, .. } = started.results {
            tokio::time::timeout(limit, async { while output.next().await.is_some() {} }).await.ok()?;
        }
        self.docker.inspect_exec(&started.exec_id).await.ok()?.exit_code
    }

    async fn kill_exec_tree(&self, marker: &str) {
        // Bash builtins only (no fork per process): stop every marked process first (stopped
        // processes cannot fork), then kill them, then check that none is left. When that
        // fails (e.g. no pid left to start the killer), the container is restarted: killing
        // its init kills every process in it, and its file system is kept.
        let each = format!(
            r#"for p in /proc/[0-9]*; do [ -r "$p/environ" ] || continue; while IFS= read -r -d '' e; do if [ "$e" = "SRL_EXEC_ID={marker}" ]; then ACTION; break; fi; done < "$p/environ"; done"#
        );
        let kill = format!(
            "for sig in STOP STOP STOP KILL KILL; do {}; done; true",
            each.replace("ACTION", r#"kill -$sig "${p#/proc/}" 2>/dev/null"#)
        );
        let check = format!("{}; exit 0", each.replace("ACTION", "exit 1"));
        for _ in 0..3 {
            if self.run_builtin_script(&kill, Duration::from_secs(3)).await.is_some()
                && self.run_builtin_script(&check, Duration::from_secs(3)).await == Some(0)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tracing::warn!(container = %self.id, "timed-out command not confirmed dead: restarting the container");
        if let Err(e) =
            self.docker.kill_container(&self.id, None::<bollard::query_parameters::KillContainerOptions>).await
        {
            tracing::warn!(container = %self.id, error = %e, "kill_container failed");
        }
        let _ = tokio::time::timeout(
            Duration::from_secs(10),
            self.docker.wait_container(&self.id, None::<bollard::query_parameters::WaitContainerOptions>).next(),
        )
        .await;
        if let Err(e) =
            self.docker.start_container(&self.id, None::<bollard::query_parameters::StartContainerOptions>).await
        {
            tracing::warn!(container = %self.id, error = %e, "restarting the container failed");
        }
    }
}

struct StartedExec {
    exec_id: String,
    results: StartExecResults,
}

impl Sandbox for DockerSandbox {
    fn name(&self) -> &str {
        &self.name
    }

    async fn exec(&self, request: &ExecRequest) -> Result<ExecOutput> {
        self.check_live()?;
        let timeout = request.timeout.unwrap_or_else(|| self.config.exec_timeout());
        let marker = format!("{}-{}", std::process::id(), EXEC_COUNTER.fetch_add(1, Ordering::Relaxed));
        let mut env = vec![format!("SRL_EXEC_ID={marker}")];
        env.extend(request.env.iter().map(|(k, v)| format!("{k}={v}")));
        let cmd = vec![
            "timeout".to_string(),
            "-s".into(),
            "KILL".into(),
            format!("{:.3}", timeout.as_secs_f64()),
            "bash".into(),
            "-c".into(),
            request.script.clone(),
        ];
        let start = Instant::now();
        let workdir = Some(request.workdir.clone().unwrap_or_else(|| self.config.workdir.clone()));
        let started = self.raw_exec(cmd, env, workdir).await?;
        let mut collector = OutputCollector::new(self.config.output_limit_bytes);
        let mut guard_fired = false;
        if let StartExecResults::Attached { mut output, .. } = started.results {
            let deadline = tokio::time::Instant::now() + timeout + Duration::from_secs(1);
            loop {
                match tokio::time::timeout_at(deadline, output.next()).await {
                    Err(_) => {
                        guard_fired = true;
                        break;
                    }
                    Ok(None) => break,
                    Ok(Some(Err(e))) => return Err(SandboxError::docker("exec stream", Some(&self.id), e)),
                    Ok(Some(Ok(chunk))) => match chunk {
                        LogOutput::StdErr { message } => collector.push(true, &message),
                        LogOutput::StdOut { message } | LogOutput::Console { message } => {
                            collector.push(false, &message)
                        }
                        LogOutput::StdIn { .. } => {}
                    },
                }
            }
        }
        let inspect = self
            .docker
            .inspect_exec(&started.exec_id)
            .await
            .map_err(|e| SandboxError::docker("inspect_exec", Some(&self.id), e))?;
        let elapsed = start.elapsed();
        let mut exit_code = inspect.exit_code.unwrap_or(if guard_fired { 137 } else { -1 });
        if guard_fired {
            exit_code = 137;
        }
        let timed_out = guard_fired || (exit_code == 137 && elapsed + Duration::from_millis(50) >= timeout);
        if timed_out {
            // Processes that escaped `timeout` (forked while it killed the group, or detached)
            // keep running after the exec ends: find them by their marker.
            self.kill_exec_tree(&marker).await;
        }
        Ok(collector.finish(exit_code, timed_out, elapsed))
    }

    async fn exec_merged(&self, request: &ExecRequest) -> Result<ExecOutput> {
        self.exec_session(request).await
    }

    async fn write_file(&self, path: &str, contents: &[u8]) -> Result<()> {
        self.check_live()?;
        let rel = crate::paths::relative_to_root(path)?;
        let tar = crate::paths::single_file_tar(&rel, contents)?;
        let opts = UploadToContainerOptionsBuilder::default().path("/").build();
        self.docker
            .upload_to_container(&self.id, Some(opts), bollard::body_full(tar.into()))
            .await
            .map_err(|e| SandboxError::docker("upload_to_container", Some(&self.id), e))
    }

    async fn read_file(&self, path: &str) -> Result<Vec<u8>> {
        let tar = self.download(path).await?;
        crate::paths::first_file_from_tar(&tar, path)
    }

    async fn upload(&self, tar: Vec<u8>, dest_dir: &str) -> Result<()> {
        self.check_live()?;
        crate::paths::relative_to_root(dest_dir)?;
        let mk = self.exec(&ExecRequest::new(format!("mkdir -p {}", crate::paths::shell_quote(dest_dir)))).await?;
        if !mk.success() {
            return Err(SandboxError::CommandFailed {
                sandbox: self.name.clone(),
                cmd: format!("mkdir -p {dest_dir}"),
                exit_code: mk.exit_code,
                output: mk.output,
            });
        }
        let opts = UploadToContainerOptionsBuilder::default().path(dest_dir).build();
        self.docker
            .upload_to_container(&self.id, Some(opts), bollard::body_full(tar.into()))
            .await
            .map_err(|e| SandboxError::docker("upload_to_container", Some(&self.id), e))
    }

    async fn download(&self, path: &str) -> Result<Vec<u8>> {
        self.check_live()?;
        crate::paths::relative_to_root(path)?;
        let opts = DownloadFromContainerOptionsBuilder::default().path(path).build();
        let mut stream = self.docker.download_from_container(&self.id, Some(opts));
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(b) => bytes.extend_from_slice(&b),
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                    return Err(SandboxError::NotFound { path: path.to_string() })
                }
                Err(e) => return Err(SandboxError::docker("download_from_container", Some(&self.id), e)),
            }
        }
        Ok(bytes)
    }

    async fn remove(&self) -> Result<()> {
        if self.removed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        unregister(&self.id);
        force_remove(&self.docker, &self.id).await
    }
}

impl Drop for DockerSandbox {
    fn drop(&mut self) {
        if self.removed.swap(true, Ordering::SeqCst) {
            return;
        }
        unregister(&self.id);
        let docker = self.docker.clone();
        let id = self.id.clone();
        // A blocking cleanup on its own thread and runtime: works inside or outside tokio.
        let handle = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            match rt {
                Ok(rt) => {
                    if let Err(e) = rt.block_on(force_remove(&docker, &id)) {
                        tracing::warn!(container = %id, error = %e, "could not remove sandbox container on drop");
                    }
                }
                Err(e) => tracing::warn!(container = %id, error = %e, "no runtime to remove sandbox container on drop"),
            }
        });
        let _ = handle.join();
    }
}
