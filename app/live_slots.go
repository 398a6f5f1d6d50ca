package app

import (
	"context"
	"net/http"
	"net/netip"
	"sync"

	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/internal/ratelimit"
)

// DefaultLiveMaxPerClient is LIVE_MAX_PER_CLIENT's default: the open
// streams of one client (one token, or one address for requests without
// a token of their own).
const DefaultLiveMaxPerClient = 100

// liveSlots shares the stream slots between clients (issue 18.6):
//   - LIVE_MAX_CONNECTIONS slots in all (0: unlimited);
//   - at most perClient of them per client: a token (by keyed hash) or,
//     for a request without a token of its own, its remote address; so one
//     token cannot hold every slot;
//   - a WebSocket upgrade without a token is unauthenticated until its
//     connection_init is accepted, and those are counted apart: when the
//     slots run out, an authenticated stream takes the slot of the oldest
//     unauthenticated connection, which is closed. So a flood of upgrades
//     that never authenticate cannot lock everyone else out.
type liveSlots struct {
	max, perClient int
	key            []byte         // for token hashes
	trusted        []netip.Prefix // TRUSTED_PROXIES: whose X-Forwarded-For names the client

	mu       sync.Mutex
	used     int
	byClient map[string]int
	unauth   []*liveSlot // oldest first
}

// liveSlot is one stream's hold on a slot.
type liveSlot struct {
	s       *liveSlots
	client  string
	holds   bool   // counted in used (false once evicted)
	unauth  bool   // in s.unauth
	evict   func() // ends the stream
	release sync.Once
}

func newLiveSlots(max, perClient int, key []byte, trusted []netip.Prefix) *liveSlots {
	return &liveSlots{max: max, perClient: perClient, key: key, trusted: trusted, byClient: map[string]int{}}
}

// clientOf names the client for the per-client bound: the caller's own
// token on ctx, or else its address as the rate limits count it (behind
// TRUSTED_PROXIES, the forwarded client's, not the proxy's, which would
// put every client behind it in one bucket).
func (s *liveSlots) clientOf(ctx context.Context, r *http.Request) (client string, hasToken bool) {
	if c := auth.From(ctx); c.Own() {
		if h, ok := c.Hash(s.key); ok {
			return "t:" + h, true
		}
	}
	return "a:" + ratelimit.ClientAddr(r, s.trusted), false
}

// refusal says why a stream gets no slot; "" when it got one.
type refusal string

const (
	refusedFull      refusal = "too many open subscription connections"
	refusedPerClient refusal = "too many open subscription connections for this client"
)

// acquire takes a slot for a stream of client; unauth marks a WebSocket
// that has not authenticated yet, evict ends the stream.
func (s *liveSlots) acquire(client string, unauth bool, evict func()) (*liveSlot, refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perClient > 0 && s.byClient[client] >= s.perClient {
		return nil, refusedPerClient
	}
	if s.max > 0 && s.used >= s.max {
		if unauth || len(s.unauth) == 0 {
			return nil, refusedFull
		}
		// Take the slot of the oldest connection that has not
		// authenticated.
		old := s.unauth[0]
		s.unauth = s.unauth[1:]
		old.unauth, old.holds = false, false
		s.used--
		go old.evict()
	}
	sl := &liveSlot{s: s, client: client, holds: true, unauth: unauth, evict: evict}
	s.used++
	s.byClient[client]++
	if unauth {
		s.unauth = append(s.unauth, sl)
	}
	return sl, ""
}

// authenticated moves an unauthenticated WebSocket to its token: it no
// longer counts as unauthenticated, and counts against the token's bound
// instead of its address's. false: the token has no slot left.
func (sl *liveSlot) authenticated(client string) bool {
	s := sl.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl.unauth {
		sl.unauth = false
		for i, o := range s.unauth {
			if o == sl {
				s.unauth = append(s.unauth[:i:i], s.unauth[i+1:]...)
				break
			}
		}
	}
	if client == sl.client {
		return true
	}
	if s.perClient > 0 && s.byClient[client] >= s.perClient {
		return false
	}
	s.dec(sl.client)
	sl.client = client
	s.byClient[client]++
	return true
}

func (sl *liveSlot) done() {
	sl.release.Do(func() {
		s := sl.s
		s.mu.Lock()
		defer s.mu.Unlock()
		if sl.holds {
			s.used--
		}
		if sl.unauth {
			for i, o := range s.unauth {
				if o == sl {
					s.unauth = append(s.unauth[:i:i], s.unauth[i+1:]...)
					break
				}
			}
		}
		s.dec(sl.client)
	})
}

func (s *liveSlots) dec(client string) {
	if s.byClient[client] <= 1 {
		delete(s.byClient, client)
		return
	}
	s.byClient[client]--
}
