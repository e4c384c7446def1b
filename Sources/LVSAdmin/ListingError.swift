/// A listing ipvsadm refuses at run time, with the text it prints on standard error and its exit
/// status.
///
/// The only case for now is `-L -t VIP:PORT` for a service that does not exist: libipvs maps
/// the kernel's ESRCH to "No such service" and `list_service` exits with 1 (not 255 like the
/// change commands), having printed nothing on standard output.
public struct ListingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case noSuchService
    }

    public var code: Code
    public var message: String
    public var exitCode: Int32

    public static let noSuchService = ListingError(code: .noSuchService, message: "No such service", exitCode: 1)

    public var description: String { message }
}
