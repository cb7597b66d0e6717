// The HTTP request line of an access log ("GET /a?b=1 HTTP/1.1") and the page it names.
#ifndef SKIPTRAIL_PARSE_REQUEST_H_
#define SKIPTRAIL_PARSE_REQUEST_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "log-parser.h"

namespace skiptrail {

// Exactly [p, end) is an HTTP-version: "HTTP/" DIGIT+ ["." DIGIT+] ("HTTP/1.1", "HTTP/2").
bool IsHttpVersion(const char* p, const char* end);

// "http://" or "https://", any case, at [p, end): returns its length, else 0.
size_t HttpSchemePrefix(const char* p, const char* end);

// request = METHOD SP target [SP HTTP-version], checked as a whole. On kNone, *method is
// the method's bytes and *page is
// the target's path (the query kept only if keep_query, the fragment never), pointing
// into the request or into *scratch (absolute-form targets), and *page_printable is
// cleared unless the page is all printable ASCII. kFiltered for "OPTIONS *" (Apache's
// internal dummy connection); kMethod for "CONNECT host:port" (a proxy tunnel: a sound
// line that names no page; LogParser::Parse makes it kFiltered when the view rules count
// CONNECT); kMalformed for any other unusable request.
// REQUIRES: *page_printable is true on entry.
RejectReason ParseRequest(const char* req, const char* req_end, bool keep_query, std::string* scratch,
                          std::string_view* method, std::string_view* page, bool* page_printable);

// A request target logged alone ([target, target_end), as the JSON formats log it): its
// page as ParseRequest reads a target, spaces included. kFiltered for "*" (asterisk-form,
// used by OPTIONS only); kMalformed for any other unusable target.
// REQUIRES: *page_printable is true on entry.
RejectReason ParseTarget(const char* target, const char* target_end, bool keep_query, std::string* scratch,
                         std::string_view* page, bool* page_printable);

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARSE_REQUEST_H_
