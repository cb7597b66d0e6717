// The rules every format applies to a user and a page (docs/ingest.md, "Keys"): non-empty,
// no control byte (below 0x20, or 0x7F), well-formed UTF-8, at most max_key_bytes.
#ifndef SKIPTRAIL_PARSE_KEYS_H_
#define SKIPTRAIL_PARSE_KEYS_H_

#include <cstdint>
#include <string_view>

#include "log-parser.h"

namespace skiptrail {

// What scanning a key already established about its bytes.
enum class KeyHint : uint8_t {
  kUnchecked,       // anything: check every byte
  kPrintableAscii,  // only 0x20..0x7E: nothing left to check but the length
  kLoneSurrogate,   // decoded from JSON with a lone surrogate escape: bad-encoding
};

inline KeyHint HintFor(bool printable_ascii) {
  return printable_ascii ? KeyHint::kPrintableAscii : KeyHint::kUnchecked;
}

// kMalformed if a byte is below 0x20 or is 0x7F, else kBadEncoding if the bytes are not
// well-formed UTF-8 (Unicode table 3-7: no overlongs, no surrogates, <= U+10FFFF),
// else kNone. A control byte wins over bad encoding wherever each occurs.
RejectReason CheckKeyBytes(std::string_view key);

// One key: empty is kMalformed, then CheckKeyBytes unless the hint settles it.
RejectReason CheckKey(std::string_view key, KeyHint hint);

// Both keys, worst category first: a control byte or emptiness in either (malformed),
// then bad UTF-8 in either (bad-encoding), then either longer than max_key_bytes
// (key-too-long).
RejectReason CheckKeys(std::string_view user, KeyHint user_hint, std::string_view page, KeyHint page_hint,
                       uint32_t max_key_bytes);

// A forwarded-for list ("203.0.113.7, 10.0.0.1", as proxies append): its first entry,
// the client, without the spaces or tabs around it (docs/ingest.md, "Forwarded
// addresses"). The same rule in every format: %{X-Forwarded-For}i, $http_x_forwarded_for,
// a JSON member named X-Forwarded-For, W3C's x-forwarded-for and cs(X-Forwarded-For).
std::string_view FirstForwardedAddress(std::string_view list);

// An entry that names no client: empty, "-", or "unknown" in any case (Squid writes it
// for a client it hides, and RFC 7239 names it). Such a user falls through to the next
// entry of the user list.
bool IsUnknownAddress(std::string_view entry);

// Whether a header, member or field name holds a forwarded-for list: it ends with
// "x-forwarded-for", compared ASCII case-insensitively with '_' read as '-'
// ("X-Forwarded-For", "request_X-Forwarded-For", "http_x_forwarded_for").
bool IsForwardedForName(std::string_view name);

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARSE_KEYS_H_
