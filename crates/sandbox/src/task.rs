//! A task's environment: the sandbox with `/testbed` at the task's state (SWE-smith: the image's
//! repository checked out at the branch named `base_commit`; SWE-bench: the commit), and the
//! commit that `submit` diffs against.
use crate::{DockerSandbox, ExecRequest, Result, Sandbox, SandboxConfig, SandboxError};
use srl_core::TaskInstance;

/// A sandbox prepared for one task.
#[derive(Debug)]
pub struct TaskEnv<S> {
    /// The sandbox.
    pub sandbox: S,
    /// The task.
    pub instance: TaskInstance,
    /// `git rev-parse HEAD` in `/testbed` after checkout: the base of the submitted diff.
    pub base_sha: String,
}

/// Starts the task's image (it must exist locally) and checks out its state.
pub async fn start_task(instance: &TaskInstance, config: &SandboxConfig) -> Result<TaskEnv<DockerSandbox>> {
    let docker = crate::docker::connect().await?;
    let present = crate::docker::image_exists(&docker, &instance.image_name).await?
        || (config.pull_missing && pull(&docker, &instance.image_name).await);
    if !present {
        return Err(SandboxError::ImageMissing {
            image: instance.image_name.clone(),
            instance: Some(instance.instance_id.clone()),
        });
    }
    let sandbox = DockerSandbox::start_with(&docker, &instance.image_name, config).await?;
    prepare_task(sandbox, instance).await
}

/// Pulls an image from its registry; false when that fails.
async fn pull(docker: &bollard::Docker, image: &str) -> bool {
    use futures_util::StreamExt;
    let opts = bollard::query_parameters::CreateImageOptionsBuilder::default().from_image(image).build();
    let mut stream = docker.create_image(Some(opts), None, None);
    while let Some(item) = stream.next().await {
        if let Err(e) = item {
            tracing::warn!(image, error = %e, "pull failed");
            return false;
        }
    }
    crate::docker::image_exists(docker, image).await.unwrap_or(false)
}

/// Checks out the task state in an already started sandbox whose `/testbed` is a git repo.
pub async fn prepare_task<S: Sandbox>(sandbox: S, instance: &TaskInstance) -> Result<TaskEnv<S>> {
    let checkout = if instance.base_commit.is_empty() {
        String::new()
    } else {
        format!("git checkout -q -f {} && ", crate::paths::shell_quote(&instance.base_commit))
    };
    let script = format!("{checkout}git rev-parse HEAD");
    let out = sandbox
        .exec(&ExecRequest::new(script.clone()).workdir("/testbed"))
        .await?
        .require_success(sandbox.name(), &script)?;
    let base_sha = out.stdout.trim().to_string();
    Ok(TaskEnv { sandbox, instance: instance.clone(), base_sha })
}
