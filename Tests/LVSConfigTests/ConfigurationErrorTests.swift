import Testing
import LVSConfig

@Suite struct ConfigurationErrorTests {
    // FILE:LINE: message, the format editors jump to.
    @Test func descriptionFormat() {
        let e = ConfigurationError(file: "/etc/lvs/rules", line: 12, message: "Service not defined")
        #expect(e.description == "/etc/lvs/rules:12: Service not defined")
        #expect(e == ConfigurationError(file: "/etc/lvs/rules", line: 12, message: "Service not defined"))
        #expect(e != ConfigurationError(file: "/etc/lvs/rules", line: 13, message: "Service not defined"))
    }
}
