#include "keys.h"

#include "scan.h"

namespace skiptrail {

RejectReason CheckKeyBytes(std::string_view key) {
  const char* s = key.data();
  const size_t n = key.size();
  bool bad_encoding = false;
  size_t i = 0;
  for (;;) {
    while (i + 8 <= n) {
      const uint64_t x = Load8(s + i);
      if ((x & kHighs) | HasByteBelow(x, 0x20) | HasByte(x, 0x7F)) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return RejectReason::kMalformed;
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3, lo = 0xA0;
    } else if (c == 0xED) {
      len = 3, hi = 0x9F;
    } else if (c >= 0xE1 && c <= 0xEF) {
      len = 3;
    } else if (c == 0xF0) {
      len = 4, lo = 0x90;
    } else if (c == 0xF4) {
      len = 4, hi = 0x8F;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else {
      bad_encoding = true;
      ++i;
      continue;
    }
    bool ok = i + len <= n;
    if (ok) {
      const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      ok = c1 >= lo && c1 <= hi;
      for (size_t k = 2; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (ok) {
      i += len;
    } else {
      bad_encoding = true;
      ++i;  // rescan the following bytes: they may hold a control byte
    }
  }
  return bad_encoding ? RejectReason::kBadEncoding : RejectReason::kNone;
}

RejectReason CheckKey(std::string_view key, KeyHint hint) {
  if (key.empty()) return RejectReason::kMalformed;
  if (hint == KeyHint::kPrintableAscii) return RejectReason::kNone;
  const RejectReason r = CheckKeyBytes(key);
  if (r == RejectReason::kNone && hint == KeyHint::kLoneSurrogate) return RejectReason::kBadEncoding;
  return r;
}

// Both keys, worst category first (see the header's order of checks).
RejectReason CheckKeys(std::string_view user, KeyHint user_hint, std::string_view page,
                       KeyHint page_hint, uint32_t max_key_bytes) {
  const RejectReason u = CheckKey(user, user_hint);
  const RejectReason p = CheckKey(page, page_hint);
  if (u == RejectReason::kMalformed || p == RejectReason::kMalformed) return RejectReason::kMalformed;
  if (u == RejectReason::kBadEncoding || p == RejectReason::kBadEncoding) {
    return RejectReason::kBadEncoding;
  }
  if (user.size() > max_key_bytes || page.size() > max_key_bytes) return RejectReason::kKeyTooLong;
  return RejectReason::kNone;
}

std::string_view FirstForwardedAddress(std::string_view list) {
  const size_t comma = list.find(',');
  if (comma != std::string_view::npos) list = list.substr(0, comma);
  while (!list.empty() && (list.back() == ' ' || list.back() == '\t')) list.remove_suffix(1);
  while (!list.empty() && (list.front() == ' ' || list.front() == '\t')) list.remove_prefix(1);
  return list;
}

bool IsUnknownAddress(std::string_view entry) {
  if (entry.empty() || entry == "-") return true;
  static constexpr char kUnknown[] = "unknown";
  if (entry.size() != sizeof kUnknown - 1) return false;
  for (size_t i = 0; i < entry.size(); ++i) {
    if ((entry[i] | 0x20) != kUnknown[i]) return false;
  }
  return true;
}

bool IsForwardedForName(std::string_view name) {
  static constexpr char kName[] = "x-forwarded-for";
  const size_t n = sizeof kName - 1;
  if (name.size() < n) return false;
  name = name.substr(name.size() - n);
  for (size_t i = 0; i < n; ++i) {
    char c = name[i] == '_' ? '-' : name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c | 0x20);
    if (c != kName[i]) return false;
  }
  return true;
}

}  // namespace skiptrail
