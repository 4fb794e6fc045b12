// The SDP parse in one pass (RFC 8866 §5 grammar, `SDPLimits` bounds): each line is split, bounded and
// validated, and its record goes straight into its section's table (offsets relative to the section),
// so no intermediate record list is built. Raw pointers over the input's contiguous UTF-8 bytes: every
// index stays below `n` by construction (each read is guarded by `k < end` or `k < n`).

extension SessionDescription {
    /// RFC 8866 §9 token-char (0x21 / 0x23-27 / 0x2A-2B / 0x2D-2E / 0x30-39 / 0x41-5A / 0x5E-7E) as a
    /// bitmap: bit b of `tokenLow` for b < 64, bit b-64 of `tokenHigh` for 64 <= b < 128.
    @usableFromInline static var tokenLow: UInt64 { 0x03FF_6CFA_0000_0000 }
    @usableFromInline static var tokenHigh: UInt64 { 0x7FFF_FFFF_C7FF_FFFE }

    /// Byte classes for 0x00-0x7F: "1" token-char (RFC 8866 §9), "2" the colon, "0" anything else
    /// (bytes >= 0x80 are not token chars). The same set as `tokenLow`/`tokenHigh`.
    @usableFromInline static var byteClass: StaticString {
        "00000000000000000000000000000000010111110011011011111111112000000111111111111111111111111110001111111111111111111111111111111110"
    }

    @inline(__always)
    static func isToken(_ b: UInt8) -> Bool {
        b < 128 && byteClass.utf8Start[Int(b)] == UInt8(ascii: "1")
    }

    @inline(__always)
    static func isToken(_ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        guard e > s else { return false }
        var k = s
        while k < e { if !isToken(p[k]) { return false }; k &+= 1 }
        return true
    }

    /// 1*DIGIT of at most `SDPLimits.maxNumberDigits` digits (so the value fits a UInt64 without overflow).
    @inline(__always)
    static func number(_ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> UInt64? {
        let count = e - s
        guard count > 0, count <= SDPLimits.maxNumberDigits else { return nil }
        var v: UInt64 = 0
        var k = s
        while k < e {
            let d = p[k] &- ASCII.zero
            guard d < 10 else { return nil }
            v = v &* 10 &+ UInt64(d)
            k &+= 1
        }
        return v
    }

    /// The next space-separated field of p[k..<end] (runs of SP tolerated), advancing `k` past it.
    @inline(__always)
    static func nextField(_ p: UnsafePointer<UInt8>, _ k: inout Int, _ end: Int) -> (Int, Int)? {
        while k < end, p[k] == ASCII.space { k &+= 1 }
        guard k < end else { return nil }
        let s = k
        while k < end, p[k] != ASCII.space { k &+= 1 }
        return (s, k)
    }

    @inline(__always)
    static func isWildcard(_ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        e - s == 1 && (p[s] == ASCII.dollar || p[s] == ASCII.dash)
    }

    /// Splits, bounds and validates `buf`, filling the SDP's one store: every line's record in one
    /// array (offsets into one copy of the input) and the record index of each m= line.
    /// Returns the first error.
    static func scanSections(_ buf: UnsafeBufferPointer<UInt8>, options: SDPParseOptions,
                             into list: inout MediaList) -> SDPError? {
        guard let p = buf.baseAddress, buf.count > 0 else { return SDPError(.emptyInput) }
        let n = buf.count
        var pos = 0
        var lineNumber = 0
        var sawBlank = false, sawLine = false
        var inMedia = false
        var mediaCount = 0
        var seenO = false, seenS = false, seenT = false
        let wild = options.allowH248Wildcards
        // Every line of the SDP; the last value ends at `lastEnd`. `starts` holds the record index of
        // each m= line.
        var records: [SDPLineRecord] = []
        // 40 records (960 B) cover the usual SDP and its inserted lines and stay within the sizes glibc
        // serves from its per-thread cache (up to 1 032 B); a longer SDP grows the array.
        records.reserveCapacity(40)
        var starts: [Int] = []
        var lastEnd = 0

        while pos < n {
            lineNumber &+= 1
            guard lineNumber <= SDPLimits.maxLines else {
                return SDPError(.tooManyLines, line: lineNumber, detail: "> \(SDPLimits.maxLines) lines")
            }
            let start = pos
            var end = n
            var ending = SDPLineEnding.none
            var k = pos
            lineScan: while k < n {
                // Skip 8 bytes at a time while none is below 0x0E (SWAR "has byte less than" test: it
                // never misses such a byte, and its lowest flagged byte is the first such byte, so the
                // scan jumps straight to it; little-endian load).
                while k &+ 8 <= n {
                    let w = UInt64(littleEndian: UnsafeRawPointer(p + k).loadUnaligned(as: UInt64.self))
                    let m = (w &- 0x0E0E_0E0E_0E0E_0E0E) & ~w & 0x8080_8080_8080_8080
                    if m != 0 { k &+= m.trailingZeroBitCount &>> 3; break }
                    k &+= 8
                }
                let stop = Swift.min(k &+ 8, n)
                while k < stop {
                    let b = p[k]
                    if b < 0x0E {
                        if b == ASCII.lf { end = k; ending = .lf; break lineScan }
                        if b == ASCII.cr {
                            guard k &+ 1 < n, p[k &+ 1] == ASCII.lf else {
                                return SDPError(.malformedLine, line: lineNumber, detail: "bare CR")
                            }
                            end = k; ending = .crlf; break lineScan
                        }
                        if b == 0 { return SDPError(.malformedLine, line: lineNumber, detail: "NUL byte") }
                    }
                    k &+= 1
                }
            }
            pos = ending == .crlf ? end &+ 2 : (ending == .lf ? end &+ 1 : n)
            let length = end - start
            guard length <= SDPLimits.maxLineLength else {
                return SDPError(.lineTooLong, line: lineNumber, detail: "> \(SDPLimits.maxLineLength) bytes")
            }
            if length == 0 {
                // Blank lines are not SDP (RFC 8866 §5) but trail many real bodies: keep them at the end only.
                sawBlank = true
                records.append(SDPLineRecord(start: start, end: start, type: 0, ending: ending, key: .notAttribute))
                lastEnd = start
                continue
            }
            guard !sawBlank else { return SDPError(.malformedLine, line: lineNumber, detail: "line after a blank line") }
            let type = p[start]
            guard length >= 2, type >= UInt8(ascii: "a"), type <= UInt8(ascii: "z"), p[start &+ 1] == ASCII.equals else {
                return SDPError(.malformedLine, line: lineNumber, detail: "expected <type>= with a lower-case letter")
            }
            if lineNumber == 1, options.requireVersionLine, type != ASCII.v {
                return SDPError(.missingVersion, line: 1, detail: "first line must be v=")
            }
            let v = start &+ 2
            var key = SDPAttributeKey.notAttribute
            switch type {
            case ASCII.a:
                // RFC 8866 §5.13 att-field = token, up to the first ":". A name the ALG knows is a token
                // (its bytes equal a known name, letters in any case), so only other names are checked
                // byte by byte; the first non-token byte before the ":" rejects the line either way.
                var j = v
                while j < end, p[j] != ASCII.colon { j &+= 1 }
                if j == v { return SDPError(.malformedAttribute, line: lineNumber, detail: "empty attribute name") }
                key = SDPAttributeKey.classify(buf, v, j)
                if key == .other, !isToken(p, v, j) {
                    return SDPError(.malformedAttribute, line: lineNumber, detail: "attribute name")
                }
            case ASCII.v:
                if inMedia { return SDPError(.malformedLine, line: lineNumber, detail: "v= inside media") }
                guard end - v == 1, p[v] == ASCII.zero else {
                    return SDPError(.unsupportedVersion, line: lineNumber, detail: "v= must be 0")
                }
            case ASCII.o:
                if let e = checkOrigin(p, v, end, wild: wild, line: lineNumber) { return e }
                seenO = true
            case ASCII.s: seenS = true
            case ASCII.t: seenT = true
            case ASCII.c:
                if let e = checkConnection(p, v, end, wild: wild, line: lineNumber) { return e }
            case ASCII.b:
                if let e = checkBandwidth(p, v, end, line: lineNumber) { return e }
            case ASCII.m:
                if let e = checkMedia(p, v, end, wild: wild, line: lineNumber) { return e }
                mediaCount &+= 1
                guard mediaCount <= SDPLimits.maxMediaDescriptions else {
                    return SDPError(.tooManyMediaDescriptions, line: lineNumber, detail: "> \(SDPLimits.maxMediaDescriptions)")
                }
                // A new media section (RFC 8866 §5.14).
                if starts.isEmpty { starts.reserveCapacity(4) }
                starts.append(records.count)
                inMedia = true
            default:
                break   // other and unknown types are kept as-is
            }
            sawLine = true
            records.append(SDPLineRecord(start: v, end: end, type: type, ending: ending, key: key))
            lastEnd = end
        }
        if options.requireMandatoryLines {
            guard seenO else { return SDPError(.missingMandatoryLine, detail: "o= missing (RFC 8866 §5.2)") }
            guard seenS else { return SDPError(.missingMandatoryLine, detail: "s= missing (RFC 8866 §5.3)") }
            guard seenT else { return SDPError(.missingMandatoryLine, detail: "t= missing (RFC 8866 §5.9)") }
        }
        guard sawLine else { return SDPError(.emptyInput) }
        // One copy of the input (up to the last value) with room for the ALG's edits.
        let bytes = SDPBytes(copying: UnsafeBufferPointer(start: p, count: lastEnd), spare: 512)
        let sessionEnd = starts.first ?? records.count
        for k in starts.indices { starts[k] &-= sessionEnd }
        list = MediaList(store: SDPLineTable(bytes: bytes, records: records, lo: 0, hi: sessionEnd), starts: starts)
        return nil
    }

    /// RFC 8866 §5.2 o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>.
    static func checkOrigin(_ p: UnsafePointer<UInt8>, _ from: Int, _ to: Int, wild: Bool, line: Int) -> SDPError? {
        var k = from
        var count = 0
        while let (s, e) = nextField(p, &k, to) {
            switch count {
            case 1, 2:
                if !wild, number(p, s, e) == nil { return SDPError(.malformedOrigin, line: line, detail: "sess-id/sess-version not numeric") }
            case 3, 4:
                if !isToken(p, s, e) { return SDPError(.malformedOrigin, line: line, detail: "nettype/addrtype") }
            case 5:
                if !wild, isWildcard(p, s, e) { return SDPError(.wildcardNotAllowed, line: line, detail: "o= address") }
            default: break
            }
            count &+= 1
        }
        return count == 6 ? nil : SDPError(.malformedOrigin, line: line, detail: "o= needs 6 fields")
    }

    /// RFC 8866 §5.7 c=<nettype> <addrtype> <connection-address>.
    static func checkConnection(_ p: UnsafePointer<UInt8>, _ from: Int, _ to: Int, wild: Bool, line: Int) -> SDPError? {
        var k = from
        var count = 0
        while let (s, e) = nextField(p, &k, to) {
            switch count {
            case 0, 1:
                if !isToken(p, s, e) { return SDPError(.malformedConnection, line: line, detail: "nettype/addrtype") }
            case 2:
                var a = s
                while a < e, p[a] != ASCII.slash { a &+= 1 }
                if a == s { return SDPError(.malformedConnection, line: line, detail: "empty address") }
                if !wild, isWildcard(p, s, a) { return SDPError(.wildcardNotAllowed, line: line, detail: "c= address") }
            default: break
            }
            count &+= 1
        }
        return count == 3 ? nil : SDPError(.malformedConnection, line: line, detail: "c= needs 3 fields")
    }

    /// RFC 8866 §5.8 b=<bwtype>:<bandwidth>.
    static func checkBandwidth(_ p: UnsafePointer<UInt8>, _ from: Int, _ to: Int, line: Int) -> SDPError? {
        var colon = from
        while colon < to, p[colon] != ASCII.colon { colon &+= 1 }
        guard colon < to, colon > from, isToken(p, from, colon), number(p, colon &+ 1, to) != nil else {
            return SDPError(.malformedBandwidth, line: line, detail: "b= needs bwtype:digits")
        }
        return nil
    }

    /// RFC 8866 §5.14 m=<media> <port>[/<number of ports>] <proto> 1*(SP <fmt>).
    static func checkMedia(_ p: UnsafePointer<UInt8>, _ from: Int, _ to: Int, wild: Bool, line: Int) -> SDPError? {
        var k = from
        var count = 0
        while let (s, e) = nextField(p, &k, to) {
            switch count {
            case 0:
                if !isToken(p, s, e) { return SDPError(.malformedMedia, line: line, detail: "media") }
            case 1:
                if isWildcard(p, s, e) {
                    if !wild { return SDPError(.wildcardNotAllowed, line: line, detail: "m= port") }
                } else {
                    var slash = s
                    while slash < e, p[slash] != ASCII.slash { slash &+= 1 }
                    guard let port = number(p, s, slash), port <= 65_535 else {
                        return SDPError(.malformedMedia, line: line, detail: "port")
                    }
                    if slash < e {
                        let c = number(p, slash &+ 1, e) ?? 0
                        if c < 1 || c > 65_535 { return SDPError(.malformedMedia, line: line, detail: "port count") }
                    }
                }
            case 2:
                var lastSlash = true
                var j = s
                while j < e {
                    let c = p[j]
                    if c == ASCII.slash {
                        if lastSlash { return SDPError(.malformedMedia, line: line, detail: "proto") }
                        lastSlash = true
                    } else if !isToken(c) {
                        return SDPError(.malformedMedia, line: line, detail: "proto")
                    } else {
                        lastSlash = false
                    }
                    j &+= 1
                }
                if lastSlash { return SDPError(.malformedMedia, line: line, detail: "proto") }
            default: break
            }
            count &+= 1
            // The <fmt> list is not checked: once its first field is there the line is complete
            // (no scan over the rest of the list).
            if count == 4 { return nil }
        }
        return count >= (wild ? 3 : 4) ? nil : SDPError(.malformedMedia, line: line, detail: "m= needs media, port, proto and a format")
    }
}
