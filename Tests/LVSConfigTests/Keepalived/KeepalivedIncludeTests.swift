import Testing
import LVSCore
import LVSConfig

/// `include GLOB`: relative to the including file, sorted glob matches, errors located in the
/// included file, loops refused (keepalived.conf(5) "include").
@Suite struct KeepalivedIncludeTests {
    static let webService = """
        virtual_server 10.0.0.100 80 {
            lb_kind DR
            protocol TCP
            real_server 10.0.0.11 80 {
            }
        }
        """

    @Test func globIsRelativeToTheIncludingFileAndReadInSortedOrder() throws {
        let dir = TemporaryDirectory()
        let main = dir.write("etc/keepalived.conf", """
            global_defs {
                router_id main
            }
            include conf.d/*.conf
            """)
        dir.write("etc/conf.d/20-dns.conf", """
            virtual_server 10.0.0.53 53 {
                lb_kind DR
                protocol UDP
                real_server 10.0.0.12 53 {
                }
            }
            """)
        dir.write("etc/conf.d/10-web.conf", Self.webService)
        dir.write("etc/conf.d/README", "this is not a conf file {")
        let config = try Keepalived.reader.load(path: main)
        #expect(config.director.services.map(\.key) == [Keepalived.tcp(100, 80), Keepalived.udp(53, 53)])
        #expect(config.routerID == "main")
        #expect(config.warnings.isEmpty, "\(config.warnings)")
    }

    @Test func includeInsideABlockAndBraceGlobs() throws {
        let dir = TemporaryDirectory()
        let main = dir.write("keepalived.conf", """
            virtual_server 10.0.0.100 80 {
                lb_kind DR
                protocol TCP
                include servers/{rs1,rs2}.conf
            }
            """)
        dir.write("servers/rs1.conf", "real_server 10.0.0.11 80 {\n}\n")
        dir.write("servers/rs2.conf", "real_server 10.0.0.12 80 {\n    weight 3\n}")
        let config = try Keepalived.reader.load(path: main)
        #expect(config.director.services.map(\.realServers) == [[Keepalived.server(11, 80), Keepalived.server(12, 80, weight: 3)]])
    }

    @Test func errorsAndWarningsNameTheIncludedFileAndItsLine() throws {
        let dir = TemporaryDirectory()
        let main = dir.write("keepalived.conf", "include web.conf\n")
        let web = dir.write("web.conf", """
            virtual_server 10.0.0.100 80 {
                lb_kind DR
                protocol TCP
                real_server 10.0.0.11 80 {
                    weigth 2
                }
            }
            """)
        let config = try Keepalived.reader.load(path: main)
        #expect(config.warnings == [Keepalived.warning(5, "unknown keyword 'weigth' in real_server (did you mean 'weight'?); ignored", file: web)])

        dir.write("web.conf", "virtual_server 10.0.0.100 80 {\n  real_server 10.0.0.300 80 {\n  }\n}\n")
        #expect(throws: ConfigurationError(file: web, line: 2, message: "'10.0.0.300' is not a valid real server address: expected an IPv4 address such as 10.0.0.1")) {
            _ = try Keepalived.reader.load(path: main)
        }
    }

    @Test func aMissingFileIsAnErrorAndAnEmptyGlobAWarning() throws {
        let dir = TemporaryDirectory()
        dir.makeDirectory("conf.d")
        let main = dir.write("keepalived.conf", "include conf.d/*.conf\n" + Self.webService + "\ninclude missing.conf\n")
        #expect(throws: ConfigurationError(file: main, line: 8, message: "cannot read the included file \(dir.path)/missing.conf: no such file")) {
            _ = try Keepalived.reader.load(path: main)
        }
        dir.write("keepalived.conf", "include conf.d/*.conf\n" + Self.webService)
        let config = try Keepalived.reader.load(path: main)
        #expect(config.warnings == [Keepalived.warning(1, "include conf.d/*.conf: no file matches \(dir.path)/conf.d/*.conf", file: main)])
        #expect(config.director.services.count == 1)

        dir.write("keepalived.conf", "includea conf.d/*.conf\n")
        #expect(throws: ConfigurationError(file: main, line: 1, message: "includea conf.d/*.conf: no file matches \(dir.path)/conf.d/*.conf, and includea requires a match")) {
            _ = try Keepalived.reader.load(path: main)
        }
    }

    @Test func loopsAreRefused() throws {
        let dir = TemporaryDirectory()
        let main = dir.write("keepalived.conf", "include a.conf\n")
        let a = dir.write("a.conf", "! a\ninclude b.conf\n")
        dir.write("b.conf", "include a.conf\n")
        #expect(throws: ConfigurationError(file: dir.path + "/b.conf", line: 1,
                                           message: "include loop: \(a) is already being read (\(a) -> \(dir.path)/b.conf -> \(a))")) {
            _ = try Keepalived.reader.load(path: main)
        }
        dir.write("a.conf", "include keepalived.conf\n")
        #expect(throws: ConfigurationError(file: a, line: 1,
                                           message: "include loop: \(main) is already being read (\(main) -> \(a) -> \(main))")) {
            _ = try Keepalived.reader.load(path: main)
        }
    }

    @Test func includeSyntax() throws {
        let dir = TemporaryDirectory()
        let main = dir.write("keepalived.conf", "include a.conf b.conf\n")
        #expect(throws: ConfigurationError(file: main, line: 1, message: "include takes one file name or glob pattern (quote a name that holds spaces)")) {
            _ = try Keepalived.reader.load(path: main)
        }
        dir.write("my web.conf", Self.webService)
        dir.write("keepalived.conf", "include \"my web.conf\"\n")
        #expect(try Keepalived.reader.load(path: main).director.services.count == 1)
    }

    @Test func anUnreadableTopFileIsAnError() {
        #expect(throws: ConfigurationError(file: "/nonexistent/keepalived.conf", line: 0,
                                           message: "cannot read the keepalived configuration: No such file or directory")) {
            _ = try Keepalived.reader.load(path: "/nonexistent/keepalived.conf")
        }
    }
}
