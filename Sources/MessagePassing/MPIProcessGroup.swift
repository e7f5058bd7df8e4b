// PDEKit's process group over MPI (the MPI-3.1 standard, Open MPI 4 here): MPI_COMM_WORLD of a
// job started by `mpirun`, with the collectives generation and data-parallel training need.
// Built only with `swift build --traits MPI` (Debian: libopenmpi-dev, openmpi-bin).
#if MPI
  import CMPI
  import Dispatch
  import Foundation
  import Numerics

  /// An MPI failure, with MPI's own message.
  public struct MPIError: Error, CustomStringConvertible {
    /// The MPI call that failed.
    public var call: String
    /// MPI's error code and its text.
    public var code: Int32
    public var message: String

    public var description: String { "\(call) failed: \(message) (MPI error \(code))" }
  }

  /// MPI_COMM_WORLD as a ``ProcessGroup``. There is one per process: ``MPIProcessGroup/world()``
  /// initializes MPI on first use (MPI_Init_thread with MPI_THREAD_FUNNELED: only the thread that
  /// called it makes MPI calls; the worker threads of generation and the BLAS threads never do).
  public final class MPIProcessGroup: ProcessGroup, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    public let localSize: Int
    private let comm: MPI_Comm

    nonisolated(unsafe) private static var shared: MPIProcessGroup?

    /// Whether this process was started by an MPI launcher (mpirun/mpiexec of Open MPI or MPICH,
    /// or srun with PMI/PMIx), judged from the environment the launcher sets.
    public static var launchedByMPI: Bool {
      let env = ProcessInfo.processInfo.environment
      return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"].contains { env[$0] != nil }
    }

    /// The world group, initializing MPI the first time. Call from the main thread.
    public static func world() throws -> MPIProcessGroup {
      if let g = shared { return g }
      var provided: Int32 = 0
      var initialized: Int32 = 0
      MPI_Initialized(&initialized)
      if initialized == 0 {
        let rc = MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided)
        guard rc == MPI_SUCCESS else { throw MPIError(call: "MPI_Init_thread", code: rc, message: errorString(rc)) }
      }
      guard let world = pdekit_mpi_comm_world() else {
        throw MPIError(call: "MPI_COMM_WORLD", code: -1, message: "MPI gave no world communicator")
      }
      // Errors come back as codes (thrown with MPI's text) instead of aborting inside MPI.
      MPI_Comm_set_errhandler(world, pdekit_mpi_errors_return())
      var r: Int32 = 0
      var s: Int32 = 0
      try check(MPI_Comm_rank(world, &r), "MPI_Comm_rank")
      try check(MPI_Comm_size(world, &s), "MPI_Comm_size")
      var node = pdekit_mpi_comm_null()
      try check(
        MPI_Comm_split_type(world, Int32(MPI_COMM_TYPE_SHARED), r, pdekit_mpi_info_null(), &node),
        "MPI_Comm_split_type")
      var local: Int32 = 1
      try check(MPI_Comm_size(node, &local), "MPI_Comm_size")
      MPI_Comm_free(&node)
      let g = MPIProcessGroup(rank: Int(r), size: Int(s), localSize: Int(local), comm: world)
      shared = g
      return g
    }

    private init(rank: Int, size: Int, localSize: Int, comm: MPI_Comm) {
      self.rank = rank
      self.size = size
      self.localSize = localSize
      self.comm = comm
    }

    /// Ends MPI (MPI_Finalize) after a successful run; nothing may use the group afterwards.
    public static func finalizeIfStarted() {
      guard shared != nil else { return }
      var finalized: Int32 = 0
      MPI_Finalized(&finalized)
      if finalized == 0 { MPI_Finalize() }
      shared = nil
    }

    public func barrier(pollingEvery interval: Double, whileWaiting: () -> Void) throws {
      // A non-blocking barrier tested every few milliseconds, so that rank 0 can keep reporting
      // the job's progress while it waits for slower ranks.
      var request = pdekit_mpi_request_null()
      try Self.check(MPI_Ibarrier(comm, &request), "MPI_Ibarrier")
      var last = Self.now()
      while true {
        var done: Int32 = 0
        try Self.check(MPI_Test(&request, &done, pdekit_mpi_status_ignore()), "MPI_Test")
        if done != 0 { return }
        usleep(2000)
        if Self.now() - last >= interval {
          whileWaiting()
          last = Self.now()
        }
      }
    }

    public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
      try allreduce(values.baseAddress, values.count, pdekit_mpi_float())
    }

    public func sum(_ values: UnsafeMutableBufferPointer<Double>) throws {
      try allreduce(values.baseAddress, values.count, pdekit_mpi_double())
    }

    private func allreduce(_ base: UnsafeMutableRawPointer?, _ count: Int, _ type: MPI_Datatype) throws {
      guard count > 0, let base else {
        // Every rank still takes part in the collective.
        var dummy = 0.0
        try Self.check(
          MPI_Allreduce(pdekit_mpi_in_place(), &dummy, 0, pdekit_mpi_double(), pdekit_mpi_sum(), comm),
          "MPI_Allreduce")
        return
      }
      guard count <= Int(Int32.max) else {
        throw MPIError(call: "MPI_Allreduce", code: -1, message: "\(count) values exceed MPI's 32-bit count")
      }
      try Self.check(
        MPI_Allreduce(pdekit_mpi_in_place(), base, Int32(count), type, pdekit_mpi_sum(), comm), "MPI_Allreduce")
    }

    public func allEqual(_ value: UInt64) throws -> Bool {
      var low = value
      var high = value
      try Self.check(
        MPI_Allreduce(pdekit_mpi_in_place(), &low, 1, pdekit_mpi_uint64(), pdekit_mpi_min(), comm), "MPI_Allreduce")
      try Self.check(
        MPI_Allreduce(pdekit_mpi_in_place(), &high, 1, pdekit_mpi_uint64(), pdekit_mpi_max(), comm), "MPI_Allreduce")
      return low == high
    }

    public func abort(code: Int32) -> Never {
      MPI_Abort(comm, code)
      exit(code)
    }

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    private static func check(_ rc: Int32, _ call: String) throws {
      guard rc != MPI_SUCCESS else { return }
      throw MPIError(call: call, code: rc, message: errorString(rc))
    }

    private static func errorString(_ rc: Int32) -> String {
      var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
      var length: Int32 = 0
      MPI_Error_string(rc, &buffer, &length)
      return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
  }
#endif
