package graph

import (
	"container/list"
	"sync"
	"time"
	"weak"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// listRootFields are the Query fields that read nothing but the workspace
// list. A query made only of these is a pure function of that list, so its
// response can be reused for as long as the same list is current; any
// other root field (including fields added later) opts the query out.
var listRootFields = map[string]bool{"workspaces": true, "workspace": true, "dtable": true}

// readsOnlyList reports whether op reads the workspace list and nothing else.
func readsOnlyList(op *ast.OperationDefinition) bool {
	if op.Operation != ast.Query {
		return false
	}
	reads, other := false, false
	walkFields(op.SelectionSet, map[string]bool{}, func(f *ast.Field) {
		switch {
		case f.Name == "__typename":
		case listRootFields[f.Name]:
			reads = true
		default:
			other = true
		}
	})
	return reads && !other
}

// resultStore keeps successful responses of list-only queries, each tied to
// the upstream answer it was computed from. An entry is served only while
// that very answer is still the one the request reads (the response cache
// hands out the same decoded list until its TTL ends or a write invalidates
// it), so results never outlive the cache entry below them and need no
// invalidation of their own. The tie is a weak pointer, so a result never
// keeps an expired list in memory.
type resultStore struct {
	maxBytes int64
	ttl      time.Duration

	mu    sync.Mutex
	used  int64
	order *list.List // front = most recent
	items map[string]*list.Element
}

type resultEntry struct {
	key     string
	from    weak.Pointer[upstream.WorkspaceList]
	resp    *graphql.Response
	size    int64
	expires time.Time
}

func newResultStore(maxBytes int64, ttl time.Duration) *resultStore {
	return &resultStore{maxBytes: maxBytes, ttl: ttl, order: list.New(), items: map[string]*list.Element{}}
}

func (s *resultStore) get(key string, from *upstream.WorkspaceList) (*graphql.Response, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*resultEntry)
	if e.from.Value() != from || !time.Now().Before(e.expires) {
		s.drop(el)
		return nil, false
	}
	s.order.MoveToFront(el)
	return e.resp, true
}

func (s *resultStore) put(key string, from *upstream.WorkspaceList, resp *graphql.Response) {
	if len(resp.Errors) > 0 || from == nil {
		return
	}
	size := int64(len(resp.Data)) + int64(len(key)) + 256
	if size > s.maxBytes {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[key]; ok {
		s.drop(el)
	}
	s.items[key] = s.order.PushFront(&resultEntry{key: key, from: weak.Make(from), resp: resp, size: size, expires: time.Now().Add(s.ttl)})
	s.used += size
	for s.used > s.maxBytes {
		s.drop(s.order.Back())
	}
}

func (s *resultStore) drop(el *list.Element) {
	e := el.Value.(*resultEntry)
	s.order.Remove(el)
	delete(s.items, e.key)
	s.used -= e.size
}
