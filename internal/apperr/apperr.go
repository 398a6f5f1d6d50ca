// Package apperr is the facade's one error classification: a fixed set of
// codes that every layer classifies into once; the table of refusals
// (answers given without running: their code and HTTP status); and
// Extensions, the one way an error's code, SeaTable status and retry wait
// reach a client, whether the GraphQL error presenter or an HTTP refusal
// writes the envelope. Messages carried here are meant for clients, so
// they must never contain tokens, URLs with secrets or raw upstream
// bodies; the wrapped cause is for logs only.
package apperr

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Code is a stable, machine-readable error class. Clients switch on it, so
// values are part of the public API: add new ones, never rename.
type Code string

// The codes, as documented in the README's error table.
const (
	Unauthenticated     Code = "UNAUTHENTICATED"
	Forbidden           Code = "FORBIDDEN"
	NotFound            Code = "NOT_FOUND"
	RateLimited         Code = "RATE_LIMITED"
	UpstreamTimeout     Code = "UPSTREAM_TIMEOUT"
	UpstreamUnavailable Code = "UPSTREAM_UNAVAILABLE"
	UpstreamBadResponse Code = "UPSTREAM_BAD_RESPONSE"
	BadUserInput        Code = "BAD_USER_INPUT"
	// Conflict: a concurrent change made a write hit something other than
	// what the caller named; read again and retry.
	Conflict Code = "CONFLICT"
	Internal Code = "INTERNAL"
)

// Error is an application error with a client-safe message.
type Error struct {
	Code    Code
	Message string // safe to show to clients
	// UpstreamStatus is the HTTP status SeaTable answered with, 0 if none.
	UpstreamStatus int
	// RetryAfter is how long SeaTable asked us to wait (429), 0 if unknown.
	RetryAfter time.Duration
	// Err is the underlying cause; it is logged, never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the given code and client-safe message.
func New(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// Wrap returns an error with the given code and message that keeps cause for logging.
func Wrap(code Code, msg string, cause error) *Error {
	return &Error{Code: code, Message: msg, Err: cause}
}

// As finds the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// CodeOf reports the code of err, Internal for anything unclassified.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := As(err); ok {
		return e.Code
	}
	return Internal
}

// maxEcho is the most of a client's input a message quotes back.
const maxEcho = 40

// Echo quotes a client's input for a message, cut to 40 bytes (on a rune
// boundary) with "…" when longer: a message, and the log line that may
// carry it, must not grow with what the client sent.
func Echo(s string) string {
	if len(s) <= maxEcho {
		return strconv.Quote(s)
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}
