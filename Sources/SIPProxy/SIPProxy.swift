// Placeholder: replaced by the SIPProxy implementation.
