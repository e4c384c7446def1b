// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks of the pure core with ordo-one/benchmark (`swift package benchmark` in this
// directory): wall clock, CPU time and malloc counts per operation for the hit path, the
// connection table and the Maglev build. A package of its own so that the benchmark library
// (and its build time) stays out of the director's build and CI; the instruction counts that
// the issue targets come from callgrind (Benchmarks/run.sh), which needs no hardware counters.
let package = Package(
    name: "SwiftLVSMicroBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "SwiftLVS", path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "CoreBenchmarks",
            dependencies: [
                .product(name: "LVSCore", package: "SwiftLVS"),
                .product(name: "BenchmarkFixtures", package: "SwiftLVS"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/CoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
