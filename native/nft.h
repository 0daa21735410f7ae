// nftRun (nft.c), present when the addon is linked against libnftables (HAKO_HAVE_NFTABLES).
#pragma once
#include <node_api.h>

// Defines `nftRun(script): Promise<void>` on the addon's exports.
napi_status hako_nft_register(napi_env env, napi_value exports);
