#!/bin/sh
# Prints 1 when libnftables' headers and library are there to build nftRun (Debian:
# libnftables-dev), else 0; binding.gyp reads it. HAKO_NFTABLES=0 forces 0 (the build without it).
[ "${HAKO_NFTABLES:-}" = 0 ] && { echo 0; exit 0; }
out="$(mktemp)"
if printf '#include <nftables/libnftables.h>\nint main(void) { nft_ctx_free(nft_ctx_new(NFT_CTX_DEFAULT)); return 0; }\n' |
  "${CC:-cc}" -x c - -o "$out" -lnftables >/dev/null 2>&1; then
  echo 1
else
  echo 0
fi
rm -f "$out"
