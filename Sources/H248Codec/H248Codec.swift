// Placeholder: replaced by the H248Codec implementation.
