import LVSCore
import Testing

/// Connection sync through two engines with one configuration: what director A records as
/// master, sent through the real codec, is filed by director B as backup, which then forwards
/// the flow to the same real server without having seen its SYN.
@Suite struct ForwardingEngineSyncTests {
    static let second: UInt64 = 1_000_000_000

    static func engine(persistent: Bool = false, seed: UInt64 = 7) throws -> ForwardingEngine {
        let servers = [TestNetwork.rs1, TestNetwork.rs2, TestNetwork.rs3].map {
            RealServerConfig(address: $0, port: 80, weight: 1)
        }
        let config = DirectorConfiguration(services: [
            VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: TestNetwork.vip, port: 80),
                                 scheduler: "rr", persistence: persistent ? Persistence(timeout: 300) : nil,
                                 realServers: servers),
            VirtualServiceConfig(key: VirtualServiceKey(transport: .udp, address: TestNetwork.vip, port: 53),
                                 scheduler: "rr", realServers: servers.map {
                                     RealServerConfig(address: $0.address, port: 53, weight: 1) }),
        ])
        return try ForwardingEngine(configuration: config, directorMAC: TestNetwork.directorMAC,
                                    directorAddress: TestNetwork.directorIP, connectionCapacity: 1024, hashSeed: seed,
                                    staticNeighbors: [TestNetwork.rs1: TestNetwork.rs1MAC, TestNetwork.rs2: TestNetwork.rs2MAC,
                                                      TestNetwork.rs3: TestNetwork.rs3MAC])
    }

    static func tcp(_ e: ForwardingEngine, port: UInt16, flags: UInt8, at now: UInt64) -> String {
        var frame = FrameBuilder.tcp(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                     source: TestNetwork.client, destination: TestNetwork.vip, sourcePort: port,
                                     destinationPort: 80, flags: flags)
        guard withFrame(&frame, { e.process($0, now: now) }) == .transmit else { return "-" }
        return ForwardingEngineTests.server(frame)
    }

    /// Drains `journal` through the codec (as the sync thread and the wire would) into records.
    static func transfer(_ journal: SyncJournal) -> [SyncConnection] {
        var records: [SyncConnection] = []
        journal.drain { records.append($0) }
        let messages = SyncMessageTests.encode(records)
        return messages.flatMap { m -> [SyncConnection] in
            guard case .success(.connections(let rs, _)) = SyncMessageTests.decode(m) else { return [] }
            return rs
        }
    }

    @Test func anEstablishedConnectionReachesTheBackup() throws {
        let a = try Self.engine()
        let b = try Self.engine(seed: 99)
        let journal = SyncJournal(capacity: 64)
        a.syncJournal = journal
        // Three connections: rr spreads them; only ESTABLISHED is synced, not SYN_RECV.
        var servers: [String] = []
        for port in UInt16(40000)..<40003 {
            servers.append(Self.tcp(a, port: port, flags: Wire.tcpSYN, at: 0))
        }
        #expect(journal.isEmpty)
        for port in UInt16(40000)..<40003 { _ = Self.tcp(a, port: port, flags: Wire.tcpACK, at: Self.second) }
        let records = Self.transfer(journal)
        #expect(records.count == 3)
        #expect(records.allSatisfy { $0.state == 1 && $0.flags == 0x83 && $0.timeoutSeconds == 900 })

        let counts = b.applySync(records, now: 10 * Self.second)
        #expect(counts.added == 3)
        let entries = b.connectionEntries(now: 10 * Self.second).sorted { $0.clientPort < $1.clientPort }
        #expect(entries.map(\.state) == [.established, .established, .established])
        #expect(entries.allSatisfy { $0.expiresAt == 910 * Self.second })
        // Active counts on the backup as on the master.
        for slot in Int32(0)..<3 {
            #expect(b.destination(slot: slot).activeConnections == a.destination(slot: slot).activeConnections)
        }
        // The backup forwards the flows' next segments to the master's servers, no SYN needed.
        let onB = (UInt16(40000)..<40003).map { Self.tcp(b, port: $0, flags: Wire.tcpACK, at: 11 * Self.second) }
        #expect(onB == servers)

        // A FIN moves the master's entry to FIN_WAIT, which is synced too; the backup follows
        // and moves the connection to InActConn.
        _ = Self.tcp(a, port: 40000, flags: Wire.tcpACK | Wire.tcpFIN, at: 12 * Self.second)
        let fin = Self.transfer(journal)
        #expect(fin.map(\.state) == [4])
        #expect(fin.first.map { $0.isInactive } == true)
        #expect(b.applySync(fin, now: 12 * Self.second).updated == 1)
        let finEntry = b.connectionEntries(now: 12 * Self.second).first { $0.clientPort == 40000 }
        #expect(finEntry?.state == .finWait)
        #expect(finEntry?.expiresAt == 132 * Self.second)
    }

    // The entries age on the backup like any other.
    @Test func syncedEntriesExpire() throws {
        let b = try Self.engine()
        let r = SyncMessageTests.established
        var record = r
        record.clientAddress = TestNetwork.client.value
        record.virtualAddress = TestNetwork.vip.value
        record.destinationAddress = TestNetwork.rs2.value
        record.timeoutSeconds = 5
        #expect(b.applySync([record], now: 0).added == 1)
        #expect(b.destination(slot: 1).activeConnections == 1)
        b.expireConnections(now: 6 * Self.second, budget: 4096)
        #expect(b.connectionEntries(now: 0).isEmpty)
        #expect(b.destination(slot: 1).activeConnections == 0)
    }

    @Test func templatesTravelWithTheirConnections() throws {
        let a = try Self.engine(persistent: true)
        let b = try Self.engine(persistent: true, seed: 99)
        let journal = SyncJournal(capacity: 64)
        a.syncJournal = journal
        let first = Self.tcp(a, port: 40000, flags: Wire.tcpSYN, at: 0)
        _ = Self.tcp(a, port: 40000, flags: Wire.tcpACK, at: 0)
        let records = Self.transfer(journal)
        #expect(records.count == 2)
        #expect(records.filter(\.isTemplate).map(\.timeoutSeconds) == [300])
        #expect(b.applySync(records, now: 0).added == 2)
        #expect(b.connectionEntries(now: 0).filter(\.isTemplate).count == 1)
        // A new connection from the client on the backup follows the synced template.
        #expect(Self.tcp(b, port: 40001, flags: Wire.tcpSYN, at: Self.second) == first)
    }

    @Test func udpIsSyncedWhenItOpens() throws {
        let a = try Self.engine()
        let journal = SyncJournal(capacity: 64)
        a.syncJournal = journal
        var frame = FrameBuilder.udp(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                     source: TestNetwork.client, destination: TestNetwork.vip, sourcePort: 5353,
                                     destinationPort: 53, payload: [1, 2, 3, 4])
        #expect(withFrame(&frame, { a.process($0, now: 0) }) == .transmit)
        let records = Self.transfer(journal)
        #expect(records.count == 1)
        #expect(records.first?.transport == 17 && records.first?.state == 0 && records.first?.timeoutSeconds == 300)
        let b = try Self.engine()
        #expect(b.applySync(records, now: 0).added == 1)
        #expect(b.connectionEntries(now: 0).first?.state == .udp)
    }

    @Test func unknownServicesAndServersAreCountedAndSkipped() throws {
        let b = try Self.engine()
        var noService = SyncMessageTests.established
        noService.virtualAddress = IPv4Address(10, 9, 9, 9).value
        var noServer = SyncMessageTests.established
        noServer.virtualAddress = TestNetwork.vip.value
        noServer.destinationAddress = IPv4Address(10, 9, 9, 9).value
        var badState = noServer
        badState.destinationAddress = TestNetwork.rs1.value
        badState.state = 200
        let counts = b.applySync([noService, noServer, badState], now: 0)
        #expect(counts.unknownService == 1 && counts.unknownDestination == 1 && counts.invalid == 1)
        #expect(counts.added == 0)
        #expect(b.connectionEntries(now: 0).isEmpty)
    }

    // The master's choice wins: a synced connection on another server replaces the backup's.
    @Test func aConnectionMovedByTheMasterIsRebound() throws {
        let b = try Self.engine()
        var r = SyncMessageTests.established
        r.clientAddress = TestNetwork.client.value
        r.virtualAddress = TestNetwork.vip.value
        r.destinationAddress = TestNetwork.rs1.value
        _ = b.applySync([r], now: 0)
        r.destinationAddress = TestNetwork.rs3.value
        #expect(b.applySync([r], now: 0).added == 1)
        #expect(b.destination(slot: 0).activeConnections == 0)
        #expect(b.destination(slot: 2).activeConnections == 1)
        #expect(b.connections.count == 1)
    }

    @Test func theWholeTableForAPull() throws {
        let a = try Self.engine(persistent: true)
        for port in UInt16(40000)..<40010 {
            _ = Self.tcp(a, port: port, flags: Wire.tcpSYN, at: 0)
        }
        let records = a.syncRecords(now: 0)
        #expect(records.count == 11)
        #expect(records.first?.isTemplate == true)
        let b = try Self.engine(persistent: true)
        #expect(b.applySync(records, now: 0).added == 11)
        #expect(b.connectionEntries(now: 0).filter { $0.state == .synReceived }.count == 10)
    }
}

extension ForwardingEngineSyncTests {
    // A quiet established connection is sent again by the periodic walk; a SYN_RECV one is not.
    @Test func theRefreshWalkResendsLiveSyncedEntries() throws {
        let a = try Self.engine()
        _ = Self.tcp(a, port: 40000, flags: Wire.tcpSYN, at: 0)
        _ = Self.tcp(a, port: 40000, flags: Wire.tcpACK, at: 0)
        _ = Self.tcp(a, port: 40001, flags: Wire.tcpSYN, at: 0)
        let journal = SyncJournal(capacity: 64)
        a.refreshSync(now: 0, budget: 4096)
        #expect(journal.isEmpty)
        a.syncJournal = journal
        a.refreshSync(now: Self.second, budget: a.connections.capacity)
        let records = Self.transfer(journal)
        #expect(records.map(\.clientPort) == [40000])
    }
}
