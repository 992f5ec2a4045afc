//! Task environments shipped in `environments/<name>/`: a small Python project (`repo/`) and its
//! SWE-smith-style task instances (`instances.jsonl`, fields of [`srl_core::TaskInstance`], the
//! `patch` being the bug diff). Each environment builds into the image `srl-swe/env-<name>:<v>`
//! on top of the base image, with bollard's `build_image` from an in-memory tar context (never
//! the docker CLI), following SWE-smith's mirror layout: `/testbed` is a git repository whose
//! `main` holds the clean code and which has one branch per instance, named after it, holding
//! the bug commit. Commits use fixed author dates, so branch contents are reproducible.
//!
//! Builds are idempotent: the image carries the label `srl-swe.env-hash` (SHA-256 of the base
//! image name, the Dockerfile, the repo files and the patches); a present image with the same
//! hash is reused.
use crate::paths::pack_tar;
use crate::{Result, SandboxError};
use bollard::query_parameters::BuildImageOptionsBuilder;
use bollard::Docker;
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use srl_core::progress::Progress;
use srl_core::TaskInstance;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Label holding the content hash of an environment image.
pub const HASH_LABEL: &str = "srl-swe.env-hash";
/// Default base image (`docker/bootstrap-base.sh`).
pub const DEFAULT_BASE_IMAGE: &str = "srl-swe/base:1";
/// Environment variable naming the environments folder.
pub const ENVIRONMENTS_ENV: &str = "SRL_SWE_ENVIRONMENTS";

/// The environments folder: `$SRL_SWE_ENVIRONMENTS` or `environments` under the current folder.
pub fn default_environments_dir() -> PathBuf {
    std::env::var_os(ENVIRONMENTS_ENV).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("environments"))
}

/// The base image: `$SRL_SWE_BASE_IMAGE` or [`DEFAULT_BASE_IMAGE`].
pub fn default_base_image() -> String {
    std::env::var("SRL_SWE_BASE_IMAGE").unwrap_or_else(|_| DEFAULT_BASE_IMAGE.to_string())
}

/// One environment folder.
#[derive(Debug, Clone)]
pub struct Environment {
    /// Folder name.
    pub name: String,
    /// The folder.
    pub dir: PathBuf,
    /// Image all its instances use.
    pub image: String,
    /// Its task instances.
    pub instances: Vec<TaskInstance>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SandboxError + '_ {
    move |source| SandboxError::Io { path: path.to_path_buf(), source }
}

/// Reads an `instances.jsonl` file (every line must be a task instance with an image).
pub fn read_instances(path: &Path) -> Result<Vec<TaskInstance>> {
    let mut out = Vec::new();
    for item in srl_core::io::jsonl_lines(path)? {
        let (line, text) = item?;
        let inst: TaskInstance = serde_json::from_str(&text).map_err(|e| SandboxError::Record {
            path: path.to_path_buf(),
            line,
            field: "-".into(),
            message: e.to_string(),
        })?;
        let missing = |field: &str| SandboxError::Record {
            path: path.to_path_buf(),
            line,
            field: field.into(),
            message: "must not be empty".into(),
        };
        if inst.instance_id.is_empty() {
            return Err(missing("instance_id"));
        }
        if inst.image_name.is_empty() {
            return Err(missing("image_name"));
        }
        out.push(inst);
    }
    Ok(out)
}

/// The environments under `root` (folders holding `instances.jsonl`), sorted by name.
pub fn load_environments(root: &Path) -> Result<Vec<Environment>> {
    let mut envs = Vec::new();
    let entries = std::fs::read_dir(root).map_err(io_err(root))?;
    for entry in entries {
        let entry = entry.map_err(io_err(root))?;
        let dir = entry.path();
        let file = dir.join("instances.jsonl");
        if !file.is_file() {
            continue;
        }
        let instances = read_instances(&file)?;
        let Some(first) = instances.first() else { continue };
        let image = first.image_name.clone();
        if let Some((i, other)) = instances.iter().enumerate().find(|(_, x)| x.image_name != image) {
            return Err(SandboxError::Record {
                path: file,
                line: i + 1,
                field: "image_name".into(),
                message: format!("{} differs from the environment's image {image}", other.image_name),
            });
        }
        envs.push(Environment { name: entry.file_name().to_string_lossy().into_owned(), dir, image, instances });
    }
    envs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(envs)
}

/// Every instance of every environment under `root`.
pub fn load_all_instances(root: &Path) -> Result<Vec<TaskInstance>> {
    Ok(load_environments(root)?.into_iter().flat_map(|e| e.instances).collect())
}

/// Finds one instance by id under `root`.
pub fn find_instance(root: &Path, instance_id: &str) -> Result<TaskInstance> {
    load_all_instances(root)?.into_iter().find(|i| i.instance_id == instance_id).ok_or_else(|| {
        SandboxError::UnknownInstance { instance_id: instance_id.to_string(), searched: root.display().to_string() }
    })
}

/// The files of `repo/` as (relative path, bytes), sorted; caches are skipped.
fn repo_files(env: &Environment) -> Result<Vec<(String, Vec<u8>)>> {
    let repo = env.dir.join("repo");
    let mut out = Vec::new();
    let mut stack = vec![repo.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "__pycache__" || name == ".pytest_cache" || name == ".git" || name.ends_with(".pyc") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(&repo).map(|p| p.to_string_lossy().into_owned()).unwrap_or(name);
                let bytes = std::fs::read(&path).map_err(io_err(&path))?;
                out.push((rel, bytes));
            }
        }
    }
    if out.is_empty() {
        return Err(SandboxError::Record { path: repo, line: 0, field: "repo".into(), message: "no files".into() });
    }
    out.sort();
    Ok(out)
}

/// The Dockerfile of an environment image (without the hash label).
pub fn dockerfile(env: &Environment, base_image: &str) -> String {
    let mut run = String::from(
        "RUN ln -sf /usr/bin/python3 /usr/local/bin/python \\\n && git init -q -b main . \\\n && git add -A \\\n && git commit -q -m 'Initial commit' \\\n",
    );
    // SWE-bench-shape instances (fix in `patch`, tests in `test_patch`) run on `main` itself.
    for inst in env.instances.iter().filter(|i| i.patch_is_bug) {
        let id = &inst.instance_id;
        run.push_str(&format!(
            " && git checkout -q -b '{id}' main \\\n && git apply /tmp/srl-bugs/'{id}'.diff \\\n && git commit -q -a -m 'Bug: {id}' \\\n"
        ));
    }
    run.push_str(" && git checkout -q main \\\n && rm -rf /tmp/srl-bugs \\\n && git status --short \\\n && test -z \"$(git status --porcelain)\"\n");
    // An environment of SWE-bench-shape instances only has no bug diffs to copy.
    let copy_bugs = if env.instances.iter().any(|i| i.patch_is_bug) { "COPY bugs /tmp/srl-bugs\n" } else { "" };
    format!(
        "FROM {base_image}\n\
ENV GIT_AUTHOR_NAME=srl-swe GIT_AUTHOR_EMAIL=srl-swe@localhost GIT_COMMITTER_NAME=srl-swe GIT_COMMITTER_EMAIL=srl-swe@localhost \\\n    GIT_AUTHOR_DATE=2025-01-01T00:00:00Z GIT_COMMITTER_DATE=2025-01-01T00:00:00Z PYTHONDONTWRITEBYTECODE=1 GIT_PAGER=cat PAGER=cat\n\
COPY repo /testbed\n\
{copy_bugs}\
WORKDIR /testbed\n\
{run}"
    )
}

/// Content hash of an environment image (see the module docs).
pub fn environment_hash(env: &Environment, base_image: &str) -> Result<String> {
    let mut h = Sha256::new();
    h.update(dockerfile(env, base_image).as_bytes());
    for (rel, bytes) in repo_files(env)? {
        h.update(rel.as_bytes());
        h.update([0]);
        h.update(&bytes);
        h.update([0]);
    }
    for inst in &env.instances {
        h.update(inst.instance_id.as_bytes());
        h.update([0]);
        h.update(inst.patch.as_bytes());
        h.update([0]);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// The build context: Dockerfile, `repo/`, `bugs/<instance_id>.diff`.
pub fn build_context(env: &Environment, base_image: &str, hash: &str) -> Result<Vec<u8>> {
    let docker_file = format!("{}LABEL {HASH_LABEL}={hash}\n", dockerfile(env, base_image));
    let files = repo_files(env)?;
    let mut entries: Vec<(String, Vec<u8>, u32)> = vec![("Dockerfile".into(), docker_file.into_bytes(), 0o644)];
    for (rel, bytes) in files {
        entries.push((format!("repo/{rel}"), bytes, 0o644));
    }
    for inst in &env.instances {
        if !inst.patch_is_bug && !inst.test_patch.is_empty() && !inst.patch.is_empty() {
            continue; // SWE-bench shape: no bug branch
        }
        if !inst.patch_is_bug || inst.patch.is_empty() {
            return Err(SandboxError::Record {
                path: env.dir.join("instances.jsonl"),
                line: 0,
                field: "patch".into(),
                message: format!(
                "{}: environment instances need a bug patch (patch_is_bug: true) or a fix and a test_patch (SWE-bench shape)",
                inst.instance_id
            ),
            });
        }
        let mut patch = inst.patch.clone();
        if !patch.ends_with('\n') {
            patch.push('\n');
        }
        entries.push((format!("bugs/{}.diff", inst.instance_id), patch.into_bytes(), 0o644));
    }
    pack_tar(entries.iter().map(|(p, b, m)| (p.as_str(), b.as_slice(), *m)))
}

/// What happened to one environment image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildOutcome {
    /// Environment name.
    pub environment: String,
    /// Image tag.
    pub image: String,
    /// Content hash.
    pub hash: String,
    /// True when built now, false when an image with the same hash was present.
    pub built: bool,
}

/// Options of [`ensure_environment_images`].
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Base image to build on.
    pub base_image: String,
    /// Rebuild even when an up-to-date image exists.
    pub force: bool,
    /// Only these environments (all when empty).
    pub only: Vec<String>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self { base_image: default_base_image(), force: false, only: Vec::new() }
    }
}

async fn image_hash(docker: &Docker, image: &str) -> Result<Option<String>> {
    match docker.inspect_image(image).await {
        Ok(info) => Ok(info.config.and_then(|c| c.labels).and_then(|l| l.get(HASH_LABEL).cloned())),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
        Err(e) => Err(SandboxError::docker("inspect_image", None, e)),
    }
}

/// Builds the images of the environments under `root` that are missing or out of date.
pub async fn ensure_environment_images(
    docker: &Docker,
    root: &Path,
    options: &BuildOptions,
    progress: &dyn Progress,
) -> Result<Vec<BuildOutcome>> {
    if !crate::docker::image_exists(docker, &options.base_image).await? {
        return Err(SandboxError::ImageMissing { image: options.base_image.clone(), instance: None });
    }
    let envs: Vec<Environment> = load_environments(root)?
        .into_iter()
        .filter(|e| options.only.is_empty() || options.only.contains(&e.name))
        .collect();
    progress.start(Some(envs.len() as u64), "environment images");
    let mut outcomes = Vec::new();
    for env in &envs {
        let hash = environment_hash(env, &options.base_image)?;
        let present = image_hash(docker, &env.image).await?;
        let built = options.force || present.as_deref() != Some(hash.as_str());
        if built {
            tracing::info!(environment = %env.name, image = %env.image, "building environment image");
            build_image(docker, env, &options.base_image, &hash).await?;
        } else {
            tracing::debug!(environment = %env.name, image = %env.image, "environment image up to date");
        }
        progress.item_done(&env.name);
        outcomes.push(BuildOutcome { environment: env.name.clone(), image: env.image.clone(), hash, built });
    }
    progress.finish();
    Ok(outcomes)
}

async fn build_image(docker: &Docker, env: &Environment, base_image: &str, hash: &str) -> Result<()> {
    let context = build_context(env, base_image, hash)?;
    let labels = HashMap::from([(HASH_LABEL, hash)]);
    let opts = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(&env.image)
        .rm(true)
        .forcerm(true)
        .networkmode("none")
        .labels(&labels)
        .build();
    let mut stream = docker.build_image(opts, None, Some(bollard::body_full(context.into())));
    let mut log = String::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(s) = info.stream {
                    log.push_str(&s);
                }
                if let Some(detail) = info.error_detail {
                    let msg = detail.message.unwrap_or_default();
                    return Err(SandboxError::ImageBuild {
                        image: env.image.clone(),
                        message: format!("{msg}\n{}", tail(&log)),
                    });
                }
            }
            Err(e) => {
                return Err(SandboxError::ImageBuild {
                    image: env.image.clone(),
                    message: format!("{e}\n{}", tail(&log)),
                })
            }
        }
    }
    if image_hash(docker, &env.image).await?.as_deref() != Some(hash) {
        return Err(SandboxError::ImageBuild {
            image: env.image.clone(),
            message: format!("image missing after build\n{}", tail(&log)),
        });
    }
    Ok(())
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../environments")
    }

    #[test]
    fn shipped_environments_have_three_tasks_each() {
        let envs = load_environments(&shipped()).unwrap();
        assert!(envs.len() >= 3, "{envs:?}");
        for env in &envs {
            if env.instances.iter().all(|i| !i.test_patch.is_empty()) {
                // SWE-bench shape (environments/ledger): fix in `patch`, tests in `test_patch`.
                for inst in &env.instances {
                    assert!(!inst.patch_is_bug && inst.patch.starts_with("diff --git"), "{}", inst.instance_id);
                    assert!(
                        inst.test_patch.starts_with("diff --git") && !inst.fail_to_pass.is_empty(),
                        "{}",
                        inst.instance_id
                    );
                }
                continue;
            }
            assert!(env.instances.len() >= 3, "{}", env.name);
            for inst in &env.instances {
                assert!(inst.patch_is_bug && inst.patch.starts_with("diff --git"), "{}", inst.instance_id);
                assert!(!inst.fail_to_pass.is_empty() && !inst.pass_to_pass.is_empty(), "{}", inst.instance_id);
                assert_eq!(inst.base_commit, inst.instance_id, "SWE-smith: branch named after the instance");
            }
        }
    }

    #[test]
    fn context_holds_dockerfile_repo_and_bugs() {
        let envs = load_environments(&shipped()).unwrap();
        let env = &envs[0];
        let hash = environment_hash(env, "base:x").unwrap();
        assert_eq!(hash, environment_hash(env, "base:x").unwrap());
        assert_ne!(hash, environment_hash(env, "base:y").unwrap());
        let tar = build_context(env, "base:x", &hash).unwrap();
        let names: Vec<String> = tar::Archive::new(tar.as_slice())
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names[0], "Dockerfile");
        assert!(names.iter().any(|n| n.starts_with("repo/tests/")), "{names:?}");
        assert_eq!(names.iter().filter(|n| n.starts_with("bugs/")).count(), env.instances.len());
    }

    #[test]
    fn bad_instance_lines_name_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("instances.jsonl");
        std::fs::write(&path, "{\"instance_id\":\"a\",\"repo\":\"r\",\"problem_statement\":\"p\",\"image_name\":\"i\"}\n{\"instance_id\":\"b\",\"repo\":\"r\",\"problem_statement\":\"p\"}\n").unwrap();
        let err = read_instances(&path).unwrap_err().to_string();
        assert!(err.contains("instances.jsonl:2: field image_name"), "{err}");
    }
}
