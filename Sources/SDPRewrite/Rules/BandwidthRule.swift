// TLS overhead on bandwidth modifiers of e2ae streams (seed 000 / TS 23.334 §5.11.2.2.1: "add the
// bandwidth overhead ... to the bandwidth information received from the remote peer ... subtract ...
// from the bandwidth information received from the served UE"). Model of specs.md §12:
// ratio (P + O) / P with P plaintext bytes per record and O per-record overhead.
import SDPCore

public enum BandwidthRule {
    /// value × (P+O)/P rounded up, at least value + minimumIncrease (towards the UE).
    public static func addOverhead(_ value: UInt64, plaintext: UInt64, overhead: UInt64, minimumChange: UInt64) -> UInt64 {
        guard value > 0, plaintext > 0 else { return value }
        let scaled = mulDivCeil(value, plaintext &+ overhead, plaintext)
        let floorValue = value.addingReportingOverflow(minimumChange)
        return max(scaled, floorValue.overflow ? UInt64.max : floorValue.partialValue)
    }

    /// value × P/(P+O) rounded down, at most value − minimumChange, never below 1 (towards the core).
    public static func removeOverhead(_ value: UInt64, plaintext: UInt64, overhead: UInt64, minimumChange: UInt64) -> UInt64 {
        guard value > 0, plaintext > 0 else { return value }
        let scaled = mulDivFloor(value, plaintext, plaintext &+ overhead)
        let capped = value > minimumChange ? min(scaled, value - minimumChange) : scaled
        return max(1, capped)
    }

    static func mulDivFloor(_ a: UInt64, _ b: UInt64, _ d: UInt64) -> UInt64 {
        guard d > 0 else { return a }
        let (high, low) = a.multipliedFullWidth(by: b)
        guard high < d else { return UInt64.max }
        return d.dividingFullWidth((high, low)).quotient
    }

    static func mulDivCeil(_ a: UInt64, _ b: UInt64, _ d: UInt64) -> UInt64 {
        guard d > 0 else { return a }
        let (high, low) = a.multipliedFullWidth(by: b)
        guard high < d else { return UInt64.max }
        let (q, r) = d.dividingFullWidth((high, low))
        return r == 0 ? q : (q == UInt64.max ? q : q + 1)
    }

    /// Adjusts b=AS and b=TIAS of a media section of an e2ae stream. `towardsUE` adds, else subtracts.
    public static func adjust(_ media: inout MediaDescription, protocol family: StreamProtocol, towardsUE: Bool,
                              model: RewritePolicy.BandwidthModel) {
        adjust(&media, as: media.bandwidth(.applicationSpecific), tias: media.bandwidth(.transportIndependent),
               protocol: family, towardsUE: towardsUE, model: model)
    }

    /// `adjust` for a section whose first b=AS and b=TIAS values (RFC 8866 §5.8) were read before (the
    /// rules read them with the m-line's other facts, and the edits before this one touch no b= line).
    /// Returns the first b=AS and b=TIAS values after the adjustment, i.e. what `bandwidth(_:)` reads
    /// afterwards (`setBandwidth` rewrites the first line of its kind), without reading them again.
    @discardableResult
    static func adjust(_ media: inout MediaDescription, as asValue: UInt64?, tias: UInt64?, protocol family: StreamProtocol,
                       towardsUE: Bool, model: RewritePolicy.BandwidthModel) -> (as: UInt64?, tias: UInt64?) {
        let p = family == .bfcp ? model.bfcpRecordPlaintextBytes : model.msrpRecordPlaintextBytes
        let o = model.recordOverheadBytes
        var outAS = asValue, outTIAS = tias
        if model.adjustAS, let v = asValue {
            let n = towardsUE ? addOverhead(v, plaintext: p, overhead: o, minimumChange: model.minimumASChangeKbps)
                              : removeOverhead(v, plaintext: p, overhead: o, minimumChange: model.minimumASChangeKbps)
            media.setBandwidth(.applicationSpecific, n)
            outAS = n
        }
        if model.adjustTIAS, let v = tias {
            let n = towardsUE ? addOverhead(v, plaintext: p, overhead: o, minimumChange: 0)
                              : removeOverhead(v, plaintext: p, overhead: o, minimumChange: 0)
            media.setBandwidth(.transportIndependent, n)
            outTIAS = n
        }
        return (outAS, outTIAS)
    }
}
