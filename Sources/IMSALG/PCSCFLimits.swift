/// Bounds on what one registration may make the P-CSCF keep (house style: network input never
/// allocates without a bound). Values beyond a bound are ignored, not rejected.
public enum PCSCFLimits {
    /// Public identities kept per binding (P-Associated-URI entries; RFC 7315 §4.1 sets no bound,
    /// TS 23.228 §4.3.3.4 implicit registration sets are small).
    public static let maxIdentitiesPerBinding = 64
    /// Service-Route entries kept per binding (RFC 3608 §6: a route set; RFC 3261 §21.5.14 spirit).
    public static let maxServiceRouteEntries = 16
    /// Contacts taken from one REGISTER (RFC 3261 §10.2.1.2 allows several; a UE registers one).
    public static let maxContactsPerRegister = 16
}
