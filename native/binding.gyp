{
  "targets": [
    {
      "target_name": "hako_native",
      "sources": ["hako_native.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"]
    }
  ]
}
