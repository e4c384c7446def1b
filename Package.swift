// swift-tools-version:6.0
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode (set by the tools version) plus the
/// upcoming features that keep dependencies explicit and existentials visible.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "SwiftLVS",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lvsd", targets: ["lvsd"]),
        .executable(name: "lvsadm", targets: ["lvsadm"]),
        .executable(name: "lvs-realserver", targets: ["lvs-realserver"]),
        // For the micro-benchmark package (Benchmarks/Micro), which measures the core from
        // outside so that its benchmark dependency never enters the product's build.
        .library(name: "LVSCore", targets: ["LVSCore"]),
        .library(name: "BenchmarkFixtures", targets: ["BenchmarkFixtures"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C quarantine: Linux packet-socket headers, ring barriers and the GNU-only calls.
        .target(name: "CLinuxNet"),
        // The system's OpenSSL 3 (libssl-dev) for SSL_GET: a module map over the installed
        // headers, so it costs no build time (a vendored TLS library would).
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // Pure Swift domain core: no syscalls, no clocks it is not handed.
        .target(name: "LVSCore", swiftSettings: strictSettings),
        // Front ends that turn files into the core's configuration model.
        .target(name: "LVSConfig", dependencies: ["LVSCore"], swiftSettings: strictSettings),
        // Linux I/O: AF_PACKET rings, interfaces, the forwarding worker.
        .target(name: "LVSDataPlane", dependencies: ["LVSCore", "CLinuxNet"], swiftSettings: strictSettings),
        // The control socket's wire format and its client/server transport (lvsd <-> lvsadm).
        .target(name: "LVSControlProtocol", dependencies: ["LVSCore", "LVSConfig", "CLinuxNet"], swiftSettings: strictSettings),
        // ipvsadm's output formats, byte for byte, from a DirectorStatus (pure).
        .target(name: "LVSAdmin", dependencies: ["LVSCore", "LVSConfig"], swiftSettings: strictSettings),
        // Health checkers and their reactions (weight 0 / removal, sorry server, quorum), run
        // on their own threads; they change the table through the same path lvsadm uses.
        .target(name: "LVSHealth", dependencies: ["LVSCore", "LVSConfig", "CLinuxNet", "COpenSSL"], swiftSettings: strictSettings),
        // Real-server setup, teardown and checks (lvs-realserver's logic, runs host commands).
        .target(name: "LVSRealServer", dependencies: ["LVSCore"], swiftSettings: strictSettings),
        // Director high availability: VRRPv3 (RFC 5798) as a pure codec and state machine under
        // a thin Linux layer (raw socket, timers, notify scripts) that drives VIP ownership.
        .target(name: "LVSHA", dependencies: ["LVSCore", "LVSConfig", "LVSDataPlane", "CLinuxNet"], swiftSettings: strictSettings),
        .executableTarget(
            name: "lvsadm",
            dependencies: ["LVSCore", "LVSConfig", "LVSAdmin", "LVSControlProtocol"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "lvs-realserver",
            dependencies: [
                "LVSCore", "LVSRealServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "lvsd",
            dependencies: [
                "LVSCore", "LVSConfig", "LVSDataPlane", "LVSControlProtocol", "LVSHealth", "LVSHA", "CLinuxNet",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // Micro-benchmarks of the core (no dependencies, so they live here rather than in a
        // package of their own): fixed work for callgrind and valgrind's heap summary.
        // Benchmarks/run.sh runs them; CI only builds them.
        .target(name: "BenchmarkFixtures", dependencies: ["LVSCore"], path: "Benchmarks/Sources/BenchmarkFixtures",
                swiftSettings: strictSettings),
        .executableTarget(name: "HitPath", dependencies: ["LVSCore", "BenchmarkFixtures"], path: "Benchmarks/Sources/HitPath",
                          swiftSettings: strictSettings),
        .executableTarget(name: "MaglevBuild", dependencies: ["LVSCore"], path: "Benchmarks/Sources/MaglevBuild",
                          swiftSettings: strictSettings),
        .executableTarget(name: "ServiceSnapshot", dependencies: ["LVSCore", "LVSDataPlane"],
                          path: "Benchmarks/Sources/ServiceSnapshot", swiftSettings: strictSettings),
        .executableTarget(name: "ControlPlane",
                          dependencies: ["LVSCore", "LVSConfig", "LVSControlProtocol", "LVSAdmin"],
                          path: "Benchmarks/Sources/ControlPlane", swiftSettings: strictSettings),
        .testTarget(name: "LVSCoreTests", dependencies: ["LVSCore"], swiftSettings: strictSettings),
        .testTarget(name: "LVSConfigTests", dependencies: ["LVSConfig", "LVSCore"], swiftSettings: strictSettings),
        // Golden/ holds the hand-derived expected listings, read through #filePath.
        .testTarget(name: "LVSAdminTests", dependencies: ["LVSAdmin", "LVSConfig", "LVSCore"], exclude: ["Golden"],
                    swiftSettings: strictSettings),
        .testTarget(name: "LVSControlProtocolTests", dependencies: ["LVSControlProtocol", "LVSConfig", "LVSCore"],
                    swiftSettings: strictSettings),
        .testTarget(name: "LVSHealthTests", dependencies: ["LVSHealth", "LVSConfig", "LVSCore"], swiftSettings: strictSettings),
        .testTarget(name: "LVSHATests", dependencies: ["LVSHA", "LVSConfig", "LVSCore"], swiftSettings: strictSettings),
        .testTarget(name: "LVSRealServerTests", dependencies: ["LVSRealServer", "LVSCore"], swiftSettings: strictSettings),
        // Needs root: runs lvsd's XDP program in the kernel (BPF_PROG_TEST_RUN).
        .testTarget(name: "LVSDataPlaneTests", dependencies: ["LVSDataPlane", "LVSCore"], swiftSettings: strictSettings),
        .testTarget(name: "IntegrationTests", dependencies: ["LVSCore"], exclude: ["Golden", "Scripts"], swiftSettings: strictSettings),
    ]
)
