#include "format-compiler.h"

#include <cctype>
#include <cstring>
#include <vector>

namespace skiptrail {

namespace {

// One directive of the format, before user slots are assigned.
struct Directive {
  FieldRole role = FieldRole::kIgnore;
  bool user_candidate = false;  // may be named in the user list
  bool first_of_list = false;   // X-Forwarded-For: the first address of the list
  bool final_status = false;    // Apache %>s: the final status, preferred to %s and %<s
  bool conditional = false;     // Apache status condition (%400,501{User-agent}i): "-" for other statuses
  size_t offset = 0;            // where it starts in the format string
  std::string key;              // normalized spelling, to match user-list entries
  std::string text;             // as written
  std::string prefix;           // literal text the directive itself writes before its value
  std::string suffix;           // ... and after it (Apache's %t writes the brackets)
  std::vector<TimeStep> time_pattern;  // kTimeStrftime
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// An Apache strftime time format ("%d/%b/%Y %T", "msec_frac") as TimeSteps appended to
// *steps; false with *why set for a conversion that cannot be read back.
bool CompileStrftime(std::string_view f, std::vector<TimeStep>* steps, std::string* why) {
  auto add = [steps](TimeItem item) { steps->push_back(TimeStep{item, 0}); };
  auto literal = [steps](char c) { steps->push_back(TimeStep{TimeItem::kLiteral, c}); };
  if (f == "msec_frac" || f == "usec_frac") {
    add(f == "msec_frac" ? TimeItem::kMillis : TimeItem::kMicros);
    return true;
  }
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      literal(f[i]);
      continue;
    }
    if (++i == f.size()) {
      *why = "a '%' ends the time format";
      return false;
    }
    switch (f[i]) {
      case 'Y': add(TimeItem::kYear); break;
      case 'm': add(TimeItem::kMonth); break;
      case 'b': case 'h': add(TimeItem::kMonthName); break;
      case 'd': add(TimeItem::kDay); break;
      case 'e': add(TimeItem::kDaySpace); break;
      case 'H': add(TimeItem::kHour); break;
      case 'M': add(TimeItem::kMinute); break;
      case 'S': add(TimeItem::kSecond); break;
      case 'a': add(TimeItem::kWeekday); break;
      case 'z': add(TimeItem::kOffset); break;
      case '%': literal('%'); break;
      case 'T': case 'R':
        add(TimeItem::kHour), literal(':'), add(TimeItem::kMinute);
        if (f[i] == 'T') literal(':'), add(TimeItem::kSecond);
        break;
      case 'F': add(TimeItem::kYear), literal('-'), add(TimeItem::kMonth), literal('-'), add(TimeItem::kDay); break;
      case 'Z':
        *why = "%Z writes a zone name, which gives no UTC offset: log %z";
        return false;
      default:
        *why = std::string("%") + f[i] +
               " is not read (the conversions read are %Y %m %b %h %d %e %H %M %S %T %R %F %a %z %%, "
               "and msec_frac, usec_frac)";
        return false;
    }
  }
  return true;
}

// A strftime pattern that yields an instant: a date, hours, minutes, seconds and an offset.
bool IsCompleteTime(const std::vector<TimeStep>& steps) {
  unsigned seen = 0;
  for (const TimeStep& step : steps) seen |= 1u << static_cast<unsigned>(step.item);
  auto has = [seen](TimeItem item) { return (seen >> static_cast<unsigned>(item)) & 1; };
  return has(TimeItem::kYear) && (has(TimeItem::kMonth) || has(TimeItem::kMonthName)) &&
         (has(TimeItem::kDay) || has(TimeItem::kDaySpace)) && has(TimeItem::kHour) && has(TimeItem::kMinute) &&
         has(TimeItem::kSecond) && has(TimeItem::kOffset);
}

bool IsTimeRole(FieldRole role) {
  switch (role) {
    case FieldRole::kTimeClf: case FieldRole::kTimeIso: case FieldRole::kTimeSeconds: case FieldRole::kTimeMillis:
    case FieldRole::kTimeMicros: case FieldRole::kTimeSecondsFrac: case FieldRole::kTimeStrftime:
      return true;
    default:
      return false;
  }
}

// Apache: p points at '%'. Fills *d and returns the position after the directive, or
// null with *error set.
const char* ApacheDirective(const char* p, const char* end, Directive* d, std::string* error, size_t offset) {
  const char* start = p++;
  // Modifiers: '<' '>' (original or final request), '!' and status lists ("%400,501{User-agent}i").
  while (p < end && (*p == '<' || *p == '>' || *p == '!' || *p == ',' || (*p >= '0' && *p <= '9'))) {
    d->final_status = d->final_status || *p == '>';
    d->conditional = d->conditional || (*p >= '0' && *p <= '9');
    ++p;
  }
  std::string name;
  bool has_name = false;
  if (p < end && *p == '{') {
    const char* close = static_cast<const char*>(std::memchr(p, '}', end - p));
    if (close == nullptr) {
      *error = "unclosed %{ at offset " + std::to_string(offset);
      return nullptr;
    }
    name.assign(p + 1, close);
    has_name = true;
    p = close + 1;
  }
  if (p == end) {
    *error = "a directive is cut off at the end of the format (offset " + std::to_string(offset) + ")";
    return nullptr;
  }
  const char letter = *p++;
  d->text.assign(start, p);
  auto unsupported = [&](const char* why) {
    *error = "unsupported directive " + d->text + " at offset " + std::to_string(offset) + ": " + why;
    return nullptr;
  };
  switch (letter) {
    case 'h':
    case 'a':
      d->user_candidate = true;
      d->key = std::string("%") + letter;
      break;
    case 'u':
      d->user_candidate = true;
      d->key = "%u";
      break;
    case 'm': d->role = FieldRole::kMethod; break;
    case 'l': case 'H': case 'b': case 'B': case 'O': case 'I': case 'S': case 'D': case 'T':
    case 'v': case 'V': case 'p': case 'A': case 'k': case 'L': case 'P': case 'X': case 'f': case 'R':
      break;
    case 'e': case 'n': case 'o': case '^': case 'x': case 'c':  // x, c: mod_ssl variables
      if (!has_name) return unsupported("it needs a {name}");
      break;
    case 'r': d->role = FieldRole::kRequestLine; break;
    case 'U': d->role = FieldRole::kPath; break;
    case 'q': d->role = FieldRole::kQuery; break;
    case 's': d->role = FieldRole::kStatus; break;
    case 'i':
      if (!has_name || name.empty()) return unsupported("%{Header}i needs a header name");
      d->user_candidate = true;
      d->key = "%{" + Lower(name) + "}i";
      d->first_of_list = Lower(name) == "x-forwarded-for";
      if (Lower(name) == "user-agent") d->role = FieldRole::kAgent;
      break;
    case 'C':
      if (!has_name || name.empty()) return unsupported("%{cookie}C needs a cookie name");
      d->user_candidate = true;
      d->key = "%{" + name + "}C";
      break;
    case 't': {
      std::string_view f = name;
      if (f.substr(0, 6) == "begin:") f.remove_prefix(6);
      if (f.substr(0, 4) == "end:") f.remove_prefix(4);
      std::string why;
      if (!has_name) {
        d->role = FieldRole::kTimeClf;
        d->prefix = "[";
        d->suffix = "]";
      } else if (f == "sec") {
        d->role = FieldRole::kTimeSeconds;
      } else if (f == "msec") {
        d->role = FieldRole::kTimeMillis;
      } else if (f == "usec") {
        d->role = FieldRole::kTimeMicros;
      } else if (f == "%Y-%m-%dT%H:%M:%S%z" || f == "%FT%T%z") {
        d->role = FieldRole::kTimeIso;
      } else if (CompileStrftime(f, &d->time_pattern, &why)) {
        d->role = FieldRole::kTimeStrftime;
      } else {
        return unsupported(why.c_str());
      }
      break;
    }
    default:
      *error = "unknown directive " + d->text + " at offset " + std::to_string(offset);
      return nullptr;
  }
  return p;
}

bool IsNginxNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// nginx: p points at '$'.
const char* NginxDirective(const char* p, const char* end, Directive* d, std::string* error, size_t offset) {
  const char* start = p++;
  std::string_view name;
  if (p < end && *p == '{') {
    const char* close = static_cast<const char*>(std::memchr(p, '}', end - p));
    if (close == nullptr) {
      *error = "unclosed ${ at offset " + std::to_string(offset);
      return nullptr;
    }
    name = std::string_view(p + 1, close - p - 1);
    p = close + 1;
  } else {
    const char* n = p;
    while (p < end && IsNginxNameChar(*p)) ++p;
    name = std::string_view(n, p - n);
  }
  d->text.assign(start, p);
  if (name.empty()) {
    *error = "a '$' without a variable name at offset " + std::to_string(offset);
    return nullptr;
  }
  d->key = "$" + std::string(name);
  // Variables known to be something other than a client: never a user.
  static const char* const kNotUsers[] = {
      "body_bytes_sent", "bytes_sent", "request_time", "request_length", "connection", "connection_requests",
      "pipe", "server_name", "host", "hostname", "server_port", "server_addr", "server_protocol", "scheme",
      "remote_port", "gzip_ratio", "ssl_protocol", "ssl_cipher", "request_id", "is_args",
      "pid", "nginx_version", "time_msec", "binary_remote_addr", "content_type", "content_length",
      "request_completion", "msec_frac", "tcpinfo_rtt", "upstream_addr", "upstream_status",
      "upstream_response_time", "upstream_connect_time", "upstream_header_time", "upstream_cache_status",
      "proxy_host", "proxy_port", "document_root", "realpath_root", "limit_rate", "request_body",
  };
  if (name == "remote_addr" || name == "remote_user" || name == "realip_remote_addr" ||
      name == "proxy_protocol_addr") {
    d->user_candidate = true;
  } else if (name == "proxy_add_x_forwarded_for" || name == "http_x_forwarded_for") {
    d->user_candidate = true;
    d->first_of_list = true;
  } else if (StartsWith(name, "http_") || StartsWith(name, "cookie_")) {
    d->user_candidate = true;
    if (name == "http_user_agent") d->role = FieldRole::kAgent;
  } else if (name == "request_method") {
    d->role = FieldRole::kMethod;
  } else if (name == "time_local") {
    d->role = FieldRole::kTimeClf;
  } else if (name == "time_iso8601") {
    d->role = FieldRole::kTimeIso;
  } else if (name == "msec") {
    d->role = FieldRole::kTimeSecondsFrac;
  } else if (name == "request") {
    d->role = FieldRole::kRequestLine;
  } else if (name == "request_uri") {
    d->role = FieldRole::kRequestUri;
  } else if (name == "uri" || name == "document_uri") {
    d->role = FieldRole::kPath;
  } else if (name == "args" || name == "query_string") {
    d->role = FieldRole::kArgs;
  } else if (name == "status") {
    d->role = FieldRole::kStatus;
  } else if (StartsWith(name, "sent_http_") || StartsWith(name, "arg_") || StartsWith(name, "upstream_") ||
             StartsWith(name, "sent_trailer_") || StartsWith(name, "ssl_")) {
    // known families, not clients
  } else {
    // Any other variable (nginx's open set: $https, $geoip_*, map and set variables) is an
    // opaque field, which the user list may still name (a map's "$client_ip").
    bool not_user = false;
    for (const char* known : kNotUsers) not_user = not_user || name == known;
    d->user_candidate = !not_user;
  }
  return p;
}

// A user-list entry as a key comparable with Directive::key.
std::string UserKey(FormatDialect dialect, std::string_view entry) {
  if (dialect == FormatDialect::kNginx) {
    if (entry.size() > 3 && entry[1] == '{' && entry.back() == '}') return "$" + std::string(entry.substr(2, entry.size() - 3));
    return std::string(entry);
  }
  if (entry.size() > 4 && entry[1] == '{' && entry.back() == 'i') {
    const size_t close = entry.find('}');
    if (close != std::string_view::npos) return "%{" + Lower(entry.substr(2, close - 2)) + "}i";
  }
  return std::string(entry);
}

}  // namespace

bool CompileFormat(FormatDialect dialect, std::string_view format, std::string_view user_list, FormatPlan* plan,
                   std::string* error) {
  *plan = FormatPlan();
  std::vector<Directive> directives;
  std::vector<std::string> literals(1);
  const char* const begin = format.data();
  const char* p = begin;
  const char* const end = p + format.size();
  const char sigil = dialect == FormatDialect::kApache ? '%' : '$';
  while (p < end) {
    if (*p != sigil) {
      if (dialect == FormatDialect::kApache && *p == '\\' && p + 1 < end) {  // LogFormat escapes
        const char e = p[1];
        literals.back().push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
        p += 2;
        continue;
      }
      literals.back().push_back(*p++);
      continue;
    }
    if (dialect == FormatDialect::kApache && p + 1 < end && p[1] == '%') {
      literals.back().push_back('%');
      p += 2;
      continue;
    }
    Directive d;
    const size_t offset = static_cast<size_t>(p - begin);
    p = dialect == FormatDialect::kApache ? ApacheDirective(p, end, &d, error, offset)
                                          : NginxDirective(p, end, &d, error, offset);
    if (p == nullptr) return false;
    d.offset = offset;
    // Strftime pieces with only text between them ("%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t")
    // write one time: read them as one, the text between them included.
    if (d.role == FieldRole::kTimeStrftime && !directives.empty() &&
        directives.back().role == FieldRole::kTimeStrftime) {
      Directive& previous = directives.back();
      for (char c : literals.back()) previous.time_pattern.push_back(TimeStep{TimeItem::kLiteral, c});
      previous.time_pattern.insert(previous.time_pattern.end(), d.time_pattern.begin(), d.time_pattern.end());
      previous.text += literals.back() + d.text;
      literals.back().clear();
      continue;
    }
    literals.back() += d.prefix;
    // "%U%q" and "$uri$is_args$args" write the request URI in pieces: read them as one.
    if (!directives.empty() && literals.back().empty()) {
      Directive& previous = directives.back();
      const bool query_piece = d.role == FieldRole::kQuery || d.role == FieldRole::kArgs || d.key == "$is_args";
      const bool merged_uri = previous.role == FieldRole::kRequestUri && previous.text.find_first_of("%$", 1) != std::string::npos;
      if (query_piece && (previous.role == FieldRole::kPath || merged_uri)) {
        previous.role = FieldRole::kRequestUri;
        previous.text += d.text;
        continue;
      }
    }
    if (!directives.empty() && literals.back().empty()) {
      *error = "directives " + directives.back().text + " and " + d.text + " at offset " + std::to_string(d.offset) +
               " touch: a line cannot be split between them without text in between";
      return false;
    }
    std::string suffix = d.suffix;
    directives.push_back(std::move(d));
    literals.push_back(std::move(suffix));
  }
  for (const std::string& literal : literals) {
    if (literal.find('\n') != std::string::npos) {
      *error = "the format holds a newline: a log line cannot";
      return false;
    }
  }

  // One time: the most precise complete one (ms before seconds), the first of equals;
  // other times are opaque. One status: the first %>s, else the first status; others
  // (Apache's %<s, the original request's) are opaque. At least one page source.
  Directive* time = nullptr;
  Directive* incomplete_time = nullptr;
  Directive* status = nullptr;
  int requests = 0;
  auto precise = [](const Directive& d) {
    if (d.role == FieldRole::kTimeMillis || d.role == FieldRole::kTimeMicros || d.role == FieldRole::kTimeSecondsFrac) {
      return true;
    }
    for (const TimeStep& step : d.time_pattern) {
      if (step.item == TimeItem::kMillis || step.item == TimeItem::kMicros) return true;
    }
    return false;
  };
  for (Directive& d : directives) {
    if (IsTimeRole(d.role)) {
      if (d.role == FieldRole::kTimeStrftime && !IsCompleteTime(d.time_pattern)) {
        if (incomplete_time == nullptr) incomplete_time = &d;
      } else if (time == nullptr || (precise(d) && !precise(*time))) {
        time = &d;
      }
    } else if (d.role == FieldRole::kRequestLine || d.role == FieldRole::kRequestUri || d.role == FieldRole::kPath) {
      ++requests;
    } else if (d.role == FieldRole::kStatus) {
      if (status == nullptr || (d.final_status && !status->final_status)) status = &d;
    }
  }
  const char* time_names = dialect == FormatDialect::kApache ? "%t or %{...}t" : "$time_local, $time_iso8601 or $msec";
  const char* request_names = dialect == FormatDialect::kApache ? "%r or %U" : "$request, $request_uri or $uri";
  if (time == nullptr && incomplete_time != nullptr) {
    *error = "unsupported directive " + incomplete_time->text + " at offset " + std::to_string(incomplete_time->offset) +
             ": a time needs its date, hours, minutes, seconds and UTC offset (%Y %m or %b %d %H %M %S %z; "
             "%T is %H:%M:%S, %F is %Y-%m-%d)";
    return false;
  }
  if (time == nullptr) {
    *error = std::string("the format has no time (") + time_names + ")";
    return false;
  }
  if (requests == 0) {
    *error = std::string("the format has no request (") + request_names + ")";
    return false;
  }
  for (Directive& d : directives) {
    if ((IsTimeRole(d.role) && &d != time) || (d.role == FieldRole::kStatus && &d != status)) d.role = FieldRole::kIgnore;
  }

  // The page comes from the request line, else the request URI, else the path (the
  // first of each), and the query from the first query field; other copies are ignored.
  bool page_taken = false, query_taken = false;
  for (FieldRole want : {FieldRole::kRequestLine, FieldRole::kRequestUri, FieldRole::kPath}) {
    for (Directive& d : directives) {
      if (d.role != want) continue;
      if (page_taken) d.role = FieldRole::kIgnore;
      page_taken = true;
    }
  }
  const bool path_page = [&] {
    for (const Directive& d : directives) {
      if (d.role == FieldRole::kPath) return true;
    }
    return false;
  }();
  for (Directive& d : directives) {
    if (d.role != FieldRole::kQuery && d.role != FieldRole::kArgs) continue;
    if (!path_page || query_taken) d.role = FieldRole::kIgnore;
    query_taken = true;
  }

  // The method and the agent from their first field; other copies are ignored.
  for (FieldRole once : {FieldRole::kMethod, FieldRole::kAgent}) {
    bool taken = false;
    for (Directive& d : directives) {
      if (d.role != once) continue;
      if (taken) d.role = FieldRole::kIgnore;
      taken = true;
    }
  }

  // The user list.
  std::string list(user_list);
  if (list.empty()) list = dialect == FormatDialect::kApache ? "%h" : "$remote_addr";
  std::vector<PlanField> fields(directives.size());
  size_t slot = 0;
  for (size_t start = 0; start <= list.size();) {
    size_t bar = list.find('|', start);
    if (bar == std::string::npos) bar = list.size();
    const std::string_view entry(list.data() + start, bar - start);
    const std::string key = UserKey(dialect, entry);
    bool found = false;
    for (size_t i = 0; i < directives.size() && !found; ++i) {
      if (!directives[i].user_candidate || directives[i].key != key) continue;
      if (fields[i].role == FieldRole::kUserCandidate) break;  // named twice in the list
      fields[i].role = FieldRole::kUserCandidate;
      fields[i].user_slot = static_cast<uint8_t>(slot);
      fields[i].first_of_list = directives[i].first_of_list;
      found = true;
    }
    if (!found) {
      *error = "user " + std::string(entry) + " is not a directive of the format that can name a user" +
               (dialect == FormatDialect::kApache ? " (%h, %a, %u, %{Header}i, %{cookie}C)"
                                                  : " ($remote_addr, $realip_remote_addr, $proxy_protocol_addr, $remote_user, "
                                                    "$http_NAME, $cookie_NAME, or a variable of your own such as a map's)");
      return false;
    }
    if (++slot > 8) {
      *error = "user lists more than 8 fallbacks";
      return false;
    }
    start = bar + 1;
  }

  for (size_t i = 0; i < directives.size(); ++i) {
    if (fields[i].role != FieldRole::kUserCandidate) fields[i].role = directives[i].role;
    fields[i].directive = directives[i].text;
    fields[i].conditional = directives[i].conditional;
    fields[i].time_pattern = directives[i].time_pattern;
    if (fields[i].role == FieldRole::kStatus) plan->has_status = true;
    if (fields[i].role == FieldRole::kMethod || fields[i].role == FieldRole::kRequestLine) plan->has_method = true;
    if (fields[i].role == FieldRole::kAgent) plan->has_agent = true;
  }
  // Quoted fields: between two literals that end and start with '"'.
  for (size_t i = 0; i < fields.size(); ++i) {
    fields[i].quoted = !literals[i].empty() && literals[i].back() == '"' && !literals[i + 1].empty() &&
                       literals[i + 1].front() == '"';
  }
  // How each field ends, and where the unused tail starts.
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string& next = literals[i + 1];
    fields[i].end = !fields[i].time_pattern.empty() ? FieldEnd::kTimeShape
                    : fields[i].quoted ? FieldEnd::kQuote
                    : next.empty()   ? FieldEnd::kSpaceOrEnd
                    : next.size() == 1 ? FieldEnd::kByte
                                       : FieldEnd::kLiteral;
    fields[i].stop = next.empty() ? '\n' : next[0];  // '\n': the last field runs to the line's end
  }
  plan->literals = std::move(literals);
  plan->fields = std::move(fields);
  plan->user_slots = slot;
  SetUnreadTail(plan);
  return true;
}

void SetUnreadTail(FormatPlan* plan) {
  const std::vector<PlanField>& fields = plan->fields;
  size_t read_fields = fields.size();
  while (read_fields > 0 && fields[read_fields - 1].role == FieldRole::kIgnore) --read_fields;
  while (read_fields < fields.size() && !fields[read_fields].quoted) ++read_fields;
  plan->read_fields = read_fields;
}

void DropAgentField(FormatPlan* plan) {
  for (PlanField& field : plan->fields) {
    if (field.role == FieldRole::kAgent) field.role = FieldRole::kIgnore;
  }
  SetUnreadTail(plan);
}

}  // namespace skiptrail
