// libFuzzer harness for LogParser and IngestSession (scripts/fuzz.sh builds and runs it).
//
// Input layout: byte 0 and byte 1 choose the options and the chunk size, the rest is a
// byte stream of log lines. For every input the harness checks, and aborts if not:
//   - no crash, overread, UB or leak (ASan/UBSan);
//   - every accepted view obeys SPEC section 1: user and page non-empty, at most
//     max_key_bytes, valid UTF-8 without control bytes; 0 <= ts <= kMaxTimeMs;
//   - Parse() never returns kLineTooLong or an out-of-range reason;
//   - the session reports lines == accepted + rejected and sum(reasons) == rejected;
//   - feeding the stream in chunks gives the same views and report as one Feed();
//   - each accepted line parsed alone gives the view the session gave (one parser for
//     all the lines, in order: W3C's "#Fields:" state carries from line to line);
//   - the view rules (method, static, crawler; on for half the inputs) reject only lines
//     that the same options without rules accept, and are never sampled.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../native/ingest-session.h"
#include "../native/parse/log-parser.h"

using namespace skiptrail;  // NOLINT: a fuzz harness

namespace {

#define FUZZ_CHECK(cond)                                                          \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

// Independent of the parser's validator: decode, then reject overlongs, surrogates,
// values above U+10FFFF, and control bytes.
bool IsCleanUtf8Key(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    if (len == 1 && (c < 0x20 || c == 0x7F)) return false;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

void CheckView(const ParsedView& v, const ParserOptions& o) {
  FUZZ_CHECK(!v.user.empty() && v.user.size() <= o.max_key_bytes);
  FUZZ_CHECK(!v.page.empty() && v.page.size() <= o.max_key_bytes);
  FUZZ_CHECK(IsCleanUtf8Key(v.user));
  FUZZ_CHECK(IsCleanUtf8Key(v.page));
  FUZZ_CHECK(v.ts_ms >= 0 && v.ts_ms <= kMaxTimeMs);
}

struct Event {
  std::string user, page;
  int64_t ts;
  bool operator==(const Event& o) const { return user == o.user && page == o.page && ts == o.ts; }
};

struct Run {
  std::vector<Event> events;
  IngestReport report;
};

Run Ingest(const ParserOptions& o, const char* data, size_t size, size_t chunk) {
  Run run;
  IngestSession session(o);
  auto sink = [&](const ParsedView& v) {
    CheckView(v, o);
    run.events.push_back({std::string(v.user), std::string(v.page), v.ts_ms});
    return (v.ts_ms & 1) != 0;  // exercise `late`
  };
  for (size_t off = 0; off < size; off += chunk) {
    const size_t n = size - off < chunk ? size - off : chunk;
    std::vector<char> piece(data + off, data + off + n);  // exact size: ASan sees overreads
    session.Feed(piece.data(), piece.size(), sink);
    FUZZ_CHECK(session.buffered_bytes() <= static_cast<size_t>(o.max_line_bytes) + 1);
  }
  session.Finish(sink);
  run.report = session.report();
  return run;
}

bool SameReport(const IngestReport& a, const IngestReport& b) {
  if (a.lines != b.lines || a.accepted != b.accepted || a.rejected != b.rejected || a.late != b.late ||
      std::memcmp(a.reasons, b.reasons, sizeof a.reasons) != 0 || a.samples.size() != b.samples.size()) {
    return false;
  }
  for (size_t i = 0; i < a.samples.size(); ++i) {
    if (a.samples[i].line_number != b.samples[i].line_number || a.samples[i].reason != b.samples[i].reason ||
        a.samples[i].text != b.samples[i].text) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t a = data[0], b = data[1];
  const char* stream = reinterpret_cast<const char*>(data + 2);
  size_t stream_size = size - 2;

  ParserOptions o;
  // a % 3: combined, common, or a JSON format chosen by b >> 6: ndjson, caddy, traefik,
  // or ndjson with nested paths, '|' alternatives, a status, a method and an agent.
  static const LogFormat kJsonFormats[4] = {LogFormat::kNdjson, LogFormat::kCaddy, LogFormat::kTraefik,
                                            LogFormat::kNdjson};
  o.format = a % 3 == 2 ? kJsonFormats[b >> 6] : static_cast<LogFormat>(a % 3);
  if (a % 3 == 2 && (b >> 6) == 3) {
    o.json_fields.user = "request.client_ip|request.remote_ip|user";
    o.json_fields.ts = "ts|t.s";
    o.json_fields.status = "status|request.status";
    o.json_fields.method = "m|request.method";
    o.json_fields.agent = "ua|request.headers.User-Agent";
  }
  o.user = static_cast<UserField>((a / 3) % 3);
  o.keep_query = (a / 9) & 1;
  o.max_key_bytes = (a & 0x40) ? 16 : 1024;
  o.max_line_bytes = (a & 0x80) ? 40u + b : 64u * 1024;
  if (b & 1) o.statuses = {200, 204, 404};
  if (b & 2) o.json_fields.page = (b >> 6) == 3 ? "request.uri|url" : "url";
  o.ts_unit = static_cast<TimeUnit>((a / 18) % 5);  // kFormatDefault included
  // Compiled formats: when the stream starts with "%" or "$", its first line is an Apache
  // (%) or nginx ($) format string and the rest is the log. The compiler must return for
  // any string; a format that compiles runs through the same checks as the built-ins.
  std::string format_line;
  if (stream_size > 0 && (stream[0] == '%' || stream[0] == '$')) {
    const char* nl = static_cast<const char*>(std::memchr(stream, '\n', stream_size));
    if (nl == nullptr) return 0;
    format_line.assign(stream, nl);
    o.format = LogFormat::kCompiled;
    o.dialect = stream[0] == '%' ? FormatDialect::kApache : FormatDialect::kNginx;
    o.format_text = format_line;
    o.user_list = (b & 2) ? (o.dialect == FormatDialect::kApache ? "%{X-Forwarded-For}i|%u|%h" : "$cookie_uid|$remote_addr") : "";
    FormatPlan plan;
    std::string error;
    const bool compiled = CompileFormat(o.dialect, o.format_text, o.user_list, &plan, &error);
    FUZZ_CHECK(compiled == error.empty());
    if (!compiled) return 0;
    FUZZ_CHECK(plan.literals.size() == plan.fields.size() + 1);
    stream_size -= static_cast<size_t>(nl + 1 - stream);
    stream = nl + 1;
  }
  // W3C: a stream that starts with '#' (as W3C logs do, "#Software:" or "#Fields:") is
  // read as 'w3c', directives and all. ALB: a first line "alb" selects 'alb' for the rest.
  if (stream_size > 0 && stream[0] == '#') {
    o.format = LogFormat::kW3c;
    o.user_list = (b & 2) ? "x-forwarded-for|c-ip" : "";
  } else if (stream_size >= 4 && std::memcmp(stream, "alb\n", 4) == 0) {
    o.format = LogFormat::kAlb;
    stream += 4;
    stream_size -= 4;
  }
  o.syslog = (a / 72) & 1;
  if (a >= 144) {  // the view rules: the library's defaults, or small lists with a one-byte token
    o.rules.methods = (b & 4) ? std::vector<std::string>{"GET", "HEAD"} : std::vector<std::string>{"GET"};
    o.rules.static_extensions = (b & 4) ? std::vector<std::string>{"css", "PNG", "a"} : DefaultStaticExtensions();
    o.rules.crawler_tokens = (b & 4) ? std::vector<std::string>{"bot", "x", "Curl/"} : DefaultCrawlerTokens();
  }
  const size_t chunk = 1 + (b >> 2) % 61;

  const Run whole = Ingest(o, stream, stream_size, stream_size + 1);
  const IngestReport& r = whole.report;
  uint64_t sum = 0;
  for (uint64_t n : r.reasons) sum += n;
  FUZZ_CHECK(r.lines == r.accepted + r.rejected);
  FUZZ_CHECK(sum == r.rejected);
  FUZZ_CHECK(r.reasons[0] == 0);
  FUZZ_CHECK(r.accepted == whole.events.size());
  FUZZ_CHECK(r.late <= r.accepted);
  FUZZ_CHECK(r.samples.size() <= IngestReport::kMaxSamples);
  for (const RejectedSample& s : r.samples) {
    FUZZ_CHECK(s.text.size() <= IngestReport::kSampleBytes);
    FUZZ_CHECK(s.reason != RejectReason::kNone && !IsFilterReason(s.reason) && s.reason < RejectReason::kCount);
  }

  const Run chunked = Ingest(o, stream, stream_size, chunk);
  FUZZ_CHECK(chunked.events == whole.events);
  FUZZ_CHECK(SameReport(chunked.report, whole.report));

  // Each line parsed alone, from an exact-size copy.
  LogParser parser(o);
  ParserOptions no_rules = o;
  no_rules.rules = ViewRules();
  LogParser plain(no_rules);
  size_t accepted = 0;
  for (size_t off = 0; off <= stream_size;) {
    const char* nl = static_cast<const char*>(std::memchr(stream + off, '\n', stream_size - off));
    const size_t len = (nl != nullptr ? static_cast<size_t>(nl - stream) : stream_size) - off;
    size_t content = len;
    if (content > 0 && stream[off + content - 1] == '\r') --content;
    if (content > 0 && content <= o.max_line_bytes) {
      std::vector<char> line(stream + off, stream + off + len);
      ParsedView v;
      const RejectReason reason = parser.Parse(std::string_view(line.data(), line.size()), &v);
      FUZZ_CHECK(reason < RejectReason::kCount && reason != RejectReason::kLineTooLong);
      ParsedView unruled;
      const RejectReason without = plain.Parse(std::string_view(line.data(), line.size()), &unruled);
      if (reason == RejectReason::kMethod || reason == RejectReason::kStatic || reason == RejectReason::kCrawler) {
        // (A CONNECT tunnel, "CONNECT host:443", is filtered when every method counts.)
        FUZZ_CHECK(without == RejectReason::kNone || (reason == RejectReason::kMethod && without == RejectReason::kFiltered));
      } else if (!(o.format == LogFormat::kCompiled && reason == RejectReason::kMalformed &&
                   without == RejectReason::kNone)) {
        // (A format string's agent field is read only for the crawler rule, so text after
        // it that breaks the format makes the line malformed only then: docs/ingest.md.)
        FUZZ_CHECK(without == reason);
      }
      if (reason == RejectReason::kNone) {
        CheckView(v, o);
        FUZZ_CHECK(accepted < whole.events.size());
        FUZZ_CHECK((whole.events[accepted] == Event{std::string(v.user), std::string(v.page), v.ts_ms}));
        ++accepted;
      }
    }
    if (nl == nullptr) break;
    off += len + 1;
  }
  FUZZ_CHECK(accepted == whole.events.size());
  return 0;
}
