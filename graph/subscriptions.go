package graph

// Subscriptions (schema: type Subscription). The data comes from the token's
// shared poller in graph/live; this file turns its answers into events.
//
// Nested fields of an event (DTable.workspace, DTable.folder, …) read
// through loaders.For(ctx) like query fields do. A subscription gets its own
// loaders (loaders.ForEvents) that are given each event's list before its
// fields resolve (eventData), so every event is resolved against its own
// poll's answer, never a list memoised when the subscription began, and
// nested fields cost no upstream call.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seatable-graphql/seatable-graphql/graph/live"
	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/graph/model"
	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// subscriptionLoaders gives each subscription operation loaders that read
// its events (loaders.ForEvents), with the token of the connection, and each
// other operation on a WebSocket connection loaders of its own.
func subscriptionLoaders(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx)
	if op.Operation == nil || op.Operation.Operation != ast.Subscription {
		if _, ws := ctx.Value(connStateKey{}).(*connState); ws {
			// The connection's loaders would serve what its first
			// operation read to every later one.
			ctx = loaders.NewContext(ctx, loaders.For(ctx).Anew())
		}
		return next(ctx)
	}
	return next(loaders.NewContext(ctx, loaders.For(ctx).ForEvents()))
}

// eventData is called by an event's data field before its children
// resolve: it points the subscription's loaders at the event's list, or
// returns the poll's error as the field's error. Events of one
// subscription are resolved one after another, so the switch cannot race
// with the children of the previous event.
func eventData(ctx context.Context, list *upstream.WorkspaceList, err error) error {
	if err != nil {
		return err
	}
	loaders.For(ctx).Serve(list)
	return nil
}

// connState is one WebSocket connection's subscription count.
type connState struct {
	subs atomic.Int64
}

type connStateKey struct{}

// WebsocketInit returns gqlgen's InitFunc: it takes the token from the
// connection_init payload ("Authorization": "Token …"/"Bearer …", a bare
// "token", or "headers": {"Authorization": …} as hasura/go-graphql-client
// and many Apollo connectionParams send it; names in any case), falling
// back to the upgrade request's Authorization header, then SEATABLE_TOKEN,
// only when the payload is empty. It refuses the connection (close code
// 4403, as graphql-transport-ws asks, the reason in the close frame) when
// the payload has keys but no token it can read (such a client meant to
// send one: serving it the shared account would hide its own data), when
// there is no usable token, or when SeaTable rejects it. The check is one
// read through the same coalesced fetcher as queries.
func WebsocketInit() transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		l, caller := loaders.For(ctx), auth.From(ctx)
		refuse := func(err error) (context.Context, *transport.InitPayload, error) {
			msg := "unauthenticated"
			if e, ok := apperr.As(err); ok {
				msg = e.Message
			}
			ctx := transport.WithWebsocketCloseCode(ctx, 4403)
			return transport.AppendCloseReason(ctx, closeReason(msg)), nil, fmt.Errorf("%s", msg)
		}
		tok, present, err := payloadToken(payload)
		switch {
		case present:
			caller = caller.WithToken(tok, err)
			l = l.WithCaller(caller)
		case len(payload) > 0:
			return refuse(apperr.New(apperr.Unauthenticated, `connection_init payload has no Authorization token (send "Authorization": "Token <token>", at its top or in "headers")`))
		}
		if _, err := caller.Token(); err != nil {
			return refuse(err)
		}
		if _, err := l.Snapshot(ctx); err != nil {
			if c := apperr.CodeOf(err); c == apperr.Unauthenticated || c == apperr.Forbidden {
				return refuse(err)
			}
			// SeaTable is down or slow: accept; subscriptions report it.
		}
		ctx = loaders.NewContext(auth.NewContext(ctx, caller), l)
		return context.WithValue(ctx, connStateKey{}, &connState{}), nil, nil
	}
}

// closeReason fits msg in a WebSocket close frame, whose reason holds at
// most 123 bytes, cut at a rune boundary.
func closeReason(msg string) string {
	const limit = 123
	if len(msg) <= limit {
		return msg
	}
	cut := limit - len("…")
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}

// payloadToken reads a token from a connection_init payload; present is
// false when the payload names none. Keys match in any case: JavaScript
// clients spell "authorization" as they please.
func payloadToken(p transport.InitPayload) (tok string, present bool, err error) {
	if v, ok := field(p, "authorization").(string); ok && strings.TrimSpace(v) != "" {
		tok, err = auth.Token(http.Header{"Authorization": {v}})
		return tok, true, err
	}
	if v, ok := field(p, "token").(string); ok && strings.TrimSpace(v) != "" {
		tok, err = auth.Token(http.Header{"Authorization": {"Token " + strings.TrimSpace(v)}})
		return tok, true, err
	}
	if h, ok := field(p, "headers").(map[string]any); ok {
		if v, ok := field(h, "authorization").(string); ok && strings.TrimSpace(v) != "" {
			tok, err = auth.Token(http.Header{"Authorization": {v}})
			return tok, true, err
		}
	}
	return "", false, nil
}

// field is m's value under name in any case; an exact match wins.
func field(m map[string]any, name string) any {
	if v, ok := m[name]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// subscribe starts a subscription for the caller: it checks the token and
// the connection's subscription limit, joins the token's poller and waits
// for its first answer. A first answer that rejects the token refuses the
// subscription; any other error is sent as the first event.
func (r *Resolver) subscribe(ctx context.Context) (*live.Subscription, live.Update, func(), error) {
	if r.Live == nil {
		return nil, live.Update{}, nil, apperr.New(apperr.Internal, "subscriptions are not enabled")
	}
	token, err := auth.From(ctx).Token()
	if err != nil {
		return nil, live.Update{}, nil, err
	}
	release := func() {}
	if cs, ok := ctx.Value(connStateKey{}).(*connState); ok && r.MaxSubscriptionsPerConnection > 0 {
		if cs.subs.Add(1) > int64(r.MaxSubscriptionsPerConnection) {
			cs.subs.Add(-1)
			return nil, live.Update{}, nil, apperr.New(apperr.RateLimited,
				fmt.Sprintf("too many subscriptions on this connection (limit %d): end one or open another connection", r.MaxSubscriptionsPerConnection))
		}
		release = func() { cs.subs.Add(-1) }
	}
	sub := r.Live.Subscribe(token)
	fail := func(err error) (*live.Subscription, live.Update, func(), error) {
		sub.Close()
		release()
		return nil, live.Update{}, nil, err
	}
	select {
	case u, ok := <-sub.C:
		if !ok {
			return fail(apperr.New(apperr.UpstreamUnavailable, "server shutting down"))
		}
		if c := apperr.CodeOf(u.Err); c == apperr.Unauthenticated || c == apperr.Forbidden {
			return fail(u.Err)
		}
		return sub, u, func() { sub.Close(); release() }, nil
	case <-ctx.Done():
		return fail(apperr.Wrap(apperr.UpstreamUnavailable, "subscription ended", ctx.Err()))
	}
}

// stream runs a subscription: it converts each update with event (which
// returns false when the update changes nothing this subscription shows,
// and the answer the event's differences are from, if any) and sends the
// result until the client leaves or the hub closes.
func stream[T any](ctx context.Context, log *slog.Logger, sub *live.Subscription, first live.Update, done func(), event func(live.Update) (T, *upstream.WorkspaceList, bool)) <-chan T {
	out := make(chan T)
	tap, _ := ctx.Value(eventTapKey{}).(chan tappedEvent)
	go func() {
		defer close(out)
		defer done()
		// A panic converting an event ends this subscription (the client
		// gets complete), not the process: this goroutine is outside any
		// of gqlgen's recovers.
		defer func() {
			if p := recover(); p != nil && log != nil {
				_ = Recover(log)(ctx, p) // logged as resolvers' panics are, token redacted
			}
		}()
		u := first
		for {
			if ev, prev, ok := event(u); ok {
				if tap != nil {
					// Before the event: the handler reading it then finds
					// what it was made from (sharedSubscription).
					select {
					case tap <- tappedEvent{ev: ev, list: u.List, prev: prev, ok: u.Err == nil}:
					case <-ctx.Done():
						return
					}
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
			var open bool
			select {
			case u, open = <-sub.C:
				if !open {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func (r *Resolver) workspacesChanged(ctx context.Context) (<-chan *model.WorkspacesChangedEvent, error) {
	sub, first, done, err := r.subscribe(ctx)
	if err != nil {
		return nil, err
	}
	return stream(ctx, r.Log, sub, first, done, func(u live.Update) (*model.WorkspacesChangedEvent, *upstream.WorkspaceList, bool) {
		return &model.WorkspacesChangedEvent{List: u.List, Err: u.Err}, nil, true
	}), nil
}

func (r *Resolver) dtablesChanged(ctx context.Context, filter *model.DTableFilter) (<-chan *model.DTablesChangedEvent, error) {
	f, err := dtableFilter(filter)
	if err != nil {
		return nil, err
	}
	sub, first, done, err := r.subscribe(ctx)
	if err != nil {
		return nil, err
	}
	var (
		prev     map[string][sha256.Size]byte // nil until the first good answer
		prevList *upstream.WorkspaceList      // the answer prev is from
	)
	return stream(ctx, r.Log, sub, first, done, func(u live.Update) (*model.DTablesChangedEvent, *upstream.WorkspaceList, bool) {
		if u.Err != nil {
			return &model.DTablesChangedEvent{Initial: prev == nil, Err: u.Err}, nil, true
		}
		snap := loaders.NewSnapshot(u.List)
		now := f.Apply(snap.DTables(), snap.ListedIn)
		ch := &model.DTableChanges{Added: []*upstream.DTable{}, Updated: []*upstream.DTable{}, Removed: []string{}}
		next := make(map[string][sha256.Size]byte, len(now))
		for _, d := range now {
			sum := baseDigest(d)
			next[d.UUID] = sum
			old, had := prev[d.UUID]
			switch {
			case !had:
				ch.Added = append(ch.Added, d)
			case old != sum:
				ch.Updated = append(ch.Updated, d)
			}
		}
		for uuid := range prev {
			if _, ok := next[uuid]; !ok {
				ch.Removed = append(ch.Removed, uuid)
			}
		}
		initial, from := prev == nil, prevList
		prev, prevList = next, u.List
		if !initial && len(ch.Added)+len(ch.Updated)+len(ch.Removed) == 0 {
			return nil, nil, false // the list changed elsewhere, not in these bases
		}
		// Removed comes from a map: sorted, so that subscriptions sharing
		// one rendering of the event and those that do not agree.
		slices.Sort(ch.Removed)
		return &model.DTablesChangedEvent{Initial: initial, Changes: ch, List: u.List}, from, true
	}), nil
}

func (r *Resolver) dtableChanged(ctx context.Context, uuid string) (<-chan *model.DTableChangedEvent, error) {
	u36 := upstream.NormalizeUUID(uuid)
	if u36 == "" {
		return nil, apperr.New(apperr.BadUserInput, "uuid must be 32 hex characters, or 36 with dashes")
	}
	sub, first, done, err := r.subscribe(ctx)
	if err != nil {
		return nil, err
	}
	var (
		sent    bool
		prevSum [sha256.Size]byte
		wasErr  bool
	)
	return stream(ctx, r.Log, sub, first, done, func(u live.Update) (*model.DTableChangedEvent, *upstream.WorkspaceList, bool) {
		if u.Err != nil {
			wasErr = true
			return &model.DTableChangedEvent{UUID: u36, Err: u.Err}, nil, true
		}
		d := loaders.NewSnapshot(u.List).DTable(u36)
		var sum [sha256.Size]byte
		if d != nil {
			sum = baseDigest(d)
		}
		if sent && !wasErr && sum == prevSum {
			return nil, nil, false
		}
		sent, wasErr, prevSum = true, false, sum
		return &model.DTableChangedEvent{UUID: u36, DTable: d, List: u.List}, nil, true
	}), nil
}

// baseDigest hashes everything a client can read of a base.
func baseDigest(d *upstream.DTable) [sha256.Size]byte {
	b, _ := json.Marshal(d)
	return sha256.Sum256(b)
}

// Shared events. Each subscription of gqlgen renders its own events: 200
// subscriptions of one token and document would render every event 200
// times and hold 200 copies of it. For a subscription whose selection the
// fast path covers, sharedSubscription renders each event through a plan
// (fastpath.go) once per token, document, variables and operation name,
// memoised by the hub (live.Hub.Render), and hands every such subscription
// the same bytes. gqlgen still runs the subscription (arguments, resolver,
// field middleware, errors); only the rendering of covered events is
// shared. Events it cannot render (a failed poll, an answer over
// MAX_RESPONSE_BYTES, anything the plan falls back on) are rendered by
// gqlgen as before, each on its own.

// tappedEvent is what an event sent on a subscription's channel was made
// from, handed to sharedSubscription's handler beside the event.
type tappedEvent struct {
	ev         any
	list, prev *upstream.WorkspaceList
	ok         bool // a good answer: the event may be shared
}

type eventTapKey struct{}

// sharedSubscription returns the response handler of a subscription
// operation whose events are shared, or nil when gqlgen renders them (not
// a subscription, no hub, no token, or a selection no plan covers).
func (s *fastSchema) sharedSubscription(ctx context.Context, opCtx *graphql.OperationContext) graphql.ResponseHandler {
	r := s.resolver
	if opCtx.Operation == nil || opCtx.Operation.Operation != ast.Subscription || r == nil || r.Live == nil {
		return nil
	}
	token, err := auth.From(ctx).Token()
	if err != nil {
		return nil
	}
	root := compileEvents(ctx, s, opCtx)
	if root == nil {
		return nil
	}
	stream, ok := streamKey(opCtx)
	if !ok {
		return nil
	}
	tap := make(chan tappedEvent, 1)
	execCtx := context.WithValue(ctx, eventTapKey{}, tap)
	// What the generated Exec does for a subscription, with the rendering
	// of each event left to the handler below.
	ec := newExecutionContext(opCtx, s.gen, make(chan graphql.DeferredResult))
	next := ec._Subscription(execCtx, opCtx.Operation.SelectionSet)
	if next == nil {
		return graphql.OneShot(&graphql.Response{Data: []byte("null")})
	}
	var buf bytes.Buffer
	return func(ctx context.Context) *graphql.Response {
		m := next(ctx)
		if m == nil {
			return nil
		}
		select {
		case t := <-tap:
			if t.ok && t.list != nil {
				key := live.RenderKey{List: t.list, Prev: t.prev, Stream: stream}
				data, ok := r.Live.Render(ctx, token, key, func() ([]byte, bool) {
					return renderEvent(execCtx, s, opCtx, root, t)
				})
				if ok {
					return &graphql.Response{Data: data}
				}
			}
		default: // not from stream(): gqlgen renders it
		}
		buf.Reset()
		m.MarshalGQL(&buf)
		return &graphql.Response{Data: buf.Bytes()}
	}
}

// streamKey is what a subscription's event bytes depend on besides the
// answer and the token: the document, the variables and the operation
// name.
func streamKey(opCtx *graphql.OperationContext) (string, bool) {
	vars, err := json.Marshal(opCtx.Variables) // map keys come out sorted
	if err != nil {
		return "", false
	}
	doc := sha256.Sum256([]byte(opCtx.RawQuery))
	return string(doc[:]) + opCtx.OperationName + "\x00" + string(vars), true
}

// renderEvent writes one event through the plan root, from the answer the
// event was made from. It runs under its own answer budget (the
// operation's limit, fresh): over it, the event is not shared and gqlgen
// renders it for each subscription under that subscription's bounds.
func renderEvent(ctx context.Context, s *fastSchema, opCtx *graphql.OperationContext, root *objPlan, t tappedEvent) (data []byte, ok bool) {
	defer func() {
		if recover() != nil { // gqlgen meets it again and reports it
			data, ok = nil, false
		}
	}()
	if err := eventData(ctx, t.list, nil); err != nil {
		return nil, false
	}
	if ob := boundsFrom(ctx); ob != nil {
		ctx = context.WithValue(ctx, opBoundsKey{}, &opBounds{limit: ob.limit, max: ob.max, rejected: new(atomic.Bool), cancelled: new(sync.Once)})
	}
	st := &runState{ctx: ctx, opCtx: opCtx, s: s, l: loaders.For(ctx), buf: make([]byte, 0, 4096)}
	if ob := boundsFrom(ctx); ob != nil {
		st.limit = ob.limit
	}
	if !st.object(root, t.ev) {
		return nil, false
	}
	return st.buf, true
}

// The writers of the subscription and event types (the catalogue names
// them): they write from the event values stream() sends; their children
// are planned as the fast path plans queries.

func writeWorkspacesEventList(r *runState, f *fieldPlan, e *model.WorkspacesChangedEvent) bool {
	if e.Err != nil || e.List == nil {
		return false
	}
	if e.List.Workspaces == nil {
		r.buf = append(r.buf, "null"...) // as gqlgen writes a nil list
		return true
	}
	return writeObjects(r, f.child, e.List.Workspaces)
}

func writeDTablesEventInitial(r *runState, _ *fieldPlan, e *model.DTablesChangedEvent) bool {
	r.buf = strconv.AppendBool(r.buf, e.Initial)
	return true
}

func writeDTablesEventChanges(r *runState, f *fieldPlan, e *model.DTablesChangedEvent) bool {
	return e.Err == nil && optObject(r, f.child, e.Changes)
}

func writeChangesAdded(r *runState, f *fieldPlan, c *model.DTableChanges) bool {
	return writeObjects(r, f.child, c.Added)
}

func writeChangesUpdated(r *runState, f *fieldPlan, c *model.DTableChanges) bool {
	return writeObjects(r, f.child, c.Updated)
}

func writeChangesRemoved(r *runState, _ *fieldPlan, c *model.DTableChanges) bool {
	r.buf = append(r.buf, '[')
	for i, id := range c.Removed {
		if i > 0 {
			r.buf = append(r.buf, ',')
		}
		r.str(id)
	}
	r.buf = append(r.buf, ']')
	return true
}

func writeDTableEventUUID(r *runState, _ *fieldPlan, e *model.DTableChangedEvent) bool {
	r.str(e.UUID)
	return true
}

func writeDTableEventDTable(r *runState, f *fieldPlan, e *model.DTableChangedEvent) bool {
	return e.Err == nil && optObject(r, f.child, e.DTable)
}

// writeEventRoot writes the event itself under the subscription's field.
func writeEventRoot(r *runState, f *fieldPlan, ev any) bool {
	return ev != nil && r.object(f.child, ev)
}

// compileEvents plans a subscription's events with the catalogue's
// writers, as the fast path plans queries, or returns nil when any part of
// its selection is not covered.
func compileEvents(ctx context.Context, s *fastSchema, opCtx *graphql.OperationContext) *objPlan {
	if usesDefer(opCtx.Doc, opCtx.Operation) {
		return nil
	}
	c := &compiler{ctx: ctx, s: s, opCtx: opCtx}
	root := c.object(opCtx.Operation.SelectionSet, "Subscription")
	if root == nil || len(root.fields) != 1 || root.fields[0].field.Name == "__typename" {
		return nil // gqlgen reports anything but exactly one stream
	}
	return root
}
