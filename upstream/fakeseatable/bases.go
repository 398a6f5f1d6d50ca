package fakeseatable

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Inside a base (contract sections 1.4 and 7): the exchange of an account
// token for a base token, and the API gateway's metadata and rows with
// that base token. Base tokens are JWTs signed with a secret of the fake;
// each remembers the account token and base it was minted for, so tests
// can tell which caller's base token reached the fake. A token sees only
// the bases in its own workspace list. Every base the fake can list has
// content (content.go), generated from its uuid.

// The kinds of base call the fake counts (BaseCalls).
const (
	KindExchange = "exchange"
	KindMetadata = "metadata"
	KindRows     = "rows"
	KindRow      = "row"
)

// DefaultBaseTokenLifetime is how long the fake's base tokens live, as
// SeaTable's do by default.
const DefaultBaseTokenLifetime = 72 * time.Hour

// baseState is the fake's part for bases; Server.bases creates it on
// first use.
type baseState struct {
	secret []byte

	mu        sync.Mutex
	grants    map[string]*grant // base token -> what it was minted for
	lifetime  time.Duration
	servers   map[string]string // base uuid ("" = every base) -> dtable_server to announce
	legacy    bool
	limited   map[string]bool // base uuid -> answer 429
	denied    map[string]bool // base uuid -> exchange answers 403
	noExpiry  bool
	contents  map[string]*content
	exchanges atomic.Int64
	metadata  atomic.Int64
	rows      atomic.Int64
	row       atomic.Int64
}

// grant is what a base token was minted for.
type grant struct {
	account string
	uuid    string // 36 characters
	expires time.Time
}

func (s *Server) bases() *baseState {
	s.baseOnce.Do(func() {
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		s.baseData = &baseState{secret: secret, grants: map[string]*grant{}, lifetime: DefaultBaseTokenLifetime,
			servers: map[string]string{}, limited: map[string]bool{}, denied: map[string]bool{}, contents: map[string]*content{}}
	})
	return s.baseData
}

// SetClock replaces the fake's clock (base token expiry, write timestamps).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// SetBaseTokenLifetime sets the lifetime of base tokens minted from now on.
func (s *Server) SetBaseTokenLifetime(d time.Duration) {
	b := s.bases()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lifetime = d
}

// SetBaseTokenExpiry makes minted tokens carry an exp claim (the default)
// or not, as a server might that a client should not decode.
func (s *Server) SetBaseTokenExpiry(on bool) {
	b := s.bases()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.noExpiry = !on
}

// ExpireBaseTokens makes every base token minted so far expired: the
// gateway answers 403 "Token expired." to them.
func (s *Server) ExpireBaseTokens() {
	b := s.bases()
	past := s.clock().Add(-time.Second)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, g := range b.grants {
		g.expires = past
	}
}

// SetBaseServer makes the exchange of base uuid ("" for every base)
// announce serverURL as its dtable_server (a foreign host, say); "" goes
// back to the fake's own gateway.
func (s *Server) SetBaseServer(uuid, serverURL string) {
	b := s.bases()
	b.mu.Lock()
	defer b.mu.Unlock()
	if serverURL == "" {
		delete(b.servers, normUUID(uuid))
		return
	}
	b.servers[normUUID(uuid)] = serverURL
}

// SetLegacyBaseServer makes the exchange announce a pre-gateway
// dtable-server (.../dtable-server/, api/v1) instead of the API gateway.
func (s *Server) SetLegacyBaseServer(on bool) {
	b := s.bases()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.legacy = on
}

// RateLimitBase makes the gateway answer 429 with X-RateLimit-* headers
// (and no Retry-After, as the gateway does) to every call on base uuid.
func (s *Server) RateLimitBase(uuid string, on bool) {
	b := s.bases()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.limited[normUUID(uuid)] = on
}

// DenyBase makes the exchange for base uuid answer 403 "Permission denied."
// to every token, as for a base shared and then unshared.
func (s *Server) DenyBase(uuid string, on bool) {
	b := s.bases()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.denied[normUUID(uuid)] = on
}

// BaseCalls is the number of base calls of kind (KindExchange,
// KindMetadata, KindRows, KindRow) received so far, successful or not.
func (s *Server) BaseCalls(kind string) int64 {
	b := s.bases()
	switch kind {
	case KindExchange:
		return b.exchanges.Load()
	case KindMetadata:
		return b.metadata.Load()
	case KindRows:
		return b.rows.Load()
	case KindRow:
		return b.row.Load()
	}
	return 0
}

// ResetBaseCalls zeroes the counts BaseCalls reports.
func (s *Server) ResetBaseCalls() {
	b := s.bases()
	for _, c := range []*atomic.Int64{&b.exchanges, &b.metadata, &b.rows, &b.row} {
		c.Store(0)
	}
}

// BaseTokenOwner returns the account token a base token was minted for.
func (s *Server) BaseTokenOwner(baseToken string) (account string, ok bool) {
	b := s.bases()
	b.mu.Lock()
	defer b.mu.Unlock()
	g, ok := b.grants[baseToken]
	if !ok {
		return "", false
	}
	return g.account, true
}

// BaseTokens returns how many base tokens the fake has minted.
func (s *Server) BaseTokens() int {
	b := s.bases()
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.grants)
}

// accessTokenPath is the exchange route: workspace id, then the base name
// as one (escaped) path segment.
var accessTokenPath = regexp.MustCompile(`^/api/v2\.1/workspace/(\d+)/dtable/([^/]+)/access-token/$`)

// exchange answers GET /api/v2.1/workspace/{id}/dtable/{name}/access-token/
// for an authenticated account token.
func (s *Server) exchange(w http.ResponseWriter, r *http.Request, token string) {
	b := s.bases()
	m := accessTokenPath.FindStringSubmatch(r.URL.EscapedPath())
	name, err := url.PathUnescape(m[2])
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error_msg": "name invalid."})
		return
	}
	wid := m[1]
	uuid, visible := s.findBase(token, wid, name)
	b.mu.Lock()
	denied := b.denied[uuid]
	b.mu.Unlock()
	switch {
	case uuid == "":
		writeJSON(w, http.StatusNotFound, map[string]string{"error_msg": fmt.Sprintf("dtable %s not found.", name)})
		return
	case !visible || denied:
		writeJSON(w, http.StatusForbidden, map[string]string{"error_msg": "Permission denied."})
		return
	}
	now := s.clock()
	b.mu.Lock()
	exp := now.Add(b.lifetime)
	claims := map[string]any{"dtable_uuid": strings.ReplaceAll(uuid, "-", ""), "username": "user@auth.local",
		"permission": "rw", "app_name": "", "jti": fmt.Sprint(len(b.grants) + 1)}
	if !b.noExpiry {
		claims["exp"] = exp.Unix()
	}
	tok := b.sign(claims)
	b.grants[tok] = &grant{account: token, uuid: uuid, expires: exp}
	server, ok := b.servers[uuid]
	if !ok {
		server, ok = b.servers[""]
	}
	legacy := b.legacy
	b.mu.Unlock()
	if !ok {
		server = ownURL(r) + "/api-gateway/"
		if legacy {
			server = ownURL(r) + "/dtable-server/"
		}
	}
	id, _ := strconv.Atoi(wid)
	writeJSON(w, http.StatusOK, map[string]any{
		"app_name": "", "access_token": tok, "dtable_uuid": uuid, "dtable_server": server,
		"dtable_socket": ownURL(r) + "/", "dtable_db": ownURL(r) + "/dtable-db/",
		"workspace_id": id, "dtable_name": name, "use_api_gateway": !legacy,
	})
}

// sign makes an HS256 JWT of claims; b.mu is held.
func (b *baseState) sign(claims map[string]any) string {
	enc := base64.RawURLEncoding
	payload, _ := json.Marshal(claims)
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload)
	m := hmac.New(sha256.New, b.secret)
	m.Write([]byte(head))
	return head + "." + enc.EncodeToString(m.Sum(nil))
}

// ownURL is the fake's own root as the client reached it: scheme, host and
// the path prefix it is mounted under (http.StripPrefix keeps RequestURI).
func ownURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	prefix := ""
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		prefix = strings.TrimSuffix(u.EscapedPath(), r.URL.EscapedPath())
	}
	return scheme + "://" + r.Host + strings.TrimSuffix(prefix, "/")
}

// findBase looks for the base called name whose own workspace is wid in
// token's workspace list. visible is false (with the uuid) when only some
// other token's list has it.
func (s *Server) findBase(token, wid, name string) (uuid string, visible bool) {
	s.mu.Lock()
	own := s.anyToken
	if st, ok := s.data[token]; ok {
		own = st.raw
		if st.doc != nil {
			own, _ = st.body()
		}
	}
	others := make([][]byte, 0, len(s.data))
	for t, st := range s.data {
		if t != token {
			others = append(others, st.raw)
		}
	}
	s.mu.Unlock()
	if u := baseIn(own, wid, name); u != "" {
		return u, true
	}
	for _, raw := range others {
		if u := baseIn(raw, wid, name); u != "" {
			return u, false
		}
	}
	return "", false
}

// baseIn finds the base's uuid in a workspace list, "" if absent. An entry
// without workspace_id belongs to the workspace that lists it.
func baseIn(raw []byte, wid, name string) string {
	var root map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&root) != nil {
		return ""
	}
	d := &document{root: root}
	match := func(b object, home string) bool {
		own := str(b, "workspace_id")
		if own == "" {
			own = home
		}
		return own == wid && str(b, "name") == name && normUUID(str(b, "uuid")) != ""
	}
	for _, ws := range d.workspaces() {
		for _, key := range baseLists {
			for _, b := range objects(ws[key]) {
				if match(b, str(ws, "id")) {
					return normUUID(str(b, "uuid"))
				}
			}
		}
	}
	for _, b := range objects(root["starred_dtable_list"]) {
		if match(b, "") {
			return normUUID(str(b, "uuid"))
		}
	}
	return ""
}

// normUUID is u with dashes, in lower case; "" if u is no uuid.
func normUUID(u string) string {
	h := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(u), "-", ""))
	if _, err := hex.DecodeString(h); err != nil || len(h) != 32 {
		return ""
	}
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// gatewayPath is a base call: gateway (api/v2) or legacy dtable-server
// (api/v1), base uuid, resource, optional row id.
var gatewayPath = regexp.MustCompile(`^/(?:api-gateway/api/v2|dtable-server/api/v1)/dtables/([^/]+)/(metadata|rows)/(?:([^/]+)/)?$`)

// serveBase answers a base call, authenticated by a base token; false when
// the path is no base call.
func (s *Server) serveBase(w http.ResponseWriter, r *http.Request) bool {
	m := gatewayPath.FindStringSubmatch(r.URL.EscapedPath())
	if m == nil {
		return false
	}
	b := s.bases()
	kind := baseKind(m)
	if kind == "" {
		writeJSON(w, http.StatusNotFound, map[string]string{"error_msg": "Not found."})
		return true
	}
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error_msg": "Method not allowed."})
		return true
	}
	uuid := normUUID(m[1])
	if uuid == "" {
		writeJSON(w, http.StatusNotFound, map[string]string{"error_msg": "dtable not found."})
		return true
	}
	parts := strings.Fields(r.Header.Get("Authorization"))
	if len(parts) != 2 || (!strings.EqualFold(parts[0], "token") && !strings.EqualFold(parts[0], "bearer")) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error_msg": "Token is invalid."})
		return true
	}
	now := s.clock()
	b.mu.Lock()
	g := b.grants[parts[1]]
	var expired bool
	if g != nil {
		expired = !now.Before(g.expires)
	}
	limited := b.limited[uuid]
	b.mu.Unlock()
	switch {
	case g == nil:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error_msg": "Token is invalid."})
		return true
	case expired:
		writeJSON(w, http.StatusForbidden, map[string]string{"error_msg": "Token expired."})
		return true
	case g.uuid != uuid:
		writeJSON(w, http.StatusForbidden, map[string]string{"error_msg": "Permission denied."})
		return true
	case limited:
		w.Header().Set("X-RateLimit-Limit", "500")
		w.Header().Set("X-RateLimit-Remaining", "0")
		// The window is real time, whatever clock the fake is given.
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(42*time.Second).Unix(), 10))
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	c := s.content(uuid)
	q := r.URL.Query()
	switch kind {
	case KindMetadata:
		writeRaw(w, http.StatusOK, c.metadataJSON())
	case KindRows:
		status, body := c.rowsJSON(q)
		writeRaw(w, status, body)
	case KindRow:
		id, _ := url.PathUnescape(m[3])
		status, body := c.rowJSON(q, id)
		writeRaw(w, status, body)
	}
	return true
}

// baseKind names the kind of a gatewayPath match, "" for none.
func baseKind(m []string) string {
	switch {
	case m[2] == "metadata" && m[3] == "":
		return KindMetadata
	case m[2] == "rows" && m[3] == "":
		return KindRows
	case m[2] == "rows":
		return KindRow
	}
	return ""
}

// countBase counts r in BaseCalls if it is a base call or an exchange.
func (s *Server) countBase(r *http.Request) {
	kind := ""
	if accessTokenPath.MatchString(r.URL.EscapedPath()) {
		kind = KindExchange
	} else if m := gatewayPath.FindStringSubmatch(r.URL.EscapedPath()); m != nil {
		kind = baseKind(m)
	}
	if kind == "" {
		return
	}
	b := s.bases()
	map[string]*atomic.Int64{KindExchange: &b.exchanges, KindMetadata: &b.metadata, KindRows: &b.rows, KindRow: &b.row}[kind].Add(1)
}

// content returns the base's content, generated on first use.
func (s *Server) content(uuid string) *content {
	b := s.bases()
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.contents[uuid]
	if !ok {
		c = generateContent(uuid)
		b.contents[uuid] = c
	}
	return c
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
