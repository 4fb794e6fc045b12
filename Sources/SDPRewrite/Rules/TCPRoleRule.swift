// a=setup handling and the TCP/TLS roles of the AGW (RFC 4145 §4; seed 000 TCP bullets; seed 003
// MSRP TLS table and NOTE 1; seed 004 flows; TS 23.334 §6.2.18 proxy vs merge mode).
import SDPCore

public enum TCPRoleRule {
    /// Effective offer role: an absent a=setup means the offerer is active (RFC 4145 §4 defaults;
    /// seed 003 NOTE 1: RFC 4975-only clients assign the TCP client role to the SDP offerer).
    public static func effectiveOfferRole(_ role: SetupRole?) -> SetupRole { role ?? .active }

    /// Effective answer role: an absent a=setup in the answer means passive (RFC 4145 §4 defaults).
    /// (`actpass` is never valid in an answer; treated as the RFC 4145 §4 recommended `active`.)
    public static func effectiveAnswerRole(_ role: SetupRole?) -> SetupRole {
        switch role {
        case nil: return .passive
        case .actpass?: return .active
        case let r?: return r
        }
    }

    /// Which side's incoming SYN triggers the AGW's SYN on the other side (seed 000 b); seed 004
    /// step 2-4 sets it on T2 in the originating case and on T1 in the terminating case). Before the
    /// answer an `actpass` offer is assumed to be answered `active` (seed 004 step 10); the answer
    /// corrects it. nil for holdconn (nobody connects yet).
    public static func synTriggerSide(offererSide: Side, offerRole: SetupRole?, answerRole: SetupRole??) -> Side? {
        if let answerRole {
            switch effectiveAnswerRole(answerRole) {
            case .active: return offererSide.other
            case .passive: return offererSide
            default: return nil
            }
        }
        switch effectiveOfferRole(offerRole) {
        case .active: return offererSide
        case .passive, .actpass: return offererSide.other
        case .holdconn: return nil
        }
    }

    /// Whether the AGW is TCP-active towards the UE once the answer is known, in proxy mode (the
    /// AGW mirrors the far end: seed 003 table rows; seed 004 step 11).
    /// - originating (UE offerer): the AGW answers the UE with the far end's role: active ⇒ AGW connects.
    /// - terminating (UE answerer): UE active ⇒ AGW passive; UE passive ⇒ AGW connects.
    public static func agwActiveTowardsUE(offererSide: Side, answerRole: SetupRole?) -> Bool? {
        let role = effectiveAnswerRole(answerRole)
        guard role == .active || role == .passive else { return nil }
        return offererSide == .access ? role == .active : role == .passive
    }

    /// TLS client role of the AGW on the access termination (seed 000 NOTE 2: different rules).
    /// - `.tcpActiveIsClient` (MSRP, seed 003 four-row table): AGW TLS client ⇔ AGW TCP-active towards the UE;
    ///   unknown (nil) until the answer fixes the TCP roles.
    /// - `.offererIsClient` (BFCP, seed 004: originating step 12 UE starts TLS; terminating steps 2-4
    ///   the AGW is told to start TLS at Reserve): AGW TLS client ⇔ the AGW side is the SDP offerer
    ///   towards the UE, i.e. the core made the offer.
    public static func agwIsTLSClient(rule: TLSRoleRule, offererSide: Side, agwActiveTowardsUE: Bool?) -> Bool? {
        switch rule {
        case .tcpActiveIsClient: return agwActiveTowardsUE
        case .offererIsClient: return offererSide == .core
        }
    }

    /// In merge mode, the AGW role on the core side for a core offer (it answers independently:
    /// RFC 4145 §4 answerer counterpart).
    public static func mergeCoreAnswerRole(coreOffer: SetupRole?) -> SetupRole {
        effectiveOfferRole(coreOffer).answerCounterpart
    }
}
