import Foundation
import Testing

@testable import MLCore

/// Training runs on its own thread, off the cooperative pool; a `JobCancellation` set from elsewhere (a server job
/// whose request was cancelled) stops it at the next mini-batch.
@Suite struct TrainerCancellationTests {
    @Test func aCancelledJobStopsTrainingWithACancelledError() throws {
        let dataset = try Dataset.csv(Data("a,b,y\n0,1,n\n1,0,p\n0,0,n\n1,1,p\n".utf8), label: "y")
        var options = TrainingOptions(kind: .logistic)
        options.epochs = 100_000
        options.patience = 100_000
        let cancellation = JobCancellation()
        var epochs = 0
        do {
            _ = try Trainer.fit(dataset, options: options, cancellation: cancellation) { report in
                epochs = report.epoch
                if report.epoch == 3 { cancellation.cancel() }
            }
            Issue.record("a cancelled job trained to its end")
        } catch {
            #expect(error.code == .cancelled)
        }
        #expect(epochs == 3)
    }
}
