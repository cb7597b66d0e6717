# The C++ sources, one list per part. binding.gyp includes this file, and every
# script that compiles native code without node-gyp reads it through
# scripts/native-sources.mjs (native tests, engine bench, fuzzer), so a new file is
# added here once. Paths are relative to this folder (gyp rebases *_files lists).
# Strict JSON apart from whole-line comments, so that scripts can read it.
{
  "variables": {
    # The engine: skiplists, interners, the ranked indexes, presence. No Node headers.
    "engine_files": [
      "engine.cc",
      "interner.cc",
      "ranked-index.cc",
      "presence.cc"
    ],
    # Log parsing and the ingest session that batches parsed lines. No Node headers.
    "parser_files": [
      "parse/log-parser.cc",
      "parse/access-log.cc",
      "parse/ndjson.cc",
      "parse/calendar.cc",
      "parse/keys.cc",
      "parse/request.cc",
      "parse/syslog.cc",
      "parse/json.cc",
      "parse/json-fields.cc",
      "parse/format-compiler.cc",
      "parse/compiled-format.cc",
      "parse/view-rules.cc",
      "parse/field-list.cc",
      "parse/w3c.cc",
      "ingest-session.cc",
      "partition-splitter.cc"
    ],
    # Snapshots: the file format's writer and reader, and CRC-32C. No Node headers.
    "snapshot_files": [
      "crc32c.cc",
      "snapshot-reader.cc",
      "snapshot-writer.cc"
    ],
    # The Node-API layer: the addon's entry point and the wrap classes.
    "addon_files": [
      "addon.cc",
      "activity-index-wrap.cc",
      "ingest-wrap.cc",
      "partition-splitter-wrap.cc",
      "snapshot-wrap.cc"
    ]
  }
}
