// Placeholder: replaced by the IMSALG implementation.
