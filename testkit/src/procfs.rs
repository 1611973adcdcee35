//! What /proc says about a process or thread: CPU time, resident memory, threads and open
//! descriptors, and the machine's load
//! (this machine is shared, so benchmarks print the load beside their figures).

use std::time::Duration;

/// Linux reports `/proc/PID/stat` times in USER_HZ, which is 100 on every Linux ABI.
const TICK: Duration = Duration::from_millis(10);

/// The numeric fields of `/proc/PID/stat` from field 3 (state) on: the command name in
/// parentheses may hold spaces, so the split starts after its closing ")".
fn stat_fields(stat: &str) -> Vec<&str> {
    stat.rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default()
}

/// The sum of stat fields `from..=to` (1-based, as proc(5) numbers them) in ticks.
fn stat_ticks(pid: u32, from: usize, to: usize) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields = stat_fields(&stat);
    // Field 3 is the first entry after ")".
    let ticks: u64 = fields
        .get(from - 3..=to - 3)
        .map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
    TICK * ticks as u32
}

/// CPU time (user + system, fields 14 and 15) a process has used so far; zero once it is gone.
pub fn cpu_time(pid: u32) -> Duration {
    stat_ticks(pid, 14, 15)
}

/// [`cpu_time`] plus that of its children it has waited for (fields 16 and 17): for streamers
/// that do their work in child processes (the tutorial's scrot).
pub fn cpu_time_with_children(pid: u32) -> Duration {
    stat_ticks(pid, 14, 17)
}

/// CPU time of the calling thread, in nanoseconds from the scheduler's own accounting (finer
/// than the 10 ms ticks of `stat`).
pub fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// Resident memory of a process in KiB (`VmRSS`); zero once it is gone.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The threads of a process (`/proc/PID/task`); zero once it is gone.
pub fn threads(pid: u32) -> usize {
    count_entries(&format!("/proc/{pid}/task"))
}

/// The open descriptors of a process (`/proc/PID/fd`); zero once it is gone.
pub fn descriptors(pid: u32) -> usize {
    count_entries(&format!("/proc/{pid}/fd"))
}

fn count_entries(dir: &str) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

/// The 1, 5 and 15 minute load averages, as /proc/loadavg prints them.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The line a benchmark ends with: the load averages when it started (`before`, from
/// [`loadavg`]) and now, so a reader can tell a quiet run from a busy one.
pub fn load_report(before: &str) -> String {
    format!(
        "Load average (1/5/15 min) before: {before}; after: {}",
        loadavg()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_start_after_the_command_name() {
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1";
        let f = stat_fields(stat);
        assert_eq!(f[0], "S");
        assert_eq!(&f[11..15], ["7", "3", "2", "1"]);
    }

    #[test]
    fn this_process_uses_cpu_and_memory() {
        let me = std::process::id();
        let t0 = thread_cpu();
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {
            std::hint::black_box(spin.elapsed());
        }
        assert!(thread_cpu() > t0);
        assert!(rss_kib(me) > 0);
        assert!(threads(me) >= 1 && descriptors(me) >= 3, "stdio at least");
        assert_eq!(threads(u32::MAX), 0, "no such process");
        assert_eq!(loadavg().split(' ').count(), 3);
        assert_eq!(cpu_time(u32::MAX), Duration::ZERO, "no such process");
    }
}
