// Package lru is the one in-process cache of the server, bounded by the
// estimated bytes of what it holds: least recently used entries go first
// once the bytes exceed the bound (or the entries exceed a count, when one
// is set), and expired entries are dropped on read. Bounding by bytes
// rather than entries is what keeps a flood of large entries from growing
// the heap. The response cache, the persisted queries, the parsed documents
// and the replayed responses all keep their entries in one.
package lru

import (
	"container/list"
	"sync"
	"time"
)

// Cache is a byte-bounded LRU with optional expiry per entry. It is safe
// for concurrent use.
type Cache[V any] struct {
	maxBytes int64
	maxItems int // 0: no bound on the number of entries

	mu    sync.Mutex
	used  int64
	order *list.List // front = most recently used
	items map[string]*list.Element
}

type entry[V any] struct {
	key     string
	value   V
	size    int64
	expires time.Time // zero: never
}

// New returns a cache of at most maxBytes (estimated) and, when maxItems
// is positive, at most maxItems entries.
func New[V any](maxBytes int64, maxItems int) *Cache[V] {
	return &Cache[V]{maxBytes: maxBytes, maxItems: maxItems, order: list.New(), items: map[string]*list.Element{}}
}

// Get returns the value under key unless it has expired at now (an entry
// added without expiry never does, whatever now is).
func (c *Cache[V]) Get(key string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.items[key]
	if !ok {
		return zero, false
	}
	e := el.Value.(*entry[V])
	if !e.expires.IsZero() && !now.Before(e.expires) {
		c.drop(el)
		return zero, false
	}
	c.order.MoveToFront(el)
	return e.value, true
}

// Add stores value at an estimated cost of size bytes until expires (zero:
// until evicted), replacing what key held. An entry larger than the whole
// bound is not stored.
func (c *Cache[V]) Add(key string, value V, size int64, expires time.Time) {
	if size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.drop(el)
	}
	c.items[key] = c.order.PushFront(&entry[V]{key: key, value: value, size: size, expires: expires})
	c.used += size
	for c.used > c.maxBytes || (c.maxItems > 0 && c.order.Len() > c.maxItems) {
		c.drop(c.order.Back())
	}
}

// Remove drops key's entry, if any.
func (c *Cache[V]) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.drop(el)
	}
}

func (c *Cache[V]) drop(el *list.Element) {
	e := el.Value.(*entry[V])
	c.order.Remove(el)
	delete(c.items, e.key)
	c.used -= e.size
}
