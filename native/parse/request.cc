#include "request.h"

#include <cstring>

#include "../dcheck.h"
#include "scan.h"

namespace skiptrail {

// An HTTP-version as a request line ends with: "HTTP/" DIGIT+ ["." DIGIT+] ("HTTP/1.1",
// "HTTP/2", "HTTP/2.0"), exactly [p, end).
bool IsHttpVersion(const char* p, const char* end) {
  if (end - p < 6 || std::memcmp(p, "HTTP/", 5) != 0) return false;
  p += 5;
  const char* major = p;
  while (p < end && IsDigit(*p)) ++p;
  if (p == major) return false;
  if (p == end) return true;
  if (*p++ != '.') return false;
  const char* minor = p;
  while (p < end && IsDigit(*p)) ++p;
  return p != minor && p == end;
}

// "http://" or "https://", any case, at [p, end): returns the length, else 0.
size_t HttpSchemePrefix(const char* p, const char* end) {
  static const char kHttp[] = "http";
  const size_t n = end - p;
  if (n < 7) return 0;
  for (int i = 0; i < 4; ++i) {
    if ((p[i] | 0x20) != kHttp[i]) return 0;
  }
  size_t i = 4;
  if ((p[i] | 0x20) == 's') ++i;
  if (n >= i + 3 && p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/') return i + 3;
  return 0;
}

namespace {

// The page of a target whose path ends at path_end ('?', '#' or its end): origin-form
// "/path", or absolute-form "http://host/path" read as "/path" ("/" when empty, so a
// proxy-style request counts as the same page). kMalformed for any other form.
RejectReason PageOfTarget(const char* target, const char* path_end, const char* target_end, std::string* scratch,
                          std::string_view* page) {
  const char* path = target;
  if (*target != '/') {
    const size_t scheme = HttpSchemePrefix(target, target_end);
    if (scheme == 0) return RejectReason::kMalformed;
    const char* authority = target + scheme;
    path = authority;
    while (path < path_end && *path != '/' && *path != '?') ++path;
    if (path == authority) return RejectReason::kMalformed;
  }
  if (path < path_end && *path == '/') {
    *page = std::string_view(path, path_end - path);
  } else {  // absolute-form with an empty path: "/" plus the query if kept
    scratch->assign(1, '/');
    scratch->append(path, path_end - path);
    *page = *scratch;
  }
  return RejectReason::kNone;
}

// CONNECT's authority-form target, exactly [p, end): a host (a name, an IPv4 address or
// a bracketed IPv6 one), ':' and a port of 1..5 digits.
bool IsAuthorityForm(const char* p, const char* end) {
  const char* colon = end;
  while (colon > p && IsDigit(colon[-1])) --colon;
  if (colon == end || end - colon > 5 || colon - p < 2 || colon[-1] != ':') return false;
  for (const char* c = p; c < colon - 1; ++c) {
    if (*c == '/' || *c == '?' || *c == '#' || *c == '@') return false;
  }
  return true;
}

}  // namespace

// request = METHOD SP target [SP protocol]; the page is the target's path, with the
// query kept only if keep_query, the fragment never. Target forms:
//   "/path?q#f"             origin-form
//   "http://host/path?q"    absolute-form (http/https, any case): the path alone, "/" if
//                           empty, so a proxy-style request counts as the same page
//   anything else ("*", "host:443", "-", relative) is malformed.
// The target is taken as logged: no percent-decoding, no unescaping of \" or \xhh.
RejectReason ParseRequest(const char* req, const char* req_end, bool keep_query, std::string* scratch,
                          std::string_view* method, std::string_view* page, bool* page_printable) {
  SKIPTRAIL_DCHECK(*page_printable);
  const char* method_end = req;
  while (method_end < req_end && kTokenChars.is_tchar[static_cast<unsigned char>(*method_end)]) {
    ++method_end;
  }
  if (method_end == req || method_end == req_end || *method_end != ' ') return RejectReason::kMalformed;
  const char* target = method_end + 1;
  *method = std::string_view(req, method_end - req);

  // One pass finds where the page ends ('?' unless keep_query, '#', or the ' ' before
  // the protocol) and whether it is all printable ASCII.
  const char* path_end =
      ScanField(target, req_end, ' ', '#', keep_query ? '#' : '?', page_printable);
  if (path_end == target) return RejectReason::kMalformed;
  const char* target_end = path_end;
  if (target_end < req_end && *target_end != ' ') {
    target_end = FindByte(target_end, req_end, ' ');
    if (target_end == nullptr) target_end = req_end;
  }
  if (target_end != req_end && !IsHttpVersion(target_end + 1, req_end)) return RejectReason::kMalformed;

  // Apache's "internal dummy connection" (OPTIONS * HTTP/1.0, sent to wake its own
  // children) is a sound line that is no page load.
  if (target_end - target == 1 && *target == '*' && method_end - req == 7 && std::memcmp(req, "OPTIONS", 7) == 0) {
    return RejectReason::kFiltered;
  }
  // A proxy tunnel (CONNECT example.com:443 HTTP/1.1): a sound line that names no page.
  if (method_end - req == 7 && std::memcmp(req, "CONNECT", 7) == 0 && IsAuthorityForm(target, target_end)) {
    return RejectReason::kMethod;
  }
  return PageOfTarget(target, path_end, target_end, scratch, page);
}

// The page of a target alone (the JSON formats log it apart from the method).
RejectReason ParseTarget(const char* target, const char* target_end, bool keep_query, std::string* scratch,
                         std::string_view* page, bool* page_printable) {
  SKIPTRAIL_DCHECK(*page_printable);
  if (target_end - target == 1 && *target == '*') return RejectReason::kFiltered;
  const char* path_end = ScanField(target, target_end, '#', '#', keep_query ? '#' : '?', page_printable);
  if (path_end == target) return RejectReason::kMalformed;
  return PageOfTarget(target, path_end, target_end, scratch, page);
}

}  // namespace skiptrail
