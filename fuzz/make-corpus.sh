#!/usr/bin/env bash
# Writes the libFuzzer seed corpus into fuzz/corpus/: a few dozen small files, each
# two option bytes (see fuzz/log-parser-fuzz.cc: byte 0 % 3 is the format, 0 combined,
# 1 common, 2 JSON; then byte 1 >> 6 is ndjson, caddy, traefik or ndjson with paths; a
# stream starting with '#' is W3C, one starting "alb\n" is ALB) followed by log lines
# taken from test/fixtures/apache_logs or
# written here as edge cases. Deterministic; safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."

FIXTURE=test/fixtures/apache_logs
OUT=fuzz/corpus
rm -rf "$OUT"
mkdir -p "$OUT"

# seed <option byte 0> <option byte 1> <content on stdin>   (runs in pipelines, so the
# file number comes from the directory, not a variable)
seed() {
  local n file
  n=$(($(find "$OUT" -type f | wc -l) + 1))
  file=$(printf '%s/seed-%03d' "$OUT" "$n")
  printf "\\x$(printf %02x "$1")\\x$(printf %02x "$2")" >"$file"
  cat >>"$file"
}

# Real lines: single lines of each status class, lines with queries, a few runs.
for line in 1 2 3 13 47 120 240 333 456 1024 2048 5000 8899 9999; do
  sed -n "${line}p" "$FIXTURE" | seed 0 4
done
grep -m 3 '" 404 ' "$FIXTURE" | seed 0 8
grep -m 3 '" 304 ' "$FIXTURE" | seed 9 12     # keepQuery, authuser|host is (9/3)%3 = 0: host
grep -m 5 '?' "$FIXTURE" | seed 9 16
sed -n '100,120p' "$FIXTURE" | seed 0 40
sed -n '200,204p' "$FIXTURE" | sed 's/$/\r/' | seed 0 60   # CRLF
sed -n '300,303p' "$FIXTURE" | seed 128 7                   # small maxLineBytes

# Common format and user options.
printf '%s\n' '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326' | seed 1 4
printf '%s\n' '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a?x=1#f HTTP/1.0" 200 2326 "-" "-"' | seed 3 4
printf '%s\n' '10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET http://example.com/p?q HTTP/1.1" 301 -' | seed 6 4

# Edge cases of the access-log grammar.
cat <<'LINES' | seed 0 20
h - - [31/Feb/2015:10:00:00 +0000] "GET /a HTTP/1.1" 200 1
h - - [10/May/2015:10:00:00 +9999] "GET /a HTTP/1.1" 200 1
h - - [10/May/2015:25:00:00 +0000] "GET /a HTTP/1.1" 200 1
h - - [10/May/2015:10:00:00 +0000] "GET /a HTTP/1.1" 999 1
h - - [10/May/2015:10:00:00 +0000] "-" 408 0
h - - [10/May/2015:10:00:00 +0000] "GET /a\"b HTTP/1.1" 200 1 "r\\" "a"
h - - [10/May/2015:10:00:00 +0000 "GET /a HTTP/1.1" 200 1
h - - [10/May/2015:10:00:00 +0000] "GET /a HTTP/1.1 200 1

LINES
printf 'h - - [10/May/2015:10:00:00 +0000] "GET /caf\xc3\xa9 HTTP/1.1" 200 1\nh - - [10/May/2015:10:00:00 +0000] "GET /\xff\xfe HTTP/1.1" 200 1\nh - - [10/May/2015:10:00:00 +0000] "GET /a\x00b HTTP/1.1" 200 1\n' | seed 0 24
head -c 300 /dev/zero | tr '\0' 'a' | seed 128 0   # longer than maxLineBytes

# ndjson.
cat <<'LINES' | seed 2 4
{"user":"alice","page":"/a","ts":1431857103000}
{"user":"b\u00e9b","page":"/p?q","ts":"2015-05-17T10:05:03.123+02:00"}
{"ts":"2015-05-17T10:05:03Z","page":"/x","user":"u","extra":{"a":[1,2.5e3,true,null]}}
{"user":"\ud83d\ude00","page":"/e","ts":1.431857103e12}
{"user":"a","page":"/a","ts":-1}
{"user":"a","page":"/a","ts":"2015-02-31T00:00:00Z"}
{"user":"\ud800","page":"/a","ts":1}
{"user":"a","page":"/a","ts":1} trailing
{"user":"a","user":"b","page":"/a","ts":9007199254740991}
LINES
cat <<'LINES' | seed 2 6
{"user":"a","url":"/renamed","ts":0}
{"user":1,"url":"/a","ts":0}
LINES

# JSON presets and paths (byte 1 >> 6: 1 caddy, 2 traefik, 3 ndjson with nested paths).
cat <<'LINES' | seed 2 68
{"level":"info","ts":1646861401.5241024,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"172.71.190.23","remote_port":"41342","client_ip":"203.0.113.9","proto":"HTTP/2.0","method":"GET","host":"example.com","uri":"/blog/post?utm=rss","headers":{"User-Agent":["Mozilla/5.0"]}},"bytes_read":0,"user_id":"","duration":0.0009,"size":10900,"status":200,"resp_headers":{"Content-Type":["text/html"]}}
{"level":"info","ts":1646861402,"request":{"remote_ip":"::1","uri":"*","method":"OPTIONS"},"status":200}
{"ts":"2022-03-09T21:30:01Z","request":{"client_ip":"","remote_ip":"10.0.0.1","uri":"https://h?x"},"status":"404"}
LINES
cat <<'LINES' | seed 2 132
{"ClientAddr":"203.0.113.9:51234","ClientHost":"203.0.113.9","DownstreamStatus":200,"RequestMethod":"GET","RequestPath":"/docs/intro?lang=en","StartUTC":"2024-03-09T21:10:01.524102436Z","request_User-Agent":"curl/8.5.0","time":"2024-03-09T22:10:01+01:00"}
{"ClientHost":"2001:db8::1","DownstreamStatus":499,"RequestPath":"/\u00e9","StartUTC":"2024-03-09T21:10:01Z"}
LINES
cat <<'LINES' | seed 2 198
{"request":{"client_ip":null,"remote_ip":"r","uri":"/a","status":201},"t":{"s":5},"request":{"remote_ip":"r2","uri":"/b"}}
{"user":"u","url":"/u","ts":1,"status":"302"}
# W3C (a stream starting with '#'): IIS with a #Fields: change, CloudFront's tabs.
cat <<'LINES' | seed 0 4
#Software: Microsoft Internet Information Services 10.0
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status
2026-11-28 10:00:00 10.0.0.5 GET /default.aspx - 443 - 203.0.113.9 Mozilla/5.0+(Windows+NT+10.0) 200
2026-11-28 10:00:01 10.0.0.5 GET /a.aspx q=1 443 CORP\alice 203.0.113.9 - 302
#Fields: date time c-ip cs-uri-stem sc-status
2026-11-28 25:00:00 1.2.3.4 /late 200
2026-11-28 10:00:00 1.2.3.4 /short
LINES
printf '#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs-uri-query x-forwarded-for
2026-11-28	10:00:00	IAD89-C1	2875	198.51.100.1	GET	d1.cloudfront.net	/index.html	200	-	203.0.113.77
' | seed 0 6
# ALB (a first line "alb").
cat <<'LINES' | seed 0 8
alb
https 2026-11-28T10:00:00.186641Z app/lb/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/p?q=1 HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/t/73e2 "Root=1-58337281" "www.example.com" "-" 1 2026-11-28T10:00:00.000000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1
h2 2026-11-28T10:00:01.000000Z app/lb/50dc6c495c0c9188 [2001:db8::9]:443 - -1 -1 -1 460 - 38 0 "GET https://www.example.com:443/slow HTTP/2.0" "Mozilla/5.0" - - - "Root=1-5" "-" "-" 0 2026-11-28T10:00:00.500000Z "forward" "-" "-" "-" "-" "-" "-"
LINES

# Compiled formats (a stream starting with '%' is an Apache LogFormat line, '$' an nginx
# log_format line, then the log; byte 1 & 2 adds a user fallback list).
cat <<'LINES' | seed 1 2
%h %l %u %t "%r" %>s %b "%{X-Forwarded-For}i"
10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 1 "203.0.113.7, 10.0.0.1"
LINES
cat <<'LINES' | seed 1 2
$remote_addr - [$time_iso8601] "$request" $status $cookie_uid
10.0.0.1 - [2000-10-10T13:55:36-07:00] "GET /a?b HTTP/1.1" 200 u1
LINES

# Forms real configurations use: strftime pieces, two times, %<s %>s, a conditional
# agent, an X-Forwarded-For list as the unquoted last field; nginx's open variables.
cat <<'LINES' | seed 1 2
%h [%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t] "%r" %<s %>s "%400,501{User-agent}i" %{SSL_PROTOCOL}x %{msec}t %{X-Forwarded-For}i
10.0.0.1 [10/Oct/2000 13:55:36.042 -0700] "CONNECT example.com:443 HTTP/1.1" 302 200 "-" TLSv1.3 971211336042 203.0.113.7, 10.0.0.1
LINES
cat <<'LINES' | seed 1 0
$proxy_protocol_addr [$time_local] "$request" $status $https $geoip_country_code $msec $proxy_add_x_forwarded_for
203.0.113.7 [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 on DE 971211336.042 198.51.100.1, 10.0.0.2
LINES
# Syslog frames (byte 0 / 72 odd): nginx's nohostname, rsyslog's RSYSLOG_ForwardFormat.
cat <<'LINES' | seed 72 4
<190>Mar 24 18:14:04 nginx: 10.0.0.1 - - [24/Mar/2021:18:14:04 +0000] "GET /s HTTP/1.1" 200 1
<190>2021-03-24T18:14:04.003412+00:00 web1 nginx: 10.0.0.1 - - [24/Mar/2021:18:14:04 +0000] "GET /s HTTP/1.1" 200 1
LINES

echo "wrote $(find "$OUT" -type f | wc -l) seeds to $OUT ($(cat "$OUT"/* | wc -c) bytes)"
