// Front-ends that compile a format string into a FormatPlan (format-plan.h): Apache
// mod_log_config LogFormat strings and nginx log_format strings. Every error is found
// here, once, with a message naming the directive, so that a bad format is a
// RangeError when the options are read, never a stream of rejected lines.
#ifndef SKIPTRAIL_PARSE_FORMAT_COMPILER_H_
#define SKIPTRAIL_PARSE_FORMAT_COMPILER_H_

#include <string>
#include <string_view>

#include "format-plan.h"

namespace skiptrail {

enum class FormatDialect : uint8_t { kApache, kNginx };

// Compiles `format` (for example '%h %l %u %t "%r" %>s %b' or '$remote_addr - $remote_user
// [$time_local] "$request" $status $body_bytes_sent') with the user taken from the first
// present entry of `user_list` ("%{X-Forwarded-For}i|%h", "$cookie_uid|$remote_addr");
// an empty user_list means the client address (%h, $remote_addr). Returns true and fills
// *plan, or returns false with *error set to a message that names the offending
// directive ("unknown directive %Z at offset 3").
bool CompileFormat(FormatDialect dialect, std::string_view format, std::string_view user_list, FormatPlan* plan,
                   std::string* error);

// Sets plan->read_fields: the fields up to the last one used (not kIgnore), then on to
// the next quoted one; the rest is the unused tail, not read (format-plan.h).
void SetUnreadTail(FormatPlan* plan);

// For a parser whose view rules do not read the agent: its field becomes kIgnore, so
// that an agent in the tail costs nothing (LogParser's constructor).
void DropAgentField(FormatPlan* plan);

// Apache's shipped vhost_combined LogFormat.
constexpr std::string_view kVhostCombinedFormat = "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"";

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARSE_FORMAT_COMPILER_H_
