// The view one process has of a group of cooperating processes (an MPI communicator in the
// optional MPI build, module MessagePassing). Generation and training take an optional group and
// behave exactly as in a single process when it is nil; nothing here depends on MPI.

/// A fixed group of processes working on one job, seen from one of them (`rank` of `size`).
///
/// Every collective operation (``barrier(pollingEvery:whileWaiting:)``, the sums, ``allEqual(_:)``)
/// must be called by every process of the group in the same order, and only from the thread that
/// created the group (MPI is initialized with `MPI_THREAD_FUNNELED`). A failed collective throws;
/// a process that cannot go on calls ``abort(code:)``, which stops every process of the job
/// (instead of leaving the others waiting in a collective forever).
public protocol ProcessGroup: AnyObject, Sendable {
  /// This process's index, 0 ..< size. Rank 0 reports progress and writes shared results.
  var rank: Int { get }
  /// Processes in the group.
  var size: Int { get }
  /// Processes of the group on this machine (they share its cores).
  var localSize: Int { get }

  /// Blocks until every process has arrived, calling `whileWaiting` about every `interval`
  /// seconds meanwhile (rank 0 uses it to keep the progress line of the whole job alive).
  func barrier(pollingEvery interval: Double, whileWaiting: () -> Void) throws
  /// Replaces `values` by their elementwise sum over the group (the same result on every process).
  func sum(_ values: UnsafeMutableBufferPointer<Float>) throws
  /// Replaces `values` by their elementwise sum over the group (the same result on every process).
  func sum(_ values: UnsafeMutableBufferPointer<Double>) throws
  /// Whether every process passed the same `value` (for example a hash of model weights).
  func allEqual(_ value: UInt64) throws -> Bool
  /// Stops the whole job with exit status `code` (after this process has said why on stderr).
  func abort(code: Int32) -> Never
}

extension ProcessGroup {
  /// Blocks until every process has arrived.
  public func barrier() throws { try barrier(pollingEvery: 3600, whileWaiting: {}) }

  /// The elementwise sum of `values` over the group.
  public func sum(_ values: [Double]) throws -> [Double] {
    var v = values
    try v.withUnsafeMutableBufferPointer { try sum($0) }
    return v
  }

  /// Whether this process is rank 0, the one that reports and writes shared files.
  public var isRoot: Bool { rank == 0 }

  /// The part of `0 ..< count` this rank owns when `count` items are dealt out in contiguous,
  /// nearly equal blocks (the first `count % size` ranks get one more).
  public func block(of count: Int) -> Range<Int> {
    let base = count / size
    let extra = count % size
    let lower = rank * base + min(rank, extra)
    return lower..<(lower + base + (rank < extra ? 1 : 0))
  }
}
