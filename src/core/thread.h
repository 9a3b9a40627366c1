// Thread priorities: background work (timestamping, shipping, the ledger's appends)
// runs below the threads that answer exchanges, so that its bursts take CPU only
// when those threads leave some (docs/architecture.md, "Priorities").
#pragma once

#include <string>
#include <string_view>

namespace troad {

// The nice value background threads run at: CFS then gives such a thread about a
// tenth of a core's time against one at nice 0 when both want the CPU, and all of it
// when nothing else does.
inline constexpr int kBackgroundNice = 10;

// Lowers the calling thread's priority to nice `nice` (Linux schedules threads, so
// this changes only the caller). A refusal is logged at debug level and otherwise
// ignored: the thread then runs at the process's priority, which is correct, only
// less polite. `who` names the thread in that message.
void LowerThreadPriority(std::string_view who, int nice = kBackgroundNice);

// Lowers the whole process to nice `nice` (0 … 19): call it before the process starts
// any thread, which then inherit it. Where the kernel groups processes by session
// (autogroup: /proc/sys/kernel/sched_autogroup_enabled, on in Debian's kernels), a nice
// value counts only against the other threads of the same session, so a process in a
// session of its own would gain nothing from it against the processes of other
// sessions: such a process (a session leader: started by systemd, or by setsid) also
// lowers its session's group (sched(7), "The autogroup feature"). A process that shares
// its session with a shell leaves the group alone — writing it would lower the shell's
// other programs too. Returns what was done, for the log; refusals are named there and
// otherwise ignored.
std::string LowerProcessPriority(int nice);

}  // namespace troad
