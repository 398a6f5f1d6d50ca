package upstream

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// statusCodes is the one table from SeaTable HTTP statuses to application
// codes. Statuses not listed fall back by class (see classify).
var statusCodes = map[int]apperr.Code{
	http.StatusBadRequest:      apperr.BadUserInput,
	http.StatusUnauthorized:    apperr.Unauthenticated,
	http.StatusForbidden:       apperr.Forbidden,
	http.StatusNotFound:        apperr.NotFound,
	http.StatusConflict:        apperr.BadUserInput,
	http.StatusTooManyRequests: apperr.RateLimited,
	http.StatusRequestTimeout:  apperr.UpstreamTimeout,
	http.StatusGatewayTimeout:  apperr.UpstreamTimeout,
	443:                        apperr.Forbidden, // SeaTable: above quota
}

// safeMessages are what clients see for each code when SeaTable's own message
// is not shown (it is shown only for validation errors, where it helps).
var safeMessages = map[apperr.Code]string{
	apperr.Unauthenticated:     "SeaTable rejected the token",
	apperr.Forbidden:           "SeaTable denied access",
	apperr.NotFound:            "not found in SeaTable",
	apperr.RateLimited:         "SeaTable rate limit reached",
	apperr.UpstreamTimeout:     "SeaTable did not answer in time",
	apperr.UpstreamUnavailable: "SeaTable is unavailable",
	apperr.UpstreamBadResponse: "SeaTable sent an unexpected response",
	apperr.BadUserInput:        "SeaTable rejected the request",
	apperr.Internal:            "unexpected SeaTable response",
}

func classify(status int) apperr.Code {
	if c, ok := statusCodes[status]; ok {
		return c
	}
	switch {
	case status >= 500:
		return apperr.UpstreamUnavailable
	case status >= 300 && status < 400:
		// A redirect means a wrong SEATABLE_URL (missing slash, http->https).
		return apperr.UpstreamBadResponse
	}
	return apperr.Internal
}

// statusError turns a non-2xx response into an *apperr.Error. Only a short
// prefix of the body is read; an HTML or empty body is fine. token is
// redacted from SeaTable's message, in case a server or proxy echoes it.
func statusError(resp *http.Response, maxBytes int64, token string) error {
	code := classify(resp.StatusCode)
	limit := int64(64 << 10)
	if maxBytes > 0 && maxBytes < limit {
		limit = maxBytes
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
	if token != "" {
		// Before parsing: a message cut short must not keep half a token.
		body = bytes.ReplaceAll(body, []byte(token), []byte("[REDACTED]"))
	}
	upstreamMsg := errorMessage(body, token)
	e := &apperr.Error{
		Code:           code,
		Message:        safeMessages[code],
		UpstreamStatus: resp.StatusCode,
		Err:            &seatableStatus{Status: resp.StatusCode, Message: upstreamMsg},
	}
	if resp.Request != nil && resp.Request.URL != nil {
		st := e.Err.(*seatableStatus)
		st.Method, st.Path = resp.Request.Method, resp.Request.URL.Path
	}
	// SeaTable's validation messages ("name invalid.", "Base x already
	// exists") are what a user needs to fix the input. Only those that read
	// as such a sentence are shown; a message naming a URL, host, address or
	// carrying a traceback stays in the logs.
	if code == apperr.BadUserInput && validationSentence(upstreamMsg) {
		e.Message = upstreamMsg
	}
	if code == apperr.RateLimited {
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		if e.RetryAfter == 0 {
			// The API gateway sends no Retry-After, only X-RateLimit-Reset.
			e.RetryAfter = rateLimitReset(resp.Header.Get("X-RateLimit-Reset"), time.Now())
		}
	}
	return e
}

// seatableStatus is the upstream's own account of a failure, for logs.
// Method and Path are the request's (the path in full, base path included:
// a 404 there most often means SEATABLE_URL's path is wrong).
type seatableStatus struct {
	Status       int
	Message      string
	Method, Path string
}

func (e *seatableStatus) Error() string {
	if e.Message == "" {
		return "SeaTable answered " + strconv.Itoa(e.Status)
	}
	return "SeaTable answered " + strconv.Itoa(e.Status) + ": " + e.Message
}

// errorMessage reads SeaTable's message as the contract orders it:
// error_msg, error_message, detail, non_field_errors[0]. A body that is not
// JSON (an HTML 502 page) gives "". token is redacted from the decoded text
// as well, before it is cut short: JSON may escape it (\u0074ok...), which
// hides it from the redaction of the raw body.
func errorMessage(body []byte, token string) string {
	var m struct {
		ErrorMsg       looseString  `json:"error_msg"`
		ErrorMessage   looseString  `json:"error_message"`
		Detail         looseString  `json:"detail"`
		NonFieldErrors looseStrings `json:"non_field_errors"`
	}
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	msg := ""
	switch {
	case m.ErrorMsg.Value != "":
		msg = m.ErrorMsg.Value
	case m.ErrorMessage.Value != "":
		msg = m.ErrorMessage.Value
	case m.Detail.Value != "":
		msg = m.Detail.Value
	case len(m.NonFieldErrors) > 0:
		msg = m.NonFieldErrors[0]
	}
	if token != "" {
		msg = strings.ReplaceAll(msg, token, "[REDACTED]")
	}
	return sanitize(msg)
}

// Patterns of text that must not reach clients from SeaTable's messages.
var (
	// A dotted name with a letter after the dot: host names (dtable-db.
	// internal, seatable.example.com), also file names; "invalid." at the
	// end of a sentence does not match.
	hostLike = regexp.MustCompile(`[A-Za-z0-9-]\.[A-Za-z][A-Za-z0-9-]*`)
	ipv4     = regexp.MustCompile(`\b\d{1,3}(\.\d{1,3}){3}\b`)
	ipv6     = regexp.MustCompile(`[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}`)
)

// validationSentence reports whether a SeaTable message (already cut to 200
// characters by sanitize) reads as a plain validation sentence that is safe
// to show: no URL, host name, IP
// address, e-mail address (SeaTable's internal user ids), path, markup or
// traceback.
func validationSentence(msg string) bool {
	if msg == "" {
		return false
	}
	lower := strings.ToLower(msg)
	for _, bad := range []string{"://", "www.", "localhost", "traceback", "exception", "file \"", "<", ">", "@", "\\", "/"} {
		if strings.Contains(lower, bad) {
			return false
		}
	}
	return !hostLike.MatchString(msg) && !ipv4.MatchString(msg) && !ipv6.MatchString(msg)
}

// sanitize keeps a message printable and short.
func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// maxRetryAfter clamps what SeaTable (or a proxy) asks: a larger value is
// a mistake or an overflow (99999999999 s does not fit a Duration), and
// clients should try again within a day anyway.
const maxRetryAfter = 24 * time.Hour

// retryAfter parses Retry-After as seconds or an HTTP date, at most a day.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return min(time.Duration(min(n, int64(maxRetryAfter/time.Second)))*time.Second, maxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now).Round(time.Second), maxRetryAfter)
	}
	return 0
}

// rateLimitReset reads the API gateway's X-RateLimit-Reset: the unix time
// (seconds) at which its window resets; a small number is taken as seconds
// from now, as some proxies send it. At most a day, 0 when absent or past.
func rateLimitReset(v string, now time.Time) time.Duration {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	if n < 1_000_000_000 { // before 2001 as a unix time: a delay
		return min(time.Duration(min(n, int64(maxRetryAfter/time.Second)))*time.Second, maxRetryAfter)
	}
	d := time.Unix(n, 0).Sub(now)
	if d <= 0 {
		return 0
	}
	return min(max(d.Round(time.Second), time.Second), maxRetryAfter)
}
