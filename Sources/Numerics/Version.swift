/// PDEKit's identity, recorded in every file it writes.
public enum PDEKitVersion {
  /// Semantic version of this build.
  public static let version = "0.1.0"
  /// "PDEKit 0.1.0".
  public static let generator = "PDEKit \(version)"
}
