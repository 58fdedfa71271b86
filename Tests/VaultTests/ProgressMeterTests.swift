import Testing

@testable import Vault

@Suite struct ProgressMeterTests {
    @Test func bytesUseDecimalUnits() {
        #expect(ProgressMeter.bytes(0) == "0 B")
        #expect(ProgressMeter.bytes(999) == "999 B")
        #expect(ProgressMeter.bytes(1500) == "1.5 kB")
        #expect(ProgressMeter.bytes(300_000_000) == "300.0 MB")
        #expect(ProgressMeter.bytes(999_960) == "1.0 MB")
        #expect(ProgressMeter.bytes(2_500_000_000) == "2.5 GB")
        #expect(ProgressMeter.amount(1, .files) == "1 file")
        #expect(ProgressMeter.amount(3, .files) == "3 files")
    }

    @Test func durationsAreClockLike() {
        #expect(ProgressMeter.duration(3) == "0:03")
        #expect(ProgressMeter.duration(2.1) == "0:03")
        #expect(ProgressMeter.duration(75) == "1:15")
        #expect(ProgressMeter.duration(3725) == "1:02:05")
        #expect(ProgressMeter.duration(.infinity) == "0:00")
        #expect(ProgressMeter.seconds(0.42) == "0.4 s")
        #expect(ProgressMeter.seconds(90) == "1:30")
    }

    @Test func barLineShowsPercentageAmountsRateAndETA() {
        let meter = ProgressMeter(label: "pushing", width: 10)
        let line = meter.line(ProgressEvent(done: 100_000_000, total: 300_000_000, unit: .bytes), elapsed: 2)
        #expect(line == "pushing [###-------]  33% 100.0 MB / 300.0 MB  50.0 MB/s  ETA 0:04")
    }

    @Test func finishedBarHasNoETAAndNoRateAtTheStart() {
        let meter = ProgressMeter(label: "pulling", width: 4)
        let done = meter.line(ProgressEvent(done: 2000, total: 2000, unit: .bytes), elapsed: 1)
        #expect(done == "pulling [####] 100% 2.0 kB / 2.0 kB  2.0 kB/s")
        let start = meter.line(ProgressEvent(done: 0, total: 2000, unit: .bytes), elapsed: 0)
        #expect(start == "pulling [----]   0% 0 B / 2.0 kB")
        let empty = meter.line(ProgressEvent(done: 0, total: 0, unit: .files), elapsed: 0)
        #expect(empty == "pulling [####] 100% 0 files / 0 files")
    }

    @Test func summaryIsOneLineWithRate() {
        let meter = ProgressMeter(label: "pushed")
        #expect(
            meter.summary(ProgressEvent(done: 300_000_000, total: 300_000_000, unit: .bytes), elapsed: 6)
                == "pushed 300.0 MB in 6.0 s (50.0 MB/s)")
        #expect(
            meter.summary(ProgressEvent(done: 4, total: 4, unit: .files), elapsed: 0.01) == "pushed 4 files in 0.0 s")
    }

    @Test func eventsAreClamped() {
        #expect(ProgressEvent(done: 12, total: 10, unit: .bytes).done == 10)
        #expect(ProgressEvent(done: -1, total: 10, unit: .bytes).done == 0)
    }

    @Test func redrawsAreThrottledToTenPerSecond() {
        var meter = ProgressMeter(label: "x")
        let event = { (done: Int64) in ProgressEvent(done: done, total: 100, unit: .bytes) }
        var drawn: [Bool] = []
        for (done, elapsed) in [(1, 0), (2, 0.05), (3, 0.1), (4, 0.15), (100, 0.16)] as [(Int64, Double)] {
            drawn.append(meter.shouldRedraw(event(done), elapsed: elapsed))
        }
        // The last event is always drawn, so the bar ends at 100%.
        #expect(drawn == [true, false, true, false, true])
        var draws = 0
        for step in 0..<1000 where meter.shouldRedraw(event(50), elapsed: 1 + Double(step) / 1000) { draws += 1 }
        #expect(draws == 10)
    }
}
