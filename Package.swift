// swift-tools-version: 6.1
// PDEKit: sparse PDE solvers, NetCDF dataset generation and neural operators in Swift.
// Layout and dependency direction follow DESIGN.md:
//   pdekit -> Hybrid, Plotting; Hybrid -> Operators, Solvers; Plotting -> Operators (training-log records),
//   Datasets, CPNG; Operators, Solvers -> Datasets -> Numerics -> C shims (CFFTW, CBLAS, CSuiteSparse, CNetCDF).
import Foundation
import PackageDescription

// Hot loops (GELU, elementwise kernels, SpMV, stencils) are vectorized by the compiler; the
// baseline x86-64 target allows only SSE2. PDEKit is built from source on the machine that runs
// it, so release builds target that machine's CPU (as -march=native in C HPC codes): 2× wider
// vectors and FMA on AVX2/AVX-512 machines. PDEKIT_PORTABLE=1 builds for baseline x86-64 instead
// (for a binary to copy to other machines).
#if arch(x86_64)
  let nativeCPU: [SwiftSetting] =
    ProcessInfo.processInfo.environment["PDEKIT_PORTABLE"] == nil
    ? [.unsafeFlags(["-target-cpu", "native"], .when(configuration: .release))] : []
#else
  let nativeCPU: [SwiftSetting] = []
#endif

let package = Package(
  name: "PDEKit",
  products: [
    .library(name: "Numerics", targets: ["Numerics"]),
    .library(name: "Datasets", targets: ["Datasets"]),
    .library(name: "Solvers", targets: ["Solvers"]),
    .library(name: "Operators", targets: ["Operators"]),
    .library(name: "Plotting", targets: ["Plotting"]),
    .library(name: "Hybrid", targets: ["Hybrid"]),
    .executable(name: "pdekit", targets: ["pdekit"]),
  ],
  // `swift build --traits MPI` adds the MPI build (Open MPI; Debian: libopenmpi-dev openmpi-bin):
  // `mpirun -np P pdekit generate|train ...` then splits the work over P processes. The default
  // build and `swift test` need no MPI.
  traits: [
    .trait(
      name: "MPI",
      description: "Distributed generation and data-parallel training over MPI (module MessagePassing, Open MPI).")
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // System-library shims: module.modulemap + shim.h only.
    .systemLibrary(name: "CFFTW", path: "Sources/CFFTW"),
    .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
    .systemLibrary(name: "CSuiteSparse", path: "Sources/CSuiteSparse"),
    .systemLibrary(name: "CNetCDF", path: "Sources/CNetCDF"),
    .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
    .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c"),

    .target(
      name: "Numerics", dependencies: ["CFFTW", "CBLAS", "CSuiteSparse"], path: "Sources/Numerics",
      swiftSettings: nativeCPU),
    .target(
      name: "Datasets", dependencies: ["Numerics", "CNetCDF"], path: "Sources/Datasets", swiftSettings: nativeCPU),
    .target(
      name: "Solvers", dependencies: ["Numerics", "Datasets", "CSuiteSparse"], path: "Solvers", swiftSettings: nativeCPU
    ),
    .target(name: "Operators", dependencies: ["Numerics", "Datasets"], path: "Operators", swiftSettings: nativeCPU),
    .target(
      name: "Plotting", dependencies: ["Numerics", "Datasets", "Operators", "CPNG"], path: "Sources/Plotting",
      swiftSettings: nativeCPU),
    // Surrogate-in-the-loop solvers (neural warm start, bandit-tuned relaxation): the one place that
    // uses both Solvers and Operators, so that neither depends on the other (DESIGN.md).
    .target(
      name: "Hybrid", dependencies: ["Numerics", "Datasets", "Solvers", "Operators"], path: "Hybrid",
      swiftSettings: nativeCPU),
    // MPI_COMM_WORLD as a Numerics.ProcessGroup; only in the MPI build.
    .target(
      name: "MessagePassing",
      dependencies: ["Numerics", .target(name: "CMPI", condition: .when(traits: ["MPI"]))],
      path: "Sources/MessagePassing", swiftSettings: nativeCPU),
    .executableTarget(
      name: "pdekit",
      dependencies: [
        "Numerics", "Datasets", "Solvers", "Operators", "Plotting", "Hybrid", "CFFTW", "CBLAS", "CSuiteSparse",
        "CNetCDF", .target(name: "MessagePassing", condition: .when(traits: ["MPI"])),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Sources/pdekit", swiftSettings: nativeCPU),
    // Benchmark driver (build with `swift build -c release --product pdekit-bench`); see bench/README.md.
    .executableTarget(
      name: "pdekit-bench", dependencies: ["Numerics", "Datasets", "Solvers", "Operators", "Hybrid", "CBLAS"],
      path: "bench/driver",
      swiftSettings: nativeCPU),

    .testTarget(name: "NumericsTests", dependencies: ["Numerics"], path: "Tests/NumericsTests"),
    .testTarget(
      name: "DatasetsTests", dependencies: ["Datasets", "Numerics"], path: "Tests/DatasetsTests",
      exclude: ["Fixtures"]),
    .testTarget(name: "SolversTests", dependencies: ["Solvers", "Numerics", "Datasets"], path: "Tests/SolversTests"),
    .testTarget(
      name: "OperatorsTests", dependencies: ["Operators", "Numerics", "Datasets"], path: "Tests/OperatorsTests",
      exclude: ["Fixtures"]),
    .testTarget(
      name: "PlottingTests", dependencies: ["Plotting", "Datasets", "Numerics", "Operators"],
      path: "Tests/PlottingTests"),
    .testTarget(
      name: "HybridTests", dependencies: ["Hybrid", "Solvers", "Operators", "Numerics", "Datasets"],
      path: "Tests/HybridTests"),
    // Runs `mpirun -np 2 pdekit ...` against serial runs; compiled only in the MPI build
    // (`swift test --traits MPI --filter MPITests`).
    .testTarget(
      name: "MPITests", dependencies: ["Operators", "Datasets", "Numerics"], path: "Tests/MPITests"),
  ],
  swiftLanguageModes: [.v6]
)
