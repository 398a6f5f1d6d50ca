package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/sony/gobreaker/v2"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// Cause says in a few words why a call to SeaTable failed, for the log line
// of the failure and for /readyz: a wrong SEATABLE_URL (a typo in the host,
// a port nothing listens on, http against https, a wrong path) must be told
// apart from a SeaTable that is down. It names no host, token or SeaTable
// message: only the kind of failure, and for an HTTP status the request's
// method and path.
func Cause(err error) string {
	if err == nil {
		return ""
	}
	if st, ok := errors.AsType[*seatableStatus](err); ok {
		s := fmt.Sprintf("HTTP %d", st.Status)
		if st.Path != "" {
			s += " at " + st.Method + " " + st.Path
		}
		switch {
		case WrongPath(err):
			s += " (every SeaTable has this route: is the path of SEATABLE_URL right?)"
		case st.Status >= 300 && st.Status < 400:
			s += " (a redirect: check the scheme, host and path of SEATABLE_URL)"
		}
		return s
	}
	switch {
	case errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests):
		return "circuit breaker open after repeated failures"
	case errors.Is(err, errBusy):
		return "too many response bytes in flight on this server"
	case errors.Is(err, errCancelled):
		return "cancelled: the client went away"
	case apperr.CodeOf(err) == apperr.UpstreamTimeout || errors.Is(err, context.DeadlineExceeded):
		return "timed out: no answer within UPSTREAM_TIMEOUT"
	case errors.Is(err, errTooLarge):
		return "response larger than UPSTREAM_MAX_BYTES"
	}
	if dns, ok := errors.AsType[*net.DNSError](err); ok {
		if dns.IsNotFound {
			return "DNS lookup failed: no such host (check the host in SEATABLE_URL)"
		}
		return "DNS lookup failed: " + dns.Err
	}
	if c := tlsCause(err); c != "" {
		return "TLS: " + c
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (nothing listens at the host and port of SEATABLE_URL)"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return "no route to host"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed before a complete response"
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err.Error() // without the URL
	}
	if ae, ok := apperr.As(err); ok {
		return ae.Message
	}
	return "unknown"
}

// tlsCause describes a failed TLS handshake, or returns "".
func tlsCause(err error) string {
	// net/http turns the record header error into a message of its own.
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return "the server did not answer in TLS (an https:// SEATABLE_URL for a plain http server?)"
	}
	if v, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return "certificate not trusted: " + v.Err.Error()
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return "certificate signed by an unknown authority"
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return "the certificate is not valid for the host in SEATABLE_URL"
	}
	if a, ok := errors.AsType[tls.AlertError](err); ok {
		return "the server sent alert " + a.Error()
	}
	if strings.Contains(err.Error(), "tls: ") {
		_, after, _ := strings.Cut(err.Error(), "tls: ")
		return after
	}
	return ""
}

// WrongPath reports whether err is a 404 on a route every SeaTable has:
// SEATABLE_URL's path, not the caller, is wrong.
func WrongPath(err error) bool {
	st, ok := errors.AsType[*seatableStatus](err)
	return ok && st.Status == 404 && (strings.HasSuffix(st.Path, "/api2/ping/") || strings.HasSuffix(st.Path, "/api/v2.1/workspaces/"))
}

// Quiet reports whether err says nothing new about SeaTable: the caller
// went away, this server is busy, or the circuit breaker (whose opening is
// reported on its own) refused the call.
func Quiet(err error) bool {
	return errors.Is(err, errCancelled) || errors.Is(err, errBusy) ||
		errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
}
