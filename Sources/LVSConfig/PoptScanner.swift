/// Splits an argument vector into options and plain arguments the way popt (1.18/1.19, what
/// ipvsadm 1.31 links against) does, so that every command line ipvsadm accepts reads the same
/// here, clusters and `=` forms included:
///
/// * `--name` and `--name=value`, matched exactly (popt has no abbreviations);
/// * `-abc` is a cluster of one-letter options; an option that takes a value takes the rest of
///   the cluster (`-At1.2.3.4:80`), else the next token (`-At 1.2.3.4:80`); one `=` right after
///   the letter is skipped (`-w=3`);
/// * a token that does not start with `-`, and `-` alone, is a plain argument wherever it
///   stands, and everything after `--` is too;
/// * an option with an *optional* value (`-p`) takes the next token only if it does not start
///   with `-`: `-p 300` is 300 s, `-p -M ...` is the default timeout, `-p foo` is the value
///   "foo" (and later an invalid timeout).
///
/// Errors carry popt's words and the token popt blames (`poptBadOption`): the whole token,
/// so `-Lq` is reported as `-Lq: unknown option`.
struct PoptScanner {
    /// One thing read from the command line.
    enum Item: Equatable {
        case option(IpvsadmOption, value: String?)
        case argument(String)
    }

    /// A token popt cannot read.
    struct Failure: Error, Equatable {
        enum Reason: Equatable {
            case unknownOption, missingArgument, unwantedArgument

            /// `poptStrerror`'s text.
            var text: String {
                switch self {
                case .unknownOption: "unknown option"
                case .missingArgument: "missing argument"
                case .unwantedArgument: "option does not take an argument"
                }
            }
        }

        var token: String
        var reason: Reason

        /// ipvsadm prints `TOKEN: reason` and exits with -1 (255).
        var error: IpvsadmError {
            IpvsadmError("\(token): \(reason.text)", exitCode: 255, suggestsHelp: true)
        }
    }

    private let arguments: [String]
    private var index = 0
    /// The unread rest of a short-option cluster. Empty but present after `-L=`, which popt
    /// then reads as an option with no letter (an unknown option).
    private var cluster: Substring?
    /// After `--`.
    private var onlyArguments = false
    /// The token popt would blame for an error (`poptBadOption`): the last one consumed, which
    /// for an option with its value in the next token is the value.
    private(set) var lastToken = ""

    init(_ arguments: [String]) {
        self.arguments = arguments
    }

    /// The next item, nil at the end.
    mutating func next() throws(Failure) -> Item? {
        if let rest = cluster {
            return try shortOption(rest)
        }
        while index < arguments.count {
            let token = arguments[index]
            index += 1
            lastToken = token
            if onlyArguments || !token.hasPrefix("-") || token == "-" {
                return .argument(token)
            }
            if token == "--" {
                onlyArguments = true
                continue
            }
            if token.hasPrefix("--") {
                let body = token.dropFirst(2)
                let name = body.prefix { $0 != "=" }
                let inline = name.endIndex < body.endIndex ? body[body.index(after: name.endIndex)...] : nil
                guard let option = IpvsadmOption.named(name) else {
                    throw Failure(token: token, reason: .unknownOption)
                }
                if let inline {
                    guard option.argument != .none else { throw Failure(token: token, reason: .unwantedArgument) }
                    return .option(option, value: String(inline))
                }
                return try valueFromNextToken(for: option)
            }
            return try shortOption(token.dropFirst())
        }
        return nil
    }

    /// Everything up to the first error, each item with the token popt would blame for it,
    /// and that error (popt stops at it).
    static func scan(_ arguments: [String]) -> (items: [(item: Item, token: String)], failure: Failure?) {
        var scanner = PoptScanner(arguments)
        var items: [(item: Item, token: String)] = []
        do {
            while let item = try scanner.next() { items.append((item, scanner.lastToken)) }
            return (items, nil)
        } catch {
            return (items, error)
        }
    }

    private mutating func shortOption(_ letters: Substring) throws(Failure) -> Item {
        cluster = nil
        guard let letter = letters.first, let option = IpvsadmOption.short(letter) else {
            throw Failure(token: lastToken, reason: .unknownOption)
        }
        let rest = letters.dropFirst()
        if !rest.isEmpty {
            cluster = rest.first == "=" ? rest.dropFirst() : rest
        }
        guard option.argument != .none else {
            if cluster?.first == "=" { throw Failure(token: lastToken, reason: .unwantedArgument) }
            return .option(option, value: nil)
        }
        if let value = cluster {
            cluster = nil
            return .option(option, value: String(value.first == "=" ? value.dropFirst() : value))
        }
        return try valueFromNextToken(for: option)
    }

    private mutating func valueFromNextToken(for option: IpvsadmOption) throws(Failure) -> Item {
        if option.argument == .none {
            return .option(option, value: nil)
        }
        guard index < arguments.count else {
            if option.argument == .optional { return .option(option, value: nil) }
            throw Failure(token: lastToken, reason: .missingArgument)
        }
        if option.argument == .optional && arguments[index].hasPrefix("-") {
            return .option(option, value: nil)
        }
        let value = arguments[index]
        index += 1
        lastToken = value
        return .option(option, value: value)
    }
}
