// Placeholder: replaced by the SIPTransport implementation.
