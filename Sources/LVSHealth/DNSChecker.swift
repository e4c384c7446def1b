import LVSConfig

/// `DNS_CHECK`: a query for `name` (default ".") of `type` (default SOA) over UDP gets a
/// well-formed NOERROR response with the query's id within the timeout.
struct DNSChecker: Checker {
    var configuration: DNSCheck

    var keyword: String { "DNS_CHECK" }

    func start(_ target: CheckTarget, environment: CheckEnvironment,
               completion: @escaping (CheckOutcome) -> Void) -> any CheckAttempt {
        let attempt = DatagramAttempt(environment: environment, completion: completion)
        let id = UInt16.random(in: 0...UInt16.max)
        let type = DNSMessage.types[configuration.type.uppercased()] ?? 6
        guard let query = DNSMessage.query(id: id, name: configuration.name, type: type) else {
            environment.loop.runSoon { attempt.finish(.failure(.dnsAnswer(reason: "name '\(configuration.name)' cannot be put in a query"))) }
            return attempt
        }
        attempt.begin(target, payload: query) { response in
            switch DNSMessage.verdict(response, id: id) {
            case .notOurs: nil
            case .answer: .success(weight: nil)
            case .bad(let reason): .failure(.dnsAnswer(reason: reason))
            }
        }
        return attempt
    }
}
