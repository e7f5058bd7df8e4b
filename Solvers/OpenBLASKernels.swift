import Foundation

/// Makes OpenBLAS use the kernels this CPU supports when it fell back to generic ones.
///
/// OpenBLAS chooses its kernels once, when the library loads, from `OPENBLAS_CORETYPE` or its CPU
/// table; Debian 12's OpenBLAS 0.3.21 does not know some recent Xeons and picks SSE3 "Prescott"
/// kernels (sgemm 2–3× slower than SkylakeX here, bench/RESULTS.md). The only way to change the
/// choice is before the library loads, so the program (pdekit, pdekit-bench) re-executes itself once
/// with the variable set.
/// An explicit `OPENBLAS_CORETYPE`, or `PDEKIT_KEEP_OPENBLAS_CORE=1`, leaves OpenBLAS alone.
public enum OpenBLASKernels {
  /// Set in the re-executed process to the core type pdekit chose (read by `pdekit doctor`).
  public static let marker = "PDEKIT_OPENBLAS_CORETYPE_SET"

  /// Re-executes the process with `OPENBLAS_CORETYPE` set when OpenBLAS would otherwise pick
  /// generic kernels; returns when nothing needs changing (or exec is impossible).
  public static func reexecIfNeeded() {
    let env = ProcessInfo.processInfo.environment
    guard env["OPENBLAS_CORETYPE"] == nil, env["PDEKIT_KEEP_OPENBLAS_CORE"] == nil, env[marker] == nil,
      let core = SelfCheck.suggestedOpenBLASCoreType()
    else { return }
    setenv("OPENBLAS_CORETYPE", core, 1)
    setenv(marker, core, 1)
    // The resolved path, so that the new process keeps its name (ps shows its name, not "exe").
    let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe"
    execv(path, CommandLine.unsafeArgv)
    // exec failed (no /proc): carry on with OpenBLAS's own choice.
    unsetenv("OPENBLAS_CORETYPE")
  }
}
