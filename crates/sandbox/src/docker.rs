//! [`DockerSandbox`]: one long-lived container per task on the local Docker Engine through
//! bollard 0.21 (bollard docs, SWE-bench `harness/docker_utils.py`). The container idles on a bash
//! loop that reaps orphans ([`IDLE_INIT`]) under the profile of [`crate::hardening`] (no
//! network, no capabilities for the command user, `no-new-privileges`, read-only image root,
//! size-capped memory-backed `/testbed` and `/tmp`, memory / CPU / pids / block-I/O limits) and
//! carries the labels `srl-swe=1`, `srl-swe.run=<run id>` and its owner's ([`crate::owner`]).
//! `/testbed` is filled at start with the image's `/testbed`, read from a created (never
//! started) container of the same image.
//!
//! Commands run one at a time, as the unprivileged user of [`SandboxConfig::user`]: each is one
//! exec of `timeout -s KILL <t> bash -c <script>`; GNU `timeout` kills its whole process group
//! when it fires. A `tokio::time::timeout` of `t + 1 s` guards the stream too (background jobs
//! keep it open). After a timeout every process of the command user is stopped and killed
//! (a process can leave its group with `setsid` and clear its environment with `env -i`, not
//! change its user). Containers are removed by [`Sandbox::remove`], on drop, on Ctrl-C
//! ([`install_ctrl_c_cleanup`]) and by [`gc`] after a crash: only those whose owner is gone,
//! unless told otherwise. docs/sandbox.md states the resulting security profile.
pub use crate::hardening::ROOT_CAPABILITIES;

mod testbed;
use crate::sandbox::OutputCollector;
use crate::{ExecOutput, ExecRequest, Result, Sandbox, SandboxConfig, SandboxError};
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder, ListContainersOptionsBuilder,
    ListVolumesOptionsBuilder, RemoveContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use testbed::{image_testbed, io_device};

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
                n += gc(&docker, GcScope::Run(id)).await.map(|v| v.removed.len()).unwrap_or(0);
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

/// Which containers [`gc`] removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcScope<'a> {
    /// Those whose owning process is gone ([`crate::owner`]); containers of live jobs and of
    /// other hosts are kept.
    Orphaned,
    /// Every container of one run id, live or not.
    Run(&'a str),
    /// Every srl-swe container on the engine.
    All,
}

/// What [`gc`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GcOutcome {
    /// Ids of the removed containers.
    pub removed: Vec<String>,
    /// (id, why) of the containers kept.
    pub kept: Vec<(String, String)>,
    /// Names of removed volumes left behind by containers removed without theirs.
    pub removed_volumes: Vec<String>,
}

/// Removes srl-swe containers (see [`GcScope`]) with their volumes, then the dangling
/// srl-swe volumes.
pub async fn gc(docker: &Docker, scope: GcScope<'_>) -> Result<GcOutcome> {
    let label = match scope {
        GcScope::Run(r) => format!("{RUN_LABEL}={r}"),
        GcScope::Orphaned | GcScope::All => format!("{LABEL}=1"),
    };
    let mut filters = HashMap::new();
    filters.insert("label", vec![label.as_str()]);
    let opts = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
    let list =
        docker.list_containers(Some(opts)).await.map_err(|e| SandboxError::docker("list_containers", None, e))?;
    let mut outcome = GcOutcome::default();
    for c in list {
        let Some(id) = c.id else { continue };
        if scope == GcScope::Orphaned {
            match crate::owner::liveness_of(&c.labels.unwrap_or_default()) {
                crate::owner::Liveness::Gone => {}
                crate::owner::Liveness::Alive => {
                    outcome.kept.push((id, "its owner process is running".into()));
                    continue;
                }
                crate::owner::Liveness::OtherHost(h) => {
                    outcome.kept.push((id, format!("owned by a process on host {h:?} (use --all)")));
                    continue;
                }
            }
        }
        force_remove(docker, &id).await?;
        unregister(&id);
        outcome.removed.push(id);
    }
    let mut vfilters = HashMap::new();
    vfilters.insert("label", vec![format!("{LABEL}=1")]);
    vfilters.insert("dangling", vec!["true".to_string()]);
    let vopts = ListVolumesOptionsBuilder::default().filters(&vfilters).build();
    if let Ok(volumes) = docker.list_volumes(Some(vopts)).await {
        for v in volumes.volumes.unwrap_or_default() {
            if docker.remove_volume(&v.name, None::<bollard::query_parameters::RemoveVolumeOptions>).await.is_ok() {
                outcome.removed_volumes.push(v.name);
            }
        }
    }
    Ok(outcome)
}

/// A running container (see the module docs).
pub struct DockerSandbox {
    docker: Docker,
    id: String,
    name: String,
    config: SandboxConfig,
    /// The command user's (uid, gid).
    owner: (u32, u32),
    /// Whether the image has `setpriv`, so the session server can run as root and drop to the
    /// command user for each command (the command then cannot read the server's framing).
    setpriv: AtomicBool,
    removed: AtomicBool,
    /// The exec session, also the lock that runs one command at a time: a timeout kills every
    /// process of the command user.
    session: tokio::sync::Mutex<Option<crate::session::Session>>,
}

impl std::fmt::Debug for DockerSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerSandbox").field("id", &self.id).finish()
    }
}

/// A fresh secret for the framing of one session request: 128 bits from the host's
/// `/dev/urandom`, never exported to the command (falls back to time and a counter).
fn frame_secret() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut buf = [0u8; 16];
    let ok = std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf)).is_ok();
    if !ok {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        buf = (t ^ (u128::from(COUNTER.fetch_add(1, Ordering::Relaxed)) << 64)).to_le_bytes();
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

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
        let owner =
            config.uid_gid().map_err(|message| SandboxError::Config { path: "(sandbox config)".into(), message })?;
        config.validate().map_err(|message| SandboxError::Config { path: "(sandbox config)".into(), message })?;
        let run_id = config.run_id();
        if let Ok(mut ids) = run_ids().lock() {
            ids.insert(run_id.clone());
        }
        let mut labels = HashMap::from([(LABEL.to_string(), "1".to_string()), (RUN_LABEL.to_string(), run_id)]);
        labels.extend(crate::owner::Owner::current().labels());
        labels.extend(config.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        let testbed = image_testbed(docker, image, owner, &labels).await?;
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            // PID 1 must reap orphans: killed process trees leave zombies that would hold
            // pids (and a fork bomb's would exhaust the limit for good). bash reaps adopted
            // children while it waits; `sleep infinity` would not. It runs as root, so the
            // command user cannot signal it.
            cmd: Some(vec!["bash".into(), "-c".into(), IDLE_INIT.into()]),
            user: Some("0:0".into()),
            working_dir: Some("/".into()),
            labels: Some(labels),
            network_disabled: Some(true),
            env: Some(vec![
                "GIT_PAGER=cat".into(),
                "PAGER=cat".into(),
                "LANG=C.UTF-8".into(),
                "PYTHONDONTWRITEBYTECODE=1".into(),
                "HOME=/tmp".into(),
                "TMPDIR=/tmp".into(),
            ]),
            host_config: Some(crate::hardening::host_config(config, io_device(docker).await.as_deref())),
            ..Default::default()
        };
        let opts = CreateContainerOptionsBuilder::default().build();
        let _creating = CreatingGuard::new();
        if STOPPING.load(Ordering::SeqCst) {
            return Err(SandboxError::Removed { name: format!("new container from {image} (shutting down)") });
        }
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
            owner,
            setpriv: AtomicBool::new(false),
            removed: AtomicBool::new(false),
            session: tokio::sync::Mutex::new(None),
        };
        if let Err(e) = sandbox.set_up(&testbed).await {
            sandbox.remove().await?;
            return Err(e);
        }
        tracing::debug!(container = %sandbox.id, image, "sandbox started");
        Ok(sandbox)
    }

    /// Starts the container, hands `/testbed` and `/tmp` to the command user, fills `/testbed`
    /// and checks that a command runs.
    async fn set_up(&self, testbed: &[u8]) -> Result<()> {
        self.docker
            .start_container(&self.id, None::<bollard::query_parameters::StartContainerOptions>)
            .await
            .map_err(|e| SandboxError::docker("start_container", Some(&self.id), e))?;
        let script = crate::hardening::setup_script(self.owner.0, self.owner.1);
        let out = self.exec_as_root(&script, Duration::from_secs(60)).await?.require_success(&self.name, &script)?;
        self.setpriv.store(out.stdout.trim().ends_with("setpriv"), Ordering::SeqCst);
        if !testbed.is_empty() {
            let opts = UploadToContainerOptionsBuilder::default().path(crate::hardening::TESTBED).build();
            self.docker
                .upload_to_container(&self.id, Some(opts), bollard::body_full(testbed.to_vec().into()))
                .await
                .map_err(|e| SandboxError::docker("upload_to_container", Some(&self.id), e))?;
        }
        // The copy's stat data differ from the index's: refresh it (content unchanged), or the
        // first `git checkout -f` rewrites every file and changes the folders' listing order.
        let ready = "if [ -d /testbed/.git ]; then git -C /testbed update-index -q --refresh >/dev/null 2>&1; fi; true";
        self.exec(&ExecRequest::new(ready).timeout(Duration::from_secs(60)))
            .await?
            .require_success(&self.name, ready)?;
        Ok(())
    }

    /// Runs a script as root (the library's own set-up), output captured like a command's.
    async fn exec_as_root(&self, script: &str, limit: Duration) -> Result<ExecOutput> {
        let started = self
            .raw_exec(vec!["bash".into(), "-c".into(), script.to_string()], Vec::new(), Some("/".into()), "0:0")
            .await?;
        self.collect(started, limit, self.config.output_limit_bytes, crate::Capture::Head).await
    }

    /// Runs a command over the persistent exec session (see [`crate::session`]): the same
    /// timeout, tree kill and output cap as [`Sandbox::exec`], standard error merged into
    /// standard output, much lower latency.
    pub async fn exec_session(&self, request: &ExecRequest) -> Result<ExecOutput> {
        self.check_live()?;
        let timeout = request.timeout.unwrap_or_else(|| self.config.exec_timeout());
        let secret = frame_secret();
        let workdir = request.workdir.clone().unwrap_or_else(|| self.config.workdir.clone());
        let mut guard = self.session.lock().await;
        if guard.is_none() {
            // As root with `setpriv` (the command cannot reach the server's pipes or memory),
            // else as the command user (the secret alone guards the framing).
            let (user, mut cmd) = if self.setpriv.load(Ordering::SeqCst) {
                let (u, g) = self.owner;
                ("0:0".to_string(), vec![format!("--reuid={u}"), format!("--regid={g}"), "--clear-groups".into()])
            } else {
                (self.config.user.clone(), Vec::new())
            };
            let runner = if cmd.is_empty() { Vec::new() } else { vec!["setpriv".to_string()] };
            let mut args = vec!["bash".to_string(), "-c".into(), crate::session::SERVER.into(), "srl-session".into()];
            args.extend(runner);
            args.append(&mut cmd);
            let opts = CreateExecOptions {
                cmd: Some(args),
                attach_stdin: Some(true),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                working_dir: Some("/".into()),
                user: Some(user),
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
            crate::session::run(session, &self.id, &secret, request, &workdir, timeout, self.config.output_limit_bytes)
                .await;
        match result {
            Ok((out, timed_out)) => {
                if timed_out {
                    // Kill what the command left; the session is out of step (the marker of
                    // this request may never come): start a new one next time.
                    self.kill_user_processes().await;
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

    async fn raw_exec(
        &self,
        cmd: Vec<String>,
        env: Vec<String>,
        workdir: Option<String>,
        user: &str,
    ) -> Result<StartedExec> {
        let opts = CreateExecOptions {
            cmd: Some(cmd),
            env: Some(env),
            working_dir: workdir,
            user: Some(user.to_string()),
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

    /// Reads an exec's output under the cap until it ends or `limit` passes (then
    /// `timed_out`), and its exit code.
    async fn collect(
        &self,
        started: StartedExec,
        limit: Duration,
        cap: usize,
        capture: crate::Capture,
    ) -> Result<ExecOutput> {
        let start = Instant::now();
        let mut collector = OutputCollector::new(cap, capture);
        let mut guard_fired = false;
        if let StartExecResults::Attached { mut output, .. } = started.results {
            let deadline = tokio::time::Instant::now() + limit;
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
        let exit_code = if guard_fired { 137 } else { inspect.exit_code.unwrap_or(-1) };
        Ok(collector.finish(exit_code, guard_fired, start.elapsed()))
    }

    /// Runs a builtins-only root script to completion; `Some(exit code)` when it could run.
    async fn run_builtin_script(&self, script: &str, limit: Duration) -> Option<i64> {
        let started = self
            .raw_exec(vec!["bash".into(), "-c".into(), script.to_string()], Vec::new(), Some("/".into()), "0:0")
            .await
            .ok()?;
        if let StartExecResults::Attached { mut output, .. } = started.results {
            tokio::time::timeout(limit, async { while output.next().await.is_some() {} }).await.ok()?;
        }
        self.docker.inspect_exec(&started.exec_id).await.ok()?.exit_code
    }

    /// Kills every process of the command user ([`crate::hardening::kill_script`]), checks
    /// that none is left, and when that cannot be done (e.g. no pid left to start the killer)
    /// restarts the container: killing its init kills every process in it.
    async fn kill_user_processes(&self) {
        let uid = self.owner.0;
        let (kill, check) = (crate::hardening::kill_script(uid), crate::hardening::check_script(uid));
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
        let env: Vec<String> = request.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let cmd = vec![
            "timeout".to_string(),
            "-s".into(),
            "KILL".into(),
            format!("{:.3}", timeout.as_secs_f64()),
            "bash".into(),
            "-c".into(),
            request.script.clone(),
        ];
        let workdir = Some(request.workdir.clone().unwrap_or_else(|| self.config.workdir.clone()));
        let mut session = self.session.lock().await;
        let started = self.raw_exec(cmd, env, workdir, &self.config.user).await?;
        let mut out = self
            .collect(started, timeout + Duration::from_secs(1), self.config.output_limit_bytes, request.capture)
            .await?;
        out.timed_out = out.timed_out || (out.exit_code == 137 && out.duration + Duration::from_millis(50) >= timeout);
        if out.timed_out {
            out.exit_code = 137;
            // Processes that escaped `timeout` (forked while it killed the group, or left it
            // with setsid) keep running after the exec ends: kill the user's processes, which
            // ends the idle session server's commands too.
            self.kill_user_processes().await;
            *session = None;
        }
        Ok(out)
    }

    async fn exec_merged(&self, request: &ExecRequest) -> Result<ExecOutput> {
        self.exec_session(request).await
    }

    async fn write_file(&self, path: &str, contents: &[u8]) -> Result<()> {
        self.check_live()?;
        let rel = crate::paths::relative_to_root(path)?;
        let (parent, name) = match rel.rsplit_once('/') {
            Some((p, n)) => (format!("/{p}"), n.to_string()),
            None => ("/".to_string(), rel.clone()),
        };
        let tar = crate::paths::single_file_tar(&name, contents, self.owner)?;
        let upload = |tar: Vec<u8>| {
            let opts = UploadToContainerOptionsBuilder::default().path(&parent).build();
            self.docker.upload_to_container(&self.id, Some(opts), bollard::body_full(tar.into()))
        };
        match upload(tar.clone()).await {
            Ok(()) => Ok(()),
            // A missing parent: create it as the command user (Docker would create it as root).
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                let mk = format!("mkdir -p {}", crate::paths::shell_quote(&parent));
                self.exec(&ExecRequest::new(mk.clone()).workdir("/")).await?.require_success(&self.name, &mk)?;
                upload(tar).await.map_err(|e| SandboxError::docker("upload_to_container", Some(&self.id), e))
            }
            Err(e) => Err(SandboxError::docker("upload_to_container", Some(&self.id), e)),
        }
    }

    async fn read_file(&self, path: &str) -> Result<Vec<u8>> {
        let tar = self.download(path).await?;
        crate::paths::first_file_from_tar(&tar, path)
    }

    async fn upload(&self, tar: Vec<u8>, dest_dir: &str) -> Result<()> {
        self.check_live()?;
        crate::paths::relative_to_root(dest_dir)?;
        let mk = format!("mkdir -p {}", crate::paths::shell_quote(dest_dir));
        self.exec(&ExecRequest::new(mk.clone()).workdir("/")).await?.require_success(&self.name, &mk)?;
        let tar = crate::paths::repack_tar(&tar, self.owner, None)?;
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
