/// How many data-plane workers lvsd runs and where: `--workers N|auto` and `--cpu-list`.
public struct WorkerPlacement: Equatable, Sendable {
    public var workerCount: Int
    /// The CPU each worker's thread is pinned to, in worker order; nil: not pinned.
    public var cpus: [Int]?

    public static let maximumWorkers = 64

    public init(workerCount: Int, cpus: [Int]? = nil) {
        self.workerCount = workerCount
        self.cpus = cpus
    }

    /// `workers` is a count or `auto` (one per CPU the process may run on, or per CPU of
    /// `cpuList` when given); `cpuList` (`0,2-3`) pins worker i to its i-th CPU and must name
    /// one CPU per worker, each one the process may use (`allowedCPUs`, sched_getaffinity).
    public static func resolve(workers: String, cpuList: String?,
                               allowedCPUs: [Int]) throws(WorkerPlacementError) -> WorkerPlacement {
        let cpus: [Int]?
        if let cpuList {
            guard let parsed = parseCPUList(cpuList) else {
                throw WorkerPlacementError("--cpu-list expects CPU numbers and ranges like 0,2-3, got '\(cpuList)'")
            }
            if let outside = parsed.first(where: { !allowedCPUs.contains($0) }) {
                throw WorkerPlacementError("--cpu-list: CPU \(outside) is not one this process may run on (allowed: \(allowedCPUs.map(String.init).joined(separator: ",")))")
            }
            cpus = parsed
        } else {
            cpus = nil
        }
        let count: Int
        if workers == "auto" {
            count = cpus?.count ?? max(1, allowedCPUs.count)
        } else if let n = Int(workers), n >= 1 {
            count = n
        } else {
            throw WorkerPlacementError("--workers expects a number of workers (1 or more) or auto, got '\(workers)'")
        }
        guard count <= maximumWorkers else {
            throw WorkerPlacementError("--workers: at most \(maximumWorkers) workers, got \(count)")
        }
        if let cpus, cpus.count < count {
            throw WorkerPlacementError("--cpu-list names \(cpus.count) CPU\(cpus.count == 1 ? "" : "s") for \(count) workers; give one CPU per worker")
        }
        return WorkerPlacement(workerCount: count, cpus: cpus.map { Array($0.prefix(count)) })
    }

    /// `0,2-3` → [0, 2, 3]: numbers and ascending ranges, no duplicates; nil if malformed.
    public static func parseCPUList(_ text: String) -> [Int]? {
        var result: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 1 || bounds.count == 2,
                  let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]),
                  low >= 0, low <= high, high < 4096 else { return nil }
            for cpu in low...high {
                guard !result.contains(cpu) else { return nil }
                result.append(cpu)
            }
        }
        return result.isEmpty ? nil : result
    }
}

public struct WorkerPlacementError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
