// Placeholder: the real tests replace this file.
import Testing
