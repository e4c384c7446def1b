import LVSCore

extension HealthStatus {
    /// The stats file's `"health"` member: per virtual service its quorum and sorry server, per
    /// real server up or down, its weight and each checker's last result. The table's weights
    /// say what the checks decided; this says why.
    public func json() -> String {
        "[" + services.map { service in
            JSONText.object([
                ("protocol", JSONText.string(service.key.transport.description)),
                ("address", JSONText.string(service.key.address.description)),
                ("port", "\(service.key.port)"),
                ("fwmark", "\(service.key.firewallMark)"),
                ("quorum_up", JSONText.bool(service.quorumUp)),
                ("sorry_server_active", JSONText.bool(service.sorryServerActive)),
                ("real_servers", "[" + service.servers.map { server in
                    JSONText.object([
                        ("address", JSONText.string(server.key.address.description)),
                        ("port", "\(server.key.port)"),
                        ("up", JSONText.bool(server.up)),
                        ("weight", "\(server.weight)"),
                        ("checkers", "[" + server.checkers.map { checker in
                            JSONText.object([
                                ("type", JSONText.string(checker.keyword)),
                                ("up", JSONText.bool(checker.up)),
                                ("last_result", checker.lastResult.map(JSONText.string) ?? "null"),
                            ])
                        }.joined(separator: ", ") + "]"),
                    ])
                }.joined(separator: ", ") + "]"),
            ])
        }.joined(separator: ",\n    ") + "]"
    }
}
