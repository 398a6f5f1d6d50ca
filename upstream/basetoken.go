package upstream

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/flight"
)

// Base tokens (contract sections 1.4 and 7.1): the account token is
// exchanged for a base token per base, which the base's server accepts for
// days. They are kept per caller and base in this process only:
//
//   - A base token is a credential to the base. Like the account token it
//     should not leave the process: not to Redis, not to a log, not into an
//     error. Storing it in Redis would need encryption with the replicas'
//     shared key, and would make a Redis dump a set of live credentials.
//   - The exchange is cheap next to the token's lifetime: one account call
//     per caller, base and replica every few days. Sharing tokens between
//     replicas would save N-1 such calls per caller and base, not per
//     request.
//
// Tokens are keyed by the caller's keyed token hash (internal/tokenhash,
// a key of this process) and the base uuid, so two callers who may both
// open a base never use each other's base token: SeaTable minted each for
// one account, with that account's permission on the base.

// Defaults for a BaseClient.
const (
	// DefaultBaseTokenLifetime is how long a base token is assumed to be
	// valid when it carries no readable expiry (its JWT exp). SeaTable
	// mints them for 3 days by default; a day is a conservative guess that
	// still costs one exchange per caller and base a day. A token that
	// expires earlier is renewed when the base server says so.
	DefaultBaseTokenLifetime = 24 * time.Hour
	// DefaultBaseTokenCacheEntries bounds the base tokens kept (callers x
	// bases); the least recently used go first.
	DefaultBaseTokenCacheEntries = 10000
	// baseTokenMaxMargin is the most a token is retired before its expiry,
	// so a call never starts with a token that expires on the way.
	baseTokenMaxMargin = time.Hour
	// baseTokenMinLife is the least remaining lifetime worth caching.
	baseTokenMinLife = time.Minute
	// baseTokenMaxLife caps how long one token is kept, whatever its exp
	// says (SeaTable's default is 3 days): a caller whose access to a base
	// was revoked stops being served from a token minted before at the
	// latest then, if SeaTable's base server does not refuse it earlier.
	baseTokenMaxLife = 72 * time.Hour
)

// baseToken is one exchanged base token and where it may be used. Its
// String hides the token, so printing one by mistake leaks nothing.
type baseToken struct {
	token string
	// api is the base's resource root: dtable_server joined with
	// api/v2/dtables/{uuid}/ (API gateway) or api/v1/dtables/{uuid}/
	// (legacy dtable-server), already checked against the allowed hosts.
	api *url.URL
	// apiRoute is api's path as a route template for metrics and spans.
	apiRoute string
	// expires is when the cache stops handing it out (before its expiry).
	expires time.Time
}

func (t *baseToken) String() string   { return "baseToken{[REDACTED]}" }
func (t *baseToken) GoString() string { return t.String() }

// wireAccessToken is the exchange's answer. Only access_token, dtable_uuid
// and dtable_server can be relied on (contract 7.1).
type wireAccessToken struct {
	AccessToken   looseString `json:"access_token"`
	DTableUUID    looseString `json:"dtable_uuid"`
	DTableServer  looseString `json:"dtable_server"`
	UseAPIGateway looseBool   `json:"use_api_gateway"`
}

// ErrForeignBaseHost is wrapped by the error for a base whose server
// (dtable_server) is on a host base tokens may not go to. Its code is
// UPSTREAM_BAD_RESPONSE: the caller did nothing wrong, SeaTable named a
// server this deployment was not told to trust (SEATABLE_BASE_HOSTS).
var ErrForeignBaseHost = errors.New("base server is on a host base tokens may not be sent to")

// errBaseMismatch marks an exchange that answered for another base.
var errBaseMismatch = errors.New("exchange answered for another base")

// baseKey is the cache and flight key of base for token's caller.
func (b *BaseClient) baseKey(token string, base BaseRef) string {
	return b.hash(token) + "/" + base.UUID
}

// baseToken returns a base token for base, from the cache or exchanged
// (one exchange in flight per caller and base).
func (b *BaseClient) baseToken(ctx context.Context, token string, base BaseRef) (*baseToken, error) {
	key := b.baseKey(token, base)
	if t, ok := b.tokens.Get(key, b.now()); ok {
		return t, nil
	}
	t, err, _ := b.exchanges.Do(ctx, key, func(ctx context.Context) (*baseToken, error) {
		// A caller that waited for the lock of a finished exchange finds
		// its token here rather than exchanging again.
		if t, ok := b.tokens.Get(key, b.now()); ok {
			return t, nil
		}
		t, err := b.exchange(ctx, token, base)
		if err != nil {
			return nil, err
		}
		if !t.expires.IsZero() {
			b.tokens.Add(key, t, int64(len(key)+len(t.token)+len(t.api.String())+256), t.expires)
		}
		return t, nil
	})
	switch {
	case errors.Is(err, flight.ErrLeft):
		return nil, CancelledError(ctx, ctx.Err())
	case errors.Is(err, flight.ErrPanicked):
		return nil, apperr.Wrap(apperr.Internal, "base token exchange panicked", err)
	}
	return t, err
}

// dropBaseToken forgets the cached token rejected, unless it has already
// been replaced by another (a concurrent call renewed it first).
func (b *BaseClient) dropBaseToken(token string, base BaseRef, rejected *baseToken) {
	key := b.baseKey(token, base)
	b.mu.Lock()
	defer b.mu.Unlock()
	if t, ok := b.tokens.Get(key, b.now()); ok && t == rejected {
		b.tokens.Remove(key)
	}
}

// exchange calls GET /api/v2.1/workspace/{id}/dtable/{name}/access-token/
// with the account token, through the account API's client.
func (b *BaseClient) exchange(ctx context.Context, token string, base BaseRef) (*baseToken, error) {
	path, err := accessTokenPath(base)
	if err != nil {
		return nil, err
	}
	var w wireAccessToken
	ctx = withRoute(ctx, "/api/v2.1/workspace/{id}/dtable/{name}/access-token/")
	err = b.account.do(ctx, token, http.MethodGet, path, nil, nil, func(r io.Reader) error {
		body, err := readBody(r, sizeHint(r))
		if err != nil {
			return err
		}
		// The body holds the base token: decode errors must not quote it,
		// and encoding/json's never quote values.
		return json.Unmarshal(body, &w)
	})
	if err != nil {
		return nil, err
	}
	bad := func(msg string, cause error) error {
		return &apperr.Error{Code: apperr.UpstreamBadResponse, Message: "SeaTable sent an unexpected base token answer",
			UpstreamStatus: http.StatusOK, Err: fmt.Errorf("%s: %w", msg, cause)}
	}
	if w.AccessToken.Value == "" || strings.ContainsAny(w.AccessToken.Value, " \t\r\n") {
		return nil, bad("no usable access_token", errUnknownShape)
	}
	if got := NormalizeUUID(w.DTableUUID.Value); got != base.UUID {
		return nil, bad("dtable_uuid is not the base asked for", errBaseMismatch)
	}
	api, route, err := b.baseAPI(w.DTableServer.Value, w.UseAPIGateway, base.UUID)
	if err != nil {
		return nil, err
	}
	return &baseToken{token: w.AccessToken.Value, api: api, apiRoute: route,
		expires: b.retireAt(w.AccessToken.Value)}, nil
}

// accessTokenPath builds the exchange's path. The workspace id must be
// numeric; the name is one escaped path segment, dots included, so that a
// base called ".." cannot climb the path.
func accessTokenPath(base BaseRef) (string, error) {
	if _, err := strconv.ParseUint(base.WorkspaceID, 10, 64); err != nil {
		return "", apperr.New(apperr.BadUserInput, "the base has no numeric workspace id")
	}
	if base.Name == "" {
		return "", apperr.New(apperr.BadUserInput, "the base has no name")
	}
	return "api/v2.1/workspace/" + base.WorkspaceID + "/dtable/" + pathSegment(base.Name) + "/access-token/", nil
}

// pathSegment escapes s as one path segment, dots included: path joining
// would resolve a segment "." or ".." instead of sending it.
func pathSegment(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ".", "%2E")
}

// baseAPI resolves the base's resource root from dtable_server, refusing
// a server whose origin base tokens may not go to.
func (b *BaseClient) baseAPI(server string, gateway looseBool, uuid string) (*url.URL, string, error) {
	u, err := url.Parse(strings.TrimSpace(server))
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, "", &apperr.Error{Code: apperr.UpstreamBadResponse, Message: "SeaTable sent an unexpected base token answer",
			UpstreamStatus: http.StatusOK, Err: fmt.Errorf("dtable_server is not an http(s) URL: %w", errUnknownShape)}
	}
	if !b.allowed[origin(u)] {
		// The host is not named: it could be anyone's, so it is not in
		// the error either.
		return nil, "", apperr.Wrap(apperr.UpstreamBadResponse,
			"SeaTable named a base server on a host this server does not send base tokens to", ErrForeignBaseHost)
	}
	u.RawQuery, u.Fragment = "", ""
	dir := strings.TrimSuffix(u.Path, "/")
	version := "api/v2/dtables/"
	// A legacy dtable-server (before the API gateway) serves the same
	// resources under api/v1.
	if strings.HasSuffix(dir, "/dtable-server") && !(gateway.Set && gateway.Value) {
		version = "api/v1/dtables/"
	}
	api := u.JoinPath(version, uuid)
	api.Path += "/"
	api.RawPath = ""
	last := dir[strings.LastIndex(dir, "/")+1:]
	if last == "" {
		last = "{server}"
	}
	return api, "/" + last + "/" + version + "{id}/", nil
}

// retireAt is when the cache stops handing out jwt: shortly before the exp
// its payload names, read without verifying (only SeaTable can, and only
// the timing depends on it). Zero means do not cache (it expires within a
// minute). A token with no readable exp is assumed to live b.lifetime.
func (b *BaseClient) retireAt(jwt string) time.Time {
	now := b.now()
	exp, ok := jwtExpiry(jwt)
	if !ok {
		exp = now.Add(b.lifetime)
	}
	life := min(exp.Sub(now), baseTokenMaxLife)
	exp = now.Add(life)
	if life < baseTokenMinLife {
		return time.Time{}
	}
	return exp.Add(-min(life/10, baseTokenMaxMargin))
}

// jwtExpiry reads the exp claim of a JWT's payload, unverified.
func jwtExpiry(jwt string) (time.Time, bool) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 || len(parts[1]) > 4096 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if dec.Decode(&claims) != nil {
		return time.Time{}, false
	}
	f, err := claims.Exp.Float64()
	if err != nil || f <= 0 || f > 1e11 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// origin is scheme://host:port in lower case, with the port always given.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = "443"
		if scheme == "http" {
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// CheckBaseHosts says what is wrong with a list of extra hosts base tokens
// may go to (WithAllowedBaseHosts), or returns nil. Each entry is an origin,
// https://host[:port] or http://host[:port], or a bare host[:port], which
// means https. The error never repeats an entry.
func CheckBaseHosts(hosts []string) error {
	for i, h := range hosts {
		if _, ok := parseOrigin(h); !ok {
			return fmt.Errorf("entry %d: want https://host[:port] or host[:port], without a path or credentials", i+1)
		}
	}
	return nil
}

// parseOrigin reads one WithAllowedBaseHosts entry.
func parseOrigin(h string) (string, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return "", false
	}
	if !strings.Contains(h, "://") {
		h = "https://" + h
	}
	u, err := url.Parse(h)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	return origin(u), true
}
