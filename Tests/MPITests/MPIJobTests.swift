// `mpirun -np 2 pdekit generate|train` against one-process runs. Compiled only in the MPI build:
//   swift build --traits MPI --scratch-path .build-mpi
//   swift test --traits MPI --scratch-path .build-mpi --filter MPITests
#if MPI
  import Datasets
  import Foundation
  import Operators
  import Testing

  /// The `pdekit` executable built beside the test bundle.
  private func pdekit() -> String {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
      .appendingPathComponent("pdekit").path
  }

  /// `mpirun` with the flags a 2-core CI machine needs (more ranks than cores; root in containers).
  private func mpirun(_ ranks: Int) -> String {
    "timeout 300 mpirun --oversubscribe\(getuid() == 0 ? " --allow-run-as-root" : "") -np \(ranks)"
  }

  /// Runs a shell command line in `directory`; returns the exit status and standard error.
  private func run(_ command: String, in directory: URL) throws -> (status: Int32, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "cd '\(directory.path)' && \(command)"]
    let err = Pipe()
    process.standardError = err
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let data = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  /// The repository's example dataset (Darcy, 32², data/darcy-32.nc).
  private let exampleData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("data/darcy-32.nc").path

  private func scratchDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pdekit-mpi-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
  }

  /// Every data variable and the per-sample seeds and iterations of two datasets, compared exactly.
  private func expectSameData(_ a: URL, _ b: URL, _ names: [String]) throws {
    let (x, y) = (try DatasetReader(url: a), try DatasetReader(url: b))
    defer {
      try? x.close()
      try? y.close()
    }
    #expect(x.sampleCount == y.sampleCount)
    let n = x.sampleCount
    for name in names {
      #expect(try x.read(name, samples: 0..<n) == y.read(name, samples: 0..<n), "\(name) differs")
    }
    let (dx, dy) = (try x.diagnostics(samples: 0..<n), try y.diagnostics(samples: 0..<n))
    #expect(dx.map(\.seed) == dy.map(\.seed))
    #expect(dx.map(\.iterations) == dy.map(\.iterations))
  }

  @Suite("mpirun -np 2", .serialized)
  struct MPIJobTests {
    @Test(
      "generation over 2 ranks equals one process bit for bit (direct and recycling solvers), rank 0 reports the whole job",
      arguments: ["cholmod", "recycled-cg"])
    func generationEqualsSerial(solver: String) throws {
      let dir = try scratchDirectory()
      defer { try? FileManager.default.removeItem(at: dir) }
      let args = "generate darcy --samples 40 --resolution 16 --batch-size 4 --solver \(solver)"
      let serial = try run("'\(pdekit())' \(args) --threads 1 --quiet --out serial.nc", in: dir)
      #expect(serial.status == 0, "\(serial.stderr)")
      let parallel = try run("\(mpirun(2)) '\(pdekit())' \(args) --out mpi.nc", in: dir)
      #expect(parallel.status == 0, "\(parallel.stderr)")
      // Each rank computed 20 samples; the progress counts all 40.
      #expect(parallel.stderr.contains("40/40 samples solved"), "\(parallel.stderr)")
      try expectSameData(
        dir.appendingPathComponent("serial.nc"), dir.appendingPathComponent("mpi.nc"),
        ["coefficient", "solution"])
      #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("mpi.nc.parts").path))
    }

    @Test(
      "a rank that fails (its disk full) stops the job with its message and a non-zero status; --resume, on 2 ranks or 1, finishes it"
    )
    func failingRankAndResume() throws {
      let dir = try scratchDirectory()
      defer { try? FileManager.default.removeItem(at: dir) }
      let args = "generate darcy --samples 40 --resolution 16 --batch-size 4 --quiet"
      let serial = try run("'\(pdekit())' \(args) --threads 1 --out serial.nc", in: dir)
      #expect(serial.status == 0, "\(serial.stderr)")
      for resumeRanks in [2, 1] {
        let out = "job\(resumeRanks).nc"
        // MPMD launch: rank 1 runs under an 8 KiB file-size limit, so writing its first part fails.
        let failed = try run(
          "\(mpirun(1)) '\(pdekit())' \(args) --out \(out) : -np 1 sh -c \"ulimit -f 8; exec '\(pdekit())' \(args) --out \(out)\"",
          in: dir)
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("rank 1 of 2"), "\(failed.stderr)")
        #expect(failed.stderr.contains("file-size limit"), "\(failed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(out).path))
        let launcher = resumeRanks > 1 ? mpirun(resumeRanks) + " " : ""
        let resumed = try run("\(launcher)'\(pdekit())' \(args) --out \(out) --resume", in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        try expectSameData(
          dir.appendingPathComponent("serial.nc"), dir.appendingPathComponent(out),
          ["coefficient", "solution"])
      }
    }

    /// The 2-norm of the difference of two checkpoints' parameters, and the first one's norm.
    private func weightDistance(_ a: URL, _ b: URL) throws -> (difference: Double, norm: Double) {
      let (x, y) = (try OperatorCheckpoint.read(from: a), try OperatorCheckpoint.read(from: b))
      #expect(x.parameters.map(\.name) == y.parameters.map(\.name))
      var difference = 0.0
      var norm = 0.0
      for (p, q) in zip(x.parameters, y.parameters) {
        #expect(p.value.shape == q.value.shape, "\(p.name)")
        let (u, v) = (p.value.scalars, q.value.scalars)
        for i in 0..<min(u.count, v.count) {
          difference += (Double(u[i]) - Double(v[i])) * (Double(u[i]) - Double(v[i]))
          norm += Double(u[i]) * Double(u[i])
        }
      }
      return (difference.squareRoot(), norm.squareRoot())
    }

    @Test("a data-parallel SGD step on 2 ranks × 4 samples equals one process's step on 8 samples to 1e-5")
    func trainingStepEqualsDoubledBatch() throws {
      let dir = try scratchDirectory()
      defer { try? FileManager.default.removeItem(at: dir) }
      let data = exampleData
      // One optimizer step: 8 training samples in one batch (serial) or 2 × 4 (two ranks).
      let args =
        "train --data '\(data)' --model fno --epochs 1 --train-samples 8 --test-samples 4 --width 8 --modes 4 "
        + "--layers 2 --optimizer sgd --threads 1 --quiet"
      for (name, command) in [
        ("serial", "'\(pdekit())' \(args) --lr 0.05 --batch-size 8 --out serial.safetensors"),
        ("serial-half-step", "'\(pdekit())' \(args) --lr 0.025 --batch-size 8 --out half.safetensors"),
        ("mpi", "\(mpirun(2)) '\(pdekit())' \(args) --lr 0.05 --batch-size 4 --out mpi.safetensors"),
        ("serial-batch-4", "'\(pdekit())' \(args) --lr 0.05 --batch-size 4 --out serial4.safetensors"),
      ] {
        let r = try run(command, in: dir)
        #expect(r.status == 0, "\(name): \(r.stderr)")
      }
      let file = { (name: String) in dir.appendingPathComponent(name) }
      // The step itself: SGD is linear in the gradient, so w(0.05) − w(0.025) is half the step.
      let step = 2 * (try weightDistance(file("serial.safetensors"), file("half.safetensors"))).difference
      let mpi = try weightDistance(file("mpi.safetensors"), file("serial.safetensors")).difference
      #expect(step > 1e-4, "the step is \(step): nothing was trained")
      #expect(mpi <= 1e-5 * step, "2 ranks × 4 differ from 1 × 8 by \(mpi), the step is \(step)")
      // A different batch (two steps of 4 in one process) is far from it: the comparison can fail.
      let other = try weightDistance(file("serial4.safetensors"), file("serial.safetensors")).difference
      #expect(other > 1e-2 * step, "\(other) vs step \(step)")
    }

    @Test("Adam training on 2 ranks keeps identical weights on every rank and tracks the one-process run")
    func adamTrainingRuns() throws {
      let dir = try scratchDirectory()
      defer { try? FileManager.default.removeItem(at: dir) }
      let data = exampleData
      let args =
        "train --data '\(data)' --model fno --epochs 2 --train-samples 16 --test-samples 4 --width 8 --modes 4 "
        + "--layers 2 --threads 1"
      let mpi = try run("\(mpirun(2)) '\(pdekit())' \(args) --batch-size 4 --out mpi.safetensors", in: dir)
      // The ranks compare weight digests after every epoch and fail the job when they differ.
      #expect(mpi.status == 0, "\(mpi.stderr)")
      #expect(mpi.stderr.contains("2 processes, 2 × 4 samples per step"), "\(mpi.stderr)")
      #expect(mpi.stderr.components(separatedBy: "epoch 2/2").count == 2, "rank 0 alone reports: \(mpi.stderr)")
      let serial = try run("'\(pdekit())' \(args) --batch-size 8 --quiet --out serial.safetensors", in: dir)
      #expect(serial.status == 0, "\(serial.stderr)")
      let d = try weightDistance(
        dir.appendingPathComponent("mpi.safetensors"), dir.appendingPathComponent("serial.safetensors"))
      #expect(d.difference <= 1e-3 * d.norm, "relative weight difference \(d.difference / d.norm)")
    }
  }
#endif
