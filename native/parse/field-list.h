// Plans for the formats whose lines are a list of named fields with one separator:
// W3C extended logs (IIS, CloudFront), whose "#Fields:" directive names the fields, and
// AWS Application Load Balancer access logs, whose fields are fixed. Both compile into
// the FormatPlan that compiled Apache and nginx formats run (format-plan.h), so they share
// its runner and its speed (docs/ingest.md, "W3C extended logs", "AWS ALB access logs").
#ifndef SKIPTRAIL_PARSE_FIELD_LIST_H_
#define SKIPTRAIL_PARSE_FIELD_LIST_H_

#include <string>
#include <string_view>

#include "format-plan.h"

namespace skiptrail {

// W3C: the default user list, cs-username unless it is "-", else the client address.
constexpr std::string_view kW3cDefaultUser = "cs-username|c-ip";

// Checks a W3C user list ('|'-separated field names, any case, each at most once: c-ip,
// cs-username, x-forwarded-for, a request header cs(Name), or a custom field without a
// W3C prefix): true, or false with *error naming the entry. Field names are matched
// ASCII case-insensitively; x-forwarded-for and cs(X-Forwarded-For) read the list's
// first address (keys.h, FirstForwardedAddress).
bool CheckW3cUserList(std::string_view user_list, std::string* error);

// Compiles the field names of a "#Fields:" directive (the text after the colon) with
// values separated by `separator` (' ' for IIS, '\t' for CloudFront). Unknown names are
// fields the plan does not use; cs-method and cs(User-Agent) are read for the view rules. Returns false with *error when the list lacks date,
// time, cs-uri-stem, or every field of the user list. REQUIRES: CheckW3cUserList passed.
bool CompileW3cFields(std::string_view fields, std::string_view user_list, char separator, FormatPlan* plan,
                      std::string* error);

// The ALB access log plan: user = the client address without its port, page = the
// request's path (absolute-form, as ALB logs it), time = request_creation_time, status =
// elb_status_code; the method (the request's) and user_agent for the view rules. Fields after request_creation_time are not read (AWS appends new ones).
FormatPlan AlbPlan();

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARSE_FIELD_LIST_H_
