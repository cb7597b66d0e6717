// Syslog framing around a log line (the ingest option `syslog`).
#ifndef SKIPTRAIL_PARSE_SYSLOG_H_
#define SKIPTRAIL_PARSE_SYSLOG_H_

namespace skiptrail {

// RFC 3164 ("<PRI>Mmm dd hh:mm:ss HOST TAG: MSG", HOST optional as nginx's nohostname
// sends it), rsyslog's RSYSLOG_ForwardFormat ("<PRI>2021-03-24T18:14:04.003412+00:00 HOST
// TAG: MSG") or RFC 5424 ("<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG") framing at
// [p, end): returns the start of MSG (possibly end), or null if the line is not such a
// frame (syslog.cc lists the exact forms).
const char* SkipSyslogFrame(const char* p, const char* end);

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARSE_SYSLOG_H_
