{
  "variables": {
    # nftRun needs libnftables (libnftables-dev at build time); without it the addon builds
    # without nftRun and hakod spawns nft.
    "hako_nftables%": "<!(sh ./detect-nftables.sh)"
  },
  "targets": [
    {
      "target_name": "hako_native",
      "sources": ["hako_native.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "conditions": [
        ["hako_nftables==1", {
          "sources": ["nft.c"],
          "defines": ["HAKO_HAVE_NFTABLES"],
          "libraries": ["-lnftables"]
        }]
      ]
    }
  ]
}
