//! Who owns a container: every container srl-swe creates carries its owner's pid, process
//! start time, boot id and host name as labels, so `srl-swe sandbox gc` can tell the containers
//! of a live job (kept) from those of a crashed one (removed) without any shared state
//! (docs/sandbox.md, "Clean-up").
use std::collections::HashMap;

/// Label: the owning process's pid.
pub const PID_LABEL: &str = "srl-swe.owner-pid";
/// Label: the owning process's start time (clock ticks since boot, `/proc/<pid>/stat` field 22),
/// which tells a reused pid from the owner.
pub const START_LABEL: &str = "srl-swe.owner-start";
/// Label: the kernel boot id of the owner's machine (`/proc/sys/kernel/random/boot_id`).
pub const BOOT_LABEL: &str = "srl-swe.owner-boot";
/// Label: the owner's host name.
pub const HOST_LABEL: &str = "srl-swe.owner-host";

/// A process that owns containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Process id.
    pub pid: u32,
    /// Start time in clock ticks since boot (empty when unknown).
    pub start: String,
    /// Boot id (empty when unknown).
    pub boot: String,
    /// Host name (empty when unknown).
    pub host: String,
}

/// Whether a container's owner still runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// The owner runs on this machine.
    Alive,
    /// The owner is gone (or the container carries no owner labels: made before they existed).
    Gone,
    /// The owner is on another host: cannot tell.
    OtherHost(String),
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path).map(|s| s.trim().to_string()).unwrap_or_default()
}

/// Field 22 of `/proc/<pid>/stat` (after the parenthesised command name, which may hold spaces).
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    // rest starts with field 3 (state); field 22 is the 20th from there.
    rest.split_whitespace().nth(19).map(str::to_string)
}

fn host_name() -> String {
    let h = read_trimmed("/proc/sys/kernel/hostname");
    if h.is_empty() {
        std::env::var("HOSTNAME").unwrap_or_default()
    } else {
        h
    }
}

impl Owner {
    /// This process.
    pub fn current() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            start: start_time(pid).unwrap_or_default(),
            boot: read_trimmed("/proc/sys/kernel/random/boot_id"),
            host: host_name(),
        }
    }

    /// The labels naming this owner.
    pub fn labels(&self) -> [(String, String); 4] {
        [
            (PID_LABEL.to_string(), self.pid.to_string()),
            (START_LABEL.to_string(), self.start.clone()),
            (BOOT_LABEL.to_string(), self.boot.clone()),
            (HOST_LABEL.to_string(), self.host.clone()),
        ]
    }

    /// The owner a container's labels name; `None` without a valid pid label.
    pub fn from_labels(labels: &HashMap<String, String>) -> Option<Self> {
        let get = |k: &str| labels.get(k).cloned().unwrap_or_default();
        Some(Self {
            pid: get(PID_LABEL).parse().ok()?,
            start: get(START_LABEL),
            boot: get(BOOT_LABEL),
            host: get(HOST_LABEL),
        })
    }

    /// Whether this owner still runs, judged from this machine.
    pub fn liveness(&self) -> Liveness {
        let here = Owner::current();
        if self.host != here.host {
            return Liveness::OtherHost(self.host.clone());
        }
        if !self.boot.is_empty() && !here.boot.is_empty() && self.boot != here.boot {
            return Liveness::Gone;
        }
        match start_time(self.pid) {
            None => Liveness::Gone,
            Some(start) if !self.start.is_empty() && start != self.start => Liveness::Gone,
            Some(_) => Liveness::Alive,
        }
    }
}

/// The liveness of a container's owner from its labels.
pub fn liveness_of(labels: &HashMap<String, String>) -> Liveness {
    Owner::from_labels(labels).map(|o| o.liveness()).unwrap_or(Liveness::Gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_dead_or_reused_pid_is_gone() {
        let me = Owner::current();
        assert!(!me.start.is_empty() && !me.boot.is_empty(), "{me:?}");
        let labels: HashMap<String, String> = me.labels().into_iter().collect();
        assert_eq!(liveness_of(&labels), Liveness::Alive);
        let mut reused = labels.clone();
        reused.insert(START_LABEL.into(), "1".into());
        assert_eq!(liveness_of(&reused), Liveness::Gone, "same pid, other start time");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead_pid = child.id();
        child.wait().unwrap();
        let mut dead = labels.clone();
        dead.insert(PID_LABEL.into(), dead_pid.to_string());
        assert_eq!(liveness_of(&dead), Liveness::Gone);
        let mut other = labels.clone();
        other.insert(HOST_LABEL.into(), "elsewhere".into());
        assert_eq!(liveness_of(&other), Liveness::OtherHost("elsewhere".into()));
        assert_eq!(liveness_of(&HashMap::new()), Liveness::Gone, "no owner labels: a container of an old run");
    }
}
