// What counts as a page view: the rules applied to a line every format has parsed
// (docs/semantics.md, "What counts as a page view"; docs/ingest.md for the options).
//
//   method   the request's method is not one of `methods` (exact bytes: HTTP methods
//            are case-sensitive). A format that logs no method (ndjson without a method
//            path, a format string without %r or %m) passes.
//   static   the page's last path segment has an extension in `static_extensions`
//            (ASCII case-insensitive). The extension is what follows the segment's last
//            '.', in the path before any '?' or '#'; a segment that starts with its only
//            '.' (".env") has none.
//   crawler  the page is /robots.txt (only robots fetch it), or the user agent holds
//            one of `crawler_tokens` (ASCII case-insensitive substring), or is empty or
//            "-" (browsers always send one). The rule is on when `crawler_tokens` is
//            non-empty; a line without an agent (common, ndjson without an agent path,
//            a format string without the User-Agent header, a Traefik line whose
//            headers were dropped) passes the agent part.
//            A W3C agent (AgentCoding::kW3c) is matched as the browser sent it: IIS
//            writes a space as '+', CloudFront percent-encodes (%20, sometimes twice:
//            %2520), so the agent is percent-decoded (twice) and its '+' read as a space;
//            a '+' in a token is read as a space too, so that "+http" and "Yahoo! Slurp"
//            match what IIS wrote for them.
// The three run in that order, after everything else about the line has been checked,
// so that a line always gets the same reason.
//
// Pure C++17 with no Node headers. The library's defaults (methods GET, the lists below)
// are chosen in src/ingest.ts from DefaultStaticExtensions() and DefaultCrawlerTokens();
// a ViewRules left empty counts every line, so the parser alone filters nothing.
//
// Performance: the method and extension checks cost a few compares. An agent is scanned
// once per distinct agent: verdicts are cached by the agent's bytes (4096 slots, direct-
// mapped by hash, compared whole), since a log holds far fewer agents than lines.
//
// Thread safety: none (the verdict cache); one per LogParser.
#ifndef SKIPTRAIL_PARSE_VIEW_RULES_H_
#define SKIPTRAIL_PARSE_VIEW_RULES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace skiptrail {

enum class RejectReason : uint8_t;

// How a format writes the user agent. kW3c: IIS's '+' for a space, CloudFront's %XX.
enum class AgentCoding : uint8_t { kAsSent, kW3c };

struct ViewRules {
  std::vector<std::string> methods;            // empty: every method counts
  std::vector<std::string> static_extensions;  // without the '.'; empty: no page is static
  std::vector<std::string> crawler_tokens;     // empty: no agent is a crawler
};

// The library's default lists, lower-case (docs/semantics.md gives the reasons).
const std::vector<std::string>& DefaultStaticExtensions();
const std::vector<std::string>& DefaultCrawlerTokens();

class ViewClassifier {
 public:
  // Compiles the rules for agents written as `coding` says. REQUIRES: every extension
  // and token is non-empty; extensions are at most kMaxExtensionBytes bytes (a longer
  // one can never match and is dropped).
  explicit ViewClassifier(const ViewRules& rules, AgentCoding coding = AgentCoding::kAsSent);

  static constexpr size_t kMaxExtensionBytes = 15;

  // The rules about the request: kMethod, kStatic, kCrawler for /robots.txt, or kNone
  // (the agent is still to be read: IsCrawler). page_is_path: the caller
  // knows the page holds no '?' or '#' (a request target cut before its query), which
  // spares a scan for them.
  RejectReason ClassifyRequest(std::string_view method, std::string_view page, bool page_is_path) const;

  // The crawler rule, for a format that logs an agent: true when `agent` (as logged) is
  // empty, "-", or holds a token once decoded (AgentCoding). REQUIRES: filters_agents().
  bool IsCrawler(std::string_view agent);

  bool filters_agents() const { return !tokens_.empty(); }
  bool active() const { return !methods_.empty() || !extensions_.empty() || !tokens_.empty(); }
  bool filters_static() const { return !extensions_.empty(); }

  // Whether `agent`, as sent (decoded already), holds a token (the empty and "-" rule
  // excluded), uncached.
  bool HasCrawlerToken(std::string_view agent) const;

 private:
  bool IsStatic(std::string_view path) const;

  static constexpr size_t kCacheSlots = 4096;
  struct CachedVerdict {
    uint64_t hash = 0;
    bool used = false, crawler = false;
    std::string agent;
  };
  std::vector<CachedVerdict> cache_;  // kCacheSlots when tokens_ is non-empty, keyed by the agent as logged
  AgentCoding coding_;
  std::string decoded_, decode_scratch_;  // kW3c: the agent as sent, on a cache miss

  std::vector<std::string> methods_;
  // Extensions as lower-case bytes, zero-padded to 16 and read as two words, in an
  // open-addressed table of a power-of-two size at least twice their number (an
  // all-zero slot is empty: no extension is empty).
  struct Extension {
    uint64_t lo = 0, hi = 0;
  };
  std::vector<Extension> extensions_;
  size_t extension_mask_ = 0;
  static Extension Pack(const char* p, size_t n);
  static Extension Pack(const std::string& s) { return Pack(s.data(), s.size()); }
  static size_t SlotOf(const Extension& e) { return static_cast<size_t>((e.lo * 0x9E3779B97F4A7C15ull) >> 40); }
  // Tokens lower-case, sorted by their first two bytes; a token of one byte is stored
  // under every pair that starts with it. bigram_bits_ has bit (a << 8 | b) set when a
  // token starts with bytes a, b (lower-case), so the scan looks further only there.
  struct Token {
    uint16_t bigram;
    std::string text;
  };
  std::vector<Token> tokens_;
  std::vector<uint64_t> bigram_bits_;  // 65536 bits when tokens_ is non-empty
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARSE_VIEW_RULES_H_
