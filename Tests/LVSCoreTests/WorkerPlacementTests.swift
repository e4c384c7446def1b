import LVSCore
import Testing

/// `lvsd --workers` and `--cpu-list`.
struct WorkerPlacementTests {
    @Test func defaultIsOneUnpinnedWorker() throws {
        #expect(try WorkerPlacement.resolve(workers: "1", cpuList: nil, allowedCPUs: [0, 1])
                == WorkerPlacement(workerCount: 1))
    }

    @Test func autoCountsTheAllowedCPUsOrTheList() throws {
        #expect(try WorkerPlacement.resolve(workers: "auto", cpuList: nil, allowedCPUs: [0, 1, 2]).workerCount == 3)
        #expect(try WorkerPlacement.resolve(workers: "auto", cpuList: "1-2", allowedCPUs: [0, 1, 2])
                == WorkerPlacement(workerCount: 2, cpus: [1, 2]))
    }

    @Test func cpuListPinsInOrder() throws {
        #expect(try WorkerPlacement.resolve(workers: "2", cpuList: "3,1,2", allowedCPUs: [0, 1, 2, 3])
                == WorkerPlacement(workerCount: 2, cpus: [3, 1]))
    }

    @Test func parsesLists() {
        #expect(WorkerPlacement.parseCPUList("0,2-4") == [0, 2, 3, 4])
        #expect(WorkerPlacement.parseCPUList("7") == [7])
        for bad in ["", "a", "1,,2", "3-1", "1-", "-1", "1,1", "0-2,2"] {
            #expect(WorkerPlacement.parseCPUList(bad) == nil, "\(bad)")
        }
    }

    @Test func refusesWhatCannotRun() {
        #expect(throws: WorkerPlacementError.self) { try WorkerPlacement.resolve(workers: "0", cpuList: nil, allowedCPUs: [0]) }
        #expect(throws: WorkerPlacementError.self) { try WorkerPlacement.resolve(workers: "two", cpuList: nil, allowedCPUs: [0]) }
        #expect(throws: WorkerPlacementError.self) { try WorkerPlacement.resolve(workers: "65", cpuList: nil, allowedCPUs: [0]) }
        #expect(throws: WorkerPlacementError.self) { try WorkerPlacement.resolve(workers: "3", cpuList: "0-1", allowedCPUs: [0, 1]) }
        #expect(throws: WorkerPlacementError.self) { try WorkerPlacement.resolve(workers: "1", cpuList: "5", allowedCPUs: [0, 1]) }
    }
}
