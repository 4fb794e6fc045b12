// Placeholder: replaced by the SDPCore implementation.
