import Foundation
import Numerics

#if MPI
  import MessagePassing
#endif

/// The MPI job this process belongs to when `pdekit generate` or `pdekit train` runs under
/// `mpirun -np P` (MPI build: `swift build -c release --traits MPI`). Rank 0 prints and writes; a
/// failing rank prints its message and stops the whole job (MPI_Abort) instead of leaving the
/// other ranks waiting.
enum ParallelLaunch {
  /// The job's process group, nil when not started by an MPI launcher (or a job of one process).
  /// The first call initializes MPI.
  static func group() throws -> (any ProcessGroup)? {
    #if MPI
      guard MPIProcessGroup.launchedByMPI else { return nil }
      let world = try MPIProcessGroup.world()
      return world.size > 1 ? world : nil
    #else
      let env = ProcessInfo.processInfo.environment
      if let size = env["OMPI_COMM_WORLD_SIZE"] ?? env["PMI_SIZE"], let n = Int(size), n > 1 {
        throw CLIError(
          "this pdekit runs under an MPI launcher with \(n) processes but was built without MPI, so every process "
            + "would do the whole job. Build the MPI variant (apt-get install libopenmpi-dev openmpi-bin; "
            + "swift build -c release --traits MPI) or run pdekit without mpirun")
      }
      return nil
    #endif
  }

  /// Runs `body` as this process's share of the job. On success MPI is finalized; on failure in a
  /// job of several processes the error is printed with the rank and the job is stopped.
  static func run(_ body: ((any ProcessGroup)?) throws -> Void) throws {
    let group = try group()
    do {
      try body(group)
    } catch {
      if let group {
        fflush(nil)
        let message = "\(error)"
        FileHandle.standardError.write(
          Data("Error (rank \(group.rank) of \(group.size)): \(message)\n".utf8))
        group.abort(code: 1)
      }
      finalize()
      throw error
    }
    finalize()
  }

  /// Threads per process when the user gives none: the machine's cores shared by the job's
  /// processes on this machine.
  static func defaultThreads(_ group: (any ProcessGroup)?) -> Int {
    max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, group?.localSize ?? 1))
  }

  private static func finalize() {
    #if MPI
      MPIProcessGroup.finalizeIfStarted()
    #endif
  }
}
