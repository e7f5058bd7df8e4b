// swift-tools-version: 6.1
// libFuzzer targets for PDEKit's file readers, kept out of the main package so that its default
// build and `swift test` are unaffected. Build and run with `./run.sh TARGET SECONDS`; see README.md.
import PackageDescription

let package = Package(
  name: "PDEKitFuzz",
  dependencies: [.package(name: "PDEKit", path: "..")],
  targets: [
    .executableTarget(
      name: "fuzz-matrixmarket", dependencies: [.product(name: "Numerics", package: "PDEKit")],
      path: "Sources/fuzz-matrixmarket"),
    .executableTarget(
      name: "fuzz-safetensors",
      dependencies: [.product(name: "Numerics", package: "PDEKit"), .product(name: "Operators", package: "PDEKit")],
      path: "Sources/fuzz-safetensors"),
    .executableTarget(
      name: "fuzz-netcdf", dependencies: [.product(name: "Datasets", package: "PDEKit")],
      path: "Sources/fuzz-netcdf"),
    .executableTarget(
      name: "fuzz-config",
      dependencies: [.product(name: "Solvers", package: "PDEKit")],
      path: "Sources/fuzz-config"),
  ],
  swiftLanguageModes: [.v6]
)
