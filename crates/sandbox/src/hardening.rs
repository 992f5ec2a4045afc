//! The security profile of a [`crate::DockerSandbox`] container (docs/sandbox.md states it as
//! what a command can and cannot do): no network, no capabilities for the command user,
//! `no-new-privileges`, a read-only image root with size-capped memory-backed `/testbed` and
//! `/tmp`, block-I/O bandwidth limits, no container log on the host, and the process kill of a
//! timed-out command by user id, which a process cannot shed (`setsid`, `env -i`).
//!
//! The disk bound does not depend on the storage driver (overlay2's `size` option needs xfs
//! with project quotas and fuse-overlayfs has none): the writable places are anonymous
//! volumes of Docker's `local` driver with `type=tmpfs,o=size=N`, filled from the image on
//! creation (Docker's volume copy-up) and removed with the container. Their pages count
//! against the container's memory limit.
use crate::config::SandboxConfig;
use bollard::models::{
    HostConfig, HostConfigLogConfig, Mount, MountType, MountVolumeOptions, MountVolumeOptionsDriverConfig,
    ThrottleDevice,
};
use std::collections::HashMap;

/// Capabilities kept in the container's bounding set, for the library's own root execs
/// (start-up `chown` of `/testbed`, the session server that drops to the command user with
/// `setpriv`, the killer of timed-out commands). The command user is not root and, with
/// `no-new-privileges`, cannot gain them.
pub const ROOT_CAPABILITIES: &[&str] = &["CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETUID", "SETGID"];

/// The writable mount points (memory-backed, size-capped).
pub const TESTBED: &str = "/testbed";
/// Scratch, `$HOME` and `$TMPDIR`.
pub const TMP: &str = "/tmp";

fn tmpfs_volume(target: &str, bytes: i64) -> Mount {
    let options = HashMap::from([
        ("type".to_string(), "tmpfs".to_string()),
        ("device".to_string(), "tmpfs".to_string()),
        ("o".to_string(), format!("size={bytes}")),
    ]);
    Mount {
        target: Some(target.to_string()),
        typ: Some(MountType::VOLUME),
        volume_options: Some(MountVolumeOptions {
            no_copy: Some(false),
            labels: Some(HashMap::from([(crate::docker::LABEL.to_string(), "1".to_string())])),
            driver_config: Some(MountVolumeOptionsDriverConfig { name: Some("local".into()), options: Some(options) }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The host config of a sandbox container; `io_device` is the block device holding Docker's
/// data when it is known.
pub(crate) fn host_config(config: &SandboxConfig, io_device: Option<&str>) -> HostConfig {
    let throttle = |bps: i64| {
        io_device.filter(|_| bps > 0).map(|d| vec![ThrottleDevice { path: Some(d.to_string()), rate: Some(bps) }])
    };
    HostConfig {
        memory: Some(config.memory_bytes),
        memory_swap: Some(config.memory_bytes),
        nano_cpus: Some(config.nano_cpus),
        pids_limit: Some(config.pids_limit),
        network_mode: Some("none".into()),
        cap_drop: Some(vec!["ALL".into()]),
        cap_add: Some(ROOT_CAPABILITIES.iter().map(|c| c.to_string()).collect()),
        security_opt: Some(vec!["no-new-privileges".into()]),
        readonly_rootfs: Some(config.read_only_root),
        mounts: Some(vec![tmpfs_volume(TESTBED, config.testbed_bytes), tmpfs_volume(TMP, config.tmp_bytes)]),
        // PID 1's output would go to a log file on the host's disk, without a size limit.
        log_config: Some(HostConfigLogConfig { typ: Some("none".into()), config: None }),
        blkio_device_read_bps: throttle(config.io_bps),
        blkio_device_write_bps: throttle(config.io_bps),
        ..Default::default()
    }
}

/// The start-up script, run as root: hands `/testbed` and `/tmp` to the command user and says
/// whether `setpriv` (util-linux) is there for the session server.
pub(crate) fn setup_script(uid: u32, gid: u32) -> String {
    format!(
        "chown -R {uid}:{gid} {TESTBED} && chmod 755 {TESTBED} && chown {uid}:{gid} {TMP} && chmod 1777 {TMP} && {{ command -v setpriv || true; }}"
    )
}

/// A builtins-only loop over the processes of user `uid` (real uid), PID 1 and the loop's
/// own shell excepted, running `action` with `$q` the pid and `$st` the state letter. For root
/// (`uid` 0) PID 1's own `sleep` is skipped too.
fn for_each_process(uid: u32, action: &str) -> String {
    let skip_idle = if uid == 0 { r#"[ "$pp" = 1 ] && [ "$nm" = sleep ] && continue; "# } else { "" };
    format!(
        r#"for p in /proc/[0-9]*; do q=${{p#/proc/}}; [ "$q" = 1 ] && continue; [ "$q" = $$ ] && continue; u=; st=; pp=; nm=; while read -r k v _; do case $k in Name:) nm=$v;; State:) st=$v;; PPid:) pp=$v;; Uid:) u=$v; break;; esac; done 2>/dev/null <"$p/status"; [ "$u" = {uid} ] || continue; {skip_idle}{action}; done"#
    )
}

/// Stops, then kills, every process of the command user (stopped processes cannot fork, so a
/// fork bomb cannot outrun it). Bash builtins only: no fork per process.
pub(crate) fn kill_script(uid: u32) -> String {
    format!(
        "for sig in STOP STOP STOP KILL KILL; do {}; done; true",
        for_each_process(uid, r#"kill -$sig "$q" 2>/dev/null"#)
    )
}

/// Exits 1 while a process of the command user other than a zombie is left.
pub(crate) fn check_script(uid: u32) -> String {
    format!("{}; exit 0", for_each_process(uid, r#"[ "$st" = Z ] || exit 1"#))
}

/// The whole-disk block device holding `dir` on this host (`/dev/vda` for a folder on
/// `/dev/vda1`), for blkio throttling; `None` when `dir` is not on this host or not on a block
/// device (overlay, btrfs subvolumes, a remote daemon).
pub(crate) fn block_device_of(dir: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let dev = std::fs::metadata(dir).ok()?.dev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let sys = std::fs::canonicalize(format!("/sys/dev/block/{major}:{minor}")).ok()?;
    let disk = if sys.join("partition").exists() { sys.parent()?.to_path_buf() } else { sys };
    let name = disk.file_name()?.to_str()?;
    let path = format!("/dev/{name}");
    std::path::Path::new(&path).exists().then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_drops_capabilities_and_bounds_every_writable_place() {
        let cfg = SandboxConfig::default();
        let hc = host_config(&cfg, Some("/dev/vda"));
        assert_eq!(hc.cap_drop, Some(vec!["ALL".to_string()]));
        assert_eq!(hc.security_opt, Some(vec!["no-new-privileges".to_string()]));
        assert_eq!(hc.readonly_rootfs, Some(true));
        assert_eq!(hc.network_mode.as_deref(), Some("none"));
        let mounts = hc.mounts.unwrap();
        let targets: Vec<_> = mounts.iter().map(|m| m.target.clone().unwrap()).collect();
        assert_eq!(targets, ["/testbed", "/tmp"]);
        let o = |m: &Mount| m.volume_options.clone().unwrap().driver_config.unwrap().options.unwrap()["o"].clone();
        assert_eq!(o(&mounts[0]), format!("size={}", cfg.testbed_bytes));
        assert_eq!(o(&mounts[1]), format!("size={}", cfg.tmp_bytes));
        assert_eq!(hc.blkio_device_write_bps.unwrap()[0].rate, Some(cfg.io_bps));
        assert!(host_config(&cfg, None).blkio_device_read_bps.is_none());
        assert!(kill_script(1000).contains(r#"[ "$u" = 1000 ] || continue; kill -$sig"#));
    }
}
