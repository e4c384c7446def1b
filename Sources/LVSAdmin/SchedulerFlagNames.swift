import LVSCore

/// ipvsadm's `print_sched_flags`: the `-b` flags by the names their scheduler gives them.
///
/// The same bit is `sh-fallback` for sh, `mh-fallback` for mh and `flag-1` for any other
/// scheduler. sh and mh have no name for the third bit, so an sh service whose only flag is that
/// bit prints empty brackets, `sh ()`, in `-L` and a dangling `-b ` in `-S`: ipvsadm decides
/// whether to print the brackets (or `-b`) from the raw bits, and only then names them.
enum SchedulerFlagNames {
    /// nil when no flag is set (nothing is printed); otherwise the comma-joined names, possibly
    /// empty.
    static func text(_ flags: SchedulerFlags, scheduler: String) -> String? {
        guard !flags.intersection([.flag1, .flag2, .flag3]).isEmpty else { return nil }
        let named: [(SchedulerFlags, String)]
        switch scheduler {
        case "sh": named = [(.flag1, "sh-fallback"), (.flag2, "sh-port")]
        case "mh": named = [(.flag1, "mh-fallback"), (.flag2, "mh-port")]
        default: named = [(.flag1, "flag-1"), (.flag2, "flag-2"), (.flag3, "flag-3")]
        }
        return named.filter { flags.contains($0.0) }.map(\.1).joined(separator: ",")
    }
}
