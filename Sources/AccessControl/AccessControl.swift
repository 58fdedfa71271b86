/// Namespace placeholder; replaced by the module's real API.
public enum AccessControlModule {}
