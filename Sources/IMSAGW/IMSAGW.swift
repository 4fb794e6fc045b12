// IMSAGW: placeholder; replaced by the target's real files.
