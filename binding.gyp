{
  "includes": ["native/core.gypi"],
  # Node-API version 8 (Node 12.22+, every Node the package supports: engines ">=20").
  # package.json "binary.napi_versions" names the same version; test/package.test.ts
  # checks that they agree. Prebuilds (scripts/prebuild.mjs) set skiptrail_portable=1
  # through GYP_DEFINES: see native/compat/ and docs/install.md.
  "variables": {
    "skiptrail_portable%": 0
  },
  "targets": [
    {
      "target_name": "skiptrail",
      "sources": ["<@(addon_files)", "<@(engine_files)", "<@(parser_files)", "<@(snapshot_files)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS=='linux' and skiptrail_portable==1", {
          # A prebuild needs no libstdc++ newer than GCC 5's (GLIBCXX_3.4.21), and exports
          # only the module's entry point.
          "sources": ["native/compat/glibcxx-3.4.29.cc"],
          "cflags_cc": ["-fvisibility=hidden", "-fvisibility-inlines-hidden"]
        }]
      ],
      "configurations": {
        "Release": {
          "cflags_cc": ["-O3"]
        },
        "Debug": {
          "defines": ["SKIPTRAIL_DCHECKS"],
          "cflags_cc": ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"],
          "ldflags": ["-fsanitize=address,undefined"]
        }
      }
    }
  ]
}
