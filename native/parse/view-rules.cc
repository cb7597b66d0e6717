#include "view-rules.h"

#include <algorithm>
#include <cstring>

#include "../dcheck.h"
#include "../hash.h"
#include "log-parser.h"

namespace skiptrail {

namespace {

inline unsigned char Lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c | 0x20 : c; }

std::string LowerString(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(Lower(static_cast<unsigned char>(c)));
  return out;
}

inline uint16_t Bigram(unsigned char a, unsigned char b) { return static_cast<uint16_t>(a << 8 | b); }

inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
  return -1;
}

// One pass of percent-decoding from `in` to *out: "%XX" (two hex digits) becomes its
// byte, anything else is kept. Returns whether anything was decoded.
bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  bool decoded = false;
  for (size_t i = 0; i < in.size(); ++i) {
    int hi, lo;
    if (in[i] == '%' && i + 2 < in.size() && (hi = HexValue(in[i + 1])) >= 0 && (lo = HexValue(in[i + 2])) >= 0) {
      out->push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
      decoded = true;
    } else {
      out->push_back(in[i]);
    }
  }
  return decoded;
}

// A W3C agent as the browser sent it (view-rules.h): percent-decoded at most twice
// (CloudFront's %2520), then '+' read as a space (IIS), into *out; *once is scratch.
void DecodeW3cAgent(std::string_view agent, std::string* once, std::string* out) {
  if (PercentDecode(agent, once)) {
    PercentDecode(*once, out);
  } else {
    out->swap(*once);
  }
  for (char& c : *out) {
    if (c == '+') c = ' ';
  }
}

}  // namespace

// [p, p + n), n <= kMaxExtensionBytes, lower-cased and zero-padded to two words.
ViewClassifier::Extension ViewClassifier::Pack(const char* p, size_t n) {
  char padded[16] = {};
  for (size_t i = 0; i < n; ++i) padded[i] = static_cast<char>(Lower(static_cast<unsigned char>(p[i])));
  Extension e;
  std::memcpy(&e.lo, padded, 8);
  std::memcpy(&e.hi, padded + 8, 8);
  return e;
}

namespace {

}  // namespace

const std::vector<std::string>& DefaultStaticExtensions() {
  // Stylesheets and scripts, source maps, images (favicon.ico included), fonts, audio
  // and video, WebAssembly: what a page pulls in, never the page itself. Documents a
  // reader opens (pdf, txt, xml feeds, archives) are not here.
  static const std::vector<std::string> kList = {
      "css",  "js",   "mjs",  "map",  "png",   "jpg", "jpeg", "gif", "webp", "avif", "svg",
      "ico",  "bmp",  "tif",  "tiff", "apng",  "cur", "woff", "woff2", "ttf", "otf", "eot",
      "mp3",  "mp4",  "m4a",  "m4v",  "webm",  "ogg", "oga",  "ogv", "wav",  "flac", "aac",
      "mov",  "avi",  "wasm",
  };
  return kList;
}

const std::vector<std::string>& DefaultCrawlerTokens() {
  // Search and SEO crawlers, link-preview fetchers, archivers, headless browsers and
  // audit tools, health checks and monitors, HTTP libraries and command-line clients,
  // scanners: programs, not readers. "bot" alone covers Googlebot, bingbot, YandexBot,
  // AhrefsBot, GPTBot, Slackbot, UptimeRobot and most others. Health checks matter
  // most: a probe every few seconds would head every "who is on this page now".
  static const std::vector<std::string> kList = {
      // crawlers and fetchers
      "bot", "crawl", "spider", "slurp", "archiver", "facebookexternalhit", "facebookcatalog",
      "mediapartners-google", "feedfetcher", "google-inspectiontool", "lighthouse",
      "headlesschrome", "phantomjs", "prerender",
      // link previews
      "mastodon/", "pleroma", "whatsapp/", "skypeuripreview", "embedly",
      // HTTP libraries and command-line clients
      "curl/", "wget/", "python-requests", "python-urllib", "aiohttp", "httpx",
      "go-http-client", "java/", "okhttp", "httpclient", "libwww-perl", "node-fetch",
      "axios/", "undici", "scrapy", "postmanruntime", "guzzlehttp", "php/", "ruby",
      "dart/",
      // health checks and monitors
      "kube-probe", "elb-healthchecker", "googlehc", "health check", "healthcheck",
      "prometheus/", "blackbox exporter", "uptime-kuma", "datadog", "newrelicpinger",
      "nagios", "zabbix", "pingdom", "statuscake", "site24x7", "check_http",
      // scanners
      "zgrab", "nmap", "masscan", "nikto", "sqlmap", "censysinspect", "expanse",
      "dataprovider",
  };
  return kList;
}

ViewClassifier::ViewClassifier(const ViewRules& rules, AgentCoding coding) : coding_(coding), methods_(rules.methods) {
  std::vector<Extension> given;
  for (const std::string& extension : rules.static_extensions) {
    if (!extension.empty() && extension.size() <= kMaxExtensionBytes) given.push_back(Pack(extension));
  }
  if (!given.empty()) {
    size_t size = 8;
    while (size < 2 * given.size()) size *= 2;
    extensions_.resize(size);
    extension_mask_ = size - 1;
    for (const Extension& e : given) {
      size_t slot = SlotOf(e) & extension_mask_;
      while (extensions_[slot].lo != 0 && !(extensions_[slot].lo == e.lo && extensions_[slot].hi == e.hi)) {
        slot = (slot + 1) & extension_mask_;
      }
      extensions_[slot] = e;
    }
  }
  for (const std::string& token : rules.crawler_tokens) {
    if (token.empty()) continue;
    std::string lower = LowerString(token);
    if (coding_ == AgentCoding::kW3c) {  // '+' and ' ' are one byte in a W3C agent
      for (char& c : lower) {
        if (c == '+') c = ' ';
      }
    }
    const unsigned char a = static_cast<unsigned char>(lower[0]);
    if (lower.size() >= 2) {
      tokens_.push_back({Bigram(a, static_cast<unsigned char>(lower[1])), lower});
    } else {
      for (unsigned b = 0; b < 256; ++b) tokens_.push_back({Bigram(a, static_cast<unsigned char>(b)), lower});
    }
  }
  if (!tokens_.empty()) {
    std::stable_sort(tokens_.begin(), tokens_.end(), [](const Token& x, const Token& y) { return x.bigram < y.bigram; });
    bigram_bits_.assign(65536 / 64, 0);
    for (const Token& t : tokens_) bigram_bits_[t.bigram >> 6] |= uint64_t{1} << (t.bigram & 63);
    cache_.resize(kCacheSlots);
  }
}

RejectReason ViewClassifier::ClassifyRequest(std::string_view method, std::string_view page, bool page_is_path) const {
  if (!methods_.empty() && method.data() != nullptr &&
      std::find(methods_.begin(), methods_.end(), method) == methods_.end()) {
    return RejectReason::kMethod;
  }
  if (extensions_.empty() && tokens_.empty()) return RejectReason::kNone;
  std::string_view path = page;
  if (!page_is_path) {
    const void* query = std::memchr(path.data(), '?', path.size());
    if (query != nullptr) path = path.substr(0, static_cast<const char*>(query) - path.data());
    const void* fragment = std::memchr(path.data(), '#', path.size());
    if (fragment != nullptr) path = path.substr(0, static_cast<const char*>(fragment) - path.data());
  }
  if (!extensions_.empty() && IsStatic(path)) return RejectReason::kStatic;
  // Only robots fetch robots.txt (RFC 9309: this path, this case).
  if (!tokens_.empty() && path == "/robots.txt") return RejectReason::kCrawler;
  return RejectReason::kNone;
}

bool ViewClassifier::IsCrawler(std::string_view agent) {
  SKIPTRAIL_DCHECK(filters_agents());
  if (agent.empty() || agent == "-") return true;
  const uint64_t hash = HashBytes(agent.data(), agent.size());
  CachedVerdict& slot = cache_[hash & (kCacheSlots - 1)];
  if (slot.used && slot.hash == hash && slot.agent == agent) return slot.crawler;
  slot.used = true;
  slot.hash = hash;
  slot.agent.assign(agent.data(), agent.size());
  if (coding_ == AgentCoding::kW3c) {
    DecodeW3cAgent(agent, &decode_scratch_, &decoded_);
    slot.crawler = HasCrawlerToken(decoded_);
  } else {
    slot.crawler = HasCrawlerToken(agent);
  }
  return slot.crawler;
}

bool ViewClassifier::IsStatic(std::string_view path) const {
  // Back from the path's end to the last segment's last '.', stopping at its '/'.
  size_t dot = path.size();
  while (dot > 0 && path[dot - 1] != '.' && path[dot - 1] != '/') --dot;
  if (dot < 2 || path[dot - 1] != '.' || path[dot - 2] == '/') return false;  // none, or ".env"
  const size_t length = path.size() - dot;
  if (length == 0 || length > kMaxExtensionBytes) return false;
  const Extension e = Pack(path.data() + dot, length);
  for (size_t slot = SlotOf(e) & extension_mask_; extensions_[slot].lo != 0; slot = (slot + 1) & extension_mask_) {
    if (extensions_[slot].lo == e.lo && extensions_[slot].hi == e.hi) return true;
  }
  return false;
}

bool ViewClassifier::HasCrawlerToken(std::string_view agent) const {
  const auto* a = reinterpret_cast<const unsigned char*>(agent.data());
  const size_t n = agent.size();
  for (size_t i = 0; i < n; ++i) {
    const uint16_t key = Bigram(Lower(a[i]), i + 1 < n ? Lower(a[i + 1]) : 0);
    if (((bigram_bits_[key >> 6] >> (key & 63)) & 1) == 0) continue;
    auto it = std::lower_bound(tokens_.begin(), tokens_.end(), key,
                               [](const Token& t, uint16_t k) { return t.bigram < k; });
    for (; it != tokens_.end() && it->bigram == key; ++it) {
      const std::string& t = it->text;
      if (t.size() > n - i) continue;
      size_t j = 1;
      while (j < t.size() && Lower(a[i + j]) == static_cast<unsigned char>(t[j])) ++j;
      if (j == t.size()) return true;
    }
  }
  return false;
}

}  // namespace skiptrail
