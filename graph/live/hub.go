// Package live feeds GraphQL subscriptions. SeaTable has no push for
// workspace lists, so the server polls; a Hub runs at most one poller per
// token, however many subscriptions, connections and transports that token
// has, and fans each changed answer out to all of them. A poller starts
// with its token's first subscriber and stops with its last.
//
// Tokens are kept only inside the poller that uses them; maps and logs name
// a poller by a keyed hash of its token (internal/tokenhash).
package live

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Poll interval bounds (LIVE_POLL_INTERVAL).
const (
	DefaultInterval = 10 * time.Second
	MinInterval     = 2 * time.Second
	// maxBackoff caps the wait after repeated upstream faults, so a
	// recovered SeaTable is noticed within a few minutes at worst.
	maxBackoff = 5 * time.Minute
)

// Update is one answer pushed to subscribers: the caller's workspace list,
// or the error the poll ended with (List nil).
type Update struct {
	List *upstream.WorkspaceList
	Err  error
	// At is when the poll that produced it started; with Redis, an answer
	// relayed late from another replica must not replace a newer one.
	At time.Time
}

// Observer learns what the hub does (metrics). Methods are called from
// poller goroutines and must not block.
type Observer interface {
	Pollers(delta int)
	Subscriptions(delta int)
	Poll(code string) // "" for a successful poll
	Push(n int)       // one changed answer sent to n subscriptions
}

// Options configure a Hub.
type Options struct {
	// Interval between polls of one token; DefaultInterval when zero.
	// Each wait is jittered by up to ±10% so that pollers started together
	// do not hit SeaTable together.
	Interval time.Duration
	// After is the clock (time.After when nil); tests drive polls with it.
	After func(time.Duration) <-chan time.Time
	// Observer is told about pollers, polls and pushes; nil for none.
	Observer Observer
	// Redis, when set, elects one poller per token among the replicas and
	// relays its answers to the others (see Redis).
	Redis  *Redis
	Logger *slog.Logger
}

// Hub owns the pollers. Its zero value is not usable; use New.
type Hub struct {
	fetch    upstream.Lister
	interval time.Duration
	after    func(time.Duration) <-chan time.Time
	obs      Observer
	log      *slog.Logger
	key      []byte // HMAC key for poller names: random per process, or shared through Redis
	redis    *Redis

	ctx  context.Context // cancelled by Close: stops every poller
	stop context.CancelFunc

	mu      sync.Mutex
	pollers map[string]*poller
	running sync.WaitGroup // poller goroutines

	renders renders // events rendered once per token and document (render.go)
}

// New returns a hub that polls through f, the same fetcher stack queries
// read through (coalescing, cache), so a poll and a query of one token in
// flight together cost one upstream call.
func New(f upstream.Lister, o Options) *Hub {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	h := &Hub{fetch: f, interval: o.Interval, after: o.After, obs: o.Observer, log: o.Logger, key: key, redis: o.Redis, pollers: map[string]*poller{}}
	if o.Redis != nil {
		h.key = o.Redis.key
	}
	if h.interval <= 0 {
		h.interval = DefaultInterval
	}
	if h.after == nil {
		h.after = time.After
	}
	if h.obs == nil {
		h.obs = nopObserver{}
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.ctx, h.stop = context.WithCancel(context.Background())
	return h
}

// Interval is the configured poll interval.
func (h *Hub) Interval() time.Duration { return h.interval }

// Close stops every poller and waits for them to end (with Redis, their
// locks are released when it returns); subscriptions see their channel
// closed.
func (h *Hub) Close() {
	h.stop()
	h.closeSubscriptions()
	h.running.Wait()
}

func (h *Hub) closeSubscriptions() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, p := range h.pollers {
		for s := range p.subs {
			close(s.c)
		}
		h.obs.Subscriptions(-len(p.subs))
		p.subs = nil
		delete(h.pollers, k)
		h.obs.Pollers(-1)
		h.renders.forget(k)
	}
}

// Pollers is the number of running pollers (tokens with subscribers).
func (h *Hub) Pollers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.pollers)
}

type poller struct {
	token   string
	name    string // TokenHash of token, for logs
	subs    map[*Subscription]struct{}
	last    *Update       // the latest answer pushed, nil before the first poll
	refresh chan struct{} // poll now (a mutation through this server)
	cancel  context.CancelFunc
}

// Subscription receives a token's updates. C holds at most one update: a
// slow reader skips intermediate answers and gets the latest, which is what
// a live view needs, and a stuck client cannot block the poller.
type Subscription struct {
	C <-chan Update
	c chan Update
	h *Hub
	p *poller
}

// Subscribe adds a subscriber for token, starting the token's poller if it
// is the first. The latest answer, when there is one, is delivered at once;
// otherwise the first poll's answer is. Close the subscription when done.
func (h *Hub) Subscribe(token string) *Subscription {
	c := make(chan Update, 1)
	s := &Subscription{C: c, c: c, h: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx.Err() != nil {
		close(c)
		return s
	}
	name := tokenhash.Sum(h.key, token)
	p := h.pollers[name]
	if p == nil {
		ctx, cancel := context.WithCancel(h.ctx)
		p = &poller{token: token, name: name, subs: map[*Subscription]struct{}{}, refresh: make(chan struct{}, 1), cancel: cancel}
		h.pollers[name] = p
		h.obs.Pollers(1)
		h.running.Add(1)
		go func() {
			defer h.running.Done()
			defer h.recoverPoller(p)
			h.run(ctx, p)
		}()
	}
	p.subs[s] = struct{}{}
	s.p = p
	h.obs.Subscriptions(1)
	if p.last != nil {
		c <- *p.last
	}
	return s
}

// Close removes the subscriber; the token's last one stops its poller.
func (s *Subscription) Close() {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	p := s.p
	if p == nil || p.subs == nil {
		return
	}
	if _, ok := p.subs[s]; !ok {
		return
	}
	delete(p.subs, s)
	h.obs.Subscriptions(-1)
	if len(p.subs) == 0 {
		p.cancel()
		if h.pollers[p.name] == p {
			delete(h.pollers, p.name)
			h.obs.Pollers(-1)
			h.renders.forget(p.name)
		}
	}
}

// Refresh makes token's poller, if any, poll now instead of at its next
// tick: a mutation made through this server shows at once. It does not cut
// short a back-off after 429 or a fault.
func (h *Hub) Refresh(token string) {
	h.mu.Lock()
	p := h.pollers[tokenhash.Sum(h.key, token)]
	h.mu.Unlock()
	if p == nil {
		return
	}
	select {
	case p.refresh <- struct{}{}:
	default: // a refresh is already pending
	}
}

// pollState is what a poller remembers of the answers it has pushed.
type pollState struct {
	lastSum  [sha256.Size]byte
	haveSum  bool
	lastCode apperr.Code
	at       time.Time // of the newest answer seen
}

// changed reports whether u differs from the last answer pushed, and
// records it. An error is pushed once per error state, not once per failed
// poll; after it, the next good answer is pushed even if unchanged.
func (st *pollState) changed(u Update) bool {
	if u.At.Before(st.at) {
		return false // older than what subscribers have
	}
	st.at = u.At
	if u.Err != nil {
		code := apperr.CodeOf(u.Err)
		if code == st.lastCode {
			return false
		}
		st.lastCode, st.haveSum = code, false
		return true
	}
	st.lastCode = ""
	sum, ok := digest(u.List)
	if ok && st.haveSum && sum == st.lastSum {
		return false
	}
	st.lastSum, st.haveSum = sum, ok
	return true
}

// run polls for p until its context ends. With Redis it polls at a tick
// only while it holds the token's lock, and relays what the polling
// replica publishes; its first poll (a new subscriber's first value) and
// refreshes after a mutation run regardless.
func (h *Hub) run(ctx context.Context, p *poller) {
	var relayed <-chan Update
	if h.redis != nil {
		relayed = h.redis.subscribe(ctx, p.name)
		defer func() {
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			h.redis.release(rctx, p.name) // the next replica takes over at its tick
		}()
	}
	var (
		st       pollState
		failures int
		wait     time.Duration // zero: the first poll runs at once
	)
	for {
		poll := wait == 0
		if !poll {
			refresh := p.refresh
			if failures > 0 {
				refresh = nil // honour the back-off, mutation or not
			}
			tick := h.after(wait)
		waiting:
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick:
					poll = h.redis == nil || h.redis.acquire(ctx, p.name, 2*h.interval)
					break waiting
				case <-refresh:
					poll = true
					break waiting
				case u, ok := <-relayed:
					if !ok {
						relayed = nil
						continue
					}
					if st.changed(u) {
						h.push(p, u)
					}
					if rejected(u.Err) {
						h.end(p)
						return
					}
				}
			}
		}
		if !poll { // another replica polls for this token
			failures, wait = 0, h.jitter(h.interval)
			continue
		}
		started := time.Now()
		// Polls skip the response cache (its answer may be up to CACHE_TTL
		// old) but store their fresh answer in it, so queries benefit too.
		list, err := h.fetch.ListWorkspaces(ctx, p.token, upstream.Read{Detail: true, Fresh: true})
		if ctx.Err() != nil {
			return
		}
		u := Update{List: list, Err: err, At: started}
		if err != nil {
			code := apperr.CodeOf(err)
			h.obs.Poll(string(code))
			failures++
			wait = backoff(h.interval, failures, err)
			h.log.Warn("live poll failed", "poller", p.name[:16], "code", code, "retry_in", wait)
			if h.redis != nil && wait > h.interval {
				// Keep the lock through the back-off: no other replica may
				// poll before Retry-After either.
				h.redis.acquire(ctx, p.name, wait+h.interval)
			}
		} else {
			h.obs.Poll("")
			failures, wait = 0, h.jitter(h.interval)
		}
		if st.changed(u) {
			h.push(p, u)
			if h.redis != nil {
				h.redis.publish(ctx, p.name, u)
			}
		}
		if rejected(u.Err) {
			h.end(p)
			return
		}
	}
}

// recoverPoller ends p's subscriptions with an INTERNAL error event when
// its poller panicked: the goroutine is outside any of net/http's or
// gqlgen's recovers, so the panic would otherwise end the process. The
// panic is logged with the token redacted.
func (h *Hub) recoverPoller(p *poller) {
	v := recover()
	if v == nil {
		return
	}
	msg := strings.ReplaceAll(fmt.Sprint(v), p.token, "[token]")
	h.log.Error("live poller panicked: its subscriptions end", "poller", p.name[:16], "panic", msg,
		"stack", strings.ReplaceAll(string(debug.Stack()), p.token, "[token]"))
	h.push(p, Update{Err: apperr.New(apperr.Internal, "internal error while polling SeaTable: this subscription ends"), At: time.Now()})
	h.end(p)
}

// rejected reports whether err says SeaTable no longer accepts the token:
// its subscribers got that error and their streams end; nothing is polled
// with the token again until someone subscribes with it anew.
func rejected(err error) bool {
	c := apperr.CodeOf(err)
	return err != nil && (c == apperr.Unauthenticated || c == apperr.Forbidden)
}

// end stops p: its subscriptions see their channel closed after the
// update already in it.
func (h *Hub) end(p *poller) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p.cancel()
	if p.subs == nil {
		return
	}
	for s := range p.subs {
		close(s.c)
	}
	h.obs.Subscriptions(-len(p.subs))
	p.subs = nil
	if h.pollers[p.name] == p {
		delete(h.pollers, p.name)
		h.obs.Pollers(-1)
		h.renders.forget(p.name)
	}
}

// push sends u to every subscriber of p, replacing an update a subscriber
// has not read yet.
func (h *Hub) push(p *poller, u Update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p.subs == nil {
		return
	}
	p.last = &u
	// Counted before it is sent, so that whoever reads the update sees it
	// counted (metrics, tests).
	h.obs.Push(len(p.subs))
	for s := range p.subs {
		select {
		case <-s.c: // drop the unread, older update
		default:
		}
		s.c <- u
	}
}

// jitter spreads d by up to ±10%.
func (h *Hub) jitter(d time.Duration) time.Duration {
	span := int64(d) / 5
	if span <= 0 {
		return d
	}
	return d - time.Duration(span/2) + time.Duration(mrand.Int64N(span))
}

// backoff is the wait after the n-th consecutive failed poll: SeaTable's
// Retry-After when it sent one (and it is longer than the interval),
// otherwise the interval doubled per failure, capped at maxBackoff.
func backoff(interval time.Duration, n int, err error) time.Duration {
	d := interval
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	if e, ok := apperr.As(err); ok && e.RetryAfter > d {
		d = e.RetryAfter
	}
	return d
}

// digest hashes what a subscriber could see of the list; ok is false when
// the list cannot be encoded (then every answer counts as a change).
func digest(l *upstream.WorkspaceList) ([sha256.Size]byte, bool) {
	b, err := json.Marshal(l.Workspaces)
	if err != nil {
		return [sha256.Size]byte{}, false
	}
	return sha256.Sum256(b), true
}

type nopObserver struct{}

func (nopObserver) Pollers(int)       {}
func (nopObserver) Subscriptions(int) {}
func (nopObserver) Poll(string)       {}
func (nopObserver) Push(int)          {}
