// glibc's malloc returns large blocks (above a dynamic threshold of at most 32 MB) to the kernel
// with munmap or heap trimming, and every fresh block then costs page faults and kernel zeroing.
// Array code that allocates and frees the same large temporaries at every step (a training
// step allocates ~100 arrays of up to 20 MB) spends 10–25 % of its time there. Keeping freed
// memory in the process, as PyTorch's caching allocator does, removes that cost.
import CBLAS

/// Process-wide allocator settings for array-heavy work.
public enum MemoryTuning {
  /// Tells glibc's malloc to serve large blocks from the heap and keep freed memory for reuse
  /// (mmap threshold 1 GiB, trim threshold 4 GiB, top pad 256 MiB). The resident size then stays
  /// at its peak instead of shrinking between steps. Call once at start-up (the `pdekit` tool
  /// does). No effect on other C libraries.
  public static func retainFreedMemory() {
    #if os(Linux)
      _ = mallopt(M_MMAP_THRESHOLD, 1 << 30)
      _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
      _ = mallopt(M_TOP_PAD, 256 << 20)
    #endif
  }
}
