// swift-tools-version: 6.1
// PDEKit: sparse PDE solvers, NetCDF dataset generation and neural operators in Swift.
// Layout and dependency direction follow DESIGN.md:
//   pdekit -> Operators, Solvers -> Datasets -> Numerics -> C shims (CFFTW, CBLAS, CSuiteSparse, CNetCDF).
import PackageDescription

let package = Package(
  name: "PDEKit",
  products: [
    .library(name: "Numerics", targets: ["Numerics"]),
    .library(name: "Datasets", targets: ["Datasets"]),
    .library(name: "Solvers", targets: ["Solvers"]),
    .library(name: "Operators", targets: ["Operators"]),
    .executable(name: "pdekit", targets: ["pdekit"]),
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

    .target(name: "Numerics", dependencies: ["CFFTW", "CBLAS", "CSuiteSparse"], path: "Sources/Numerics"),
    .target(name: "Datasets", dependencies: ["Numerics", "CNetCDF"], path: "Sources/Datasets"),
    .target(name: "Solvers", dependencies: ["Numerics", "Datasets", "CSuiteSparse"], path: "Solvers"),
    .target(name: "Operators", dependencies: ["Numerics", "Datasets"], path: "Operators"),
    .executableTarget(
      name: "pdekit",
      dependencies: [
        "Numerics", "Datasets", "Solvers", "Operators", "CFFTW", "CBLAS", "CSuiteSparse", "CNetCDF",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Sources/pdekit"),
    // Benchmark driver (build with `swift build -c release --product pdekit-bench`); see bench/README.md.
    .executableTarget(
      name: "pdekit-bench", dependencies: ["Numerics", "Solvers", "Operators", "CBLAS"], path: "bench/driver"),

    .testTarget(name: "NumericsTests", dependencies: ["Numerics"], path: "Tests/NumericsTests"),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Numerics"], path: "Tests/DatasetsTests"),
    .testTarget(name: "SolversTests", dependencies: ["Solvers", "Numerics"], path: "Tests/SolversTests"),
    .testTarget(
      name: "OperatorsTests", dependencies: ["Operators", "Numerics", "Datasets"], path: "Tests/OperatorsTests",
      exclude: ["Fixtures"]),
  ],
  swiftLanguageModes: [.v6]
)
