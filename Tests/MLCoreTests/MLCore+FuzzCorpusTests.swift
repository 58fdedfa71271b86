import Foundation
import TestSupport
import Testing

@testable import MLCore

/// Replays `Fuzz/Corpus/safetensors`, `model-config` and `csv` with the fuzz targets' calls, then seeded mutations
/// of them (`FuzzCorpus`): each parser either succeeds or throws an `MLError`, never traps.
@Suite struct MLCoreFuzzCorpusTests {
    @Test func safeTensorsCorpusReplays() throws {
        let run = try FuzzCorpus.replay("safetensors") { bytes in
            guard let file = try? SafeTensors.decode(Data(bytes)) else { return false }
            return (try? file.float32Tensors()) != nil
        }
        #expect(run.replayed >= 4)
        #expect(run.accepted >= 1)
    }

    @Test func modelConfigCorpusReplays() throws {
        // The fuzz target's fixed weights file: a logistic model over 16 features and three classes.
        let weights = SafeTensors.encode([
            "layers.0.weight": Tensor(shape: [16, 3], scalars: [Float](repeating: 0.1, count: 48)),
            "layers.0.bias": Tensor(shape: [3], scalars: [0, 0, 0]),
        ])
        let run = try FuzzCorpus.replay("model-config") { bytes in
            let data = Data(bytes)
            guard (try? ModelConfig(jsonData: data)) != nil else { return false }
            _ = try? TrainedModel(files: [TrainedModel.configFileName: data, TrainedModel.weightsFileName: weights])
            return true
        }
        #expect(run.replayed >= 4)
        #expect(run.accepted >= 1)
    }

    @Test func csvCorpusReplays() throws {
        let run = try FuzzCorpus.replay("csv") { bytes in
            guard let table = try? CSVTable.parse(Data(bytes)), let label = table.header.last else { return false }
            _ = try? Dataset.csv(table, label: label)
            return true
        }
        #expect(run.replayed >= 4)
        #expect(run.accepted >= 1)
    }
}
