/// Which command a line asks for, before its options are turned into an ``IpvsadmCommand``,
/// with ipvsadm's name for it and its row of the option/command matrix (IPVS-SEMANTICS.md §5.2).
enum IpvsadmCommandKind: Sendable, Equatable {
    case addService, editService, deleteService, flush, list, addServer, deleteServer, editServer
    case setTimeouts, startDaemon, stopDaemon, restore, save, zero
    case help, version

    /// What the matrix says about one option column for one command.
    enum Requirement: Sendable {
        /// `+`: the command needs it.
        case required
        /// `x`: the command refuses it.
        case illegal
        /// `1`: allowed, but at most one of the command's exclusive options.
        case exclusive
        /// ` `: allowed.
        case optional
    }

    /// The name ipvsadm's messages use (`cmdnames`).
    var name: String {
        switch self {
        case .addService: "add-service"
        case .editService: "edit-service"
        case .deleteService: "delete-service"
        case .flush: "flush"
        case .list: "list"
        case .addServer: "add-server"
        case .deleteServer: "delete-server"
        case .editServer: "edit-server"
        case .setTimeouts: "set"
        case .startDaemon: "start-daemon"
        case .stopDaemon: "stop-daemon"
        case .restore: "restore"
        case .save: "save"
        case .zero: "zero"
        case .help: "help"
        case .version: "version"
        }
    }

    /// The matrix row. `-h` and `-v` end parsing before the matrix is consulted, so their row
    /// allows everything.
    func requirement(for column: IpvsadmOptionColumn) -> Requirement {
        switch self {
        case .addService, .editService:
            switch column {
            case .serviceAddress: .required
            case .scheduler, .persistent, .netmask, .onePacket, .persistenceEngine, .schedulerFlags: .optional
            default: .illegal
            }
        case .deleteService:
            column == .serviceAddress ? .required : .illegal
        case .flush, .restore, .setTimeouts:
            .illegal
        case .list:
            switch column {
            case .connection, .serviceAddress, .timeout, .daemon: .exclusive
            case .numeric, .stats, .rate, .thresholds, .persistentConnections, .noSort, .syncID, .exact, .tunnelInfo:
                .optional
            default: .illegal
            }
        case .addServer, .editServer:
            switch column {
            case .serviceAddress, .realServer: .required
            case .forwardingMethod, .weight, .upperThreshold, .lowerThreshold, .tunnelType, .tunnelPort,
                 .tunnelNoChecksum, .tunnelChecksum, .tunnelRemoteChecksum:
                .optional
            default: .illegal
            }
        case .deleteServer:
            column == .serviceAddress || column == .realServer ? .required : .illegal
        case .startDaemon:
            switch column {
            case .multicastInterface, .syncID, .multicastGroup, .multicastPort, .multicastTTL, .syncMaxLength: .optional
            default: .illegal
            }
        case .stopDaemon:
            column == .syncID ? .optional : .illegal
        case .save:
            column == .numeric ? .optional : .illegal
        case .zero:
            column == .serviceAddress ? .optional : .illegal
        case .help, .version:
            .optional
        }
    }

    /// ipvsadm's `generic_opt_check`: columns are visited in order and the first offence is the
    /// error; an exclusive option is reported against the first exclusive one already seen.
    func check(_ given: Set<IpvsadmOptionColumn>) throws(IpvsadmError) {
        var firstExclusive: IpvsadmOptionColumn?
        for column in IpvsadmOptionColumn.allCases {
            let requirement = requirement(for: column)
            guard given.contains(column) else {
                if requirement == .required {
                    throw IpvsadmError("You need to supply the '\(column.name)' option for the '\(name)' command",
                                       detail: column == .realServer ? "use -r RIP[:PORT]" : "use -t VIP:PORT or -u VIP:PORT")
                }
                continue
            }
            switch requirement {
            case .illegal:
                throw IpvsadmError("Illegal '\(column.name)' option with the '\(name)' command")
            case .exclusive:
                if let first = firstExclusive {
                    throw IpvsadmError(
                        "The option '\(column.name)' conflicts with the '\(first.name)' option in the '\(name)' command")
                }
                firstExclusive = column
            case .required, .optional:
                break
            }
        }
    }
}
