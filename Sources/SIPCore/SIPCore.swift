// Placeholder: replaced by the SIPCore implementation.
