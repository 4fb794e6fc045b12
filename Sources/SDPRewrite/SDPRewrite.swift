// Placeholder: replaced by the SDPRewrite implementation.
