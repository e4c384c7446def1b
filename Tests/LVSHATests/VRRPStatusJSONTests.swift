import Foundation
import Testing
@testable import LVSHA

/// The stats file's `"vrrp"` member: the instance's state and counters, every drop reason
/// present (0 when none), so a monitoring query never meets a missing key.
@Suite struct VRRPStatusJSONTests {
    @Test("state, counters and every drop reason, as a JSON object")
    func statusAsJSON() throws {
        var status = VRRPStatus()
        status.state = .backup
        status.advertisementsSent = 3
        status.advertisementsReceived = 42
        status.priorityZeroReceived = 1
        status.becameMaster = 2
        status.dropped[.badChecksum] = 5
        status.addressListMismatchAccepted = 7
        let text = status.json(instance: "VI_1")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["instance"] as? String == "VI_1")
        #expect(object["state"] as? String == VRRPState.backup.rawValue)
        #expect((object["advertisements_sent"] as? NSNumber)?.intValue == 3)
        #expect((object["advertisements_received"] as? NSNumber)?.intValue == 42)
        #expect((object["priority_zero_received"] as? NSNumber)?.intValue == 1)
        #expect((object["became_master"] as? NSNumber)?.intValue == 2)
        #expect((object["address_list_mismatch_accepted"] as? NSNumber)?.intValue == 7)
        let dropped = try #require(object["dropped"] as? [String: NSNumber])
        #expect(Set(dropped.keys) == Set(VRRPDropReason.allCases.map(\.rawValue)))
        #expect(dropped["bad_checksum"]?.intValue == 5)
        #expect(dropped["bad_ttl"]?.intValue == 0)
        #expect(dropped["address_list_mismatch"]?.intValue == 0)
        #expect(dropped["unicast_multicast_mismatch"]?.intValue == 0)
    }
}
