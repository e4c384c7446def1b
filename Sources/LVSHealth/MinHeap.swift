/// A binary min-heap.
struct MinHeap<Element: Comparable> {
    private(set) var elements: [Element] = []

    var top: Element? { elements.first }
    var count: Int { elements.count }

    mutating func push(_ e: Element) {
        elements.append(e)
        var i = elements.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard elements[i] < elements[p] else { break }
            elements.swapAt(i, p)
            i = p
        }
    }

    mutating func pop() -> Element? {
        guard !elements.isEmpty else { return nil }
        let first = elements[0]
        let last = elements.removeLast()
        if !elements.isEmpty {
            elements[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < elements.count && elements[l] < elements[m] { m = l }
                if r < elements.count && elements[r] < elements[m] { m = r }
                if m == i { break }
                elements.swapAt(i, m)
                i = m
            }
        }
        return first
    }
}
