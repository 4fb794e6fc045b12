/// Built-in sample messages for the demo command and the benchmark (the same bytes as
/// `Fixtures/sip/ims/invite-msrp-bfcp.sip`; a test checks they stay identical).
public enum SIPSamples {
    /// IMS INVITE whose SDP offers TCP/TLS/MSRP and TCP/TLS/BFCP (TS 24.229, RFC 4975, RFC 8856).
    public static let imsInvite: String = {
        let head = [
            "INVITE tel:+15557654321;phone-context=ims.mnc001.mcc001.3gppnetwork.org SIP/2.0",
            "Via: SIP/2.0/TCP [2001:db8:10::5]:5064;branch=z9hG4bK-inv-0001;rport",
            "Max-Forwards: 70",
            "Route: <sip:[2001:db8:1::1]:5068;lr>, <sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>",
            "From: <sip:+15550001111@ims.mnc001.mcc001.3gppnetwork.org>;tag=inv-ft-1",
            "To: <tel:+15557654321;phone-context=ims.mnc001.mcc001.3gppnetwork.org>",
            "Call-ID: inv-9f8e7d6c@2001:db8:10::5",
            "CSeq: 1 INVITE",
            "Contact: <sip:+15550001111@[2001:db8:10::5]:5064;transport=tcp>;+sip.instance=\"<urn:gsma:imei:35209900-176148-0>\";+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session\";+g.3gpp.iari-ref=\"urn%3Aurn-7%3A3gpp-application.ims.iari.rcs.fthttp\"",
            "P-Preferred-Identity: <sip:+15550001111@ims.mnc001.mcc001.3gppnetwork.org>",
            "P-Access-Network-Info: 3GPP-E-UTRAN-FDD;utran-cell-id-3gpp=0010100010019B01",
            "Security-Verify: ipsec-3gpp;q=0.1;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=3333;spi-s=4444;port-c=5066;port-s=5068",
            "Security-Verify: msrp-tls;mediasec",
            "Security-Verify: bfcp-tls;mediasec",
            "Require: sec-agree",
            "Proxy-Require: sec-agree",
            "Supported: 100rel, timer, gruu",
            "Accept-Contact: *;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session\"",
            "Allow: INVITE, ACK, CANCEL, BYE, UPDATE, PRACK, MESSAGE, OPTIONS",
            "Content-Type: application/sdp",
        ]
        let body = [
            "v=0",
            "o=- 3928374652 3928374652 IN IP6 2001:db8:10::5",
            "s=-",
            "c=IN IP6 2001:db8:10::5",
            "t=0 0",
            "m=message 5061 TCP/TLS/MSRP *",
            "a=accept-types:message/cpim text/plain",
            "a=path:msrps://[2001:db8:10::5]:5061/s8fk2j3;tcp",
            "a=setup:active",
            "a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF",
            "a=sendrecv",
            "m=application 5062 TCP/TLS/BFCP *",
            "a=setup:active",
            "a=connection:new",
            "a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF",
            "a=floorctrl:c-only",
            "a=confid:4321",
            "a=userid:1234",
            "a=floorid:1 mstrm:10",
            "m=video 49170 RTP/AVP 96",
            "a=rtpmap:96 H264/90000",
            "a=label:10",
        ].map { $0 + "\r\n" }.joined()
        return head.joined(separator: "\r\n") + "\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
    }()
}
