// Placeholder: replaced by the SIPTransaction implementation.
