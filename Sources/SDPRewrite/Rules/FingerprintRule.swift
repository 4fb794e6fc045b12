// a=fingerprint handling for e2ae (seed 000/003: "request a certificate fingerprint from the
// IMS-AGW; include [it] in the SDP it sends to the IMS UE; send the certificate fingerprint received
// in the SDP from the IMS UE to the IMS-AGW"; TS 33.328 §7.2.1 step 3 / seed 004 step 8: remove the
// fingerprint attribute; RFC 8122 §5: media level overrides session level).
import SDPCore

public enum FingerprintRule {
    /// The fingerprints that apply to media `index`: media level, else session level (RFC 8122 §5).
    public static func applicable(_ sdp: SessionDescription, media index: Int) throws(RewriteError) -> [Fingerprint] {
        do {
            let own = try sdp.media[index].fingerprints()
            return own.isEmpty ? try sdp.fingerprints() : own
        } catch {
            throw RewriteError(error, stream: index)
        }
    }

    /// `applicable` reading the SDP in place (no view of the media description is built).
    static func applicable(inPlace sdp: inout SessionDescription, media index: Int) throws(RewriteError) -> [Fingerprint] {
        do {
            let own = try sdp.withMedia(index) { m throws(SDPError) in try m.fingerprints() }
            return own.isEmpty ? try sdp.fingerprints() : own
        } catch {
            throw RewriteError(error, stream: index)
        }
    }

    /// Removes every fingerprint that applies to the replaced streams `indices`: their media-level
    /// lines, and session-level lines (specs.md §8, pitfall 7). Session-level fingerprints still
    /// needed by other TLS-carrying streams are first copied to those streams' media level.
    public static func removeApplicable(_ sdp: inout SessionDescription, replaced indices: [Int]) {
        removeApplicable(&sdp, replaced: StreamSet(indices.filter { sdp.media.indices.contains($0) }))
    }

    static func removeApplicable(_ sdp: inout SessionDescription, replaced indices: StreamSet) {
        for i in 0..<sdp.mediaCount where indices.contains(i) { sdp.media[i].removeFingerprints() }
        guard !indices.isEmpty, sdp.table.contains(.fingerprint) else { return }
        let sessionValues = sdp.attributeValues(.fingerprint)
        for k in 0..<sdp.mediaCount where !indices.contains(k) {
            let usesTLS = sdp.withMedia(k) { m in m.withField(2) { b -> Bool in
                if DecisionRule.classify(protoBytes: b).tls { return true }
                var i = 0
                while i + 3 <= b.count {
                    if SDPText.equalsIgnoringCase(UnsafeBufferPointer(rebasing: b[i..<(i + 3)]), "TLS") { return true }
                    i += 1
                }
                return false
            } }
            if usesTLS, !sdp.withMedia(k, { $0.hasAttribute(.fingerprint) }) {
                for v in sessionValues { sdp.media[k].appendAttribute("fingerprint", String(v)) }
            }
        }
        sdp.removeAttributes(.fingerprint)
    }

    /// Inserts the AGW fingerprint into a media section: before a=msrp-cema when present (the
    /// position used in specs.md §9.2/§9.3), else after the last attribute.
    public static func insert(_ fp: Fingerprint, into media: inout MediaDescription) {
        // A `.none` ending in the middle is rendered with the document's terminator.
        media.insertFingerprint(fp, before: .msrpCEMA)
    }
}
