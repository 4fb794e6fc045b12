// Placeholder: product wiring (P-CSCF + ALG sessions on ProxyRuntime) lands here.
enum ALGServerPlaceholder {}
