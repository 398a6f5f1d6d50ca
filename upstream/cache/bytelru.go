package cache

import (
	"container/list"
	"sync"
	"time"
)

// byteLRU is the in-process store of every cache in this package (answers,
// persisted queries, parsed documents): least recently used entries go first
// once the estimated bytes exceed the bound, or the entries exceed maxItems
// when that is set; expired entries are dropped on read. Bounding by bytes
// rather than entries is what keeps a flood of large entries from growing
// the heap.
type byteLRU[V any] struct {
	max      int64
	maxItems int // 0: no bound on the number of entries

	mu    sync.Mutex
	used  int64
	order *list.List // front = most recently used
	items map[string]*list.Element
}

type lruEntry[V any] struct {
	key     string
	value   V
	size    int64
	expires time.Time // zero: never
}

func newByteLRU[V any](maxBytes int64) *byteLRU[V] {
	return &byteLRU[V]{max: maxBytes, order: list.New(), items: map[string]*list.Element{}}
}

func (c *byteLRU[V]) get(key string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.items[key]
	if !ok {
		return zero, false
	}
	e := el.Value.(*lruEntry[V])
	if !e.expires.IsZero() && !now.Before(e.expires) {
		c.drop(el)
		return zero, false
	}
	c.order.MoveToFront(el)
	return e.value, true
}

// add stores value at an estimated cost of size bytes until expires (zero:
// until evicted). An entry larger than the whole bound is not stored.
func (c *byteLRU[V]) add(key string, value V, size int64, expires time.Time) {
	if size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.drop(el)
	}
	c.items[key] = c.order.PushFront(&lruEntry[V]{key: key, value: value, size: size, expires: expires})
	c.used += size
	for c.used > c.max || (c.maxItems > 0 && c.order.Len() > c.maxItems) {
		c.drop(c.order.Back())
	}
}

func (c *byteLRU[V]) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.drop(el)
	}
}

// bytes returns the estimated size of what is stored.
func (c *byteLRU[V]) bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

func (c *byteLRU[V]) drop(el *list.Element) {
	e := el.Value.(*lruEntry[V])
	c.order.Remove(el)
	delete(c.items, e.key)
	c.used -= e.size
}
