// Adapter from IMSAGW's media operations to AGWMedia's `MediaPlane`. Until AGWMedia's API is
// merged, `make` reports that the relay is not available (use `--media none`).

import IMSAGW
import Logging

public enum AGWMediaPlaneDriver {
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String { "the media relay (AGWMedia) is not in this build; run with --media none" }
    }

    public static func make(address: String, ports: ClosedRange<UInt16>, certificatePerStream: Bool, certificateFile: String?,
                            keyFile: String?, keyLogFile: String?, logger: Logger) async throws -> any AGWMediaDriver {
        throw Unavailable()
    }
}
