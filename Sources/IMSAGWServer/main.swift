// ims-agw: placeholder entry point; replaced by the ArgumentParser command.
print("ims-agw: not built yet")
