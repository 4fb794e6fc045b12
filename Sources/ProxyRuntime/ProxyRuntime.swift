// Placeholder: the running proxy driver lands here.
enum ProxyRuntimePlaceholder {}
